//! Loom models of the Disruptor. Covers [DSR-O1] [DSR-O2] [DSR-O3] [DSR-O4]
//! [DSR-O5] [DSR-O6] [DSR-O7] [DSR-O8] [DSR-O9] [DSR-O10], the invariants [DSR-I1]
//! [DSR-I4] [DSR-I5] [DSR-I6] [DSR-I7] [DSR-I8], and what safe code can do: a leaked
//! claim ([DSR-S3]) and handles dropped inside the threads ([DSR-S5]).
//!
//! Models of drops drop the handles inside the spawned threads, so that
//! the last `Arc` of the ring may go on either side; run them under
//! AddressSanitizer too (loom does not track freed memory).
//!
//! The models run the real builder, sequencers and processor loop: a
//! consumer is a thread the builder spawns. Handler state that only the test
//! inspects after `join` lives in std atomics (joining orders it); data whose
//! visibility the Disruptor must provide lives in loom cells.
#![cfg(loom)]
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use acqrel::disruptor::{
    Blocking, Builder, BusySpin, RingBuffer, Sequence, SequenceBarrier, Sequencer,
    SingleProducerSequencer, WaitStrategy, Yielding,
};
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
            .handle_events_with(move |e, s, _| {
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
            .handle_events_with(move |e, _, _| {
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

/// Stage 2 depends on stage 1 (played by the main thread, which then acts
/// as the producer). Stage 2 must see stage 1's side effect on event 0, and
/// the producer, gated only by stage 2, must not overwrite slot 0 (sequence
/// 2) before stage 2 has read it. Events 0 and 1 are pre-published.
#[test]
fn two_stage_chain_second_sees_the_first_stages_work() {
    loom::model(|| {
        let ring = Arc::new(RingBuffer::new(2, || 0u64));
        let cursor = Arc::new(Sequence::new());
        let (stage1, stage2) = (Arc::new(Sequence::new()), Arc::new(Sequence::new()));
        let journal = Arc::new(Journal(UnsafeCell::new(0)));
        let mut producer =
            SingleProducerSequencer::new(Arc::clone(&cursor), 2, vec![Arc::clone(&stage2)]);
        for _ in 0..2 {
            let hi = producer.try_claim(1).unwrap();
            // SAFETY: claimed and not yet published; no other thread exists yet.
            unsafe { *ring.get_mut(hi) = 10 + hi as u64 };
            producer.publish(hi, hi);
        }
        let barrier2 = SequenceBarrier::new(Arc::clone(&cursor), vec![Arc::clone(&stage1)]);
        let (r2, j2, s2) = (Arc::clone(&ring), Arc::clone(&journal), Arc::clone(&stage2));
        let second = thread::spawn(move || {
            let hi = barrier2.wait_for(0, &BusySpin, || false);
            assert_eq!(hi, 0, "stage 1 only passed event 0");
            // SAFETY: event 0 is published and stage 2's sequence still gates slot 0.
            let event = unsafe { *r2.get(0) };
            // SAFETY: stage 1 wrote the journal before its sequence reached 0.
            let journaled = j2.0.with(|p| unsafe { *p });
            assert_eq!(
                (event, journaled),
                (10, 10),
                "stage 2 ran ahead of stage 1 or of the producer"
            );
            s2.set(0);
        });
        // Stage 1 on the main thread: handle event 0.
        let barrier1 = SequenceBarrier::new(Arc::clone(&cursor), vec![]);
        assert_eq!(barrier1.wait_for(0, &BusySpin, || false), 1);
        // SAFETY: published; stage 1 reads only, and slot 0 stays gated by stage 2.
        let event = unsafe { *ring.get(0) };
        // SAFETY: only stage 1 writes the journal.
        journal.0.with_mut(|p| unsafe { *p = event });
        stage1.set(0);
        // The producer: sequence 2 reuses slot 0 once stage 2 is done with it.
        let hi = producer.claim_while(1, || true).unwrap();
        assert_eq!(hi, 2);
        // SAFETY: claimed; the gating wait ordered stage 2's read before this write.
        unsafe { *ring.get_mut(hi) = 12 };
        producer.publish(hi, hi);
        second.join().unwrap();
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
            .handle_events_with(move |e, _, _| {
                h.fetch_add(*e, Relaxed);
            })
            .build();
        producer.publish(|e| *e = 7).unwrap();
        drop(producer);
        consumers.join().unwrap();
        assert_eq!(handled.load(Relaxed), 7);
    });
}

/// Capacity 1 and a `Blocking` producer strategy beside a spinning
/// consumer: the second publish finds the ring full and sleeps until the
/// consumer has read event 0. The consumer must signal the producer's
/// strategy after advancing ([DSR-I8]) and the hand-shake must not lose that
/// wake-up ([DSR-O7]); otherwise the producer sleeps forever (deadlock).
#[test]
fn blocking_producer_on_a_full_ring_is_woken_by_the_consumer() {
    loom::model(|| {
        let handled = std::sync::Arc::new(AtomicU64::new(0));
        let h = std::sync::Arc::clone(&handled);
        let (mut producer, consumers) = Builder::single_producer(1, || 0u64, BusySpin)
            .handle_events_with(move |e, s, _| {
                assert_eq!(*e, s as u64 + 1, "event {s} torn or overwritten");
                h.fetch_add(1, Relaxed);
            })
            .producer_wait(Blocking::new())
            .build();
        producer.publish(|e| *e = 1).unwrap();
        producer.publish(|e| *e = 2).unwrap();
        drop(producer);
        consumers.join().unwrap();
        assert_eq!(handled.load(Relaxed), 2);
    });
}

/// The default strategy spins, but the one consumer sleeps with its own
/// `Blocking`: the producer must signal that strategy (not only the
/// default) after its publish ([DSR-I8]), or the consumer sleeps through
/// the event and the shutdown (deadlock).
#[test]
fn own_blocking_consumer_is_woken_by_a_publish_next_to_a_spinning_default() {
    loom::model(|| {
        let handled = std::sync::Arc::new(AtomicU64::new(0));
        let h = std::sync::Arc::clone(&handled);
        let (mut producer, consumers) = Builder::single_producer(2, || 0u64, BusySpin)
            .handle_events_with_wait(
                move |e, _, _| {
                    h.fetch_add(*e, Relaxed);
                },
                Blocking::new(),
            )
            .build();
        producer.publish(|e| *e = 5).unwrap();
        drop(producer);
        consumers.join().unwrap();
        assert_eq!(handled.load(Relaxed), 5);
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
            .handle_events_with(move |e, _, _| {
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

/// Two workers of a pool race for two pre-published events: each event is
/// handled exactly once, and the handled values are intact.
#[test]
fn work_pool_hands_each_event_to_exactly_one_worker() {
    // Two spinning workers need more than loom's default branch budget, and
    // preemption bound 2 exceeds any budget that finishes: bound 1 here.
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(1);
    builder.max_branches = 20_000;
    builder.check(|| {
        let sum = std::sync::Arc::new(AtomicU64::new(0));
        let (mut producer, consumers) = Builder::single_producer(2, || 0u64, BusySpin)
            .work_pool(2, |_| {
                let s = std::sync::Arc::clone(&sum);
                move |e, _, _| {
                    s.fetch_add(*e, Relaxed);
                }
            })
            .build();
        producer.publish(|e| *e = 1).unwrap();
        producer.publish(|e| *e = 10).unwrap();
        drop(producer);
        consumers.join().unwrap();
        assert_eq!(sum.load(Relaxed), 11, "an event was lost or handled twice");
    });
}

/// Two producers on a ring of one: whichever claims second waits for the
/// consumer, and only then takes its sequence (compare-exchange after the
/// wait). The consumer must see both events, intact, and no gap. Everyone
/// waits with `Blocking` (spinning producers exceed loom's branch budget).
#[test]
fn two_producers_on_a_ring_of_one_take_turns_without_a_gap() {
    three_threads(|| {
        let sum = std::sync::Arc::new(AtomicU64::new(0));
        let s = std::sync::Arc::clone(&sum);
        let (mut a, consumers) = Builder::multi_producer(1, || 0u64, Blocking::new())
            .handle_events_with(move |e, _, _| {
                assert_ne!(*e, 0, "read a slot before its producer wrote it");
                s.fetch_add(*e, Relaxed);
            })
            .producer_wait(Blocking::new())
            .build();
        let mut b = a.clone();
        let t = thread::spawn(move || {
            b.publish(|e| *e = 10).unwrap();
            drop(b);
        });
        a.publish(|e| *e = 1).unwrap();
        drop(a);
        t.join().unwrap();
        consumers.join().unwrap();
        assert_eq!(sum.load(Relaxed), 11);
    });
}

/// One producer handle leaks a claim and is dropped on its own thread: its
/// drop publishes the slot reset to a factory event, concurrently with the
/// other handle's publish and drop. The consumer sees both events (the
/// leaked one blank), written before they were published, and shutdown
/// comes after both.
#[test]
fn a_leaked_claim_is_published_by_its_handle_dropped_on_another_thread() {
    three_threads(|| {
        let (sum, count) =
            (std::sync::Arc::new(AtomicU64::new(0)), std::sync::Arc::new(AtomicU64::new(0)));
        let (s, c) = (std::sync::Arc::clone(&sum), std::sync::Arc::clone(&count));
        let (mut a, consumers) = Builder::multi_producer(2, || 100u64, BusySpin)
            .handle_events_with(move |e, _, _| {
                s.fetch_add(*e, Relaxed);
                c.fetch_add(1, Relaxed);
            })
            .build();
        let mut b = a.clone();
        let t = thread::spawn(move || {
            let mut claim = b.claim().unwrap();
            *claim = 7; // half-written, then leaked
            std::mem::forget(claim);
            drop(b);
        });
        a.publish(|e| *e = 5).unwrap();
        drop(a);
        t.join().unwrap();
        consumers.join().unwrap();
        assert_eq!((count.load(Relaxed), sum.load(Relaxed)), (2, 105), "the leaked slot is blank");
    });
}

/// A poller dropped on its own thread without polling, racing the
/// producer's publish and shutdown: whichever comes first, the poller's
/// drop halts (it did not drain), so the handler behind it ends instead of
/// waiting for it forever, and never sees the event the poller missed.
#[test]
fn a_poller_dropped_inside_a_thread_before_it_drained_halts_the_stage_behind_it() {
    three_threads(|| {
        let handled = std::sync::Arc::new(AtomicU64::new(0));
        let h = std::sync::Arc::clone(&handled);
        let (builder, poller) = Builder::single_producer(2, || 0u64, BusySpin).poller();
        let (mut producer, consumers) = builder
            .then(move |_, _, _| {
                h.fetch_add(1, Relaxed);
            })
            .build();
        let t = thread::spawn(move || drop(poller));
        let _ = producer.publish(|e| *e = 1); // `Halted` if the drop came first
        drop(producer);
        t.join().unwrap();
        consumers.join().unwrap();
        assert_eq!(handled.load(Relaxed), 0);
    });
}
