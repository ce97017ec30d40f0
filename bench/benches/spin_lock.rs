//! Locks for short critical sections side by side: `spin::Mutex` (spinning
//! and yielding relax), `spin::TicketMutex`, `parking_lot::Mutex`,
//! `std::sync::Mutex`, and acqrel's `SpinLock` and `TicketLock`, each
//! through the same body.
//!
//! - `lock_uncontended`: one thread, lock + increment + unlock, and the same
//!   increment without a lock as the harness baseline.
//! - `lock_contended`: 2 threads, and 4 threads on a 2-core machine (labelled
//!   oversubscribed), sharing a fixed total of critical sections. Throughput
//!   is sections per second over all threads. Each thread counts the
//!   sections it ran; after each benchmark the bench prints the fairness,
//!   `min / max` of those counts summed over every timed run (1.0 = every
//!   thread got the same share, 0 = some thread was starved).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;

use acqrel::{SpinLock, TicketLock};
use common::{run_threads, threads_label};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Mutex as StdMutex;

/// The protected state: a shared budget of sections and a running sum, a
/// critical section of a few nanoseconds.
#[derive(Default)]
struct State {
    done: u64,
    sum: u64,
}

/// One lock type, driven through the same body as every other.
trait Lock: Sync {
    fn new() -> Self;
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R;
}

macro_rules! lock {
    ($ty:ty, $new:expr, |$l:ident| $guard:expr) => {
        impl Lock for $ty {
            fn new() -> Self {
                $new
            }
            #[inline]
            fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
                let $l = self;
                let mut guard = $guard;
                f(&mut guard)
            }
        }
    };
}

type SpinYield<T> = spin::mutex::SpinMutex<T, spin::relax::Yield>;

lock!(SpinLock<State>, SpinLock::new(State::default()), |l| l.lock());
lock!(TicketLock<State>, TicketLock::new(State::default()), |l| l.lock());
lock!(spin::Mutex<State>, spin::Mutex::new(State::default()), |l| l.lock());
lock!(SpinYield<State>, SpinYield::new(State::default()), |l| l.lock());
lock!(spin::mutex::TicketMutex<State>, spin::mutex::TicketMutex::new(State::default()), |l| l
    .lock());
lock!(parking_lot::Mutex<State>, parking_lot::Mutex::new(State::default()), |l| l.lock());
lock!(StdMutex<State>, StdMutex::new(State::default()), |l| l.lock().unwrap());

fn uncontended_one<L: Lock>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
) {
    let lock = L::new();
    c.bench_function(name, |b| {
        b.iter(|| {
            black_box(&lock).with(|s| s.sum += 1);
        })
    });
}

fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("lock_uncontended");
    group.throughput(Throughput::Elements(1));
    let mut plain = State::default();
    group.bench_function("no_lock_baseline", |b| b.iter(|| black_box(&mut plain).sum += 1));
    uncontended_one::<spin::Mutex<State>>(&mut group, "spin_mutex");
    uncontended_one::<SpinYield<State>>(&mut group, "spin_mutex_yield");
    uncontended_one::<spin::mutex::TicketMutex<State>>(&mut group, "spin_ticket_mutex");
    uncontended_one::<parking_lot::Mutex<State>>(&mut group, "parking_lot_mutex");
    uncontended_one::<StdMutex<State>>(&mut group, "std_mutex");
    uncontended_one::<SpinLock<State>>(&mut group, "acqrel_spin_lock");
    uncontended_one::<TicketLock<State>>(&mut group, "acqrel_ticket_lock");
    group.finish();
}

/// `threads` threads share `iters * threads` critical sections; returns the
/// time and adds each thread's count of sections to `shares`.
fn shared_budget<L: Lock>(
    lock: &L,
    threads: usize,
    iters: u64,
    shares: &StdMutex<Vec<u64>>,
) -> std::time::Duration {
    lock.with(|s| *s = State::default());
    let total = iters * threads as u64;
    let elapsed = run_threads(threads, iters, |t, _| {
        let mut mine = 0u64;
        while lock.with(|s| {
            if s.done == total {
                return false;
            }
            s.done += 1;
            s.sum = s.sum.wrapping_add(s.done);
            true
        }) {
            mine += 1;
        }
        shares.lock().unwrap()[t] += mine;
    });
    assert_eq!(lock.with(|s| s.done), total);
    elapsed
}

fn contended_one<L: Lock>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    threads: usize,
) {
    let lock = L::new();
    let shares = StdMutex::new(vec![0u64; threads]);
    let label = threads_label(threads);
    group.bench_function(BenchmarkId::new(name, &label), |b| {
        b.iter_custom(|iters| shared_budget(&lock, threads, iters, &shares))
    });
    let shares = shares.into_inner().unwrap();
    if shares.iter().all(|&n| n == 0) {
        return; // filtered out
    }
    let (min, max) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
    println!(
        "fairness {name}/{label}: min/max sections per thread = {} / {} = {:.3}",
        min,
        max,
        *min as f64 / (*max).max(1) as f64
    );
}

fn contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("lock_contended");
    for threads in [2usize, 4] {
        group.throughput(Throughput::Elements(threads as u64));
        contended_one::<spin::Mutex<State>>(&mut group, "spin_mutex", threads);
        contended_one::<SpinYield<State>>(&mut group, "spin_mutex_yield", threads);
        contended_one::<spin::mutex::TicketMutex<State>>(&mut group, "spin_ticket_mutex", threads);
        contended_one::<parking_lot::Mutex<State>>(&mut group, "parking_lot_mutex", threads);
        contended_one::<StdMutex<State>>(&mut group, "std_mutex", threads);
        contended_one::<SpinLock<State>>(&mut group, "acqrel_spin_lock", threads);
        contended_one::<TicketLock<State>>(&mut group, "acqrel_ticket_lock", threads);
    }
    group.finish();
}

criterion_group!(benches, uncontended, contended);
criterion_main!(benches);
