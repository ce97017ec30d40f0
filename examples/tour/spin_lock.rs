//! Spin locks: a small shared histogram updated under a lock by several
//! threads, next to `std::sync::Mutex` doing the same.
use crate::{Measured, Row};
use acqrel::{SpinLock, TicketLock};
use std::sync::Mutex;
use std::thread;

const BUCKETS: usize = 16;
const PER_THREAD: u64 = 2_000_000;

/// The bucket for sample `i` of thread `t`: cheap, deterministic, spread out.
fn bucket(t: u64, i: u64) -> usize {
    ((i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ t) >> 60) as usize % BUCKETS
}

/// Runs `threads` threads recording `PER_THREAD` samples each through `record`.
fn run(threads: u64, record: impl Fn(usize) + Sync) {
    thread::scope(|s| {
        for t in 0..threads {
            let record = &record;
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    record(bucket(t, i));
                }
            });
        }
    });
}

fn row(
    primitive: &'static str,
    threads: u64,
    ours_name: &'static str,
    ours: impl Fn(usize) + Sync,
) -> Row {
    let total = threads * PER_THREAD;
    let mutex = Mutex::new([0u64; BUCKETS]);
    let baseline =
        Measured::time("Mutex", total, || run(threads, |b| mutex.lock().unwrap()[b] += 1));
    assert_eq!(mutex.lock().unwrap().iter().sum::<u64>(), total);
    let ours = Measured::time(ours_name, total, || run(threads, &ours));
    let workload = if threads > 2 {
        format!("histogram, {threads} threads on 2 cores")
    } else {
        format!("histogram, {threads} threads")
    };
    Row { primitive, workload, ours, baseline }
}

pub(crate) fn tour() -> Vec<Row> {
    println!("spin locks: a {BUCKETS}-bucket histogram, {PER_THREAD} samples per thread");
    let mut rows = Vec::new();
    for threads in [2u64, 4] {
        let spin = SpinLock::new([0u64; BUCKETS]);
        rows.push(row("SpinLock", threads, "SpinLock", |b| spin.lock()[b] += 1));
        assert_eq!(spin.lock().iter().sum::<u64>(), threads * PER_THREAD);
    }
    // Two threads only: a fair lock hands the lock to one specific thread,
    // and on a busy machine that thread is often not running (see the
    // bench for the oversubscribed case).
    let ticket = TicketLock::new([0u64; BUCKETS]);
    rows.push(row("TicketLock", 2, "TicketLock", |b| ticket.lock()[b] += 1));
    assert_eq!(ticket.lock().iter().sum::<u64>(), 2 * PER_THREAD);
    rows
}
