//! Loom models of `SpinLock` and `TicketLock`. Covers [SPIN-O1] [SPIN-O2]
//! [SPIN-O3] [SPIN-I1] [TICKET-O1] [TICKET-O2] [TICKET-O3] [TICKET-O4]
//! [TICKET-O5] [TICKET-I1] [TICKET-I2] [SPIN-S5] [TICKET-S5].
//!
//! Under loom the ticket lock's patience is one poll, so the models reach
//! schedules in which an offer is withdrawn from a waiter that loom did not
//! run; the models that must reach such a schedule record that they did
//! (in a std atomic outside the model) and check it once exploration ends.
//!
//! The protected value lives in the lock's own cell, which under loom is
//! `loom::cell::UnsafeCell`: every dereference of a guard is a tracked
//! access, so two critical sections not ordered by happens-before (a failure
//! of exclusion *or* of visibility) are reported as a causality violation.
#![cfg(loom)]
#![allow(clippy::disallowed_types)]

use acqrel::{SpinLock, TicketLock};
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

/// Runs a three-thread model with preemption bound 1.
///
/// Two waiters spinning at once defeat bound 2: a waiter's `yield_now` lets
/// loom switch to the *other* waiter without counting a preemption, so
/// schedules in which the two hand the CPU back and forth grow without
/// limit ("exceeded maximum number of branches", measured at bound 2 even
/// with 20,000 branches). Bound 1 finishes in milliseconds and still kills
/// every weakened ordering of both locks (see SAFETY.md); the two-thread
/// models run with `ci/loom.sh`'s bound.
fn model_bounded(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(1);
    builder.check(f);
}

/// Two threads each add one to a plain (non-atomic) counter under the lock:
/// the sections must be exclusive and each must see the other's write.
#[test]
fn spin_two_threads_increment_a_plain_counter() {
    loom::model(|| {
        let lock = Arc::new(SpinLock::new(0u32));
        let other = Arc::clone(&lock);
        let t = thread::spawn(move || *other.lock() += 1);
        *lock.lock() += 1;
        t.join().unwrap();
        assert_eq!(*lock.lock(), 2);
    });
}

/// Three threads increment under the lock; the last lock sees all three.
/// A holder's release reaches a waiter that was already spinning.
#[test]
fn spin_three_threads_increment_a_plain_counter() {
    model_bounded(|| {
        let lock = Arc::new(SpinLock::new(0u32));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let lock = Arc::clone(&lock);
                thread::spawn(move || *lock.lock() += 1)
            })
            .collect();
        *lock.lock() += 1;
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock(), 3);
    });
}

/// A `try_lock` races a holder's critical section: it either fails (and
/// touches nothing) or succeeds after the section and sees its write.
#[test]
fn spin_try_lock_either_fails_or_sees_the_previous_section() {
    loom::model(|| {
        let lock = Arc::new(SpinLock::new(0u32));
        let other = Arc::clone(&lock);
        // The spawned thread tries: loom then explores it running both
        // before and after the main thread's whole critical section.
        let t = thread::spawn(move || match other.try_lock() {
            Some(mut guard) => {
                let seen = *guard;
                *guard += 10;
                Some(seen)
            }
            None => None,
        });
        *lock.lock() += 1;
        let seen = t.join().unwrap();
        assert!(matches!(seen, None | Some(0) | Some(1)));
        assert_eq!(*lock.lock(), if seen.is_some() { 11 } else { 1 });
    });
}

/// The ticket lock's exclusion and visibility, two threads.
#[test]
fn ticket_two_threads_increment_a_plain_counter() {
    loom::model(|| {
        let lock = Arc::new(TicketLock::new(0u32));
        let other = Arc::clone(&lock);
        let t = thread::spawn(move || *other.lock() += 1);
        *lock.lock() += 1;
        t.join().unwrap();
        assert_eq!(*lock.lock(), 2);
    });
}

/// Three threads through the ticket lock: hand-over along a queue of two
/// waiters, including schedules in which an offer is withdrawn from a waiter
/// loom did not run (checked to be reached).
#[test]
fn ticket_three_threads_increment_a_plain_counter() {
    static WITHDRAWN: AtomicBool = AtomicBool::new(false);
    model_bounded(|| {
        let lock = Arc::new(TicketLock::new(0u32));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let lock = Arc::clone(&lock);
                thread::spawn(move || *lock.lock() += 1)
            })
            .collect();
        *lock.lock() += 1;
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock(), 3);
        if lock.skips() > 0 {
            WITHDRAWN.store(true, SeqCst);
        }
    });
    assert!(WITHDRAWN.load(SeqCst), "a schedule with a withdrawn offer was explored");
}

/// The ticket lock's `try_lock` racing a `lock`: it succeeds only when no
/// ticket is outstanding, and then sees the finished section.
#[test]
fn ticket_try_lock_either_fails_or_sees_the_previous_section() {
    loom::model(|| {
        let lock = Arc::new(TicketLock::new(0u32));
        let other = Arc::clone(&lock);
        // The spawned thread tries: loom then explores it running both
        // before and after the main thread's whole critical section.
        let t = thread::spawn(move || match other.try_lock() {
            Some(mut guard) => {
                let seen = *guard;
                *guard += 10;
                Some(seen)
            }
            None => None,
        });
        *lock.lock() += 1;
        let seen = t.join().unwrap();
        assert!(matches!(seen, None | Some(0) | Some(1)));
        assert_eq!(*lock.lock(), if seen.is_some() { 11 } else { 1 });
    });
}

/// The main thread holds the lock while a second thread queues for it, then
/// releases it and immediately asks again. The waiter is served first —
/// unless loom did not run it for the patience window: the main thread then
/// withdraws the offer (`skips` counts it) and the passed-over waiter
/// re-queues behind it and is still served. The waiter may in turn withdraw
/// the main thread's offer while the main thread does not run, and enter
/// first after all: its claim then reads its own withdrawal, which read the
/// main thread's withdrawal, which read the unlock — it must still see the
/// main thread's first section through the release sequence. All three
/// schedules are reached.
#[test]
fn ticket_release_goes_to_the_waiter_unless_it_is_passed_over() {
    static SERVED_IN_ORDER: AtomicBool = AtomicBool::new(false);
    static PASSED_OVER: AtomicBool = AtomicBool::new(false);
    static BOTH_PASSED_OVER: AtomicBool = AtomicBool::new(false);
    loom::model(|| {
        let lock = Arc::new(TicketLock::new(Vec::new()));
        let mut guard = lock.lock();
        let other = Arc::clone(&lock);
        let t = thread::spawn(move || other.lock().push(1));
        // Wait until the waiter has drawn its ticket (holder + one waiter).
        while lock.queue_len() < 2 {
            thread::yield_now();
        }
        guard.push(9);
        drop(guard);
        lock.lock().push(0);
        t.join().unwrap();
        let order = lock.lock().clone();
        // Each withdrawal passes the lock from the one offered to the other.
        let skips = lock.skips();
        let expected: &[u32] = if skips % 2 == 0 { &[9, 1, 0] } else { &[9, 0, 1] };
        assert_eq!(order, expected, "{skips} skips");
        match skips {
            0 => SERVED_IN_ORDER.store(true, SeqCst),
            1 => PASSED_OVER.store(true, SeqCst),
            _ => BOTH_PASSED_OVER.store(true, SeqCst),
        }
    });
    assert!(SERVED_IN_ORDER.load(SeqCst), "FIFO schedule explored");
    assert!(PASSED_OVER.load(SeqCst), "schedule with the waiter passed over explored");
    assert!(BOTH_PASSED_OVER.load(SeqCst), "schedule with both passed over explored");
}

/// Both threads hold an `Arc` of a lock whose data is on the heap, take the
/// lock once and drop their `Arc` inside their own thread: whichever lets
/// go last frees the lock and its data, after the other's critical section
/// (a free racing a section would be a use-after-free under
/// AddressSanitizer). Covers [SPIN-S5] [SPIN-I1].
#[test]
fn spin_lock_freed_by_whichever_thread_drops_it_last() {
    loom::model(|| {
        let lock = Arc::new(SpinLock::new(Box::new(0u32)));
        let other = Arc::clone(&lock);
        let t = thread::spawn(move || {
            **other.lock() += 1;
            drop(other);
        });
        **lock.lock() += 1;
        drop(lock);
        t.join().unwrap();
    });
}

/// As `spin_lock_freed_by_whichever_thread_drops_it_last`, for the ticket
/// lock. Covers [TICKET-S5] [TICKET-I1].
#[test]
fn ticket_lock_freed_by_whichever_thread_drops_it_last() {
    loom::model(|| {
        let lock = Arc::new(TicketLock::new(Box::new(0u32)));
        let other = Arc::clone(&lock);
        let t = thread::spawn(move || {
            **other.lock() += 1;
            drop(other);
        });
        **lock.lock() += 1;
        drop(lock);
        t.join().unwrap();
    });
}
