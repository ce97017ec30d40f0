//! Loom models of the Disruptor. Covers [DSR-O1] [DSR-O2] [DSR-O3] [DSR-O4]
//! [DSR-O5] [DSR-O6] [DSR-O7] [DSR-O8] [DSR-O9] and the invariants [DSR-I1]
//! [DSR-I4] [DSR-I5].
//!
//! The models run the real builder, sequencers and processor loop: a
//! consumer is a thread the builder spawns. Handler state that only the test
//! inspects after `join` lives in std atomics (joining orders it); data whose
//! visibility the Disruptor must provide lives in loom cells.
#![cfg(loom)]
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use acqrel::disruptor::{Blocking, Builder, BusySpin, Sequence, WaitStrategy, Yielding};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

fn three_threads(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(f);
}

/// Capacity 2, three events: the third claims slot 0 again and must wait
/// until the consumer has read event 0 (the wrap), which must be intact.
#[test]
fn single_producer_wraps_capacity_two_after_the_consumer_read() {
    loom::model(|| {
        let handled = std::sync::Arc::new(AtomicU64::new(0));
        let h = std::sync::Arc::clone(&handled);
        let (mut producer, consumers) = Builder::single_producer(2, || u64::MAX, BusySpin)
            .handle_events_with(move |e: &u64, s: i64, _| {
                assert_eq!(*e, s as u64, "event {s} torn or overwritten");
                h.fetch_add(1, Relaxed);
            })
            .build();
        for i in 0..3 {
            producer.publish(|e| *e = i).unwrap();
        }
        drop(producer);
        consumers.join().unwrap();
        assert_eq!(handled.load(Relaxed), 3);
    });
}

/// Two producers claim one slot each of a ring of 2; the consumer must see
/// both events, written in full, and never the factory's blank.
#[test]
fn two_producers_one_consumer_see_contiguous_intact_events() {
    three_threads(|| {
        let sum = std::sync::Arc::new(AtomicU64::new(0));
        let s = std::sync::Arc::clone(&sum);
        let (mut a, consumers) = Builder::multi_producer(2, || 0u64, Yielding)
            .handle_events_with(move |e: &u64, _, _| {
                assert_ne!(*e, 0, "read a slot before its producer wrote it");
                s.fetch_add(*e, Relaxed);
            })
            .build();
        let mut b = a.clone();
        let t = thread::spawn(move || {
            b.publish(|e| *e = 10).unwrap();
        });
        a.publish(|e| *e = 1).unwrap();
        t.join().unwrap();
        drop(a);
        consumers.join().unwrap();
        assert_eq!(sum.load(Relaxed), 11);
    });
}

struct Journal(UnsafeCell<u64>);
// SAFETY: written by the first stage only, read by the second after the stage chain.
unsafe impl Sync for Journal {}

/// The second stage must see both the event and the first stage's side
/// effect on it, through the first stage's sequence.
#[test]
fn two_stage_chain_second_sees_the_first_stages_work() {
    three_threads(|| {
        let journal = Arc::new(Journal(UnsafeCell::new(0)));
        let (j1, j2) = (Arc::clone(&journal), Arc::clone(&journal));
        let (mut producer, consumers) = Builder::single_producer(2, || 0u64, BusySpin)
            .handle_events_with(move |e: &u64, _, _| {
                // SAFETY: only the first stage writes the journal.
                j1.0.with_mut(|p| unsafe { *p += *e });
            })
            .then(move |e: &u64, _, _| {
                // SAFETY: the first stage's sequence orders its write before this read.
                let journaled = j2.0.with(|p| unsafe { *p });
                assert_eq!(journaled, *e, "second stage ran ahead of the first");
            })
            .build();
        producer.publish(|e| *e = 5).unwrap();
        drop(producer);
        consumers.join().unwrap();
    });
}

/// A consumer about to sleep races a publish: it must not sleep through it.
/// A lost wake-up leaves the waiter blocked forever, which loom reports as a
/// deadlock when `join` waits for it.
#[test]
fn blocking_wait_is_woken_by_a_publish_racing_the_sleep() {
    loom::model(|| {
        let published = Arc::new(Sequence::new());
        let wait = Arc::new(Blocking::new());
        let (p, w) = (Arc::clone(&published), Arc::clone(&wait));
        let waiter = thread::spawn(move || w.wait_for(0, || p.get(), || false));
        published.set(0);
        wait.signal();
        assert_eq!(waiter.join().unwrap(), 0);
    });
}

/// Shutdown with a Blocking consumer asleep: dropping the producer right
/// after publishing must wake it, and it must handle the event first.
#[test]
fn shutdown_drains_the_event_published_just_before_it() {
    loom::model(|| {
        let handled = std::sync::Arc::new(AtomicU64::new(0));
        let h = std::sync::Arc::clone(&handled);
        let (mut producer, consumers) = Builder::single_producer(2, || 0u64, Blocking::new())
            .handle_events_with(move |e: &u64, _, _| {
                h.fetch_add(*e, Relaxed);
            })
            .build();
        producer.publish(|e| *e = 7).unwrap();
        drop(producer);
        consumers.join().unwrap();
        assert_eq!(handled.load(Relaxed), 7);
    });
}

/// Two producer handles on two threads: the one dropped last must see the
/// other's claim, or shutdown ends the consumer before the other's event.
#[test]
fn shutdown_after_two_producers_drains_both_events() {
    three_threads(|| {
        let handled = std::sync::Arc::new(AtomicU64::new(0));
        let h = std::sync::Arc::clone(&handled);
        let (a, consumers) = Builder::multi_producer(2, || 0u64, BusySpin)
            .handle_events_with(move |e: &u64, _, _| {
                h.fetch_add(*e, Relaxed);
            })
            .build();
        let mut b = a.clone();
        let t = thread::spawn(move || {
            b.publish(|e| *e = 3).unwrap();
        });
        drop(a);
        t.join().unwrap();
        consumers.join().unwrap();
        assert_eq!(handled.load(Relaxed), 3);
    });
}
