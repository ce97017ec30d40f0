//! Behaviour and std-thread stress tests of `ShardedCounter`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;

use acqrel::ShardedCounter;
use common::scaled;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
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
    // Cells are recycled: bounded by concurrent threads (two workers + main,
    // plus whatever other test threads run concurrently in this binary).
    assert!(
        counter.shards() <= 16,
        "{} cells for at most 3 concurrent counting threads",
        counter.shards()
    );
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
    assert_eq!(c.shards(), 1);
    assert_eq!(c.take(), 42);
    assert_eq!(c.sum(), 0);
    c.inc();
    assert_eq!(format!("{c:?}"), "ShardedCounter { sum: 1, shards: 1 }");
    assert_eq!(format!("{:?}", c.local()), "LocalCounter { .. }");
}

#[test]
fn counter_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ShardedCounter>();
}
