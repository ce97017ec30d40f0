//! Loom models of the SPSC queue. Covers [SPSC-O1] .. [SPSC-O10], the
//! invariants [SPSC-I2] .. [SPSC-I5] and the drop-order entry [SPSC-S6]
//! (slot accesses are loom-tracked cells, so a slot touched by both sides
//! without a happens-before edge is a causality violation; items are loom
//! `Arc`s, so a leak or a double drop fails).
//!
//! Models of the ring's free drop both handles inside spawned threads.
//! Loom does not track freed memory: a touch of the ring after the free
//! passes loom and fails only under AddressSanitizer, so run this file
//! under ASan too:
//!
//! ```text
//! RUSTFLAGS="--cfg loom --cfg crossbeam_loom -Zsanitizer=address" LOOM_MAX_PREEMPTIONS=3 \
//!   cargo +nightly test --target x86_64-unknown-linux-gnu --release \
//!   --target-dir target/loom-asan --test loom_spsc
//! ```
//!
//! (LeakSanitizer then also reports one block per test thread that loom's
//! `generator` crate never frees, `ContextStack::init_root`; suppress it with
//! `LSAN_OPTIONS=suppressions=<file>` holding `leak:init_root`.)
#![cfg(loom)]

use acqrel::spsc::{self, PopError, PushError};
use loom::sync::Arc;
use loom::thread;

/// Pushes `item`, yielding to the model scheduler while the queue is full.
fn push<T>(producer: &mut spsc::Producer<T>, mut item: T) {
    loop {
        match producer.push(item) {
            Ok(()) => return,
            Err(PushError::Full(back)) => item = back,
            Err(PushError::Abandoned(_)) => panic!("consumer gone"),
        }
        thread::yield_now();
    }
}

/// Pops one item, yielding while the queue is empty.
fn pop<T>(consumer: &mut spsc::Consumer<T>) -> T {
    loop {
        match consumer.pop() {
            Ok(item) => return item,
            Err(PopError::Empty) => thread::yield_now(),
            Err(PopError::Abandoned) => panic!("producer gone"),
        }
    }
}

/// Capacity 1: the producer pushes two items, so its second push reuses the
/// slot the consumer is reading; the consumer pops both.
#[test]
fn capacity_one_second_push_reuses_the_slot_being_read() {
    loom::model(|| {
        let (mut p, mut c) = spsc::bounded::<Box<u32>>(1);
        let t = thread::spawn(move || {
            push(&mut p, Box::new(1));
            push(&mut p, Box::new(2));
        });
        assert_eq!(*pop(&mut c), 1);
        assert_eq!(*pop(&mut c), 2);
        t.join().unwrap();
    });
}

/// Capacity 2, positions pre-advanced past the buffer's end (head = tail = 3
/// of 0..4): the next pushes wrap from slot 1 to slot 0 and the position
/// counter wraps from 3 to 0.
#[test]
fn capacity_two_wraps_position_and_slot() {
    loom::model(|| {
        let (mut p, mut c) = spsc::bounded::<Box<u32>>(2);
        for i in 0..3 {
            p.push(Box::new(i)).unwrap();
            drop(c.pop().unwrap());
        }
        let t = thread::spawn(move || {
            push(&mut p, Box::new(10));
            push(&mut p, Box::new(11));
            push(&mut p, Box::new(12));
        });
        assert_eq!(*pop(&mut c), 10);
        assert_eq!(*pop(&mut c), 11);
        assert_eq!(*pop(&mut c), 12);
        t.join().unwrap();
    });
}

/// Batch commit: the producer publishes two items with one chunk commit into
/// a wrapped buffer; the consumer takes them with a read chunk and its
/// iterator, each side one index store per batch.
#[test]
fn batch_commit_publishes_and_frees_a_whole_chunk() {
    loom::model(|| {
        let (mut p, mut c) = spsc::bounded::<Box<u32>>(2);
        p.push(Box::new(0)).unwrap();
        drop(c.pop().unwrap());
        let t = thread::spawn(move || {
            let mut items = (1..=2).map(Box::new);
            while p.push_from_iter(&mut items) < 2 {
                thread::yield_now();
            }
            // The consumer frees both slots with one commit; refill them.
            let mut more = (3..=4).map(Box::new);
            let mut sent = 0;
            while sent < 2 {
                sent += p.push_from_iter(&mut more);
                thread::yield_now();
            }
        });
        let mut got = Vec::new();
        while got.len() < 4 {
            let chunk = c.read_chunk(2);
            if chunk.is_empty() {
                thread::yield_now();
                continue;
            }
            got.extend(chunk.into_iter().map(|b| *b));
        }
        assert_eq!(got, [1, 2, 3, 4]);
        t.join().unwrap();
    });
}

/// Both handles are dropped concurrently while an item is queued: the item is
/// dropped exactly once, by whichever handle goes last, and the ring is freed.
#[test]
fn drop_both_ends_with_an_item_queued() {
    loom::model(|| {
        let item = Arc::new(());
        let (mut p, mut c) = spsc::bounded::<Arc<()>>(2);
        p.push(Arc::clone(&item)).unwrap();
        drop(c.pop().unwrap());
        let (item2, mut p) = (Arc::clone(&item), p);
        let t = thread::spawn(move || {
            p.push(item2).unwrap(); // queued across the buffer's end
            drop(p);
        });
        drop(c);
        t.join().unwrap();
        assert_eq!(Arc::strong_count(&item), 1, "queued item dropped exactly once");
    });
}

/// The producer pushes one item and goes away; the consumer polls until
/// `pop` reports abandonment. It must have received the item first.
#[test]
fn abandonment_after_last_push_never_hides_the_item() {
    loom::model(|| {
        let (mut p, mut c) = spsc::bounded::<Box<u32>>(1);
        let t = thread::spawn(move || {
            p.push(Box::new(7)).unwrap();
            drop(p);
        });
        let mut got = Vec::new();
        loop {
            match c.pop() {
                Ok(item) => got.push(*item),
                Err(PopError::Empty) => thread::yield_now(),
                Err(PopError::Abandoned) => break,
            }
        }
        assert_eq!(got, [7]);
        t.join().unwrap();
    });
}

/// The consumer drains via `is_abandoned` then `len`: seeing the producer gone
/// guarantees seeing its last push.
#[test]
fn abandoned_flag_then_len_counts_every_item() {
    loom::model(|| {
        let (mut p, mut c) = spsc::bounded::<u32>(2);
        let t = thread::spawn(move || {
            p.push(1).unwrap();
            drop(p);
        });
        while !c.is_abandoned() {
            thread::yield_now();
        }
        assert_eq!(c.len(), 1);
        assert_eq!(c.pop(), Ok(1));
        t.join().unwrap();
    });
}

/// No lost wake-up, consumer side: the consumer parks in `pop_blocking` on an
/// empty queue while the producer pushes with `push_blocking`. Loom reports a
/// deadlock if the push can slip between the consumer's last check and its
/// sleep without waking it.
#[test]
fn blocking_pop_is_woken_by_blocking_push() {
    loom::model(|| {
        let (mut p, mut c) = spsc::bounded_blocking::<u32>(1);
        let t = thread::spawn(move || {
            p.push_blocking(1).unwrap();
            // keep the producer alive until the consumer has the item, so
            // the wake-up comes from the push, not from the drop
            p
        });
        assert_eq!(c.pop_blocking(), Ok(1));
        drop(t.join().unwrap());
    });
}

/// No lost wake-up, producer side: the producer parks in `push_blocking` on a
/// full queue (pre-filled) while the consumer frees the slot with
/// `pop_blocking`.
#[test]
fn blocking_push_is_woken_by_blocking_pop() {
    loom::model(|| {
        let (mut p, mut c) = spsc::bounded_blocking::<u32>(1);
        p.push(1).unwrap();
        let t = thread::spawn(move || {
            assert_eq!(c.pop_blocking(), Ok(1));
            c
        });
        p.push_blocking(2).unwrap();
        let mut c = t.join().unwrap();
        assert_eq!(c.pop(), Ok(2));
    });
}

/// [SPSC-S9], no call mix leaves a peer asleep: the consumer parks in
/// `pop_blocking` while the producer publishes with the non-blocking `push`
/// and stays alive (so only the push can wake it). In `Blocking` mode every
/// position store is a waker ([SPSC-O8]); before it, this interleaving slept
/// for good, which loom reports as a deadlock.
#[test]
fn non_blocking_push_wakes_a_parked_pop() {
    loom::model(|| {
        let (mut p, mut c) = spsc::bounded_blocking::<u32>(1);
        let t = thread::spawn(move || {
            p.push(1).unwrap();
            p
        });
        assert_eq!(c.pop_blocking(), Ok(1));
        drop(t.join().unwrap());
    });
}

/// [SPSC-S9] with chunks on both sides: the consumer parks in
/// `read_chunk_blocking`; the producer publishes with `push_slice` (one chunk
/// commit) and stays alive.
#[test]
fn push_slice_wakes_a_parked_read_chunk() {
    loom::model(|| {
        let (mut p, mut c) = spsc::bounded_blocking::<u32>(2);
        let t = thread::spawn(move || {
            assert_eq!(p.push_slice(&[1, 2]), 2);
            p
        });
        let got: Vec<u32> = c.read_chunk_blocking(2).unwrap().into_iter().collect();
        assert!(got == [1] || got == [1, 2], "{got:?}");
        drop(t.join().unwrap());
    });
}

/// [SPSC-S9], producer side: the producer parks in `write_chunk_blocking` on
/// a full queue; the consumer frees the slot with a non-blocking read-chunk
/// commit and stays alive.
#[test]
fn read_chunk_commit_wakes_a_parked_write_chunk() {
    loom::model(|| {
        let (mut p, mut c) = spsc::bounded_blocking::<u32>(1);
        p.push(1).unwrap();
        let t = thread::spawn(move || {
            loop {
                let chunk = c.read_chunk(1);
                if !chunk.is_empty() {
                    chunk.commit_all();
                    break;
                }
                thread::yield_now();
            }
            c
        });
        assert_eq!(p.write_chunk_blocking(1).unwrap().fill_from_iter([2]), 1);
        let mut c = t.join().unwrap();
        assert_eq!(c.pop(), Ok(2));
    });
}

/// A consumer parked on an empty queue is woken by the producer's drop and
/// reports abandonment.
#[test]
fn blocking_pop_is_woken_by_producer_drop() {
    loom::model(|| {
        let (p, mut c) = spsc::bounded_blocking::<u32>(1);
        let t = thread::spawn(move || drop(p));
        assert_eq!(c.pop_blocking(), Err(PopError::Abandoned));
        t.join().unwrap();
    });
}

/// The documented guarantee of `Producer::is_abandoned`: once it reports the
/// consumer gone, the consumer thread's writes before dropping its handle
/// are visible (here: a loom-tracked result cell).
#[test]
fn producer_seeing_abandonment_sees_the_consumers_last_writes() {
    struct Report(loom::cell::UnsafeCell<u32>);
    // SAFETY: [SPSC-O5] the cell is written by the consumer thread before it drops its
    // handle and read by the producer only after `is_abandoned` acquired that drop.
    unsafe impl Sync for Report {}
    loom::model(|| {
        let report = Arc::new(Report(loom::cell::UnsafeCell::new(0)));
        let (mut p, c) = spsc::bounded::<u32>(1);
        p.push(5).unwrap();
        let writer = Arc::clone(&report);
        let t = thread::spawn(move || {
            let mut c = c;
            let got = c.pop().unwrap();
            // SAFETY: [SPSC-O5] only this thread writes, before dropping its handle.
            writer.0.with_mut(|r| unsafe { *r = got });
            drop(c);
        });
        while !p.is_abandoned() {
            thread::yield_now();
        }
        // SAFETY: [SPSC-O6] the consumer's drop was acquired: its write happened-before.
        assert_eq!(report.0.with(|r| unsafe { *r }), 5);
        t.join().unwrap();
    });
}

/// Defect 1 of issue 13, consumer side: the consumer parks in `pop_blocking`,
/// the producer is dropped in another thread and wakes it; the consumer
/// returns `Abandoned` and drops its handle, possibly while the producer's
/// drop is still inside its wake-up. Both handles go inside spawned threads,
/// so the free races the waker. Loom does not see freed memory: run this
/// file under AddressSanitizer too. Covers [SPSC-I3] [SPSC-I5] [SPSC-O5]
/// [SPSC-O10] [SPSC-S6].
#[test]
fn parked_pop_woken_by_producer_drop_then_both_ends_free_in_threads() {
    loom::model(|| {
        let (p, mut c) = spsc::bounded_blocking::<Box<u32>>(1);
        let producer = thread::spawn(move || drop(p));
        let consumer = thread::spawn(move || {
            assert_eq!(c.pop_blocking(), Err(PopError::Abandoned));
            drop(c);
        });
        producer.join().unwrap();
        consumer.join().unwrap();
    });
}

/// As above, through the timed wait (`pop_blocking_timeout`), whose park
/// path has a deadline (loom's condition variable never times out, so the
/// model explores the same wake-ups).
#[test]
fn parked_timed_pop_woken_by_producer_drop_then_both_ends_free_in_threads() {
    loom::model(|| {
        let (p, mut c) = spsc::bounded_blocking::<Box<u32>>(1);
        let producer = thread::spawn(move || drop(p));
        let consumer = thread::spawn(move || {
            let got = c.pop_blocking_timeout(std::time::Duration::from_secs(3600));
            assert_eq!(got, Err(PopError::Abandoned));
            drop(c);
        });
        producer.join().unwrap();
        consumer.join().unwrap();
    });
}

/// The mirror case: the producer parks in `push_blocking` on a full queue,
/// the consumer is dropped in another thread and wakes it; the producer gets
/// its item back with `Abandoned` and drops its handle. The queued item is
/// dropped exactly once, by the last handle. Covers [SPSC-I3] [SPSC-I4]
/// [SPSC-I5] [SPSC-O5] [SPSC-O10] [SPSC-S6].
#[test]
fn parked_push_woken_by_consumer_drop_then_both_ends_free_in_threads() {
    loom::model(|| {
        let item = Arc::new(());
        let (mut p, c) = spsc::bounded_blocking::<Arc<()>>(1);
        p.push(Arc::clone(&item)).unwrap();
        let second = Arc::clone(&item);
        let producer = thread::spawn(move || {
            match p.push_blocking(second) {
                Err(PushError::Abandoned(back)) => drop(back),
                other => panic!("expected Abandoned, got {other:?}"),
            }
            drop(p);
        });
        let consumer = thread::spawn(move || drop(c));
        producer.join().unwrap();
        consumer.join().unwrap();
        assert_eq!(Arc::strong_count(&item), 1, "each item dropped exactly once");
    });
}

/// Each end does its last operation and drops its handle in its own thread:
/// the consumer pops the pre-filled item, the producer pushes another. Which
/// handle is last, and so drains the queued item and frees the ring, depends
/// on the interleaving; either way it must see the other's final position and
/// slot accesses ([SPSC-O10]), so the drained item is the one still queued
/// and is dropped once. Covers [SPSC-I3] [SPSC-I4] [SPSC-O7] [SPSC-O10]
/// [SPSC-S6].
#[test]
fn each_end_drops_in_its_own_thread_after_its_last_operation() {
    loom::model(|| {
        let item = Arc::new(());
        let (mut p, mut c) = spsc::bounded::<Arc<()>>(2);
        p.push(Arc::clone(&item)).unwrap();
        let second = Arc::clone(&item);
        let producer = thread::spawn(move || {
            p.push(second).unwrap();
            drop(p);
        });
        let consumer = thread::spawn(move || {
            drop(c.pop().unwrap());
            drop(c);
        });
        producer.join().unwrap();
        consumer.join().unwrap();
        assert_eq!(Arc::strong_count(&item), 1, "each item dropped exactly once");
    });
}
