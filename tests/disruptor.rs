//! Behaviour and stress tests of the Disruptor: sequencers, ring, barrier,
//! wait strategies, producers, consumer graphs, panics and shutdown.
#![cfg(not(loom))]
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;

use acqrel::disruptor::{
    Blocking, Builder, BusySpin, ContinueOnPanic, Cursor, EventHandler, EventPoller, Halted,
    InsufficientCapacity, MultiProducerCursor, MultiProducerSequencer, PanicPayload, Polled,
    RingBuffer, Sequence, SequenceBarrier, Sequencer, SingleProducerSequencer, Sleeping, Timed,
    Timeout, TryPublishBatchError, TryPublishError, WaitStrategy, Yielding,
};
use common::{DropCounter, scaled};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A handler that checks events arrive as `0, 1, 2, ...` (value == sequence)
/// and counts them.
fn in_order(count: Arc<AtomicU64>) -> impl FnMut(&u64, i64, bool) + Send + 'static {
    let mut expected = 0u64;
    move |e: &u64, seq: i64, _end: bool| {
        assert_eq!(seq as u64, expected, "sequence skipped or repeated");
        assert_eq!(*e, expected, "event out of order or torn");
        expected += 1;
        count.fetch_add(1, Relaxed);
    }
}

// ---- Sequence, ring, sequencers, barrier -------------------------------------------------

#[test]
fn sequence_starts_at_minus_one_and_round_trips() {
    let s = Sequence::new();
    assert_eq!(s.get(), Sequence::INITIAL);
    s.set(7);
    assert_eq!(s.get(), 7);
    assert_eq!(Sequence::with_value(3).get(), 3);
    assert!(format!("{s:?}").contains('7'));
}

#[test]
#[should_panic(expected = "power of two")]
fn ring_capacity_zero_panics() {
    let _ = RingBuffer::new(0, || 0u8);
}

#[test]
#[should_panic(expected = "power of two")]
fn ring_capacity_not_power_of_two_panics() {
    let _ = RingBuffer::new(12, || 0u8);
}

#[test]
#[should_panic(expected = "power of two")]
fn builder_capacity_zero_panics() {
    let _ = Builder::single_producer(0, || 0u8, BusySpin);
}

#[test]
fn ring_indexes_by_mask_over_many_laps() {
    let ring = RingBuffer::new(4, || 0u64);
    for s in 0..100i64 {
        // SAFETY: single thread, nothing else touches the ring.
        unsafe { *ring.get_mut(s) = s as u64 };
        // SAFETY: as above.
        assert_eq!(unsafe { *ring.get(s) }, s as u64);
        if s >= 4 {
            // SAFETY: as above.
            assert_eq!(unsafe { *ring.get(s - 4) }, s as u64, "same slot one lap earlier");
        }
    }
}

#[test]
fn ring_drops_each_event_exactly_once() {
    let drops = DropCounter::new();
    let ring = RingBuffer::new(8, || drops.track(0u8));
    assert_eq!(drops.alive(), 8);
    drop(ring);
    assert_eq!(drops.alive(), 0);
}

#[test]
fn single_producer_refuses_a_full_ring_and_resumes_after_the_consumer() {
    let cursor = Arc::new(Sequence::new());
    let consumer = Arc::new(Sequence::new());
    let mut seq = SingleProducerSequencer::new(Arc::clone(&cursor), 4, vec![Arc::clone(&consumer)]);
    assert_eq!(seq.try_claim(3), Ok(2));
    assert_eq!(seq.try_claim(2), Err(InsufficientCapacity));
    assert_eq!(seq.try_claim(1), Ok(3));
    seq.publish(0, 3);
    assert_eq!(cursor.get(), 3);
    assert_eq!(seq.try_claim(1), Err(InsufficientCapacity));
    consumer.set(1);
    assert_eq!(seq.try_claim(2), Ok(5));
    assert_eq!(seq.try_claim(1), Err(InsufficientCapacity));
    assert_eq!(seq.claimed(), 5);
    assert_eq!(seq.capacity(), 4);
    // many laps
    for lap in 0..scaled(1000) as i64 {
        consumer.set(5 + lap);
        assert_eq!(seq.try_claim(1), Ok(6 + lap));
        seq.publish(6 + lap, 6 + lap);
    }
}

#[test]
#[should_panic(expected = "claim of 5 sequences on a ring of 4")]
fn claim_larger_than_the_ring_panics() {
    let mut seq = SingleProducerSequencer::new(Arc::new(Sequence::new()), 4, vec![]);
    let _ = seq.try_claim(5);
}

#[test]
#[should_panic(expected = "claim of 0 sequences")]
fn claim_of_zero_panics() {
    let cursor = Arc::new(MultiProducerCursor::new(4));
    let mut seq = MultiProducerSequencer::new(cursor, vec![]);
    let _ = seq.try_claim(0);
}

#[test]
fn multi_producer_reads_only_contiguous_published_ranges() {
    let cursor = Arc::new(MultiProducerCursor::new(4));
    let consumer = Arc::new(Sequence::new());
    let mut a = MultiProducerSequencer::new(Arc::clone(&cursor), vec![Arc::clone(&consumer)]);
    let mut b = a.clone();
    assert_eq!(a.try_claim(1), Ok(0));
    assert_eq!(b.try_claim(2), Ok(2));
    assert_eq!(cursor.claimed(), 2);
    b.publish(1, 2);
    assert_eq!(cursor.highest_published(0), -1, "slot 0 is a gap");
    a.publish(0, 0);
    assert_eq!(cursor.highest_published(0), 2);
    assert_eq!(cursor.highest_published(2), 2);
    assert_eq!(a.try_claim(1), Ok(3));
    assert_eq!(b.try_claim(1), Err(InsufficientCapacity));
    a.publish(3, 3);
    consumer.set(3);
    // Next lap: slot 0 holds lap 0, so sequence 4 (lap 1) is not published yet.
    assert_eq!(b.try_claim(1), Ok(4));
    assert_eq!(cursor.highest_published(4), 3);
    b.publish(4, 4);
    assert_eq!(cursor.highest_published(4), 4);
    // The scan does not consult the claim counter: claimed but unpublished
    // slots, and slots nobody claimed yet, stop it by their older laps.
    assert_eq!(a.try_claim(3), Ok(7));
    assert_eq!(cursor.highest_published(4), 4);
    a.publish(5, 7);
    assert_eq!(cursor.highest_published(4), 7, "a whole lap published");
    assert_eq!(cursor.highest_published(8), 7, "slot 0 holds lap 1, sequence 8 is lap 2");
}

#[test]
fn barrier_follows_cursor_or_dependents() {
    let cursor = Arc::new(Sequence::new());
    let upstream = Arc::new(Sequence::new());
    let first = SequenceBarrier::new(Arc::clone(&cursor), vec![]);
    let second = SequenceBarrier::new(Arc::clone(&cursor), vec![Arc::clone(&upstream)]);
    cursor.set(9);
    assert_eq!(first.available(0), 9);
    assert_eq!(second.available(0), -1);
    assert_eq!(second.wait_for(0, &BusySpin, || true), -1, "alerted: returns short");
    upstream.set(4);
    assert_eq!(second.wait_for(0, &Yielding, || false), 4);
    assert_eq!(first.wait_for(3, &Blocking::new(), || false), 9, "natural batching");
}

fn wait_strategy_wakes_on_publish<W: WaitStrategy>(wait: W) {
    let published = Arc::new(Sequence::new());
    let wait = Arc::new(wait);
    let (p, w) = (Arc::clone(&published), Arc::clone(&wait));
    let waiter = thread::spawn(move || w.wait_for(2, || p.get(), || false));
    published.set(1);
    wait.signal();
    published.set(3);
    wait.signal();
    assert_eq!(waiter.join().unwrap(), 3);
}

#[test]
fn every_wait_strategy_wakes_on_publish() {
    wait_strategy_wakes_on_publish(BusySpin);
    wait_strategy_wakes_on_publish(Yielding);
    wait_strategy_wakes_on_publish(Sleeping::default());
    wait_strategy_wakes_on_publish(Blocking::new());
}

#[test]
fn blocking_strategy_wakes_on_alert() {
    let wait = Arc::new(Blocking::new());
    let alert = Arc::new(AtomicBool::new(false));
    let (w, a) = (Arc::clone(&wait), Arc::clone(&alert));
    let waiter = thread::spawn(move || w.wait_for(0, || -1, || a.load(Relaxed)));
    alert.store(true, Relaxed);
    wait.signal();
    assert_eq!(waiter.join().unwrap(), -1);
}

// ---- Producers and consumers --------------------------------------------------------------

#[test]
fn one_producer_one_consumer_smoke() {
    let count = Arc::new(AtomicU64::new(0));
    let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
        .handle_events_with(in_order(Arc::clone(&count)))
        .build();
    for i in 0..100u64 {
        assert_eq!(producer.publish(|e| *e = i), Ok(i as i64));
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), 100);
}

#[test]
fn zero_sized_events_flow() {
    let count = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&count);
    let (mut producer, consumers) = Builder::single_producer(2, || (), Yielding)
        .handle_events_with(move |_, _, _| {
            c.fetch_add(1, Relaxed);
        })
        .build();
    for _ in 0..scaled(10_000) {
        producer.publish(|_| {}).unwrap();
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), scaled(10_000) as u64);
}

#[test]
fn claim_guard_publishes_on_drop() {
    let count = Arc::new(AtomicU64::new(0));
    let (mut producer, consumers) = Builder::single_producer(4, || 0u64, BusySpin)
        .handle_events_with(in_order(Arc::clone(&count)))
        .build();
    for i in 0..10 {
        let mut claim = producer.claim().unwrap();
        assert_eq!(claim.sequence(), i as i64);
        *claim = i;
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), 10);
}

#[test]
fn batch_publish_is_ordered_and_bounded_by_the_ring() {
    let count = Arc::new(AtomicU64::new(0));
    let (mut producer, consumers) = Builder::single_producer(64, || 0u64, Yielding)
        .handle_events_with(in_order(Arc::clone(&count)))
        .build();
    let mut next = 0u64;
    for _ in 0..scaled(2_000) {
        let hi = producer.publish_batch(64, |e, i| *e = next + i as u64).unwrap();
        next += 64;
        assert_eq!(hi, next as i64 - 1);
    }
    let too_big = catch_unwind(AssertUnwindSafe(|| producer.publish_batch(65, |_, _| {})));
    assert!(too_big.is_err(), "a batch larger than the ring panics");
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), next);
}

#[test]
fn try_publish_reports_a_full_ring() {
    let (go, permits) = mpsc::channel::<()>();
    let permits = Mutex::new(permits);
    let seen = Arc::new(AtomicU64::new(0));
    let s = Arc::clone(&seen);
    let (mut producer, consumers) = Builder::single_producer(2, || 0u64, Yielding)
        .handle_events_with(move |_, _, _| {
            permits.lock().unwrap().recv().unwrap();
            s.fetch_add(1, Relaxed);
        })
        .build();
    assert_eq!(producer.try_publish(|e| *e = 1), Ok(0));
    assert_eq!(producer.try_publish(|e| *e = 2), Ok(1));
    // The consumer holds sequence 0 (its sequence stays -1 until it returns).
    assert_eq!(producer.try_publish(|e| *e = 3), Err(TryPublishError::Full));
    go.send(()).unwrap();
    go.send(()).unwrap();
    go.send(()).unwrap();
    // Room again once the consumer finished its batch.
    while producer.try_publish(|e| *e = 3) == Err(TryPublishError::Full) {
        thread::yield_now();
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(seen.load(Relaxed), 3);
    assert_eq!(TryPublishError::Full.to_string(), "the ring buffer is full");
}

/// Polls everything available as `(sequence, event)` pairs.
fn drain<C: Cursor, W: WaitStrategy>(poller: &mut EventPoller<u64, C, W>) -> Vec<(i64, u64)> {
    let mut seen = Vec::new();
    poller.poll(|e, s, _| seen.push((s, *e)));
    seen
}

/// `(s, s)` for every `s` in `range`: events whose value is their sequence.
fn numbered(range: std::ops::RangeInclusive<i64>) -> Vec<(i64, u64)> {
    range.map(|s| (s, s as u64)).collect()
}

/// A ring of 8 with a poller as its only consumer: each refusal of
/// `try_publish_batch` names exactly the slots the poller still holds, and
/// claims nothing (the poller then sees every sequence once, in order, with
/// the value written for it).
fn try_publish_batch_counts_the_missing_slots<S: Sequencer, C: Cursor, W: WaitStrategy>(
    producer: &mut acqrel::disruptor::Producer<u64, S, W>,
    poller: &mut EventPoller<u64, C, W>,
) {
    let never = |_: &mut u64, _| unreachable!("a refused claim writes nothing");
    assert_eq!(producer.try_publish_batch(6, |e, i| *e = i as u64), Ok(5));
    assert_eq!(
        producer.try_publish_batch(4, never),
        Err(TryPublishBatchError::Full { missing: 2 })
    );
    assert_eq!(
        producer.try_publish_batch(8, never),
        Err(TryPublishBatchError::Full { missing: 6 })
    );
    assert_eq!(producer.try_publish_batch(1, |e, _| *e = 6), Ok(6));
    assert_eq!(
        producer.try_publish_batch(2, never),
        Err(TryPublishBatchError::Full { missing: 1 })
    );
    assert_eq!(producer.try_publish_batch(1, |e, _| *e = 7), Ok(7));
    assert_eq!(
        producer.try_publish_batch(1, never),
        Err(TryPublishBatchError::Full { missing: 1 })
    );
    assert_eq!(drain(poller), numbered(0..=7), "refusals claimed nothing");
    // All 8 slots free again: exact fits, then one too many.
    assert_eq!(producer.try_publish_batch(8, |e, i| *e = 8 + i as u64), Ok(15));
    assert_eq!(
        producer.try_publish_batch(3, never),
        Err(TryPublishBatchError::Full { missing: 3 })
    );
    let mut some = Vec::new();
    assert_eq!(poller.poll_at_most(2, |e, s, _| some.push((s, *e))), Polled::Events(2));
    assert_eq!(some, numbered(8..=9));
    assert_eq!(
        producer.try_publish_batch(5, never),
        Err(TryPublishBatchError::Full { missing: 3 })
    );
    assert_eq!(producer.try_publish_batch(2, |e, i| *e = 16 + i as u64), Ok(17));
    assert_eq!(drain(poller), numbered(10..=17), "no gap and no repeat after the refusals");
}

#[test]
fn try_publish_batch_on_a_full_ring_reports_the_missing_slots_single_producer() {
    let (builder, mut poller) = Builder::single_producer(8, || 0u64, Yielding).poller();
    let (mut producer, consumers) = builder.build();
    try_publish_batch_counts_the_missing_slots(&mut producer, &mut poller);
    drop(producer);
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
    consumers.join().unwrap();
    let full = TryPublishBatchError::Full { missing: 2 };
    assert_eq!(full.to_string(), "the ring buffer is full: 2 slots of the batch are missing");
}

#[test]
fn try_publish_batch_on_a_full_ring_reports_the_missing_slots_multi_producer() {
    let (builder, mut poller) = Builder::multi_producer(8, || 0u64, Yielding).poller();
    let (mut producer, consumers) = builder.build();
    let mut other = producer.clone();
    try_publish_batch_counts_the_missing_slots(&mut producer, &mut poller);
    // Another handle sees the same ring: full with the poller 8 behind.
    assert_eq!(producer.try_publish_batch(8, |e, i| *e = 18 + i as u64), Ok(25));
    assert_eq!(
        other.try_publish_batch(1, |_, _| unreachable!()),
        Err(TryPublishBatchError::Full { missing: 1 })
    );
    assert_eq!(drain(&mut poller), numbered(18..=25));
    assert_eq!(other.try_publish_batch(3, |e, i| *e = 26 + i as u64), Ok(28));
    assert_eq!(producer.try_publish_batch(5, |e, i| *e = 29 + i as u64), Ok(33));
    assert_eq!(drain(&mut poller), numbered(26..=33));
    drop((producer, other));
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
    consumers.join().unwrap();
}

#[test]
fn try_publish_batch_publishes_every_batch_in_order() {
    let count = Arc::new(AtomicU64::new(0));
    let (mut producer, consumers) = Builder::single_producer(16, || 0u64, Yielding)
        .handle_events_with(in_order(Arc::clone(&count)))
        .build();
    let mut next = 0u64;
    for round in 0..scaled(5_000) {
        let n = round % 16 + 1;
        let hi = loop {
            match producer.try_publish_batch(n, |e, i| *e = next + i as u64) {
                Ok(hi) => break hi,
                Err(TryPublishBatchError::Full { missing }) => {
                    assert!((1..=n).contains(&missing), "{missing} of {n}");
                    thread::yield_now();
                }
                Err(e) => panic!("{e}"),
            }
        };
        next += n as u64;
        assert_eq!(hi, next as i64 - 1);
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), next);
}

#[test]
fn try_publish_batch_from_several_producers_keeps_each_ones_order() {
    const PRODUCERS: u64 = 3;
    let per = scaled(20_000) as u64;
    let next = Arc::new(Mutex::new([0u64; PRODUCERS as usize]));
    let n = Arc::clone(&next);
    let (producer, consumers) = Builder::multi_producer(32, || 0u64, Yielding)
        .handle_events_with(move |e, _, _| {
            let (id, k) = ((*e >> 32) as usize, *e & 0xffff_ffff);
            let mut next = n.lock().unwrap();
            assert_eq!(k, next[id], "producer {id}: event skipped or repeated");
            next[id] += 1;
        })
        .build();
    let threads: Vec<_> = (0..PRODUCERS)
        .map(|id| {
            let mut producer = producer.clone();
            thread::spawn(move || {
                let mut k = 0u64;
                while k < per {
                    let n = (k % 7 + 1).min(per - k) as usize;
                    match producer.try_publish_batch(n, |e, i| *e = id << 32 | (k + i as u64)) {
                        Ok(_) => k += n as u64,
                        Err(TryPublishBatchError::Full { missing }) => {
                            assert!((1..=n).contains(&missing), "{missing} of {n}");
                            thread::yield_now();
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    drop(producer);
    for t in threads {
        t.join().unwrap();
    }
    consumers.join().unwrap();
    assert_eq!(*next.lock().unwrap(), [per; PRODUCERS as usize]);
}

#[test]
#[should_panic(expected = "claim of 0 sequences")]
fn try_publish_batch_of_zero_panics() {
    let (mut producer, _consumers) =
        Builder::single_producer(8, || 0u64, Yielding).handle_events_with(|_, _, _| {}).build();
    let _ = producer.try_publish_batch(0, |_, _| {});
}

#[test]
fn try_publish_batch_larger_than_the_ring_panics_and_claims_nothing() {
    let (builder, mut poller) = Builder::multi_producer(8, || 0u64, Yielding).poller();
    let (mut producer, consumers) = builder.build();
    let too_big = catch_unwind(AssertUnwindSafe(|| producer.try_publish_batch(9, |_, _| {})));
    let msg = too_big.unwrap_err().downcast::<String>().unwrap();
    assert_eq!(*msg, "claim of 9 sequences on a ring of 8");
    assert_eq!(producer.try_publish_batch(8, |e, i| *e = i as u64), Ok(7));
    assert_eq!(drain(&mut poller), numbered(0..=7));
    drop(producer);
    consumers.join().unwrap();

    let (mut producer, _consumers) =
        Builder::single_producer(8, || 0u64, Yielding).handle_events_with(|_, _, _| {}).build();
    let too_big = catch_unwind(AssertUnwindSafe(|| producer.try_publish_batch(9, |_, _| {})));
    assert!(too_big.is_err(), "a batch larger than the ring panics");
}

#[test]
fn try_publish_batch_after_a_halt_reports_halted() {
    let (mut producer, consumers) = Builder::multi_producer(4, || 0u64, Yielding)
        .handle_events_with(|e, _, _| assert!(*e != 1, "handler rejects 1"))
        .build();
    let mut i = 0;
    while producer.publish(|e| *e = i).is_ok() {
        i += 1;
    }
    assert_eq!(
        producer.try_publish_batch(2, |_, _| unreachable!("a halted Disruptor writes nothing")),
        Err(TryPublishBatchError::Halted)
    );
    assert_eq!(TryPublishBatchError::Halted.to_string(), Halted.to_string());
    assert!(consumers.join().is_err());
}

/// A writer that panics in the middle of a batch: the slots it finished
/// keep their events, the others are published as fresh factory events.
fn a_panicking_batch_writer_publishes_the_unfinished_slots_fresh<S, C, W>(
    producer: &mut acqrel::disruptor::Producer<u64, S, W>,
    poller: &mut EventPoller<u64, C, W>,
) where
    S: Sequencer,
    C: Cursor,
    W: WaitStrategy,
{
    let r = catch_unwind(AssertUnwindSafe(|| {
        producer.try_publish_batch(5, |e, i| {
            *e = 10 + i as u64; // the third is half-written, then:
            assert!(i < 2, "batch writer failed");
        })
    }));
    assert!(r.is_err());
    assert_eq!(producer.try_publish_batch(2, |e, i| *e = 20 + i as u64), Ok(6));
    let m = u64::MAX;
    let values: Vec<u64> = drain(poller).into_iter().map(|(_, e)| e).collect();
    assert_eq!(values, [10, 11, m, m, m, 20, 21]);
}

#[test]
fn a_panicking_try_publish_batch_writer_publishes_fresh_events() {
    let (builder, mut poller) = Builder::single_producer(8, || u64::MAX, Yielding).poller();
    let (mut producer, consumers) = builder.build();
    a_panicking_batch_writer_publishes_the_unfinished_slots_fresh(&mut producer, &mut poller);
    drop(producer);
    consumers.join().unwrap();

    let (builder, mut poller) = Builder::multi_producer(8, || u64::MAX, Yielding).poller();
    let (mut producer, consumers) = builder.build();
    a_panicking_batch_writer_publishes_the_unfinished_slots_fresh(&mut producer, &mut poller);
    drop(producer);
    consumers.join().unwrap();
}

#[test]
fn a_panicking_writer_still_publishes_a_reset_slot() {
    let values = Arc::new(Mutex::new(Vec::new()));
    let v = Arc::clone(&values);
    let (mut producer, consumers) = Builder::single_producer(4, || u64::MAX, BusySpin)
        .handle_events_with(move |e, _, _| v.lock().unwrap().push(*e))
        .build();
    producer.publish(|e| *e = 1).unwrap();
    // Three of the four slots are free whatever the consumer did.
    let r = catch_unwind(AssertUnwindSafe(|| producer.try_publish(|_| panic!("try failed"))));
    assert!(r.is_err());
    let r = catch_unwind(AssertUnwindSafe(|| {
        producer.publish(|e| {
            *e = 2; // half-written, then:
            panic!("writer failed");
        })
    }));
    assert!(r.is_err());
    producer.publish(|e| *e = 3).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        producer.publish_batch(3, |e, i| {
            assert!(i < 1, "batch writer failed");
            *e = 10 + i as u64;
        })
    }));
    assert!(r.is_err());
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut claim = producer.claim().unwrap();
        *claim = 7;
        panic!("guard holder failed");
    }));
    assert!(r.is_err());
    producer.publish(|e| *e = 4).unwrap();
    drop(producer);
    consumers.join().unwrap();
    let m = u64::MAX;
    assert_eq!(*values.lock().unwrap(), vec![1, m, m, 3, 10, m, m, m, 4]);
}

/// `ContinueOnPanic`: a panicking event is reported with its sequence and
/// payload, every other event still reaches the stage and the stage after
/// it, and nothing halts.
#[test]
fn continue_on_panic_reports_the_failed_event_and_goes_on() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let failed = Arc::new(Mutex::new(Vec::new()));
    let after = Arc::new(Mutex::new(Vec::new()));
    let (s, f, a) = (Arc::clone(&seen), Arc::clone(&failed), Arc::clone(&after));
    let (mut producer, consumers) = Builder::single_producer(4, || 0u64, Blocking::new())
        .handle_events_with_handler(ContinueOnPanic::reporting(
            move |e: &u64, _: i64, _: bool| {
                assert!(*e % 5 != 3, "rejects {e}");
                s.lock().unwrap().push(*e);
            },
            move |sequence, panic: &PanicPayload| {
                let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
                f.lock().unwrap().push((sequence, msg));
            },
        ))
        .then(move |e, _, _| a.lock().unwrap().push(*e))
        .build();
    for i in 0..20u64 {
        producer.publish(|e| *e = i).expect("a ContinueOnPanic stage never halts");
    }
    drop(producer);
    consumers.join().expect("no panic reaches join");
    let expected: Vec<u64> = (0..20).filter(|i| i % 5 != 3).collect();
    assert_eq!(*seen.lock().unwrap(), expected);
    assert_eq!(
        *failed.lock().unwrap(),
        [3i64, 8, 13, 18].map(|i| (i, format!("rejects {i}"))).to_vec()
    );
    assert_eq!(*after.lock().unwrap(), (0..20).collect::<Vec<_>>());
}

#[test]
fn a_panicking_handler_halts_and_join_returns_the_panic() {
    let other = Arc::new(AtomicU64::new(0));
    let o = Arc::clone(&other);
    let (mut producer, consumers) = Builder::single_producer(4, || 0u64, Blocking::new())
        .handle_events_with(move |e, _, _| {
            assert!(*e != 3, "handler rejects 3");
        })
        .and(move |_, _, _| {
            o.fetch_add(1, Relaxed);
        })
        .build();
    let mut i = 0;
    let halted = loop {
        match producer.publish(|e| *e = i) {
            Ok(_) => i += 1,
            Err(halted) => break halted,
        }
    };
    assert_eq!(halted, Halted);
    assert_eq!(producer.try_publish(|_| {}), Err(TryPublishError::Halted));
    let err = consumers.join().unwrap_err();
    let msg = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(msg.contains("handler rejects 3"), "{msg}");
    drop(producer);
}

struct Hooks {
    log: Arc<Mutex<Vec<String>>>,
}

impl EventHandler<u64> for Hooks {
    fn on_start(&mut self) {
        self.log.lock().unwrap().push("start".into());
    }
    fn on_event(&mut self, e: &u64, _: i64, end_of_batch: bool) {
        if end_of_batch {
            self.log.lock().unwrap().push(format!("end@{e}"));
        }
    }
    fn on_shutdown(&mut self) {
        self.log.lock().unwrap().push("shutdown".into());
    }
}

#[test]
fn hooks_run_and_the_last_event_ends_a_batch() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (mut producer, consumers) = Builder::single_producer(16, || 0u64, BusySpin)
        .handle_events_with_handler(Hooks { log: Arc::clone(&log) })
        .build();
    producer.publish_batch(5, |e, i| *e = i as u64).unwrap();
    drop(producer);
    consumers.join().unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log.first().map(String::as_str), Some("start"));
    assert_eq!(log.last().map(String::as_str), Some("shutdown"));
    assert!(log.contains(&"end@4".to_string()), "{log:?}");
}

#[test]
fn dropping_an_unbuilt_builder_stops_its_threads() {
    let started = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&started);
    let builder = Builder::single_producer(4, || 0u64, Blocking::new()).handle_events_with(
        move |_: &u64, _, _| {
            s.fetch_add(1, Relaxed);
        },
    );
    drop(builder); // joins: would hang if the thread did not stop
    assert_eq!(started.load(Relaxed), 0);
}

#[test]
fn events_are_dropped_exactly_once_with_the_last_handle() {
    let drops = DropCounter::new();
    let d = drops.clone();
    let (mut producer, consumers) = Builder::single_producer(8, move || d.track(0u64), BusySpin)
        .handle_events_with(|_: &_, _, _| {})
        .build();
    for i in 0..20 {
        producer.publish(|e| e.value = i).unwrap();
    }
    assert_eq!(drops.alive(), 8, "events are reused, not allocated per publish");
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(drops.alive(), 0);
}

/// LMAX #517: events published just before shutdown were lost. Here a
/// shutdown right after the publishes must still deliver every one.
#[test]
fn shutdown_right_after_publishing_loses_nothing() {
    for round in 0..scaled(300) {
        let count = Arc::new(AtomicU64::new(0));
        let n = 1 + round as u64 % 17;
        if round % 2 == 0 {
            let (mut p, c) = Builder::single_producer(8, || 0u64, Blocking::new())
                .handle_events_with(in_order(Arc::clone(&count)))
                .then(|_, _, _| {})
                .build();
            for i in 0..n {
                p.publish(|e| *e = i).unwrap();
            }
            drop(p);
            c.join().unwrap();
        } else {
            let (p, c) = Builder::multi_producer(8, || 0u64, Yielding)
                .handle_events_with(in_order(Arc::clone(&count)))
                .build();
            let mut p2 = p.clone();
            drop(p);
            for i in 0..n {
                p2.publish(|e| *e = i).unwrap();
            }
            drop(p2);
            c.join().unwrap();
        }
        assert_eq!(count.load(Relaxed), n, "round {round}");
    }
}

// ---- Stress -------------------------------------------------------------------------------

fn stress_1p1c<W: WaitStrategy>(wait: W) {
    let n = scaled(200_000) as u64;
    let count = Arc::new(AtomicU64::new(0));
    let (mut producer, consumers) = Builder::single_producer(64, || 0u64, wait)
        .handle_events_with(in_order(Arc::clone(&count)))
        .build();
    for i in 0..n {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), n);
}

#[test]
fn stress_one_producer_one_consumer_every_strategy() {
    stress_1p1c(BusySpin);
    stress_1p1c(Yielding);
    stress_1p1c(Sleeping::new(std::time::Duration::from_micros(10)));
    stress_1p1c(Blocking::new());
}

#[test]
fn stress_two_stages_see_upstream_work() {
    let n = scaled(200_000);
    let marks: Arc<Vec<AtomicBool>> = Arc::new((0..n).map(|_| AtomicBool::new(false)).collect());
    let (m1, m2) = (Arc::clone(&marks), Arc::clone(&marks));
    let count = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&count);
    let (mut producer, consumers) = Builder::single_producer(32, || 0u64, Yielding)
        .handle_events_with(move |e, s, _| {
            assert_eq!(*e, s as u64);
            m1[s as usize].store(true, Relaxed);
        })
        .then(move |e, s, _| {
            assert_eq!(*e, s as u64, "the producer overwrote an event the last stage still needed");
            // Relaxed suffices: the stage chain orders the first stage's store before this.
            assert!(m2[s as usize].load(Relaxed), "second stage ran before the first");
            c.fetch_add(1, Relaxed);
        })
        .build();
    for i in 0..n as u64 {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), n as u64);
}

#[test]
fn stress_multicast_every_consumer_sees_every_event() {
    let n = scaled(200_000) as u64;
    let counts: Vec<_> = (0..3).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let (mut producer, consumers) = Builder::single_producer(64, || 0u64, Yielding)
        .handle_events_with(in_order(Arc::clone(&counts[0])))
        .and(in_order(Arc::clone(&counts[1])))
        .and(in_order(Arc::clone(&counts[2])))
        .build();
    let mut i = 0u64;
    while i < n {
        let k = (n - i).min(7) as usize;
        producer.publish_batch(k, |e, j| *e = i + j as u64).unwrap();
        i += k as u64;
    }
    drop(producer);
    consumers.join().unwrap();
    for c in &counts {
        assert_eq!(c.load(Relaxed), n);
    }
}

#[test]
fn stress_two_producers_one_consumer_conserve_and_keep_order() {
    const PRODUCERS: u64 = 2;
    let per = scaled(100_000) as u64;
    let last = Arc::new(Mutex::new(vec![None::<u64>; PRODUCERS as usize]));
    let count = Arc::new(AtomicU64::new(0));
    let sum = Arc::new(AtomicU64::new(0));
    let (l, c, s) = (Arc::clone(&last), Arc::clone(&count), Arc::clone(&sum));
    let mut expected_next = vec![0u64; PRODUCERS as usize];
    let (producer, consumers) = Builder::multi_producer(64, || (0u64, 0u64), Yielding)
        .handle_events_with(move |&(id, k), _, end| {
            assert_eq!(
                k, expected_next[id as usize],
                "producer {id}'s events out of order or lost"
            );
            expected_next[id as usize] += 1;
            c.fetch_add(1, Relaxed);
            s.fetch_add(k, Relaxed);
            if end {
                let mut l = l.lock().unwrap();
                for (i, n) in expected_next.iter().enumerate() {
                    l[i] = Some(*n);
                }
            }
        })
        .build();
    thread::scope(|scope| {
        for id in 0..PRODUCERS {
            let mut p = producer.clone();
            scope.spawn(move || {
                let mut k = 0;
                while k < per {
                    if k % 3 == 0 && k + 4 <= per {
                        p.publish_batch(4, |e, j| *e = (id, k + j as u64)).unwrap();
                        k += 4;
                    } else if p.try_publish(|e| *e = (id, k)).is_ok() {
                        k += 1;
                    }
                }
            });
        }
    });
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), PRODUCERS * per);
    assert_eq!(sum.load(Relaxed), PRODUCERS * (per * (per - 1) / 2));
    assert_eq!(*last.lock().unwrap(), vec![Some(per); PRODUCERS as usize]);
}

#[test]
fn stress_two_producers_two_stages_blocking() {
    let per = scaled(50_000) as u64;
    let count = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&count);
    let mut first_seen = 0u64;
    let (producer, consumers) = Builder::multi_producer(16, || 0u64, Blocking::new())
        .handle_events_with(move |_, s, _| {
            assert_eq!(s as u64, first_seen, "gap in the multi-producer sequence");
            first_seen += 1;
        })
        .then(move |e, _, _| {
            c.fetch_add(*e, Relaxed);
        })
        .build();
    thread::scope(|scope| {
        for _ in 0..2 {
            let mut p = producer.clone();
            scope.spawn(move || {
                for k in 1..=per {
                    p.publish(|e| *e = k).unwrap();
                }
            });
        }
    });
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), 2 * (per * (per + 1) / 2));
}

// ---- Per-consumer and producer wait strategies, timeouts ----------------------------------

#[test]
fn busy_spin_and_blocking_consumers_side_by_side_see_every_event() {
    let n = scaled(100_000) as u64;
    let (spun, blocked, last) =
        (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    // One first-stage handler spins, one blocks; the second stage yields
    // (more spinning threads than cores would only be slow).
    let (mut producer, consumers) = Builder::single_producer(16, || 0u64, Yielding)
        .handle_events_with_wait(in_order(Arc::clone(&spun)), BusySpin)
        .handle_events_with_wait(in_order(Arc::clone(&blocked)), Blocking::new())
        .then(in_order(Arc::clone(&last)))
        .build();
    for i in 0..n {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!((spun.load(Relaxed), blocked.load(Relaxed), last.load(Relaxed)), (n, n, n));
}

#[test]
fn a_blocking_later_stage_is_woken_by_the_stage_before_it() {
    let n = scaled(50_000) as u64;
    let count = Arc::new(AtomicU64::new(0));
    // The default strategy spins; only the second stage sleeps, on the
    // first stage's sequence: the first stage must signal it.
    let (mut producer, consumers) = Builder::single_producer(8, || 0u64, Yielding)
        .handle_events_with(|_, _, _| {})
        .then(|_, _, _| {})
        .handle_events_with_wait(in_order(Arc::clone(&count)), Blocking::new())
        .build();
    for i in 0..n {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), n);
}

#[test]
fn a_blocking_producer_on_a_full_ring_is_woken_by_the_consumers() {
    let n = scaled(20_000) as u64;
    let count = Arc::new(AtomicU64::new(0));
    let (mut producer, consumers) = Builder::single_producer(2, || 0u64, BusySpin)
        .handle_events_with(in_order(Arc::clone(&count)))
        .producer_wait(Blocking::new())
        .build();
    for i in 0..n {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), n);
}

#[test]
fn blocking_producers_and_consumers_conserve_events_with_two_producers() {
    let per = scaled(10_000) as u64;
    let sum = Arc::new(AtomicU64::new(0));
    let s = Arc::clone(&sum);
    let (producer, consumers) = Builder::multi_producer(4, || 0u64, BusySpin)
        .work_pool_with_wait(
            2,
            |_| {
                let s = Arc::clone(&s);
                move |e, _, _| {
                    s.fetch_add(*e, Relaxed);
                }
            },
            Blocking::new(),
        )
        .producer_wait(Blocking::new())
        .build();
    thread::scope(|scope| {
        for _ in 0..2 {
            let mut p = producer.clone();
            scope.spawn(move || {
                for k in 1..=per {
                    p.publish(|e| *e = k).unwrap();
                }
            });
        }
    });
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(sum.load(Relaxed), 2 * (per * (per + 1) / 2));
}

#[test]
fn a_halt_wakes_a_producer_asleep_on_a_full_ring() {
    let (mut producer, consumers) = Builder::single_producer(2, || 0u64, Blocking::new())
        .handle_events_with(|_, s, _| assert!(s < 0, "handler rejects {s}"))
        .producer_wait(Blocking::new())
        .build();
    // The handler panics on event 0 and never advances: the third publish
    // finds the ring full and sleeps until the halt wakes it.
    let mut outcome = Ok(0);
    for i in 0..3 {
        outcome = producer.publish(|e| *e = i);
        if outcome.is_err() {
            break;
        }
    }
    assert_eq!(outcome, Err(Halted));
    assert!(consumers.join().is_err());
}

fn times_out_on_an_empty_ring<W: WaitStrategy>(wait: W) {
    let deadline = Instant::now() + Duration::from_millis(1);
    assert_eq!(wait.wait_for_until(0, || -1, || false, deadline), Err(Timeout));
    // Available or alerted before the deadline: no timeout, even when the
    // deadline has already passed.
    assert_eq!(wait.wait_for_until(0, || 3, || false, deadline), Ok(3));
    assert_eq!(wait.wait_for_until(0, || -1, || true, deadline), Ok(-1));
}

#[test]
fn every_wait_strategy_times_out_on_an_empty_ring() {
    times_out_on_an_empty_ring(BusySpin);
    times_out_on_an_empty_ring(Yielding);
    times_out_on_an_empty_ring(Sleeping::default());
    times_out_on_an_empty_ring(Blocking::new());
    times_out_on_an_empty_ring(Timed::new(Blocking::new(), Duration::from_millis(1)));
    assert_eq!(
        Timed::new(BusySpin, Duration::from_millis(3)).timeout(),
        Some(Duration::from_millis(3))
    );
    assert_eq!(BusySpin.timeout(), None);
    assert!(Timeout.to_string().contains("timed out"));
}

/// [FENCE-I1]: `Blocking`'s sleep hand-shake (the process-wide barrier
/// against the signaller's compiler fence where the kernel offers it, the
/// symmetric fences elsewhere), raced thousands of times. A token goes back
/// and forth between two rings: out through a consumer thread, back through
/// a poller; each side answers after a varying busy while (0–255 µs, around
/// the ~100 µs a wait polls before it sleeps). A lost wake-up shows as a
/// poll that runs out its minute, instead of as a hang.
#[test]
#[cfg_attr(miri, ignore = "the barrier path is native; Miri runs the symmetric pair elsewhere")]
fn blocking_sleeps_that_race_publishes_lose_none() {
    let rounds = scaled(4_000) as u64;
    let minute = Duration::from_secs(60);
    let (builder, mut pong_rx) = Builder::single_producer(4, || 0u64, Blocking::new()).poller();
    let (mut pong, pong_consumers) = builder.build();
    let (mut ping, ping_consumers) = Builder::single_producer(4, || 0u64, Blocking::new())
        .handle_events_with(move |e, _, _| {
            common::jitter(*e);
            pong.publish(|x| *x = *e).unwrap();
        })
        .build();
    for i in 0..rounds {
        common::jitter(i ^ 0x5555);
        ping.publish(|e| *e = i).unwrap();
        let mut got = None;
        match pong_rx.poll_timeout(minute, |e, _, _| got = Some(*e)) {
            Polled::Events(_) => assert_eq!(got, Some(i)),
            other => panic!("wake-up lost (round {i}): {other:?}"),
        }
    }
    drop(ping);
    ping_consumers.join().unwrap();
    pong_consumers.join().unwrap();
}

#[test]
fn a_timed_blocking_wait_is_woken_by_a_publish() {
    let published = Arc::new(Sequence::new());
    let wait = Arc::new(Blocking::new());
    let (p, w) = (Arc::clone(&published), Arc::clone(&wait));
    // The timed wait re-checks when its deadline passes, so a lost wake-up
    // shows as a wait that returns only at the deadline, a minute later.
    let deadline = Instant::now() + Duration::from_secs(60);
    let waiter = thread::spawn(move || w.wait_for_until(0, || p.get(), || false, deadline));
    published.set(0);
    wait.signal();
    assert_eq!(waiter.join().unwrap(), Ok(0));
    assert!(Instant::now() < deadline, "woken only by the deadline: a lost wake-up");
}

#[test]
fn poll_timeout_times_out_when_idle_and_returns_events_when_published() {
    let (builder, mut poller) = Builder::single_producer(4, || 0u64, Blocking::new()).poller();
    let (mut producer, consumers) = builder.build();
    assert_eq!(poller.poll_timeout(Duration::from_millis(1), |_, _, _| {}), Polled::Timeout);
    let t = thread::spawn(move || {
        let mut seen = Vec::new();
        loop {
            match poller.poll_timeout(Duration::from_secs(60), |e, _, _| seen.push(*e)) {
                Polled::Events(_) => {}
                Polled::Shutdown => return seen,
                other => panic!("unexpected {other:?}"),
            }
        }
    });
    for i in 0..3 {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    assert_eq!(t.join().unwrap(), vec![0, 1, 2]);
    consumers.join().unwrap();
}

/// Spins like `BusySpin`, and counts the timed waits it is asked for.
struct CountingWait(Arc<AtomicUsize>);

impl WaitStrategy for CountingWait {
    fn wait_for<A: Fn() -> i64, H: Fn() -> bool>(&self, s: i64, available: A, alerted: H) -> i64 {
        BusySpin.wait_for(s, available, alerted)
    }
    fn wait_for_until<A: Fn() -> i64, H: Fn() -> bool>(
        &self,
        s: i64,
        available: A,
        alerted: H,
        deadline: Instant,
    ) -> Result<i64, Timeout> {
        self.0.fetch_add(1, Relaxed);
        BusySpin.wait_for_until(s, available, alerted, deadline)
    }
    fn signal(&self) {}
    fn sleeps(&self) -> bool {
        false
    }
}

#[test]
fn a_poller_with_its_own_strategy_waits_with_it() {
    let own = Arc::new(AtomicUsize::new(0));
    let (builder, mut mine) = Builder::single_producer(4, || 0u64, BusySpin)
        .poller_with_wait(CountingWait(Arc::clone(&own)));
    let (builder, mut default) = builder.poller();
    let (mut producer, consumers) = builder.build();
    let idle = Duration::from_millis(1);
    assert_eq!(mine.poll_timeout(idle, |_, _, _| {}), Polled::Timeout);
    assert_eq!(own.load(Relaxed), 1, "the poller's own strategy waited");
    assert_eq!(default.poll_timeout(idle, |_, _, _| {}), Polled::Timeout);
    assert_eq!(own.load(Relaxed), 1, "the other poller waited with the default");
    producer.publish(|e| *e = 9).unwrap();
    let mut got = 0;
    assert_eq!(mine.poll_timeout(idle, |e, _, _| got = *e), Polled::Events(1));
    assert_eq!(got, 9);
    assert_eq!(default.poll_timeout(idle, |_, _, _| {}), Polled::Events(1));
    drop(producer);
    assert_eq!(mine.poll(|_, _, _| {}), Polled::Shutdown);
    assert_eq!(default.poll(|_, _, _| {}), Polled::Shutdown);
    consumers.join().unwrap();
}

#[test]
fn a_blocking_poller_in_a_spinning_disruptor_is_woken_by_every_publish() {
    let (builder, mut poller) =
        Builder::single_producer(8, || 0u64, BusySpin).poller_with_wait(Blocking::new());
    let (mut producer, consumers) = builder.build();
    let n = scaled(2_000) as u64;
    let t = thread::spawn(move || {
        let mut seen = Vec::new();
        loop {
            // Blocking's timed wait re-checks when its deadline passes, so a
            // lost wake-up shows as a wait that lasted the whole minute.
            let patience = Duration::from_secs(60);
            let start = Instant::now();
            let polled = poller.poll_timeout(patience, |e, _, _| seen.push(*e));
            assert!(start.elapsed() < patience, "woken only by the deadline: a lost wake-up");
            match polled {
                Polled::Events(_) => {}
                Polled::Shutdown => return seen,
                other => panic!("unexpected {other:?}"),
            }
        }
    });
    for i in 0..n {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    assert_eq!(t.join().unwrap(), (0..n).collect::<Vec<_>>());
    consumers.join().unwrap();
}

struct TimeoutProbe(mpsc::Sender<(&'static str, i64)>);

impl EventHandler<u64> for TimeoutProbe {
    fn on_event(&mut self, _: &u64, s: i64, _: bool) {
        self.0.send(("event", s)).unwrap();
    }
    fn on_timeout(&mut self, s: i64) {
        let _ = self.0.send(("timeout", s));
    }
}

#[test]
fn a_timed_handler_gets_on_timeout_with_the_last_handled_sequence() {
    let (tx, rx) = mpsc::channel();
    let timed = Timed::new(Blocking::new(), Duration::from_millis(1));
    let (mut producer, consumers) = Builder::single_producer(4, || 0u64, BusySpin)
        .handle_events_with_handler_and_wait(TimeoutProbe(tx), timed)
        .build();
    assert_eq!(rx.recv().unwrap(), ("timeout", -1));
    producer.publish_batch(3, |_, _| {}).unwrap();
    // Timeouts before the batch arrives say -1; the batch is handled in
    // order; and once idle again, the timeouts say 2.
    let mut events = Vec::new();
    loop {
        match rx.recv().unwrap() {
            ("event", s) => events.push(s),
            ("timeout", s) if events.is_empty() => assert_eq!(s, -1),
            ("timeout", s) => {
                assert_eq!((events.as_slice(), s), (&[0, 1, 2][..], 2));
                break;
            }
            other => unreachable!("{other:?}"),
        }
    }
    drop(producer);
    consumers.join().unwrap();
}

#[test]
fn handles_are_send() {
    fn send<T: Send>() {}
    send::<acqrel::disruptor::Producer<u64, SingleProducerSequencer, BusySpin>>();
    send::<acqrel::disruptor::Producer<u64, MultiProducerSequencer, Blocking>>();
    send::<acqrel::disruptor::Producer<u64, MultiProducerSequencer, BusySpin, Blocking>>();
    send::<acqrel::disruptor::Consumers>();
    fn sync<T: Sync>() {}
    sync::<RingBuffer<u64>>();
    sync::<Sequence>();
}

#[test]
fn poller_sees_every_event_and_gates_the_next_stage() {
    let n = scaled(100_000) as u64;
    let count = Arc::new(AtomicU64::new(0));
    let (builder, mut poller) = Builder::single_producer(16, || 0u64, Yielding).poller();
    let (mut producer, consumers) = builder.then(in_order(Arc::clone(&count))).build();
    let polling = thread::spawn(move || {
        let mut expected = 0u64;
        loop {
            match poller.poll(|e, s, _| {
                assert_eq!((*e, s as u64), (expected, expected));
                expected += 1;
            }) {
                Polled::Events(k) => assert!(k >= 1),
                Polled::Idle => thread::yield_now(),
                Polled::Shutdown => return expected,
                Polled::Halted => panic!("halted"),
                Polled::Timeout => unreachable!("poll never waits"),
            }
        }
    });
    for i in 0..n {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    assert_eq!(polling.join().unwrap(), n);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), n);
}

#[test]
fn dropping_a_poller_before_shutdown_halts_instead_of_stalling_producers() {
    let (builder, poller) = Builder::single_producer(2, || 0u64, Blocking::new()).poller();
    let (mut producer, consumers) = builder.build();
    let mut poller = poller;
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Idle);
    drop(poller);
    let mut published = 0;
    while producer.publish(|_| {}).is_ok() {
        published += 1;
    }
    assert!(published <= 2, "the ring holds two unpolled events at most");
    drop(producer);
    consumers.join().unwrap();
}

#[test]
fn stress_work_pool_hands_each_event_to_exactly_one_worker() {
    let n = scaled(100_000);
    let hits: Arc<Vec<AtomicUsize>> = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
    let per_worker: Vec<_> = (0..3).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let after = Arc::clone(&hits);
    let checked = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&checked);
    let (producer, consumers) = Builder::multi_producer(32, || 0u64, Yielding)
        .work_pool(3, |index| {
            let (hits, mine) = (Arc::clone(&hits), Arc::clone(&per_worker[index]));
            move |e, s, end| {
                assert!(end);
                assert_eq!(*e, s as u64);
                hits[s as usize].fetch_add(1, Relaxed);
                mine.fetch_add(1, Relaxed);
            }
        })
        .then(move |_, s, _| {
            assert_eq!(
                after[s as usize].load(Relaxed),
                1,
                "event {s} not handled exactly once before the next stage"
            );
            c.fetch_add(1, Relaxed);
        })
        .build();
    thread::scope(|scope| {
        for half in 0..2 {
            let mut p = producer.clone();
            scope.spawn(move || {
                for _ in 0..n / 2 + half * (n % 2) {
                    // The value is checked against the sequence by the workers.
                    let mut claim = p.claim().unwrap();
                    *claim = claim.sequence() as u64;
                }
            });
        }
    });
    drop(producer);
    consumers.join().unwrap();
    assert!(hits.iter().all(|h| h.load(Relaxed) == 1));
    assert_eq!(checked.load(Relaxed), n as u64);
    let total: u64 = per_worker.iter().map(|w| w.load(Relaxed)).sum();
    assert_eq!(total, n as u64);
}

#[test]
#[should_panic(expected = "at least one worker")]
fn empty_work_pool_panics() {
    let _ = Builder::single_producer(4, || 0u64, BusySpin)
        .work_pool_handlers(Vec::<fn(&u64, i64, bool)>::new());
}

#[test]
#[should_panic(expected = "at least one worker")]
fn work_pool_of_zero_workers_panics() {
    let _ = Builder::single_producer(4, || 0u64, BusySpin).work_pool(0, |_| |_, _, _| {});
}

/// A work pool's `make` that panics leaves through `work_pool` before any
/// thread starts; the dropped builder shuts down the poller made before it.
#[test]
fn a_work_pool_maker_that_panics_starts_nothing() {
    let (builder, mut poller) = Builder::single_producer(4, || 0u64, BusySpin).poller();
    let made = AtomicUsize::new(0);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        builder.work_pool(3, |index| {
            made.fetch_add(1, Relaxed);
            assert!(index < 1, "no second worker");
            |_, _, _| {}
        })
    }));
    assert!(outcome.is_err());
    assert_eq!(made.load(Relaxed), 2);
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
}

#[test]
fn delivery_matches_publishes_once_in_sequence_order() {
    // A direct check of the Disruptor's delivery against the publishes that
    // produced it (a history, not a sequential spec: a delivery is not a call
    // but a consequence of the publishes before it). Two producers publish
    // `(id, i)` and record the sequence each publish returned with the clock
    // ticks around it; two multicast consumers record `(sequence, event, tick)`.
    // Each consumer must see every published sequence once, in order, with the
    // event its publish wrote, never before that publish began; each
    // producer's sequences grow with `i`.
    use common::lin::Clock;
    const PRODUCERS: usize = 2;
    let per = if cfg!(miri) { 6 } else { 200 };
    for _round in 0..scaled(10) {
        let clock = Arc::new(Clock::new());
        type Seen = Arc<Mutex<Vec<(i64, (usize, usize), u64)>>>;
        let seen: Vec<Seen> = (0..2).map(|_| Seen::default()).collect();
        let record = |seen: &Seen| {
            let (seen, clock) = (Arc::clone(seen), Arc::clone(&clock));
            move |e: &(usize, usize), s: i64, _end: bool| {
                let tick = clock.tick();
                seen.lock().unwrap().push((s, *e, tick));
            }
        };
        let (producer, consumers) = Builder::multi_producer(4, || (0, 0), Yielding)
            .handle_events_with(record(&seen[0]))
            .and(record(&seen[1]))
            .build();
        let published: Vec<Vec<(i64, u64)>> = thread::scope(|scope| {
            let handles: Vec<_> = (0..PRODUCERS)
                .map(|id| {
                    let (mut p, clock) = (producer.clone(), &clock);
                    scope.spawn(move || {
                        (0..per)
                            .map(|i| {
                                let invoked = clock.tick();
                                (p.publish(|e| *e = (id, i)).unwrap(), invoked)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        drop(producer);
        consumers.join().unwrap();
        // sequence -> (event written, tick at which its publish began)
        let mut by_sequence = vec![None; PRODUCERS * per];
        for (id, calls) in published.iter().enumerate() {
            assert!(
                calls.windows(2).all(|w| w[0].0 < w[1].0),
                "producer {id}'s sequences not increasing"
            );
            for (i, &(s, invoked)) in calls.iter().enumerate() {
                assert!(
                    by_sequence[s as usize].replace(((id, i), invoked)).is_none(),
                    "sequence {s} returned twice"
                );
            }
        }
        for (c, seen) in seen.iter().enumerate() {
            let seen = seen.lock().unwrap();
            assert_eq!(seen.len(), PRODUCERS * per, "consumer {c} missed or repeated events");
            for (k, &(s, event, tick)) in seen.iter().enumerate() {
                assert_eq!(s, k as i64, "consumer {c}: sequence out of order");
                let (written, invoked) = by_sequence[k].unwrap();
                assert_eq!(event, written, "consumer {c}: sequence {s} holds another event");
                assert!(
                    tick > invoked,
                    "consumer {c}: sequence {s} delivered before its publish began"
                );
            }
        }
    }
}

#[test]
fn blocking_timed_wait_rechecks_after_announcing_itself() {
    // Count the polls a timed wait makes before it would sleep: with a
    // deadline already passed, every poll up to the first deadline check.
    let polls = std::cell::Cell::new(0);
    let never = || {
        polls.set(polls.get() + 1);
        -1
    };
    let blocking = Blocking::new();
    assert_eq!(blocking.wait_for_until(0, never, || false, Instant::now()), Err(Timeout));
    let before_sleeping = polls.get();
    // Now the event appears on the very next poll, the re-check made after
    // the waiter counted itself as a sleeper: it must return without
    // sleeping (a deadline a minute away would show as a hang) and leave
    // no sleeper counted behind (the next signal would lock for nothing).
    polls.set(0);
    let late = || {
        polls.set(polls.get() + 1);
        if polls.get() > before_sleeping { 0 } else { -1 }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    assert_eq!(blocking.wait_for_until(0, late, || false, deadline), Ok(0));
    assert_eq!(polls.get(), before_sleeping + 1);
    // The same strategy still sleeps and wakes normally afterwards.
    assert_eq!(blocking.wait_for_until(0, || -1, || false, Instant::now()), Err(Timeout));
}

#[test]
fn multi_producer_claim_while_waits_for_room_or_gives_up() {
    let cursor = Arc::new(MultiProducerCursor::new(2));
    let consumer = Arc::new(Sequence::new());
    let mut sequencer =
        MultiProducerSequencer::new(Arc::clone(&cursor), vec![Arc::clone(&consumer)]);
    assert_eq!(sequencer.claim_while(2, || true), Some(1));
    sequencer.publish(0, 1);
    assert_eq!(cursor.highest_published(0), 1);
    // Full: a caller that stops waiting gets nothing.
    let mut asked = 0;
    assert_eq!(
        sequencer.claim_while(1, || {
            asked += 1;
            false
        }),
        None
    );
    assert_eq!(asked, 1);
    // Giving up claimed nothing: once the consumer frees both slots, the
    // next claim takes sequence 2, and no gap stops the consumers.
    assert_eq!(cursor.claimed(), 1);
    consumer.set(1);
    assert_eq!(sequencer.claim_while(1, || true), Some(2));
}

// ---- What safe code can do: leaks, lying strategies, panics, drop order, thread exit -----
//
// SAFETY.md, Disruptor, "What safe code can do to it" ([DSR-S1] .. [DSR-S7]). Most of these
// run on one thread with pollers, so that every delivery is checked exactly (every sequence
// once per consumer, in order, never a stale event) and Miri sees every access.

/// What a factory makes: a value no producer writes, so a reset slot shows.
const BLANK: u64 = u64::MAX;

/// Everything `poller` has available now, as `(sequence, event)`.
fn poll_all<C: Cursor, W: WaitStrategy, V: WaitStrategy>(
    poller: &mut EventPoller<u64, C, W, V>,
) -> Vec<(i64, u64)> {
    let mut got = Vec::new();
    poller.poll(|e, s, _| got.push((s, *e)));
    got
}

/// The message of a panic payload.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// A strategy that answers `sequence + 3` whatever it reads (after reading
/// once): it claims that events nobody published are available. Counts
/// its calls.
#[derive(Default, Clone)]
struct Exaggerates(Arc<AtomicUsize>);

impl WaitStrategy for Exaggerates {
    fn wait_for<A: Fn() -> i64, H: Fn() -> bool>(&self, s: i64, available: A, _: H) -> i64 {
        self.0.fetch_add(1, Relaxed);
        let _ = available();
        s + 3
    }
    fn wait_for_until<A: Fn() -> i64, H: Fn() -> bool>(
        &self,
        s: i64,
        available: A,
        alerted: H,
        _: Instant,
    ) -> Result<i64, Timeout> {
        Ok(self.wait_for(s, available, alerted))
    }
    fn signal(&self) {}
    fn sleeps(&self) -> bool {
        false
    }
}

/// Regression (#13, defect 3): the barrier returned the strategy's answer.
#[test]
fn a_lying_strategy_cannot_make_a_barrier_report_unpublished_sequences() {
    let liar = Exaggerates::default();
    let later = Instant::now() + Duration::from_secs(60);
    let cursor = Arc::new(Sequence::new());
    let barrier = SequenceBarrier::new(Arc::clone(&cursor), vec![]);
    assert_eq!(barrier.wait_for(0, &liar, || false), -1, "nothing is published");
    assert_eq!(barrier.wait_for_until(0, &liar, || false, later), Ok(-1));
    cursor.set(1);
    assert_eq!(barrier.wait_for(2, &liar, || false), 1);
    let upstream = Arc::new(Sequence::new());
    let stage = SequenceBarrier::new(Arc::clone(&cursor), vec![Arc::clone(&upstream)]);
    assert_eq!(stage.wait_for(0, &liar, || false), -1, "the upstream stage handled nothing");
    let multi = Arc::new(MultiProducerCursor::new(4));
    let barrier = SequenceBarrier::new(Arc::clone(&multi), vec![]);
    assert_eq!(barrier.wait_for(0, &liar, || false), -1);
    assert!(liar.0.load(Relaxed) >= 4, "the strategy was asked every time");
}

/// Regression (#13, defect 3): a consumer read every slot up to what its
/// strategy returned, unpublished ones included (a data race with the
/// producer under Miri; here: blank events handled as new ones).
#[test]
fn a_consumer_with_a_lying_strategy_handles_only_published_events() {
    let liar = Exaggerates::default();
    let calls = Arc::clone(&liar.0);
    let touched = Arc::new(AtomicBool::new(false));
    let handled = Arc::new(AtomicU64::new(0));
    let (t, h) = (Arc::clone(&touched), Arc::clone(&handled));
    let (mut producer, consumers) = Builder::single_producer(8, || BLANK, BusySpin)
        .handle_events_with_wait(
            move |e, s, _| {
                t.store(true, Relaxed);
                assert_eq!(*e, s as u64, "handled sequence {s} before it was published");
                h.fetch_add(1, Relaxed);
            },
            liar,
        )
        .build();
    // Publish only once the consumer has asked its strategy twice (it went
    // round its loop with nothing to handle) or has handled something.
    while calls.load(Relaxed) < 2 && !touched.load(Relaxed) {
        thread::yield_now();
    }
    for i in 0..4 {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(handled.load(Relaxed), 4);
}

/// Regression (#13, defect 3): the single producer cached its wait
/// strategy's answer as the gating minimum and overwrote unread events.
#[test]
fn a_producer_with_a_lying_strategy_never_overwrites_an_unread_event() {
    let liar = Exaggerates::default();
    let calls = Arc::clone(&liar.0);
    let (builder, mut poller) =
        Builder::single_producer(2, || BLANK, BusySpin).producer_wait(liar).poller();
    let (mut producer, consumers) = builder.build();
    let n = scaled(2_000).max(8) as u64;
    let publisher = thread::spawn(move || {
        for i in 0..n {
            producer.publish(|e| *e = i).unwrap();
        }
    });
    // The ring is full after two events; read nothing until the producer
    // has asked its strategy twice (the first answer let the old code
    // overwrite four events without asking again).
    while calls.load(Relaxed) < 2 {
        thread::yield_now();
    }
    let mut expected = 0u64;
    while expected < n {
        let polled = poller.poll(|e, s, _| {
            assert_eq!(
                (s, *e),
                (expected as i64, expected),
                "event overwritten before it was read"
            );
            expected += 1;
        });
        if polled == Polled::Idle {
            thread::yield_now();
        }
    }
    publisher.join().unwrap();
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
    consumers.join().unwrap();
}

/// Never calls `available`: returns at once, with a lie.
#[derive(Clone, Copy)]
struct NeverLooks;

impl WaitStrategy for NeverLooks {
    fn wait_for<A: Fn() -> i64, H: Fn() -> bool>(&self, s: i64, _: A, _: H) -> i64 {
        std::hint::spin_loop();
        s + 1
    }
    fn signal(&self) {}
    fn sleeps(&self) -> bool {
        false
    }
}

/// Waits honestly, then answers the smallest `i64`.
#[derive(Clone, Copy)]
struct Understates;

impl WaitStrategy for Understates {
    fn wait_for<A: Fn() -> i64, H: Fn() -> bool>(&self, s: i64, available: A, alerted: H) -> i64 {
        Yielding.wait_for(s, available, alerted);
        i64::MIN
    }
    fn signal(&self) {}
    fn sleeps(&self) -> bool {
        false
    }
}

/// Sleeps on a condition variable nobody signals, a millisecond at a time,
/// and says it never sleeps; signals itself from inside its own wait.
#[derive(Default, Clone)]
struct SleepsAndSaysItDoesNot(Arc<Blocking>);

impl WaitStrategy for SleepsAndSaysItDoesNot {
    fn wait_for<A: Fn() -> i64, H: Fn() -> bool>(&self, s: i64, available: A, alerted: H) -> i64 {
        loop {
            self.signal(); // re-entering: harmless
            let nap = Instant::now() + Duration::from_millis(1);
            if let Ok(seen) = self.0.wait_for_until(s, &available, &alerted, nap) {
                return seen;
            }
        }
    }
    fn signal(&self) {
        self.0.signal()
    }
    fn sleeps(&self) -> bool {
        false
    }
}

/// Lies that cost only the liar's own waiting: every event still arrives
/// once (and, from one producer, in order), the ring is never overrun. The
/// liar waits for a handler, a poller and the producers.
fn lying_strategies_only_cost_their_own_waiting<V: WaitStrategy + Clone>(liar: V) {
    let n = scaled(1_000) as u64;
    for producers in [1, 2] {
        let count = Arc::new(AtomicU64::new(0));
        let c = Arc::clone(&count);
        let handler = move |e: &u64, s: i64, _: bool| {
            assert_ne!(*e, BLANK, "sequence {s} handled before it was written");
            if producers == 1 {
                assert_eq!(*e, s as u64, "out of order");
            }
            c.fetch_add(1, Relaxed);
        };
        let (builder, mut poller) = Builder::multi_producer(4, || BLANK, BusySpin)
            .handle_events_with_wait(handler, liar.clone())
            .producer_wait(liar.clone())
            .poller_with_wait(liar.clone());
        let (producer, consumers) = builder.build();
        let publishers: Vec<_> = (0..producers)
            .map(|k| {
                let mut p = producer.clone();
                thread::spawn(move || {
                    for i in (k..n).step_by(producers as usize) {
                        p.publish(|e| *e = i).unwrap();
                    }
                })
            })
            .collect();
        drop(producer);
        let mut polled = 0;
        loop {
            let outcome = poller.poll_timeout(Duration::from_secs(60), |e, s, _| {
                assert_ne!(*e, BLANK, "sequence {s} polled before it was written");
                polled += 1;
            });
            match outcome {
                Polled::Shutdown => break,
                Polled::Halted => panic!("halted"),
                _ => {}
            }
        }
        for p in publishers {
            p.join().unwrap();
        }
        consumers.join().unwrap();
        assert_eq!((polled, count.load(Relaxed)), (n, n), "every event once to each consumer");
    }
}

#[test]
fn a_strategy_that_never_calls_available_only_spins() {
    lying_strategies_only_cost_their_own_waiting(NeverLooks);
}

#[test]
fn a_strategy_that_answers_too_little_is_not_believed_either() {
    lying_strategies_only_cost_their_own_waiting(Understates);
}

#[test]
fn a_strategy_that_sleeps_and_says_it_does_not_is_only_slow() {
    lying_strategies_only_cost_their_own_waiting(SleepsAndSaysItDoesNot::default());
}

#[test]
fn an_exaggerating_strategy_everywhere_delivers_every_event_once() {
    lying_strategies_only_cost_their_own_waiting(Exaggerates::default());
}

/// Panics whenever it is asked to wait.
#[derive(Clone, Copy)]
struct PanicsWhenWaiting;

impl WaitStrategy for PanicsWhenWaiting {
    fn wait_for<A: Fn() -> i64, H: Fn() -> bool>(&self, _: i64, _: A, _: H) -> i64 {
        panic!("strategy failed")
    }
    fn signal(&self) {}
    fn sleeps(&self) -> bool {
        false
    }
}

/// A ring of two, full; the producer's strategy panics on the third
/// publish: nothing may be claimed, the next publish takes sequence 2.
fn a_panicking_producer_strategy_claims_nothing<S: Sequencer>(
    mut producer: acqrel::disruptor::Producer<u64, S, BusySpin, PanicsWhenWaiting>,
    poller: &mut EventPoller<u64, S::Cursor, BusySpin>,
) {
    producer.publish(|e| *e = 0).unwrap();
    producer.publish(|e| *e = 1).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| producer.publish(|e| *e = 99)));
    assert_eq!(message(&*r.unwrap_err()), "strategy failed");
    assert_eq!(poll_all(poller), [(0, 0), (1, 1)]);
    assert_eq!(producer.publish(|e| *e = 2), Ok(2), "the failed claim took no sequence");
    assert_eq!(poll_all(poller), [(2, 2)]);
    drop(producer);
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
}

/// Regression (#13, defect 5): the multi-producer claim took its sequence
/// with `fetch_add` before waiting for room; a strategy that panicked
/// while waiting left that sequence claimed and never published, and the
/// consumers stopped at it for good.
#[test]
fn a_panicking_producer_strategy_leaves_no_gap() {
    let (builder, mut poller) =
        Builder::multi_producer(2, || BLANK, BusySpin).producer_wait(PanicsWhenWaiting).poller();
    let (producer, consumers) = builder.build();
    a_panicking_producer_strategy_claims_nothing(producer, &mut poller);
    consumers.join().unwrap();
    let (builder, mut poller) =
        Builder::single_producer(2, || BLANK, BusySpin).producer_wait(PanicsWhenWaiting).poller();
    let (producer, consumers) = builder.build();
    a_panicking_producer_strategy_claims_nothing(producer, &mut poller);
    consumers.join().unwrap();
}

#[test]
fn a_panicking_consumer_strategy_halts_and_join_returns_the_panic() {
    let (mut producer, consumers) = Builder::single_producer(2, || 0u64, BusySpin)
        .handle_events_with_wait(|_, _, _| {}, PanicsWhenWaiting)
        .build();
    let mut outcome = Ok(0);
    while outcome.is_ok() {
        outcome = producer.publish(|_| {});
    }
    assert_eq!(outcome, Err(Halted));
    assert_eq!(message(&*consumers.join().unwrap_err()), "strategy failed");
}

/// Panics in `signal` when asked to, on the thread that made it only (the
/// producer's below, not a consumer's), and counts its signals.
#[derive(Clone)]
struct SignalPanics(Arc<AtomicBool>, Arc<AtomicUsize>, thread::ThreadId);

impl Default for SignalPanics {
    fn default() -> Self {
        Self(Arc::default(), Arc::default(), thread::current().id())
    }
}

impl WaitStrategy for SignalPanics {
    fn wait_for<A: Fn() -> i64, H: Fn() -> bool>(&self, s: i64, available: A, alerted: H) -> i64 {
        Yielding.wait_for(s, available, alerted)
    }
    fn signal(&self) {
        if thread::current().id() == self.2 {
            self.1.fetch_add(1, Relaxed);
            assert!(!self.0.load(Relaxed), "signal failed");
        }
    }
}

/// A strategy whose `signal` panics costs no other strategy its wake-up
/// (the sleeping consumer below would sleep through the publish), and a
/// panic in a drop does not abort.
#[test]
fn a_strategy_whose_signal_panics_does_not_keep_the_others_from_being_signalled() {
    let failing = SignalPanics::default();
    let (fail, signals) = (Arc::clone(&failing.0), Arc::clone(&failing.1));
    let handled = Arc::new(AtomicU64::new(0));
    let h = Arc::clone(&handled);
    // The failing strategy is signalled before the Blocking one.
    let (builder, mut poller) =
        Builder::single_producer(4, || 0u64, BusySpin).poller_with_wait(failing);
    let (mut producer, consumers) = builder
        .handle_events_with_wait(
            move |e, _, _| {
                h.fetch_add(*e, Relaxed);
            },
            Blocking::new(),
        )
        .build();
    fail.store(true, Relaxed);
    let r = catch_unwind(AssertUnwindSafe(|| producer.publish(|e| *e = 5)));
    assert_eq!(message(&*r.unwrap_err()), "signal failed");
    assert!(signals.load(Relaxed) >= 1);
    fail.store(false, Relaxed);
    assert_eq!(poll_all(&mut poller), [(0, 5)], "published before the signals");
    // Dropping the producer signals again: the panic comes out of `drop`
    // (not unwinding), after the shutdown took effect.
    fail.store(true, Relaxed);
    let r = catch_unwind(AssertUnwindSafe(|| drop(producer)));
    assert_eq!(message(&*r.unwrap_err()), "signal failed");
    fail.store(false, Relaxed);
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
    consumers.join().unwrap();
    assert_eq!(handled.load(Relaxed), 5, "the Blocking consumer was woken");
}

/// Regression (#13, defect 4): `Deref` made a `&mut E` through `&self`, so
/// two shared borrows of one claim were undefined behaviour (Miri, both
/// aliasing models).
#[test]
fn two_shared_borrows_of_a_claim_and_a_claim_shared_with_another_thread_are_sound() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let (builder, mut poller) = Builder::single_producer(2, || 5u64, BusySpin).poller();
    let (mut producer, consumers) = builder.build();
    {
        let mut claim = producer.claim().unwrap();
        send_sync(&claim);
        let (a, b): (&u64, &u64) = (&claim, &claim);
        assert_eq!(*a + *b, 10);
        *claim = 6;
        let shared = &claim;
        thread::scope(|s| {
            s.spawn(|| assert_eq!(**shared, 6));
            assert_eq!(**shared, 6);
        });
    }
    assert_eq!(poll_all(&mut poller), [(0, 6)]);
    drop(producer);
    consumers.join().unwrap();
    // Events with interior mutability, written through shared borrows.
    let (builder, mut poller) =
        Builder::single_producer(2, || AtomicU64::new(0), BusySpin).poller();
    let (mut producer, consumers) = builder.build();
    {
        let claim = producer.claim().unwrap();
        let a: &AtomicU64 = &claim;
        a.store(1, Relaxed);
        let b: &AtomicU64 = &claim;
        a.store(2, Relaxed);
        assert_eq!(b.load(Relaxed), 2);
    }
    let mut got = Vec::new();
    poller.poll(|e, s, _| got.push((s, e.load(Relaxed))));
    assert_eq!(got, [(0, 2)]);
    drop(producer);
    consumers.join().unwrap();
}

// -- Leaks ----------------------------------------------------------------------------------

/// What a producer does after one of its claims was leaked.
#[derive(Clone, Copy, Debug)]
enum After {
    Publish,
    TryPublish,
    Claim,
    Batch,
    Drop,
}

/// A ring of two, one full lap published and polled, then a claim of
/// sequence 2 (slot 0, which still holds event 0) leaked — unwritten or
/// written — and `after` done: the poller sees 2 as a blank (never event 0
/// again, never the half-written value) and every other event once.
fn leak_a_claim<S: Sequencer>(
    mut producer: acqrel::disruptor::Producer<u64, S, BusySpin>,
    poller: &mut EventPoller<u64, S::Cursor, BusySpin>,
    written: bool,
    after: After,
) {
    producer.publish(|e| *e = 0).unwrap();
    producer.publish(|e| *e = 1).unwrap();
    assert_eq!(poll_all(poller), [(0, 0), (1, 1)]);
    let mut claim = producer.claim().unwrap();
    assert_eq!((claim.sequence(), *claim), (2, 0), "slot 0 holds the last lap's event");
    if written {
        *claim = 7;
    }
    std::mem::forget(claim);
    let third = match after {
        After::Publish => producer.publish(|e| *e = 3).unwrap(),
        After::TryPublish => producer.try_publish(|e| *e = 3).unwrap(),
        After::Claim => {
            let mut claim = producer.claim().unwrap();
            *claim = 3;
            claim.sequence()
        }
        After::Batch => producer.publish_batch(1, |e, _| *e = 3).unwrap(),
        After::Drop => {
            drop(producer);
            assert_eq!(poll_all(poller), [(2, BLANK)]);
            assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
            return;
        }
    };
    assert_eq!(third, 3);
    assert_eq!(poll_all(poller), [(2, BLANK), (3, 3)], "after {after:?}");
    drop(producer);
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
}

/// Regression (#13, defect 5): a leaked claim of the single producer was
/// published by the next publish's cursor store with whatever its slot
/// held — the previous lap's event, delivered again as a new one; with
/// many producers it was never published at all.
#[test]
fn a_leaked_claim_is_published_blank_by_the_next_claim_or_the_drop() {
    let afters = [After::Publish, After::TryPublish, After::Claim, After::Batch, After::Drop];
    for after in afters {
        for written in [false, true] {
            let (builder, mut poller) = Builder::single_producer(2, || BLANK, BusySpin).poller();
            let (producer, consumers) = builder.build();
            leak_a_claim(producer, &mut poller, written, after);
            consumers.join().unwrap();
            let (builder, mut poller) = Builder::multi_producer(2, || BLANK, BusySpin).poller();
            let (producer, consumers) = builder.build();
            leak_a_claim(producer, &mut poller, written, after);
            consumers.join().unwrap();
        }
    }
}

/// Regression (#13, defect 5): with many producers a leaked claim's
/// sequence was never published; the consumers stopped at it and
/// `Consumers::join` never returned.
#[test]
fn a_leaked_claim_of_one_of_many_producers_is_published_when_that_handle_drops() {
    let handled = Arc::new(AtomicU64::new(0));
    let h = Arc::clone(&handled);
    let (builder, mut poller) = Builder::multi_producer(4, || BLANK, BusySpin).poller();
    let (mut a, consumers) = builder
        .then(move |_, _, _| {
            h.fetch_add(1, Relaxed);
        })
        .build();
    let mut b = a.clone();
    let claim = a.claim().unwrap();
    assert_eq!(claim.sequence(), 0);
    std::mem::forget(claim);
    assert_eq!(b.publish(|e| *e = 1), Ok(1));
    // Sequence 0 is claimed: the consumers wait at it, as for a claim held.
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Idle);
    drop(a);
    assert_eq!(poll_all(&mut poller), [(0, BLANK), (1, 1)]);
    drop(b);
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
    consumers.join().unwrap();
    assert_eq!(handled.load(Relaxed), 2);
}

/// A leaked producer handle keeps the Disruptor open (like a leaked
/// channel sender), and nothing else: every event is delivered once, a
/// claim it leaked too holds the consumers at that sequence.
#[test]
fn a_leaked_producer_handle_keeps_the_disruptor_open_and_nothing_else() {
    let (builder, mut poller) = Builder::multi_producer(4, || BLANK, BusySpin).poller();
    let (a, consumers) = builder.build();
    let mut b = a.clone();
    let mut a = std::mem::ManuallyDrop::new(a); // leaked: its drop does not run
    a.publish(|e| *e = 0).unwrap();
    std::mem::forget(a.claim().unwrap()); // sequence 1
    b.publish(|e| *e = 2).unwrap();
    drop(b);
    assert_eq!(poll_all(&mut poller), [(0, 0)]);
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Idle, "open, and held at sequence 1");
    // The end of the leak, only to free its memory: the handle's drop
    // publishes its claim and shuts the Disruptor down.
    drop(std::mem::ManuallyDrop::into_inner(a));
    assert_eq!(poll_all(&mut poller), [(1, BLANK), (2, 2)]);
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
    consumers.join().unwrap();
}

/// A leaked poller gates like a poller that is never polled again: the
/// producer stops at a full ring, the other consumers are not affected.
#[test]
fn a_leaked_poller_gates_like_one_never_polled_again() {
    let (builder, leaked) = Builder::single_producer(2, || BLANK, BusySpin).poller();
    let (builder, mut other) = builder.poller();
    let (mut producer, consumers) = builder.build();
    let leaked = std::mem::ManuallyDrop::new(leaked);
    assert_eq!(producer.try_publish(|e| *e = 0), Ok(0));
    assert_eq!(producer.try_publish(|e| *e = 1), Ok(1));
    assert_eq!(poll_all(&mut other), [(0, 0), (1, 1)]);
    assert_eq!(producer.try_publish(|e| *e = 2), Err(TryPublishError::Full));
    drop(producer);
    assert_eq!(other.poll(|_, _, _| {}), Polled::Shutdown);
    // The end of the leak: an undrained poller's drop halts.
    drop(std::mem::ManuallyDrop::into_inner(leaked));
    assert_eq!(other.poll(|_, _, _| {}), Polled::Halted);
    consumers.join().unwrap();
}

/// Leaked `Consumers` leave the threads running: they drain and end at
/// shutdown, like detached ones.
#[test]
fn leaked_consumers_still_drain_at_shutdown() {
    let (seen, done) = mpsc::channel();
    struct Report(mpsc::Sender<u64>, u64);
    impl EventHandler<u64> for Report {
        fn on_event(&mut self, e: &u64, _: i64, _: bool) {
            self.1 += e;
        }
        fn on_shutdown(&mut self) {
            self.0.send(self.1).unwrap();
        }
    }
    let (mut producer, consumers) = Builder::single_producer(4, || 0u64, Blocking::new())
        .handle_events_with_handler(Report(seen, 0))
        .build();
    let consumers = std::mem::ManuallyDrop::new(consumers);
    for i in 1..=10 {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    assert_eq!(done.recv().unwrap(), 55);
    // The end of the leak, only to free its memory.
    std::mem::ManuallyDrop::into_inner(consumers).join().unwrap();
}

/// A leaked builder never shuts its pollers' Disruptor down (nothing will
/// be published, as with a leaked producer); its drop does.
#[test]
fn a_leaked_builder_leaves_its_pollers_waiting_and_nothing_else() {
    let (builder, mut poller) = Builder::single_producer(4, || BLANK, BusySpin).poller();
    let builder = std::mem::ManuallyDrop::new(builder.handle_events_with(|_, _, _| {}));
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Idle);
    drop(std::mem::ManuallyDrop::into_inner(builder));
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
}

// -- Pollers ---------------------------------------------------------------------------------

/// Regression (#13, defect 6): a poller dropped after shutdown but before
/// it drained did not halt (its drop halted only while producers existed),
/// and the stages after it waited for it forever.
#[test]
fn a_poller_dropped_after_shutdown_before_it_drained_halts_the_stages_after_it() {
    let handled = Arc::new(AtomicU64::new(0));
    let h = Arc::clone(&handled);
    let (builder, first) = Builder::single_producer(4, || 0u64, BusySpin).poller();
    let (builder, mut second) = builder
        .then(move |_, _, _| {
            h.fetch_add(1, Relaxed);
        })
        .poller();
    let (mut producer, consumers) = builder.build();
    producer.publish(|e| *e = 1).unwrap();
    drop(producer);
    drop(first); // shut down, but it polled nothing
    assert_eq!(second.poll(|_, _, _| {}), Polled::Halted);
    consumers.join().unwrap();
    assert_eq!(handled.load(Relaxed), 0, "nothing passes an event the poller did not handle");
}

/// A poller that polled everything drops without effect, before or after
/// it saw `Shutdown`, on its own thread.
#[test]
fn a_drained_poller_dropped_on_its_own_thread_lets_the_next_stage_finish() {
    for see_shutdown in [false, true] {
        let n = scaled(1_000) as u64;
        let count = Arc::new(AtomicU64::new(0));
        let (builder, mut poller) = Builder::single_producer(8, || 0u64, Yielding).poller();
        let (mut producer, consumers) = builder.then(in_order(Arc::clone(&count))).build();
        let polling = thread::spawn(move || {
            let mut polled = 0;
            while polled < n {
                poller.poll(|e, s, _| {
                    assert_eq!((*e, s as u64), (polled, polled));
                    polled += 1;
                });
                thread::yield_now();
            }
            poller
        });
        for i in 0..n {
            producer.publish(|e| *e = i).unwrap();
        }
        let mut poller = polling.join().unwrap();
        drop(producer);
        if see_shutdown {
            assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
        }
        thread::spawn(move || drop(poller)).join().unwrap();
        consumers.join().unwrap();
        assert_eq!(count.load(Relaxed), n);
    }
}

/// An undrained poller dropped on another thread while the producer
/// publishes: the producer gets `Halted` instead of waiting forever.
#[test]
fn a_poller_dropped_on_its_own_thread_before_it_drained_halts_the_producer() {
    let (builder, mut poller) = Builder::single_producer(4, || 0u64, Blocking::new()).poller();
    let (mut producer, consumers) = builder.producer_wait(Blocking::new()).build();
    let polling = thread::spawn(move || {
        poller.poll(|_, _, _| {});
    });
    let mut outcome = Ok(0);
    for i in 0..100 {
        outcome = producer.publish(|e| *e = i);
        if outcome.is_err() {
            break;
        }
    }
    assert_eq!(outcome, Err(Halted));
    polling.join().unwrap();
    drop(producer);
    consumers.join().unwrap();
}

/// Regression (#13, defect 6): when the poll handler panicked, none of the
/// events it had returned from were marked consumed, and the next poll
/// delivered them again.
#[test]
fn a_panicking_poll_handler_is_offered_only_the_event_it_panicked_in_again() {
    let (builder, mut poller) = Builder::single_producer(8, || 0u64, BusySpin).poller();
    let (mut producer, consumers) = builder.build();
    for i in 0..4 {
        producer.publish(|e| *e = i).unwrap();
    }
    let mut seen = Vec::new();
    let r = catch_unwind(AssertUnwindSafe(|| {
        poller.poll(|e, _, _| {
            assert_ne!(*e, 2, "handler fails at 2");
            seen.push(*e);
        })
    }));
    assert!(message(&*r.unwrap_err()).contains("handler fails at 2"));
    assert_eq!(seen, [0, 1]);
    assert_eq!(poll_all(&mut poller), [(2, 2), (3, 3)]);
    drop(producer);
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
    consumers.join().unwrap();
}

// -- Sequencers built over existing sequences ------------------------------------------------

/// Regression (#13, defect 7): the single producer seeded its gating cache
/// with the cursor, which is no lower bound of the consumers: resumed
/// ahead of them, it handed out sequences over unread slots.
#[test]
fn a_single_producer_resumed_ahead_of_its_consumer_claims_only_read_slots() {
    // Published up to 5, the consumer has read up to 3: 4 and 5 are unread.
    let cursor = Arc::new(Sequence::with_value(5));
    let consumer = Arc::new(Sequence::with_value(3));
    let mut seq = SingleProducerSequencer::new(cursor, 4, vec![Arc::clone(&consumer)]);
    assert_eq!(seq.try_claim(1), Ok(6));
    assert_eq!(seq.try_claim(1), Ok(7));
    assert_eq!(seq.try_claim(1), Err(InsufficientCapacity), "8 reuses the slot of unread 4");
    assert_eq!(seq.claim_while(1, || false), None);
    consumer.set(5);
    assert_eq!(seq.try_claim(2), Ok(9));
}

/// The multi-producer handle's first claim reads the gating sequences too
/// (its cache started at -1, above a gating sequence that starts lower).
#[test]
fn a_multi_producer_handle_reads_the_gating_sequences_before_its_first_claim() {
    let cursor = Arc::new(MultiProducerCursor::new(2));
    let consumer = Arc::new(Sequence::with_value(-3));
    let mut seq = MultiProducerSequencer::new(cursor, vec![Arc::clone(&consumer)]);
    assert_eq!(seq.try_claim(2), Err(InsufficientCapacity), "wrap point -1 is past -3");
    consumer.set(-1);
    assert_eq!(seq.try_claim(2), Ok(1));
}

// -- Factories and events that panic --------------------------------------------------------

/// A factory that panics once told to (after the ring is built).
fn failing_factory() -> (Arc<AtomicBool>, impl Fn() -> u64 + Send + Sync + 'static) {
    let fail = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&fail);
    (fail, move || {
        assert!(!f.load(Relaxed), "factory failed");
        BLANK
    })
}

/// The factory runs while a panic unwinds (to reset a slot a writer left)
/// and for leaked claims: its own panic there neither aborts the process
/// nor keeps the slot from being published (as the writer left it).
#[test]
fn a_factory_that_panics_while_a_slot_is_reset_neither_aborts_nor_stalls() {
    let (fail, factory) = failing_factory();
    let (builder, mut poller) = Builder::single_producer(4, factory, BusySpin).poller();
    let (mut producer, consumers) = builder.build();
    fail.store(true, Relaxed);
    let r = catch_unwind(AssertUnwindSafe(|| {
        producer.publish(|e| {
            *e = 7;
            panic!("writer failed")
        })
    }));
    assert_eq!(message(&*r.unwrap_err()), "writer failed");
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut claim = producer.claim().unwrap();
        *claim = 8;
        panic!("holder failed")
    }));
    assert_eq!(message(&*r.unwrap_err()), "holder failed");
    let mut claim = producer.claim().unwrap();
    *claim = 9;
    std::mem::forget(claim);
    // The leaked claim is published at the next claim; the factory's panic
    // then comes out of that call, which has claimed nothing.
    let r = catch_unwind(AssertUnwindSafe(|| producer.publish(|e| *e = 10)));
    assert_eq!(message(&*r.unwrap_err()), "factory failed");
    assert_eq!(poll_all(&mut poller), [(0, 7), (1, 8), (2, 9)]);
    producer.publish(|e| *e = 10).unwrap();
    assert_eq!(poll_all(&mut poller), [(3, 10)]);
    drop(producer);
    assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
    consumers.join().unwrap();
}

/// An event whose `Drop` panics (when a writer marks it so).
struct Fragile {
    value: u64,
    panics: bool,
}

impl Drop for Fragile {
    fn drop(&mut self) {
        if self.panics {
            self.panics = false;
            panic!("event drop failed");
        }
    }
}

/// Resetting a slot drops the event in it: a panicking `Drop` there (while
/// the writer's panic unwinds) does not abort, and the slot is reset.
#[test]
fn an_event_whose_drop_panics_while_its_slot_is_reset_does_not_abort() {
    let fresh = || Fragile { value: BLANK, panics: false };
    let (builder, mut poller) = Builder::single_producer(4, fresh, BusySpin).poller();
    let (mut producer, consumers) = builder.build();
    let r = catch_unwind(AssertUnwindSafe(|| {
        producer.publish(|e| {
            *e = Fragile { value: 7, panics: true };
            panic!("writer failed")
        })
    }));
    assert_eq!(message(&*r.unwrap_err()), "writer failed");
    let mut got = Vec::new();
    poller.poll(|e, s, _| got.push((s, e.value)));
    assert_eq!(got, [(0, BLANK)]);
    drop(producer);
    consumers.join().unwrap();
}

/// Dropping the ring drops every event once, even when one event's `Drop`
/// panics (the panic then comes out of the drop).
#[test]
fn the_ring_drops_every_event_once_even_when_one_drop_panics() {
    /// Dropped with its `Tracked` (counted), and panics first when `loud`.
    struct Loud {
        _tracked: common::Tracked<u64>,
        loud: bool,
    }
    impl Drop for Loud {
        fn drop(&mut self) {
            assert!(!self.loud, "event drop failed");
        }
    }
    let drops = DropCounter::new();
    let ring = RingBuffer::new(4, || Loud { _tracked: drops.track(0), loud: false });
    // SAFETY: one thread, and no other reference to slot 1 exists.
    unsafe { ring.get_mut(1).loud = true };
    let r = catch_unwind(AssertUnwindSafe(|| drop(ring)));
    assert_eq!(message(&*r.unwrap_err()), "event drop failed");
    assert_eq!((drops.created(), drops.alive()), (4, 0));
}

/// A factory that panics while the ring is built: the events made so far
/// are dropped once, nothing starts.
#[test]
fn a_factory_that_panics_while_the_ring_is_built_drops_what_it_made() {
    let drops = DropCounter::new();
    let d = drops.clone();
    let made = AtomicUsize::new(0);
    let r = catch_unwind(AssertUnwindSafe(|| {
        RingBuffer::new(8, || {
            assert!(made.fetch_add(1, Relaxed) < 5, "factory failed");
            d.track(0u64)
        })
    }));
    assert!(r.is_err());
    assert_eq!((drops.created(), drops.alive()), (5, 0));
    let r = catch_unwind(|| Builder::single_producer(8, || -> u64 { panic!("no") }, BusySpin));
    assert!(r.is_err());
}

// -- Drop order ------------------------------------------------------------------------------

/// Producer handles dropped on several threads at once, each after
/// publishing and leaking a claim: shutdown comes once, after every event,
/// each delivered once.
#[test]
fn producer_handles_dropped_on_several_threads_at_once_deliver_every_event_once() {
    const THREADS: usize = 4;
    let per = scaled(500) as u64;
    for _ in 0..scaled(20) {
        let (sum, count) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (s, c) = (Arc::clone(&sum), Arc::clone(&count));
        let (producer, consumers) = Builder::multi_producer(2 * THREADS, || 0u64, Yielding)
            .handle_events_with(move |e, _, _| {
                s.fetch_add(*e, Relaxed);
                c.fetch_add(1, Relaxed);
            })
            .build();
        let all_published = Arc::new(std::sync::Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (mut p, b) = (producer.clone(), Arc::clone(&all_published));
                thread::spawn(move || {
                    for i in 1..=per {
                        p.publish(|e| *e = i).unwrap();
                    }
                    // Every handle has published (a leaked claim holds the
                    // consumers, and so the others, until its handle drops).
                    b.wait();
                    std::mem::forget(p.claim().unwrap()); // published (blank, 0) by the drop
                    drop(p);
                })
            })
            .collect();
        drop(producer);
        for t in threads {
            t.join().unwrap();
        }
        consumers.join().unwrap();
        let n = THREADS as u64 * per;
        assert_eq!(count.load(Relaxed), n + THREADS as u64);
        assert_eq!(sum.load(Relaxed), THREADS as u64 * per * (per + 1) / 2);
    }
}

// -- Thread exit -----------------------------------------------------------------------------

/// Runs a closure when the thread's thread-local storage is destroyed.
struct AtExit(Option<Box<dyn FnOnce()>>);

impl Drop for AtExit {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

thread_local! {
    static AT_EXIT: std::cell::RefCell<AtExit> = const { std::cell::RefCell::new(AtExit(None)) };
}

fn at_thread_exit(f: impl FnOnce() + 'static) {
    AT_EXIT.with(|a| a.borrow_mut().0 = Some(Box::new(f)));
}

/// Publishing, claiming (and leaking a claim), dropping the producer and
/// polling, all from thread-local destructors: the Disruptor keeps no
/// per-thread state, so they work as anywhere else.
#[test]
fn publish_claim_and_poll_from_thread_local_destructors() {
    let (builder, mut poller) = Builder::single_producer(8, || BLANK, Blocking::new()).poller();
    let count = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&count);
    let (mut producer, consumers) = builder
        .handle_events_with(move |_, _, _| {
            c.fetch_add(1, Relaxed);
        })
        .build();
    thread::spawn(move || {
        at_thread_exit(move || {
            producer.publish(|e| *e = 0).unwrap();
            *producer.claim().unwrap() = 1;
            std::mem::forget(producer.claim().unwrap()); // sequence 2
            producer.publish_batch(2, |e, i| *e = 3 + i as u64).unwrap();
            std::mem::forget(producer.claim().unwrap()); // sequence 5, published by the drop
            drop(producer);
        })
    })
    .join()
    .unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        at_thread_exit(move || {
            let mut got = Vec::new();
            while poller.poll(|e, s, _| got.push((s, *e))) != Polled::Shutdown {}
            tx.send(got).unwrap();
        })
    })
    .join()
    .unwrap();
    let expected = [(0, 0), (1, 1), (2, BLANK), (3, 3), (4, 4), (5, BLANK)];
    assert_eq!(rx.recv().unwrap(), expected);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), 6);
}

// -- Bad arguments ---------------------------------------------------------------------------

/// `Instant + Duration` panics on overflow: a timeout that long (a
/// caller's, or a strategy's) waits without a deadline instead.
#[test]
fn a_timeout_too_long_for_an_instant_waits_without_a_deadline() {
    let count = Arc::new(AtomicU64::new(0));
    let (builder, mut poller) = Builder::single_producer(4, || 0u64, BusySpin).poller();
    let (mut producer, consumers) = builder
        .handle_events_with_wait(in_order(Arc::clone(&count)), Timed::new(BusySpin, Duration::MAX))
        .build();
    producer.publish(|e| *e = 0).unwrap();
    assert_eq!(poller.poll_timeout(Duration::MAX, |_, _, _| {}), Polled::Events(1));
    drop(producer);
    assert_eq!(poller.poll_timeout(Duration::MAX, |_, _, _| {}), Polled::Shutdown);
    consumers.join().unwrap();
    assert_eq!(count.load(Relaxed), 1);
}

/// A bounded poll hands over the oldest events up to its limit, in order,
/// marks the last one handed over as the end of the batch, and leaves the
/// rest for the next poll; `has_available` follows; a limit of 0 only
/// reports the state. With a second stage behind the poller, that stage
/// sees exactly the events the bounded polls consumed.
#[test]
fn bounded_polls_hand_over_at_most_their_limit() {
    let (builder, mut poller) = Builder::single_producer(16, || 0u64, BusySpin).poller();
    let seen_after = Arc::new(Mutex::new(Vec::new()));
    let after = Arc::clone(&seen_after);
    let (mut producer, consumers) =
        builder.then(move |e, _, _| after.lock().unwrap().push(*e)).build();
    assert!(!poller.has_available());
    assert_eq!(poller.poll_at_most(4, |_, _, _| panic!("nothing published")), Polled::Idle);
    for i in 0..10 {
        producer.publish(|e| *e = i).unwrap();
    }
    assert!(poller.has_available());
    assert_eq!(poller.poll_at_most(0, |_, _, _| panic!("limit 0")), Polled::Idle);
    let mut got = Vec::new();
    for limit in [3, 1, 4] {
        let mut ends = Vec::new();
        let polled = poller.poll_at_most(limit, |e, _, end| {
            got.push(*e);
            ends.push(end);
        });
        assert_eq!(polled, Polled::Events(limit as u64));
        assert_eq!(ends.iter().filter(|&&e| e).count(), 1);
        assert_eq!(ends.last(), Some(&true));
    }
    assert_eq!(got, (0..8).collect::<Vec<_>>());
    assert_eq!(poller.poll_at_most(100, |e, _, _| got.push(*e)), Polled::Events(2));
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    assert!(!poller.has_available());
    drop(producer);
    assert_eq!(poller.poll_at_most(5, |_, _, _| {}), Polled::Shutdown);
    drop(poller);
    consumers.join().unwrap();
    assert_eq!(*seen_after.lock().unwrap(), (0..10).collect::<Vec<_>>());
}

/// Handler closures need no type annotations, in every stage position.
#[test]
fn handler_closures_infer_their_argument_types() {
    let total = Arc::new(AtomicU64::new(0));
    let t = Arc::clone(&total);
    let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
        .handle_events_with(|e, _, _| assert!(*e <= 10))
        .and(|_, seq, _| assert!(seq >= 0))
        .then(move |e, _, _| {
            t.fetch_add(*e, Relaxed);
        })
        .build();
    for i in 1..=10 {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(total.load(Relaxed), 55);
}

/// A handler made by a factory on its consumer thread need not be `Send`;
/// it sees every event, and a factory that panics halts the Disruptor like
/// a handler that panics.
#[test]
fn handlers_made_on_their_thread_need_not_be_send() {
    use std::cell::Cell;
    use std::rc::Rc;
    let total = Arc::new(AtomicU64::new(0));
    let t = Arc::clone(&total);
    let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
        .handle_events_from(move || {
            let local = Rc::new(Cell::new(0u64)); // not Send
            move |e, _, end| {
                local.set(local.get() + *e);
                if end {
                    t.store(local.get(), Relaxed);
                }
            }
        })
        .then_from(|| |_, _, _| {})
        .build();
    for i in 1..=10 {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    consumers.join().unwrap();
    assert_eq!(total.load(Relaxed), 55);

    let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
        .handle_events_from(|| -> fn(&u64, i64, bool) { panic!("no connection") })
        .build();
    // The stage halted before handling anything: publishing ends in `Halted`
    // once the ring is full, and `join` reports the factory's panic.
    let mut halted = false;
    for i in 0..100 {
        if producer.publish(|e| *e = i).is_err() {
            halted = true;
            break;
        }
    }
    assert!(halted, "a halted Disruptor refuses publishes");
    drop(producer);
    assert!(consumers.join().is_err());
}

/// The `_from_handler` forms make any `EventHandler` on its consumer thread
/// (here one holding an `Rc`), in the current stage and in a new one, and
/// run its hooks there; the `_handlers` work pool takes any handlers too.
#[test]
fn handler_types_made_on_their_thread_run_their_hooks() {
    use std::rc::Rc;
    struct Local(Rc<u64>, mpsc::Sender<(&'static str, u64)>, &'static str);
    impl EventHandler<u64> for Local {
        fn on_start(&mut self) {
            self.1.send((self.2, 0)).unwrap();
        }
        fn on_event(&mut self, e: &u64, _: i64, _: bool) {
            self.0 = Rc::new(*self.0 + *e);
        }
        fn on_shutdown(&mut self) {
            self.1.send((self.2, *self.0)).unwrap();
        }
    }
    let (tx, rx) = mpsc::channel();
    let (a, b, c) = (tx.clone(), tx.clone(), tx.clone());
    let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
        .handle_events_from_handler(move || Local(Rc::new(0), a, "first"))
        .and_from_handler(move || Local(Rc::new(0), b, "and"))
        .then_from_handler(move || Local(Rc::new(0), c, "then"))
        .work_pool_handlers_with_wait(
            [1, 2].map(|_| {
                let tx = tx.clone();
                move |e: &u64, _: i64, _: bool| tx.send(("pool", *e)).unwrap()
            }),
            Blocking::new(),
        )
        .build();
    drop(tx);
    for i in 1..=10 {
        producer.publish(|e| *e = i).unwrap();
    }
    drop(producer);
    consumers.join().unwrap();
    let mut seen: Vec<_> = rx.iter().collect();
    seen.sort();
    let mut expected = vec![("and", 0), ("and", 55), ("first", 0), ("first", 55)];
    expected.extend((1..=10).map(|i| ("pool", i)));
    expected.extend([("then", 0), ("then", 55)]);
    assert_eq!(seen, expected);
}

/// Consumer threads carry the configured names and run the start hook
/// once each, with their index; a panicking hook halts the Disruptor and
/// `join` returns it.
#[test]
fn consumer_threads_are_named_and_run_the_start_hook() {
    let started = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&started);
    let names = Arc::new(Mutex::new(Vec::new()));
    let (n0, n1) = (Arc::clone(&names), Arc::clone(&names));
    let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
        .thread_name("feed")
        .on_thread_start(move |i| {
            s.lock().unwrap().push((i, thread::current().name().map(str::to_owned)))
        })
        .handle_events_with(move |_, _, end| {
            if end {
                n0.lock().unwrap().push(thread::current().name().unwrap().to_owned());
            }
        })
        .then(move |_, _, end| {
            if end {
                n1.lock().unwrap().push(thread::current().name().unwrap().to_owned());
            }
        })
        .build();
    producer.publish(|e| *e = 1).unwrap();
    drop(producer);
    consumers.join().unwrap();
    let mut started = started.lock().unwrap().clone();
    started.sort();
    assert_eq!(
        started,
        [(0, Some("feed-0".to_owned())), (1, Some("feed-1".to_owned()))],
        "each thread ran the hook once, named"
    );
    let mut names = names.lock().unwrap().clone();
    names.sort();
    names.dedup();
    assert_eq!(names, ["feed-0", "feed-1"]);

    let (mut producer, consumers) = Builder::single_producer(4, || 0u64, BusySpin)
        .on_thread_start(|_| panic!("no such core"))
        .handle_events_with(|_, _, _| {})
        .build();
    let mut refused = false;
    for i in 0..100 {
        if producer.publish(|e| *e = i).is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "a Disruptor halted by its start hook refuses publishes");
    drop(producer);
    assert!(consumers.join().is_err());
}
