//! Loom models of `ShardedCounter`. Covers [SHC-O1] [SHC-O2] [SHC-O3] [SHC-O4].
#![cfg(loom)]

use acqrel::ShardedCounter;
use loom::sync::Arc;
use loom::thread;

/// Each model thread gets its own cell; all increments count.
#[test]
fn increments_from_two_threads_all_count() {
    loom::model(|| {
        let c = Arc::new(ShardedCounter::new());
        let c2 = Arc::clone(&c);
        let t = thread::spawn(move || {
            c2.inc();
            c2.local().add(2);
        });
        c.inc();
        let seen = c.sum();
        assert!(
            seen == 1 || seen == 2 || seen == 4,
            "a partial sum is a prefix of each cell: {seen}"
        );
        t.join().unwrap();
        assert_eq!(c.sum(), 4);
        assert_eq!(c.shards(), 2);
    });
}

/// A thread increments and takes; a concurrent `sum` must not go below zero.
#[test]
fn sum_after_take_never_goes_below_zero() {
    loom::model(|| {
        let c = Arc::new(ShardedCounter::new());
        let c2 = Arc::clone(&c);
        let t = thread::spawn(move || {
            c2.inc();
            c2.take()
        });
        let seen = c.sum();
        assert!(seen <= 1, "sum wrapped: {seen}");
        assert_eq!(t.join().unwrap() + c.sum(), 1);
    });
}

/// Two threads each increment and take; every increment is handed out once.
#[test]
fn racing_takes_hand_out_each_increment_once() {
    loom::model(|| {
        let c = Arc::new(ShardedCounter::new());
        let c2 = Arc::clone(&c);
        let t = thread::spawn(move || {
            c2.inc();
            c2.take()
        });
        c.inc();
        let mine = c.take();
        let theirs = t.join().unwrap();
        assert!(mine <= 2 && theirs <= 2, "take wrapped: {mine} {theirs}");
        assert_eq!(mine + theirs + c.take(), 2);
    });
}
