//! Loom models of `ShardedCounter`, including its thread-index registry (the
//! pool's mutex, the per-thread guard, leases and the cache run as loom's
//! mutex and thread-locals). Covers [SHC-I1] [SHC-I2] [SHC-O1] [SHC-O2]
//! [SHC-O3] [SHC-O4] [SHC-O5] [SHC-O6] [SHC-O7] [SHC-O9] [SHC-S1] [SHC-S2].
//!
//! Loom drops a model thread's thread-locals when the thread ends, as std
//! does at thread exit, with two differences: it marks them all destroyed
//! first, then drops them in no fixed order; and `join` can return before
//! they are dropped (std's `join` waits for them), so a model that needs a
//! destructor's work waits for a flag the destructor sets last.
//! `exited_threads_index_passes_to_the_next_thread` checks that the index of
//! an exited thread is handed out again inside the model, i.e. that the
//! guard's destructor ran.
#![cfg(loom)]
#![allow(clippy::disallowed_types)]

use acqrel::{LocalCounter, ShardedCounter};
use loom::sync::Arc;
use loom::sync::atomic::AtomicBool;
use loom::sync::atomic::Ordering::{Acquire, Release};
use loom::thread;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

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
        // Indices 0 and 1: buckets 0 (one cell) and 1 (two cells); or index
        // 0 twice, when the spawned thread exited before the main one counted.
        assert!(c.shards() == 3 || c.shards() == 1, "{} cells", c.shards());
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

/// Two threads run at once (the main thread never counts); when the first
/// has exited before the second takes an index, the second receives the
/// first one's index and cell and must continue from its count — ordered
/// only by the pool's mutex. A concurrent `sum` sees a prefix. Also checks
/// that loom ran the first thread's guard destructor: in some execution the
/// index is reused (one bucket of one cell).
#[test]
fn exited_threads_index_passes_to_the_next_thread() {
    static REUSED: AtomicUsize = AtomicUsize::new(0);
    loom::model(|| {
        let c = Arc::new(ShardedCounter::new());
        let (c1, c2) = (Arc::clone(&c), Arc::clone(&c));
        let first = thread::spawn(move || {
            c1.inc();
            c1.inc();
        });
        let second = thread::spawn(move || c2.inc());
        assert!(c.sum() <= 3);
        first.join().unwrap();
        second.join().unwrap();
        assert_eq!(c.sum(), 3);
        if c.shards() == 1 {
            REUSED.fetch_add(1, Relaxed);
        }
    });
    assert!(REUSED.load(Relaxed) > 0, "no execution handed the exited thread's index out again");
}

/// The main thread holds index 0; two threads count at once with indices 1
/// and 2, which share bucket 1 (two cells): one allocates and publishes it,
/// the other finds it (or loses the race to publish its own) and must see
/// the cells initialised before it uses its own. A `sum` after joining only
/// the first thread must include its increment even when the other thread
/// published the bucket and has not finished: the scan limit was raised
/// before the bucket was published.
#[test]
fn two_threads_share_a_bucket_one_of_them_publishes() {
    loom::model(|| {
        let c = Arc::new(ShardedCounter::new());
        c.inc();
        let (c1, c2) = (Arc::clone(&c), Arc::clone(&c));
        let first = thread::spawn(move || c1.inc());
        let second = thread::spawn(move || c2.local().add(2));
        first.join().unwrap();
        let seen = c.sum();
        assert!(seen == 2 || seen == 4, "the first thread's increment is missing: {seen}");
        second.join().unwrap();
        assert_eq!(c.sum(), 4);
    });
}

/// Two threads count on a fresh counter at once: both find it without an id
/// and race to install one. Whoever loses takes the winner's; the second
/// count of each thread goes through the cache under whichever id it saw.
/// Every increment counts, once.
#[test]
fn two_threads_race_to_install_the_counter_id() {
    loom::model(|| {
        let c = Arc::new(ShardedCounter::new());
        let c2 = Arc::clone(&c);
        let t = thread::spawn(move || {
            c2.inc();
            c2.add(10);
        });
        c.inc();
        c.add(100);
        t.join().unwrap();
        assert_eq!(c.sum(), 112);
    });
}

/// Two fresh counters, first used at the same time by two threads: their
/// ids are allocated concurrently. Afterwards the main thread, whose cache
/// holds the second counter's id and cell, counts on the first: if the two
/// ids were equal, that count would land in the second counter's cell.
#[test]
fn ids_allocated_at_once_keep_two_counters_apart() {
    loom::model(|| {
        let (a, b) = (Arc::new(ShardedCounter::new()), ShardedCounter::new());
        let a2 = Arc::clone(&a);
        let t = thread::spawn(move || a2.inc());
        b.inc();
        t.join().unwrap();
        a.add(10);
        assert_eq!((a.sum(), b.sum()), (11, 1));
    });
}

/// A thread counts 1 and raises the counter to 10; a concurrent `sum` sees
/// the counter before (0 or 1) or after the raise (10), never in between: a
/// `sum` that reads the lowered baseline reads the cell the raise counted.
#[test]
fn sum_after_raise_sees_the_target() {
    loom::model(|| {
        let c = Arc::new(ShardedCounter::new());
        let c2 = Arc::clone(&c);
        let t = thread::spawn(move || {
            c2.add(1);
            c2.raise_to(10);
        });
        let seen = c.sum();
        assert!(matches!(seen, 0 | 1 | 10), "sum saw the raise without its count: {seen}");
        t.join().unwrap();
        assert_eq!(c.sum(), 10);
    });
}

/// A raise races a thread that increments and takes. Whatever the order, the
/// raise reaches its target and the take hands out each unit once: either
/// the raise comes first (the take returns 5 or 6 and leaves 0) or after the
/// take (which returns 1 and leaves the raised 5).
#[test]
fn raise_racing_a_take_reaches_its_target() {
    loom::model(|| {
        let c = Arc::new(ShardedCounter::new());
        let c2 = Arc::clone(&c);
        let t = thread::spawn(move || {
            c2.inc();
            c2.take()
        });
        let added = c.raise_to(5);
        let taken = t.join().unwrap();
        let left = c.sum();
        assert_eq!(taken + left, 1 + added, "a unit was lost or handed out twice");
        assert!(
            matches!((taken, left), (5 | 6, 0) | (1, 5)),
            "raise or take went wrong: took {taken}, left {left}"
        );
    });
}

/// A counter and a flag that a thread-local destructor can borrow for
/// `'static`; made per execution and freed when the model is done.
struct Shared {
    counter: ShardedCounter,
    /// Set by the destructor when it has finished counting: loom's `join`
    /// does not wait for destructors.
    done: AtomicBool,
}

impl Shared {
    fn leak() -> &'static Shared {
        Box::leak(Box::new(Shared { counter: ShardedCounter::new(), done: AtomicBool::new(false) }))
    }

    /// Waits until the destructor has finished counting.
    fn wait(&self) {
        while !self.done.load(Acquire) {
            thread::yield_now();
        }
    }

    /// Frees what [`Shared::leak`] made, once [`Shared::wait`] returned.
    fn free(this: &'static Shared) {
        // SAFETY: `this` came from `Box::leak`, and the only destructor that
        // used it has finished (it set `done` last, `wait` saw it).
        drop(unsafe { Box::from_raw(this as *const Shared as *mut Shared) });
    }
}

/// A thread-local value that counts when its thread ends: once through
/// `ShardedCounter::inc`, once through a `LocalCounter` it kept.
///
/// Holding the handle also keeps the destructors' loom operations in one
/// order: loom drops a thread's thread-locals in no fixed order, and the
/// index is returned (a mutex operation) by whichever of this value and the
/// registry's guard goes last; with the handle here, that is always after
/// this value's own counting.
struct CountOnDrop {
    shared: &'static Shared,
    local: LocalCounter<'static>,
}

impl Drop for CountOnDrop {
    fn drop(&mut self) {
        self.shared.counter.inc();
        self.local.add(10);
        self.shared.done.store(true, Release);
    }
}

loom::thread_local! {
    static AT_EXIT: RefCell<Option<CountOnDrop>> = RefCell::new(None);
}

/// A thread counts, then counts again from a thread-local destructor after
/// its guard is gone (loom: every thread-local of the ending thread is
/// destroyed): `inc` spills, and a `LocalCounter` kept in the value still
/// writes its cell, whose index its lease holds until then. Another thread
/// counts meanwhile and may take the index right after: it must continue
/// from the full count.
#[test]
fn counting_from_a_destructor_after_the_guard_loses_nothing() {
    loom::model(|| {
        let shared = Shared::leak();
        let first = thread::spawn(move || {
            let local = shared.counter.local();
            AT_EXIT.with(|slot| *slot.borrow_mut() = Some(CountOnDrop { shared, local }));
            shared.counter.inc();
        });
        let second = thread::spawn(move || shared.counter.inc());
        let seen = shared.counter.sum();
        assert!(seen <= 13, "{seen}");
        first.join().unwrap();
        second.join().unwrap();
        shared.wait();
        assert_eq!(shared.counter.sum(), 13);
        Shared::free(shared);
    });
}
