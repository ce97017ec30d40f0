//! Loom models of `Counter`. Covers [CTR-O1] [CTR-O2] [CTR-O3] [CTR-O4] [CTR-O5].
#![cfg(loom)]

use acqrel::Counter;
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;

/// Two threads add concurrently; the total is exact in every interleaving.
#[test]
fn concurrent_adds_are_not_lost() {
    loom::model(|| {
        let c = Arc::new(Counter::new(0));
        let c2 = Arc::clone(&c);
        let t = thread::spawn(move || {
            c2.add(2);
        });
        c.add(3);
        t.join().unwrap();
        assert_eq!(c.get(), 5);
    });
}

/// `take` races an `add`: every unit is reported once, by the take or by the counter.
#[test]
fn take_and_add_hand_out_each_unit_once() {
    loom::model(|| {
        let c = Arc::new(Counter::new(1));
        let c2 = Arc::clone(&c);
        let t = thread::spawn(move || c2.take());
        c.add(1);
        let taken = t.join().unwrap();
        assert_eq!(taken + c.get(), 2);
    });
}

/// Two threads race `add_bounded` against a limit that admits only one of them.
#[test]
fn bounded_adds_never_pass_the_limit() {
    loom::model(|| {
        let c = Arc::new(Counter::new(1));
        let c2 = Arc::clone(&c);
        let t = thread::spawn(move || c2.add_bounded(1, 2).is_ok());
        let mine = c.add_bounded(1, 2).is_ok();
        let theirs = t.join().unwrap();
        assert!(mine ^ theirs, "exactly one add fits under the limit");
        assert_eq!(c.get(), 2);
    });
}

struct Work {
    done: Counter,
    results: [UnsafeCell<u64>; 2],
}

// SAFETY: [CTR-O4] each result cell is written by one worker before its
// `add_release` and read only after `get_acquire` saw both adds.
unsafe impl Sync for Work {}

/// Two workers write their result, then count it with `add_release`; the reader
/// waits for the count with `get_acquire` and reads both results. A weaker
/// ordering on either side is a causality violation on the result cells.
#[test]
fn release_count_publishes_work() {
    loom::model(|| {
        let work = Arc::new(Work {
            done: Counter::new(0),
            results: [UnsafeCell::new(0), UnsafeCell::new(0)],
        });
        let workers: Vec<_> = (0..2)
            .map(|i| {
                let work = Arc::clone(&work);
                thread::spawn(move || {
                    // SAFETY: [CTR-O4] only worker `i` writes result `i`, before publishing it.
                    work.results[i].with_mut(|p| unsafe { *p = i as u64 + 1 });
                    work.done.add_release(1);
                })
            })
            .collect();
        while work.done.get_acquire() < 2 {
            thread::yield_now();
        }
        // SAFETY: [CTR-O5] both adds were acquired, so both writes happen-before these reads.
        let sum: u64 = work.results.iter().map(|r| r.with(|p| unsafe { *p })).sum();
        assert_eq!(sum, 3);
        for w in workers {
            w.join().unwrap();
        }
    });
}
