//! Behaviour and std-thread stress tests of `ShardedCounter`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;

use acqrel::LocalCounter;
use acqrel::ShardedCounter;
use common::scaled;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst,
};
use std::sync::{Arc, LazyLock, mpsc};
use std::thread;

#[test]
fn settlement_total_is_exact() {
    let per_worker = scaled(1_000_000) as u64;
    let total = ShardedCounter::new();
    thread::scope(|s| {
        for w in 0..8 {
            let total = &total;
            s.spawn(move || {
                if w % 2 == 0 {
                    for _ in 0..per_worker {
                        total.inc();
                    }
                } else {
                    let local = total.local();
                    for _ in 0..per_worker {
                        local.inc();
                    }
                }
            });
        }
    });
    assert_eq!(total.sum(), 8 * per_worker);
}

#[test]
fn take_racing_increments_loses_nothing() {
    let per_worker = scaled(300_000) as u64;
    let counter = ShardedCounter::new();
    let finished = AtomicUsize::new(0);
    let taken: u64 = thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..per_worker {
                    counter.add(1);
                }
                finished.fetch_add(1, SeqCst);
            });
        }
        // Two takers race each other and the workers.
        let takers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut taken = 0u64;
                    while finished.load(SeqCst) < 3 {
                        let t = counter.take();
                        assert!(t <= 3 * per_worker, "take wrapped: {t}");
                        taken += t;
                    }
                    taken
                })
            })
            .collect();
        takers.into_iter().map(|t| t.join().unwrap()).sum()
    });
    assert_eq!(taken + counter.take(), 3 * per_worker);
    assert_eq!(counter.sum(), 0);
}

/// A `sum` racing an increment-then-take never goes below zero. The reader
/// synchronises with nothing but what `sum` itself acquires (it polls `done`
/// with `Relaxed`), so when it reads the moved baseline, only [SHC-O3]'s
/// Acquire orders its cell read after the taker's. Run under Miri with many
/// seeds: the weakened load lets Miri return the cell's older value.
#[test]
fn sum_racing_a_take_never_wraps() {
    // A few hundred rounds natively; four per seed under Miri.
    for _ in 0..scaled(4_000).min(300) {
        let c = ShardedCounter::new();
        let done = AtomicBool::new(false);
        thread::scope(|s| {
            s.spawn(|| {
                c.inc();
                c.take();
                done.store(true, Relaxed);
            });
            loop {
                let finished = done.load(Relaxed);
                let seen = c.sum();
                assert!(seen <= 1, "sum wrapped: {seen}");
                if finished {
                    break;
                }
                thread::yield_now();
            }
        });
        assert_eq!(c.sum(), 0);
    }
}

#[test]
fn thread_churn_keeps_the_count_and_bounds_memory() {
    // Thousands of short-lived threads, at most two alive at once.
    let rounds = scaled(1_000);
    let counter = ShardedCounter::new();
    for _ in 0..rounds {
        thread::scope(|s| {
            s.spawn(|| counter.add(2));
            s.spawn(|| counter.inc());
        });
    }
    counter.inc(); // the main thread counts too
    assert_eq!(counter.sum(), 3 * rounds as u64 + 1);
    // Indices of exited threads are reused: the cells follow the largest
    // index in use (at most 2m + 1 cells for index m), and this binary never
    // holds more than a few dozen indices at once (its test threads, their
    // workers, and the leases `forget_local_counter_*` leaks), so every cell
    // is in buckets 0..=6. Without reuse 2000 threads would need 2047 cells.
    assert!(counter.shards() < 128, "{} cells", counter.shards());
}

#[test]
fn sum_sees_every_increment_that_happens_before_it() {
    let counter = ShardedCounter::new();
    for expected in 1..=scaled(200) as u64 {
        thread::scope(|s| {
            s.spawn(|| counter.inc());
        }); // join: the increment happens-before the sum
        assert_eq!(counter.sum(), expected);
    }
}

#[test]
fn take_resets_and_sum_follows() {
    let c = ShardedCounter::default();
    assert_eq!((c.sum(), c.take(), c.shards()), (0, 0, 0));
    c.add(40);
    c.local().add(2);
    // One thread counted: one bucket, of a power-of-two size that depends on
    // the thread's index (which other tests' threads influence).
    let shards = c.shards();
    assert!(shards.is_power_of_two(), "{shards}");
    assert_eq!(c.take(), 42);
    assert_eq!(c.sum(), 0);
    c.inc();
    assert_eq!(format!("{c:?}"), format!("ShardedCounter {{ sum: 1, shards: {shards} }}"));
    // The main test thread has counted above, so it holds an index.
    let local = c.local();
    let shown = format!("{local:?}");
    assert!(
        shown.starts_with("LocalCounter { thread_index: ") && shown.ends_with(", .. }"),
        "{shown}"
    );
}

#[test]
fn counter_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ShardedCounter>();
}

/// `ShardedCounter` is `Send + Sync + UnwindSafe + RefUnwindSafe`: a panic
/// cannot leave it half-updated (every change is one store or one
/// compare-exchange). `LocalCounter` is unwind-safe too, and neither `Send`
/// nor `Sync`: its cell may be written only by the thread holding the index.
#[test]
fn auto_traits_are_exactly_right() {
    use std::panic::{RefUnwindSafe, UnwindSafe};
    fn assert_all<T: Send + Sync + UnwindSafe + RefUnwindSafe>() {}
    fn assert_unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}
    assert_all::<ShardedCounter>();
    assert_unwind_safe::<LocalCounter<'static>>();

    // The negative half, checked at compile time: if `LocalCounter` were
    // `Send` (or `Sync`), both impls would apply and the call below would be
    // ambiguous, which does not compile.
    trait AmbiguousIfSend<A> {
        fn some_item() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
    trait AmbiguousIfSync<A> {
        fn some_item() {}
    }
    impl<T: ?Sized> AmbiguousIfSync<()> for T {}
    impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}
    <LocalCounter<'static> as AmbiguousIfSend<_>>::some_item();
    <LocalCounter<'static> as AmbiguousIfSync<_>>::some_item();

    // And a panic while a handle is in use leaves the counter whole.
    let c = ShardedCounter::new();
    let caught = std::panic::catch_unwind(|| {
        let local = c.local();
        local.add(2);
        c.inc();
        panic!("in the middle of counting");
    });
    assert!(caught.is_err());
    c.inc();
    assert_eq!(c.sum(), 4);
}

/// Only for [`a_static_counter_counts_from_many_threads`]: statics live for
/// the whole test binary. (Under loom `new` is not `const`.)
#[cfg(not(loom))]
static REQUESTS: ShardedCounter = ShardedCounter::new();

/// `new` is a `const fn`: a counter in a `static`, first used by several
/// threads at once, installs one id and counts every increment.
#[test]
#[cfg(not(loom))]
fn a_static_counter_counts_from_many_threads() {
    let per_worker = scaled(100_000) as u64;
    let start = std::sync::Barrier::new(4);
    thread::scope(|s| {
        for w in 0..4 {
            let start = &start;
            s.spawn(move || {
                start.wait(); // the first counts race to install the id
                if w % 2 == 0 {
                    for _ in 0..per_worker {
                        REQUESTS.inc();
                    }
                } else {
                    let local = REQUESTS.local();
                    for _ in 0..per_worker {
                        local.inc();
                    }
                }
            });
        }
    });
    assert_eq!(REQUESTS.sum(), 4 * per_worker);
    assert_eq!(REQUESTS.take(), 4 * per_worker);
    REQUESTS.add(3);
    assert_eq!(REQUESTS.sum(), 3);
}

/// Fresh counters get their ids at first use, on two threads at once and in
/// opposite orders. Each thread then alternates between the two counters, so
/// every count goes through the per-thread cache check: if two counters ever
/// shared an id, one's increments would land in the other's cell.
#[test]
fn ids_installed_on_first_use_keep_counters_apart() {
    let rounds = scaled(2_000);
    for _ in 0..rounds {
        let (a, b) = (ShardedCounter::new(), ShardedCounter::new());
        let start = std::sync::Barrier::new(2);
        thread::scope(|s| {
            s.spawn(|| {
                start.wait();
                a.inc();
                b.add(10);
                a.inc();
            });
            start.wait();
            b.inc();
            a.add(10);
            b.inc();
        });
        assert_eq!((a.sum(), b.sum()), (12, 12));
    }
}

/// A thread counts 1 and raises the counter to 10 while this one sums: the
/// sum sees the counter before (0 or 1) or after the raise (10), never a
/// lowered baseline with a cell older than the one the raise counted.
#[test]
fn sum_racing_a_raise_sees_before_or_after() {
    // As `sum_racing_a_take_never_wraps`: a few hundred rounds natively, four per seed under Miri.
    for _ in 0..scaled(4_000).min(300) {
        let c = ShardedCounter::new();
        let done = AtomicBool::new(false);
        thread::scope(|s| {
            s.spawn(|| {
                c.add(1);
                c.raise_to(10);
                done.store(true, Relaxed);
            });
            loop {
                let finished = done.load(Relaxed);
                let seen = c.sum();
                assert!(matches!(seen, 0 | 1 | 10), "sum saw the raise without its count: {seen}");
                if finished {
                    break;
                }
                thread::yield_now();
            }
        });
        assert_eq!(c.sum(), 10);
    }
}

/// A raise racing an increment and a take on another thread reaches its
/// target, and the take hands out each unit once: the raise comes first (the
/// take returns 5 or 6 and leaves 0) or after the take (which returns 1 and
/// leaves the raised 5).
#[test]
fn raise_racing_a_take_reaches_its_target() {
    for _ in 0..scaled(4_000).min(300) {
        let c = ShardedCounter::new();
        let (taken, added) = thread::scope(|s| {
            let taker = s.spawn(|| {
                c.inc();
                c.take()
            });
            let added = c.raise_to(5);
            (taker.join().unwrap(), added)
        });
        let left = c.sum();
        assert_eq!(taken + left, 1 + added, "a unit was lost or handed out twice");
        assert!(
            matches!((taken, left), (5 | 6, 0) | (1, 5)),
            "raise or take went wrong: took {taken}, left {left}"
        );
    }
}

/// A raise made after a take on another thread, seen only through a
/// `Relaxed` flag (so nothing orders the take's cell reads before ours): the
/// raise must still read cells at least as new as the baseline it reads, or
/// `cells - baseline` wraps, looks above the target, and the raise is lost.
#[test]
fn raise_after_an_unordered_take_reaches_its_target() {
    for _ in 0..scaled(16_000).min(300) {
        let c = ShardedCounter::new();
        let done = AtomicBool::new(false);
        let raised = thread::scope(|s| {
            let taker = s.spawn(|| {
                c.inc();
                assert_eq!(c.take(), 1);
                done.store(true, Relaxed);
            });
            // Only the flag orders anything; a taker that panicked (or ended
            // before its store shows) ends the wait without a raise, and the
            // scope passes its panic on.
            while !done.load(Relaxed) {
                if taker.is_finished() && !done.load(Relaxed) {
                    return false;
                }
                thread::yield_now();
            }
            assert_eq!(c.raise_to(5), 5, "the raise judged a wrapped value above its target");
            true
        });
        assert_eq!(c.sum(), if raised { 5 } else { 0 });
    }
}

/// `raise_to` from several threads with values in any order: the counter
/// ends at the largest value exactly, never above it (raises do not add up),
/// and what the raises report they added sums to that value.
#[test]
fn racing_raises_end_at_the_largest_value() {
    let per_worker = scaled(20_000) as u64;
    let c = ShardedCounter::new();
    let added = AtomicU64::new(0);
    thread::scope(|s| {
        for w in 0..4u64 {
            let (c, added) = (&c, &added);
            s.spawn(move || {
                let mut state = w + 1;
                for _ in 0..per_worker {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    added.fetch_add(c.raise_to(state % (4 * per_worker) + 1), Relaxed);
                    assert!(c.sum() <= 4 * per_worker, "raised past every value asked for");
                }
                added.fetch_add(c.raise_to(4 * per_worker), Relaxed);
            });
        }
    });
    assert_eq!(c.sum(), 4 * per_worker);
    assert_eq!(added.load(Relaxed), 4 * per_worker);
}

/// `raise_to` racing increments and takes: no increment is lost, and what
/// the takes hand out plus what is left is exactly the increments plus what
/// the raises report they added.
#[test]
fn raise_racing_increments_and_takes_loses_nothing() {
    let per_worker = scaled(100_000) as u64;
    let c = ShardedCounter::new();
    let taken = AtomicU64::new(0);
    let added = AtomicU64::new(0);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..per_worker {
                    c.inc();
                }
            });
        }
        s.spawn(|| {
            for _ in 0..per_worker / 100 {
                taken.fetch_add(c.take(), Relaxed);
            }
        });
        s.spawn(|| {
            for round in 0..per_worker / 100 {
                let seen = c.sum();
                assert!(seen <= 2 * per_worker + 1_000, "sum wrapped: {seen}");
                added.fetch_add(c.raise_to(round % 1_000), Relaxed);
            }
        });
    });
    let handed_out = taken.load(Relaxed) + c.sum();
    assert_eq!(handed_out, 2 * per_worker + added.load(Relaxed));
}

#[test]
fn raise_to_leaves_a_higher_value_and_adds_to_a_lower_one() {
    let c = ShardedCounter::new();
    assert_eq!(c.raise_to(0), 0);
    assert_eq!(c.sum(), 0);
    c.add(7);
    assert_eq!(c.raise_to(5), 0);
    assert_eq!(c.sum(), 7);
    assert_eq!(c.raise_to(20), 13);
    assert_eq!(c.sum(), 20);
    assert_eq!(c.take(), 20);
    assert_eq!(c.raise_to(3), 3);
    thread::scope(|s| {
        s.spawn(|| c.inc());
    });
    assert_eq!(c.sum(), 4);
    assert_eq!(c.raise_to(u64::MAX), u64::MAX - 4);
    assert_eq!(c.sum(), u64::MAX);
    c.inc(); // wraps, as `add` does
    assert_eq!(c.sum(), 0);
}

#[test]
fn many_counters_on_one_thread_keep_separate_totals() {
    // Alternating between counters defeats the per-thread cache on every call;
    // dropping and recreating them reuses addresses but never ids.
    for round in 0..scaled(50) as u64 {
        let counters: Vec<ShardedCounter> = (0..4).map(|_| ShardedCounter::new()).collect();
        for i in 0..100u64 {
            counters[(i % 4) as usize].add(i % 4 + round);
        }
        for (k, c) in counters.iter().enumerate() {
            assert_eq!(c.sum(), 25 * (k as u64 + round));
        }
    }
}

#[test]
fn increments_and_takes_are_linearizable() {
    // Unit increments and takes from three threads, checked against the
    // sequential counter (tests/common/lin). Only *unit* increments: with
    // increments of different sizes neither `take` nor `sum` is linearizable
    // (see `sum_lies_between_completed_and_invoked_increments`).
    use common::lin::{self, counter::*};
    let ops = if cfg!(miri) { 3 } else { 80 };
    for _ in 0..scaled(40) {
        let counter = ShardedCounter::new();
        let history = lin::stress(3, |t, rec| {
            for i in 0..ops {
                // Threads 0 and 1 take and increment in turns, racing each
                // other's takes; thread 2 only increments.
                let take = t < 2 && i % 2 == t;
                if take {
                    rec.call(CounterOp::Take, |_| CounterRet::Value(counter.take()));
                } else {
                    rec.call(CounterOp::AddBlind(1), |_| {
                        counter.inc();
                        CounterRet::Unit
                    });
                }
            }
        });
        lin::assert_linearizable(CounterSpec::default(), &history);
    }
}

#[test]
fn sum_lies_between_completed_and_invoked_increments() {
    // `sum` reads the cells one after another, so it is not linearizable: T1
    // adds 1 to its cell and returns; then T2 adds 10 to its own; a `sum`
    // that read T1's cell before the first add and T2's after the second
    // returns 10, a value the counter never held (0, 1, 11). What the
    // contract promises, and what this checks on recorded histories: a sum
    // includes every add that returned before it was invoked, includes no
    // add invoked after it returned, and one thread's sums never decrease
    // (no `take` here).
    use common::lin::{self, counter::*};
    let ops = if cfg!(miri) { 3 } else { 200 };
    for _ in 0..scaled(20) {
        let counter = ShardedCounter::new();
        let history = lin::stress(3, |t, rec| {
            for i in 0..ops as u64 {
                if t == 0 {
                    rec.call(CounterOp::Get, |_| CounterRet::Value(counter.sum()));
                } else {
                    let n = 1 + (i * 7 + t as u64) % 10;
                    rec.call(CounterOp::AddBlind(n), |_| {
                        counter.add(n);
                        CounterRet::Unit
                    });
                }
            }
        });
        let adds: Vec<_> = history
            .calls
            .iter()
            .filter_map(|c| match c.op {
                CounterOp::AddBlind(n) => Some((c.invoked, c.returned, n)),
                _ => None,
            })
            .collect();
        let mut previous = 0;
        for call in history.calls.iter().filter(|c| c.op == CounterOp::Get) {
            let CounterRet::Value(sum) = call.ret else { unreachable!() };
            let lower: u64 = adds.iter().filter(|a| a.1 < call.invoked).map(|a| a.2).sum();
            let upper: u64 = adds.iter().filter(|a| a.0 < call.returned).map(|a| a.2).sum();
            assert!(lower <= sum && sum <= upper, "sum {sum} outside [{lower}, {upper}]");
            assert!(sum >= previous, "sum went back from {previous} to {sum}");
            previous = sum;
        }
    }
}

// ---------------------------------------------------------------------------
// Thread exit: every per-thread path called from a thread-local destructor.
// ---------------------------------------------------------------------------

/// Closures to run when the thread exits, from a thread-local's destructor.
struct AtExit(RefCell<Vec<Box<dyn FnOnce()>>>);

impl Drop for AtExit {
    fn drop(&mut self) {
        for f in self.0.get_mut().drain(..) {
            f();
        }
    }
}

thread_local! {
    static AT_EXIT: AtExit = const { AtExit(RefCell::new(Vec::new())) };
}

/// Registers the calling thread's `AT_EXIT` destructor. Called before the
/// thread first counts, it runs after the counter's per-thread state is
/// gone: std runs thread-local destructors in the reverse order of their
/// registration.
fn arm_at_exit() {
    AT_EXIT.with(|_| {});
}

/// Runs `f` in the calling thread's `AT_EXIT` destructor.
fn at_exit(f: impl FnOnce() + 'static) {
    AT_EXIT.with(|at_exit| at_exit.0.borrow_mut().push(Box::new(f)));
}

/// Runs `body` on `threads` short-lived threads, at most four at a time, so
/// that new threads start (and take indices) while older ones are exiting.
/// `join` returns after a thread's thread-local destructors have run.
fn exiting_threads(threads: usize, body: impl Fn() + Copy + Send + 'static) {
    let mut running = VecDeque::new();
    for _ in 0..threads {
        running.push_back(thread::spawn(body));
        if running.len() > 3 {
            running.pop_front().unwrap().join().unwrap();
        }
    }
    for t in running {
        t.join().unwrap();
    }
}

/// Regression test for issue 13, defect 8. Each thread arms a thread-local
/// destructor first, then counts: at exit the destructor runs after the
/// thread's own per-thread state is gone, and keeps counting while newer
/// threads start, may take the exited thread's index and count too. The
/// total must be exact: an increment from the dying thread must not land in
/// a cell another thread now updates with a plain load and store.
#[test]
fn increments_from_a_destructor_after_thread_exit_are_not_lost() {
    static COUNTER: LazyLock<ShardedCounter> = LazyLock::new(ShardedCounter::new);
    // The destructor counts longer than the body, so that most threads
    // alive at any time are exiting and a new thread often takes the index
    // of one still counting.
    let threads = scaled(400);
    let n = scaled(50_000) as u64;
    exiting_threads(threads, move || {
        arm_at_exit();
        at_exit(move || {
            for _ in 0..3 * n {
                COUNTER.inc();
            }
        });
        for _ in 0..n {
            COUNTER.inc();
        }
    });
    let expected = threads as u64 * 4 * n;
    let total = COUNTER.sum();
    assert_eq!(total, expected, "{} increments lost", expected.wrapping_sub(total));
}

/// `add` from a late destructor, on a counter the thread counted on (its
/// cache still names it) and on one it never used (first use after the
/// thread's per-thread state is gone).
#[test]
fn add_from_a_destructor_counts_on_used_and_unused_counters() {
    static USED: LazyLock<ShardedCounter> = LazyLock::new(ShardedCounter::new);
    static UNUSED: LazyLock<ShardedCounter> = LazyLock::new(ShardedCounter::new);
    let threads = scaled(200);
    exiting_threads(threads, || {
        arm_at_exit();
        at_exit(|| {
            USED.add(5);
            UNUSED.add(7);
            UNUSED.inc();
        });
        USED.inc();
    });
    assert_eq!(USED.sum(), threads as u64 * 6);
    assert_eq!(UNUSED.sum(), threads as u64 * 8);
}

/// `local()` from a late destructor: the handle leases an index of its own,
/// counts, and returns the index when dropped (memory stays bounded).
#[test]
fn local_from_a_destructor_counts_and_returns_its_index() {
    static COUNTER: LazyLock<ShardedCounter> = LazyLock::new(ShardedCounter::new);
    let threads = scaled(400);
    let n = scaled(10_000) as u64;
    exiting_threads(threads, move || {
        arm_at_exit();
        at_exit(move || {
            let local = COUNTER.local();
            for _ in 0..n {
                local.inc();
            }
            let second = COUNTER.local();
            second.add(2);
        });
        COUNTER.inc();
    });
    assert_eq!(COUNTER.sum(), threads as u64 * (n + 3));
    // Each exiting thread briefly held a second index: without returning
    // them, 400 threads would need indices beyond 400 (511 cells or more).
    assert!(COUNTER.shards() < 128, "{} cells", COUNTER.shards());
}

/// `sum` and `take` from a late destructor, racing threads that count and
/// exit: every increment is taken exactly once, and no `sum` exceeds what
/// was ever added.
#[test]
fn sum_and_take_from_a_destructor_hand_out_each_increment_once() {
    static COUNTER: LazyLock<ShardedCounter> = LazyLock::new(ShardedCounter::new);
    static TAKEN: AtomicU64 = AtomicU64::new(0);
    static TOO_LARGE: AtomicU64 = AtomicU64::new(0);
    let threads = scaled(200);
    let n = scaled(10_000) as u64;
    let all = threads as u64 * (n + 3);
    exiting_threads(threads, move || {
        arm_at_exit();
        at_exit(move || {
            COUNTER.add(3);
            let seen = COUNTER.sum();
            if seen > all {
                TOO_LARGE.store(seen, SeqCst);
            }
            TAKEN.fetch_add(COUNTER.take(), SeqCst);
        });
        for _ in 0..n {
            COUNTER.inc();
        }
    });
    assert_eq!(TOO_LARGE.load(SeqCst), 0, "a sum above everything added (wrapped)");
    assert_eq!(TAKEN.load(SeqCst) + COUNTER.take(), all);
    assert_eq!(COUNTER.sum(), 0);
}

/// A `LocalCounter` kept in a thread-local and used by that value's
/// destructor after the thread's per-thread state is gone: its lease keeps
/// the index (and the cell) from newer threads until it is dropped.
#[test]
fn handle_kept_in_a_thread_local_counts_after_thread_exit() {
    static COUNTER: LazyLock<ShardedCounter> = LazyLock::new(ShardedCounter::new);
    let threads = scaled(400);
    let n = scaled(50_000) as u64;
    exiting_threads(threads, move || {
        arm_at_exit();
        let local = COUNTER.local();
        for _ in 0..n {
            local.inc();
        }
        at_exit(move || {
            for _ in 0..3 * n {
                local.inc();
            }
        });
    });
    let expected = threads as u64 * 4 * n;
    let total = COUNTER.sum();
    assert_eq!(total, expected, "{} increments lost", expected.wrapping_sub(total));
}

/// A thread whose first count happens in a thread-local destructor (its
/// per-thread state is made during thread exit): every path counts, and the
/// index is returned afterwards (memory stays bounded).
#[test]
fn first_count_of_a_thread_from_a_destructor() {
    static COUNTER: LazyLock<ShardedCounter> = LazyLock::new(ShardedCounter::new);
    let threads = scaled(400);
    exiting_threads(threads, || {
        at_exit(|| {
            COUNTER.inc();
            COUNTER.local().add(2);
            COUNTER.add(3);
        });
    });
    assert_eq!(COUNTER.sum(), threads as u64 * 6);
    assert!(COUNTER.shards() < 128, "{} cells", COUNTER.shards());
}

// ---------------------------------------------------------------------------
// Forget, drop order, misuse.
// ---------------------------------------------------------------------------

/// Handles leaked by [`leak_handle`]. Only their addresses are kept, so that
/// the leak checks this suite runs under (Miri's at exit, LeakSanitizer's in
/// `ci/san.sh`) find the allocations reachable, i.e. leaked on purpose.
static LEAKED: [AtomicPtr<LocalCounter<'static>>; 2] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; 2];

/// Leaks `local` for good: like `mem::forget`, the handle is never dropped
/// (`Box::leak`), so its lease on the thread's index is never returned. The
/// leaked handle can still be used.
fn leak_handle(slot: usize, local: LocalCounter<'static>) -> &'static LocalCounter<'static> {
    let leaked: &'static LocalCounter<'static> = Box::leak(Box::new(local));
    LEAKED[slot].store(std::ptr::from_ref(leaked).cast_mut(), SeqCst);
    leaked
}

/// A forgotten (leaked) `LocalCounter` leaks its index: the thread and others
/// keep counting, the thread in its own cell through its other paths, and
/// the leaked handle still counts from a destructor after the thread's
/// per-thread state is gone, while new threads take indices: nothing lost,
/// nothing twice.
#[test]
fn forget_local_counter_then_keep_counting() {
    static COUNTER: LazyLock<ShardedCounter> = LazyLock::new(ShardedCounter::new);
    static FORGOTTEN: AtomicUsize = AtomicUsize::new(0);
    // Two threads leak a handle (their indices stay taken for the rest of
    // this process: other tests' bounds allow for it); the others only count.
    let threads = scaled(200);
    let n = scaled(10_000) as u64;
    exiting_threads(threads, move || {
        arm_at_exit();
        let slot = FORGOTTEN.fetch_add(1, SeqCst);
        if slot < LEAKED.len() {
            let leaked = leak_handle(slot, COUNTER.local());
            leaked.add(5);
            at_exit(move || {
                for _ in 0..n {
                    leaked.inc();
                }
            });
        } else {
            COUNTER.add(5);
            at_exit(move || COUNTER.add(n));
        }
        for _ in 0..n {
            COUNTER.inc();
        }
        let again = COUNTER.local();
        again.add(2);
        drop(again);
        COUNTER.inc();
    });
    assert_eq!(COUNTER.sum(), threads as u64 * (2 * n + 8));
}

/// Several handles of one thread dropped in any order, some before and some
/// after thread exit: the index is returned exactly once, when the last one
/// goes (returned twice, two later threads would share a cell and lose
/// increments).
#[test]
fn handles_dropped_in_any_order_return_the_index_once() {
    static COUNTER: LazyLock<ShardedCounter> = LazyLock::new(ShardedCounter::new);
    static ROUND: AtomicUsize = AtomicUsize::new(0);
    let threads = scaled(400);
    let n = scaled(10_000) as u64;
    exiting_threads(threads, move || {
        arm_at_exit();
        let (a, b, c) = (COUNTER.local(), COUNTER.local(), COUNTER.local());
        for _ in 0..n {
            a.inc();
        }
        match ROUND.fetch_add(1, SeqCst) % 3 {
            0 => drop((a, b, c)),
            1 => {
                drop(c);
                at_exit(move || {
                    b.inc();
                    drop(b);
                    a.inc();
                });
            }
            _ => at_exit(move || {
                drop(a);
                c.add(2);
            }),
        }
        for _ in 0..n {
            COUNTER.inc();
        }
    });
    let rounds = threads as u64;
    assert_eq!(COUNTER.sum(), rounds * 2 * n + extra_for(rounds));
}

/// What `handles_dropped_in_any_order_return_the_index_once` adds besides
/// its loops: 2 in rounds `1 (mod 3)` and 2 in rounds `2 (mod 3)`.
fn extra_for(rounds: u64) -> u64 {
    (0..rounds).map(|r| if r % 3 == 0 { 0 } else { 2 }).sum()
}

/// A counter dropped while threads that counted on it are still running
/// (their per-thread cache still names it), then another counter created,
/// often at the same address: the cache must not mistake one for the other.
/// The last counter is dropped inside a thread-local destructor.
#[test]
fn counter_dropped_while_threads_still_cache_it() {
    let rounds = scaled(500);
    let (to_worker, from_main) = mpsc::channel::<Arc<ShardedCounter>>();
    let (to_main, from_worker) = mpsc::channel::<u64>();
    let worker = thread::spawn(move || {
        arm_at_exit();
        let mut last = None;
        for c in from_main {
            c.inc();
            c.add(2);
            c.local().inc();
            to_main.send(c.sum()).unwrap();
            last = Some(c); // the previous one is dropped here, maybe last
        }
        at_exit(move || {
            let c = last.unwrap();
            c.inc();
            drop(c); // the last reference: the counter is freed in a destructor
        });
    });
    for _ in 0..rounds {
        let c = Arc::new(ShardedCounter::new());
        to_worker.send(Arc::clone(&c)).unwrap();
        assert_eq!(from_worker.recv().unwrap(), 4);
        drop(c);
    }
    drop(to_worker);
    worker.join().unwrap();
}

/// Bad arguments: `add` wraps at `u64::MAX` as documented, in a cell and in
/// the sum of several cells; `take` hands out the wrapped value.
#[test]
fn add_wraps_at_u64_max() {
    let c = ShardedCounter::new();
    c.add(u64::MAX);
    c.add(2);
    assert_eq!(c.sum(), 1);
    thread::scope(|s| {
        s.spawn(|| c.add(u64::MAX));
    });
    assert_eq!(c.sum(), 0);
    c.local().add(5);
    assert_eq!(c.take(), 5);
    assert_eq!(c.sum(), 0);
}
