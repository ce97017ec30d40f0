//! Behaviour and std-thread stress tests of the SPSC queue (`acqrel::spsc`).
//!
//! Not built under `--cfg loom` (the slice views of chunks do not exist there;
//! the loom models are in `loom_spsc.rs`).
#![cfg(not(loom))]
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;
#[path = "common/exactly_once.rs"]
mod exactly_once;

use acqrel::spsc::{self, Blocking, Borrowed, Heap, PopError, PushError, Queue, Storage};
use common::{DropCounter, scaled};
use exactly_once::{Book, Item, leak};
use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;

/// Waiting for the other thread: spin briefly, then yield (the test machines
/// are often oversubscribed, where pure spinning burns whole time slices).
fn wait(spins: &mut u32) {
    *spins += 1;
    if *spins < 64 {
        std::hint::spin_loop();
    } else {
        thread::yield_now();
    }
}

#[test]
fn smoke_push_pop_peek() {
    let (mut p, mut c) = spsc::bounded::<u32>(3);
    assert_eq!(p.capacity(), 3);
    assert_eq!(c.capacity(), 3);
    assert!(c.is_empty());
    assert_eq!(c.pop(), Err(PopError::Empty));
    assert_eq!(c.peek(), Err(PopError::Empty));
    assert_eq!(p.slots(), 3);
    p.push(1).unwrap();
    p.push(2).unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(c.peek(), Ok(&1));
    assert_eq!(c.pop(), Ok(1));
    assert_eq!(p.slots(), 2);
    assert!(!p.is_full());
    p.push(3).unwrap();
    p.push(4).unwrap();
    assert!(p.is_full());
    assert_eq!(p.push(5), Err(PushError::Full(5)));
    assert_eq!(c.slots(), 3);
    assert_eq!(c.pop(), Ok(2));
    assert_eq!(c.pop(), Ok(3));
    assert_eq!(c.pop(), Ok(4));
    assert_eq!(c.pop(), Err(PopError::Empty));
    assert!(!p.is_abandoned() && !c.is_abandoned());
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn capacity_zero_panics() {
    let _ = spsc::bounded::<u8>(0);
}

#[test]
#[should_panic(expected = "capacity overflow")]
fn capacity_overflow_panics() {
    let _ = spsc::bounded::<u64>(usize::MAX / 4);
}

#[test]
#[should_panic(expected = "capacity overflow")]
fn capacity_overflow_panics_for_zero_sized_items_too() {
    let _ = spsc::bounded::<()>(usize::MAX / 2 + 1);
}

#[test]
fn huge_capacity_of_zero_sized_items_allocates_nothing() {
    let (mut p, mut c) = spsc::bounded::<()>(usize::MAX / 2);
    assert_eq!(p.slots(), usize::MAX / 2);
    p.push(()).unwrap();
    assert_eq!(c.pop(), Ok(()));
}

#[test]
fn capacity_one_alternates() {
    let (mut p, mut c) = spsc::bounded(1);
    for i in 0..10 {
        assert_eq!(p.push(i), Ok(()));
        assert!(p.is_full());
        assert_eq!(p.push(99), Err(PushError::Full(99)));
        assert_eq!(c.pop(), Ok(i));
        assert!(c.is_empty());
    }
}

#[test]
fn every_capacity_wraps_over_many_laps_without_a_wasted_slot() {
    // 50 laps of each capacity (4 under Miri).
    let laps = if cfg!(miri) { 4 } else { 50 };
    for capacity in [1, 2, 3, 5, 7, 8, 64] {
        let (mut p, mut c) = spsc::bounded(capacity);
        let mut next_in = 0u64;
        let mut next_out = 0u64;
        // Varying fill levels so every position offset is hit.
        for round in 0..(laps * capacity) {
            let fill = round % capacity + 1;
            for _ in 0..fill {
                if p.push(next_in).is_ok() {
                    next_in += 1;
                }
            }
            if round % 3 == 0 {
                // fill to the brim: exactly `capacity` items fit
                while p.push(next_in).is_ok() {
                    next_in += 1;
                }
                assert_eq!(c.len(), capacity);
            }
            let drain = (round * 7) % (capacity + 1);
            for _ in 0..drain {
                match c.pop() {
                    Ok(v) => {
                        assert_eq!(v, next_out);
                        next_out += 1;
                    }
                    Err(e) => assert_eq!(e, PopError::Empty),
                }
            }
            assert_eq!(c.len() as u64, next_in - next_out);
        }
        while let Ok(v) = c.pop() {
            assert_eq!(v, next_out);
            next_out += 1;
        }
        assert_eq!(next_in, next_out);
        let laps_wanted = laps as u64 * 2 / 5;
        let laps = next_in / capacity as u64;
        assert!(laps >= laps_wanted, "capacity {capacity}: only {laps} laps");
    }
}

#[test]
fn zero_sized_items() {
    let (mut p, mut c) = spsc::bounded::<()>(3);
    for _ in 0..3 {
        p.push(()).unwrap();
    }
    assert_eq!(p.push(()), Err(PushError::Full(())));
    assert_eq!(c.len(), 3);
    for _ in 0..3 {
        assert_eq!(c.pop(), Ok(()));
    }
    assert_eq!(c.pop(), Err(PopError::Empty));
    assert_eq!(p.push_from_iter(&mut std::iter::repeat_n((), 5)), 3);
    assert_eq!(c.pop_iter().count(), 3);
}

#[test]
fn items_with_drop_glue_are_dropped_once_zero_sized_or_not() {
    struct Token<'a>(&'a std::cell::Cell<usize>);
    impl Drop for Token<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let dropped = std::cell::Cell::new(0);
    let (mut p, mut c) = spsc::bounded(2);
    p.push(Token(&dropped)).unwrap();
    p.push(Token(&dropped)).unwrap();
    drop(c.pop());
    assert_eq!(dropped.get(), 1);
    drop((p, c));
    assert_eq!(dropped.get(), 2);

    static ZST_DROPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    struct Zst;
    impl Drop for Zst {
        fn drop(&mut self) {
            ZST_DROPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let (mut p, mut c) = spsc::bounded(4);
    for _ in 0..3 {
        p.push(Zst).unwrap();
    }
    drop(c.pop());
    drop(p);
    drop(c);
    assert_eq!(ZST_DROPS.load(std::sync::atomic::Ordering::Relaxed), 3);
}

#[test]
fn every_item_dropped_exactly_once() {
    let counter = DropCounter::new();
    let (mut p, mut c) = spsc::bounded(4);
    for i in 0..4 {
        p.push(counter.track(i)).unwrap();
    }
    let rejected = p.push(counter.track(4)).unwrap_err().into_inner();
    drop(rejected);
    assert_eq!(counter.dropped(), 1);
    drop(c.pop().unwrap());
    let _ = c.peek().unwrap();
    assert_eq!(counter.dropped(), 2);
    // Three items still queued: dropped with the last handle, not before.
    drop(p);
    assert_eq!(counter.dropped(), 2);
    drop(c);
    assert_eq!(counter.dropped(), 5);
    assert_eq!(counter.alive(), 0);
}

#[test]
fn queued_items_dropped_when_consumer_goes_last_or_first() {
    for consumer_first in [false, true] {
        let counter = DropCounter::new();
        let (mut p, mut c) = spsc::bounded(3);
        // wrap around first, so the queued items straddle the buffer's end
        for i in 0..2 {
            p.push(counter.track(i)).unwrap();
            drop(c.pop().unwrap());
        }
        for i in 0..3 {
            p.push(counter.track(i)).unwrap();
        }
        if consumer_first {
            drop(c);
            assert!(p.is_abandoned());
            assert_eq!(counter.alive(), 3);
            drop(p);
        } else {
            drop(p);
            assert!(c.is_abandoned());
            drop(c);
        }
        assert_eq!(counter.alive(), 0);
        assert_eq!(counter.dropped(), 5);
    }
}

#[test]
fn abandonment_is_reported_only_when_it_matters() {
    let (mut p, mut c) = spsc::bounded(1);
    p.push(1).unwrap();
    drop(p);
    assert!(c.is_abandoned());
    assert_eq!(c.peek(), Ok(&1));
    assert_eq!(c.pop(), Ok(1));
    assert_eq!(c.pop(), Err(PopError::Abandoned));
    assert_eq!(c.peek(), Err(PopError::Abandoned));

    let (mut p, c) = spsc::bounded(1);
    drop(c);
    assert!(p.is_abandoned());
    assert_eq!(p.push(1), Ok(()), "a push that fits still succeeds");
    assert_eq!(p.push(2), Err(PushError::Abandoned(2)));
    assert_eq!(format!("{:?}", PushError::Full(0)), "Full(..)");
    assert_eq!(PushError::Abandoned(()).to_string(), "spsc queue is full and its consumer is gone");
    assert_eq!(PopError::Abandoned.to_string(), "spsc queue is empty and its producer is gone");
}

struct PanicOnDrop<'a> {
    panics: bool,
    dropped: &'a std::cell::Cell<usize>,
}

impl Drop for PanicOnDrop<'_> {
    fn drop(&mut self) {
        self.dropped.set(self.dropped.get() + 1);
        if self.panics {
            panic!("item drop panics");
        }
    }
}

#[test]
fn panicking_drop_in_read_chunk_commit_drops_the_rest_once() {
    let dropped = std::cell::Cell::new(0);
    let (mut p, mut c) = spsc::bounded(4);
    // wrap so the chunk spans the buffer's end
    p.push(PanicOnDrop { panics: false, dropped: &dropped }).unwrap();
    drop(c.pop().unwrap());
    dropped.set(0);
    for i in 0..4 {
        p.push(PanicOnDrop { panics: i == 1, dropped: &dropped }).unwrap();
    }
    let result = catch_unwind(AssertUnwindSafe(|| c.read_chunk(3).commit(3)));
    assert!(result.is_err());
    assert_eq!(dropped.get(), 3, "items 0, 1 (panicking) and 2 are each dropped once");
    assert_eq!(c.len(), 1, "the three committed items are gone");
    assert_eq!(p.slots(), 3);
    let last = c.pop().unwrap();
    assert!(!last.panics);
    drop(last);
    assert_eq!(dropped.get(), 4);
    drop((p, c));
    assert_eq!(dropped.get(), 4);
}

#[test]
fn panicking_drop_of_a_queued_item_at_teardown() {
    let dropped = std::cell::Cell::new(0);
    let (mut p, c) = spsc::bounded(3);
    p.push(PanicOnDrop { panics: true, dropped: &dropped }).unwrap();
    p.push(PanicOnDrop { panics: false, dropped: &dropped }).unwrap();
    drop(c);
    // The last handle drops the queued items: the first panics, the second
    // is still dropped, and the ring is freed (Miri checks for leaks).
    let result = catch_unwind(AssertUnwindSafe(|| drop(p)));
    assert!(result.is_err());
    assert_eq!(dropped.get(), 2);
}

#[test]
fn leaked_read_iterator_leaks_items_but_never_reads_one_twice() {
    let dropped = std::cell::Cell::new(0);
    let item = || PanicOnDrop { panics: false, dropped: &dropped };
    let (mut p, mut c) = spsc::bounded(4);
    for _ in 0..3 {
        p.push(item()).unwrap();
    }
    let mut it = c.read_chunk(3).into_iter();
    drop(it.next().unwrap());
    std::mem::forget(it);
    assert_eq!(dropped.get(), 1);
    assert!(c.pop().is_err(), "the chunk's items are gone from the consumer's view");
    p.push(item()).unwrap();
    drop(c.pop().unwrap());
    drop((p, c));
    assert_eq!(dropped.get(), 2, "two items leaked, none dropped twice");
}

#[test]
fn panicking_iterator_publishes_what_was_written() {
    let counter = DropCounter::new();
    let (mut p, mut c) = spsc::bounded(8);
    let mut n = 0;
    let mut source = std::iter::from_fn(|| {
        n += 1;
        assert!(n < 4, "source fails");
        Some(counter.track(n))
    });
    let result = catch_unwind(AssertUnwindSafe(|| p.push_from_iter(&mut source)));
    assert!(result.is_err());
    assert_eq!(c.len(), 3, "the three items written before the panic are queued");
    assert_eq!(c.pop_iter().map(|t| t.value).collect::<Vec<_>>(), [1, 2, 3]);
    drop((p, c));
    assert_eq!(counter.alive(), 0);
}

#[test]
fn write_chunk_slices_wrap_and_commit_part() {
    let (mut p, mut c) = spsc::bounded::<u32>(5);
    p.push_slice(&[0, 0, 0]);
    assert_eq!(c.pop_slice(&mut [0; 3]), 3);
    // tail is at slot 3: a chunk of 4 wraps as 2 + 2
    let mut chunk = p.write_chunk(4);
    assert_eq!(chunk.len(), 4);
    let (a, b) = chunk.as_mut_slices();
    assert_eq!((a.len(), b.len()), (2, 2));
    for (i, slot) in a.iter_mut().chain(b.iter_mut()).enumerate() {
        slot.write(i as u32 + 10);
    }
    // SAFETY: all four slots are initialised; we publish three.
    unsafe { chunk.commit(3) };
    assert_eq!(c.len(), 3);
    let chunk = c.read_chunk(10);
    assert_eq!(chunk.len(), 3);
    assert_eq!(chunk.as_slices(), (&[10, 11][..], &[12][..]));
    chunk.commit(1);
    let mut chunk = c.read_chunk(10);
    chunk.as_mut_slices().0[0] = 42;
    assert_eq!(chunk.into_iter().collect::<Vec<_>>(), [42, 12]);
    assert!(c.is_empty());
    assert!(p.write_chunk(0).is_empty());
    assert_eq!(p.write_chunk(100).len(), 5);
}

#[test]
fn read_chunk_iterator_commits_only_what_it_yielded() {
    let counter = DropCounter::new();
    let (mut p, mut c) = spsc::bounded(4);
    for i in 0..4 {
        p.push(counter.track(i)).unwrap();
    }
    let mut it = c.read_chunk(3).into_iter();
    assert_eq!(it.len(), 3);
    assert_eq!(it.next().unwrap().value, 0);
    drop(it);
    assert_eq!(counter.dropped(), 1);
    assert_eq!(c.len(), 3);
    assert_eq!(c.pop().unwrap().value, 1);
    drop((p, c));
    assert_eq!(counter.alive(), 0);
}

#[test]
fn panicking_fold_over_a_wrapped_read_chunk_commits_what_it_took() {
    let counter = DropCounter::new();
    let (mut p, mut c) = spsc::bounded(4);
    // Move the positions to slot 2 so that a chunk of 4 wraps after 2 items.
    for i in 0..2 {
        p.push(counter.track(i)).unwrap();
        drop(c.pop().unwrap());
    }
    for i in 10..14 {
        p.push(counter.track(i)).unwrap();
    }
    let mut seen = Vec::new();
    let result = catch_unwind(AssertUnwindSafe(|| {
        c.read_chunk(4).into_iter().for_each(|item| {
            seen.push(item.value);
            assert!(item.value < 12, "stop after the wrap");
        })
    }));
    assert!(result.is_err());
    // 10 and 11 before the wrap, 12 (after it) taken and dropped by the panic.
    assert_eq!(seen, [10, 11, 12]);
    assert_eq!(counter.dropped(), 5);
    assert_eq!(c.len(), 1);
    assert_eq!(c.pop().unwrap().value, 13);
    let sum = {
        p.write_chunk(4).fill_from_iter((20..24).map(|i| counter.track(i)));
        c.read_chunk(4).into_iter().fold(0, |sum, item| sum + item.value)
    };
    assert_eq!(sum, 20 + 21 + 22 + 23);
    drop((p, c));
    assert_eq!(counter.alive(), 0);
}

#[test]
fn slices_and_iterators_move_everything_in_order() {
    let (mut p, mut c) = spsc::bounded::<u64>(7);
    let mut sent = 0u64;
    let mut received = 0u64;
    let mut out = [0u64; 5];
    for round in 0..200 {
        let batch: Vec<u64> = (sent..sent + (round % 9)).collect();
        let n = p.push_slice(&batch);
        sent += n as u64;
        if round % 2 == 0 {
            let n = c.pop_slice(&mut out);
            for v in &out[..n] {
                assert_eq!(*v, received);
                received += 1;
            }
        } else {
            for v in c.pop_iter().take(4) {
                assert_eq!(v, received);
                received += 1;
            }
        }
    }
    received += c.pop_iter().count() as u64;
    assert_eq!(sent, received);
}

#[test]
fn static_queue_needs_no_allocation_and_keeps_items_across_splits() {
    static mut QUEUE: Queue<u32, 4> = Queue::new();
    // SAFETY: this test is the only user of the static.
    let queue = unsafe { &mut *std::ptr::addr_of_mut!(QUEUE) };
    assert_eq!(queue.capacity(), 4);
    {
        let (mut p, mut c) = queue.split();
        for i in 0..4 {
            p.push(i).unwrap();
        }
        assert_eq!(p.push(9), Err(PushError::Full(9)));
        assert_eq!(c.pop(), Ok(0));
        drop(p);
        assert_eq!(c.pop(), Ok(1));
    }
    let (mut p, mut c) = queue.split();
    assert!(!c.is_abandoned(), "a new split starts with both ends present");
    assert_eq!(c.len(), 2);
    p.push(4).unwrap();
    assert_eq!(c.pop_iter().collect::<Vec<_>>(), [2, 3, 4]);
}

#[test]
fn borrowed_queue_drops_leftovers_with_the_queue() {
    let counter = DropCounter::new();
    let mut queue: Queue<_, 3> = Queue::default();
    let (mut p, mut c) = queue.split();
    for i in 0..3 {
        p.push(counter.track(i)).unwrap();
    }
    drop(c.pop());
    drop((p, c));
    assert_eq!(counter.alive(), 2, "left in the queue");
    drop(queue);
    assert_eq!(counter.alive(), 0);
}

#[test]
fn borrowed_queue_across_threads() {
    let mut queue: Queue<u64, 8> = Queue::new();
    let n = scaled(100_000) as u64;
    let (mut p, mut c) = queue.split();
    thread::scope(|s| {
        s.spawn(move || {
            let mut spins = 0;
            for i in 0..n {
                while p.push(i).is_err() {
                    wait(&mut spins);
                }
                spins = 0;
            }
        });
        let mut expected = 0;
        let mut spins = 0;
        loop {
            match c.pop() {
                Ok(v) => {
                    assert_eq!(v, expected);
                    expected += 1;
                    spins = 0;
                }
                Err(PopError::Abandoned) => break,
                Err(PopError::Empty) => wait(&mut spins),
            }
        }
        assert_eq!(expected, n);
    });
}

#[test]
fn debug_output_names_the_handles() {
    let (mut p, mut c) = spsc::bounded::<u8>(2);
    assert_eq!(format!("{p:?}"), "Producer { capacity: 2, .. }");
    assert_eq!(format!("{c:?}"), "Consumer { capacity: 2, .. }");
    assert!(format!("{:?}", p.write_chunk(1)).starts_with("WriteChunk"));
    assert!(format!("{:?}", c.read_chunk(1)).starts_with("ReadChunk"));
    assert!(format!("{:?}", Queue::<u8, 2>::new()).starts_with("Queue"));
}

#[test]
fn handles_are_send() {
    fn send<T: Send>(_: &T) {}
    let (p, c) = spsc::bounded::<String>(1);
    send(&p);
    send(&c);
}

/// Moves `scaled(10_000_000)` items from one thread to another, each item
/// carrying its sequence number and a checksum word: every item arrives, once,
/// in order, intact. A Relaxed tail store or load shows up here on weakly
/// ordered hardware as a stale payload.
#[test]
fn two_thread_stress_conserves_and_orders_items() {
    let n = scaled(10_000_000) as u64;
    for (capacity, n) in [(1024usize, n), (3, n / 10), (1, n / 100)] {
        let (mut p, mut c) = spsc::bounded::<(u64, u64)>(capacity);
        let (sum_in, sum_out) = thread::scope(|s| {
            let producer = s.spawn(move || {
                let mut sum = 0u64;
                let mut spins = 0;
                for i in 0..n {
                    let item = (i, i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                    sum = sum.wrapping_add(item.1);
                    let mut item = item;
                    loop {
                        match p.push(item) {
                            Ok(()) => {
                                spins = 0;
                                break;
                            }
                            Err(e) => {
                                item = e.into_inner();
                                wait(&mut spins);
                            }
                        }
                    }
                }
                sum
            });
            let mut expected = 0u64;
            let mut sum = 0u64;
            let mut spins = 0;
            loop {
                match c.pop() {
                    Ok((seq, check)) => {
                        assert_eq!(seq, expected, "out of order or lost");
                        assert_eq!(check, seq.wrapping_mul(0x9E37_79B9_7F4A_7C15), "torn item");
                        sum = sum.wrapping_add(check);
                        expected += 1;
                        spins = 0;
                    }
                    Err(PopError::Abandoned) => break,
                    Err(PopError::Empty) => wait(&mut spins),
                }
            }
            assert_eq!(expected, n);
            (producer.join().unwrap(), sum)
        });
        assert_eq!(sum_in, sum_out);
    }
}

/// The batch API under two threads: chunks of varying size, heap-owned items.
#[test]
fn two_thread_stress_with_chunks_and_drop_counting() {
    let n = scaled(1_000_000);
    let counter = DropCounter::new();
    let (mut p, mut c) = spsc::bounded(64);
    thread::scope(|s| {
        let counter = &counter;
        s.spawn(move || {
            let mut source = (0..n).map(|i| counter.track(i));
            let mut size = 1;
            loop {
                let mut batch = source.by_ref().take(size).peekable();
                if batch.peek().is_none() {
                    break;
                }
                while batch.peek().is_some() {
                    if p.push_from_iter(&mut batch) == 0 {
                        thread::yield_now();
                    }
                }
                size = size % 37 + 1;
            }
        });
        let mut expected = 0;
        let mut take = 1;
        loop {
            let chunk = c.read_chunk(take);
            if chunk.is_empty() {
                if c.is_abandoned() && c.is_empty() {
                    break;
                }
                thread::yield_now();
                continue;
            }
            if take % 2 == 0 {
                for item in chunk {
                    assert_eq!(item.value, expected);
                    expected += 1;
                }
            } else {
                let k = chunk.len();
                let (a, b) = chunk.as_slices();
                for item in a.iter().chain(b) {
                    assert_eq!(item.value, expected);
                    expected += 1;
                }
                chunk.commit(k);
            }
            take = take % 41 + 1;
        }
        assert_eq!(expected, n);
    });
    assert_eq!(counter.created(), n);
    assert_eq!(counter.alive(), 0);
}

#[test]
fn blocking_calls_time_out_and_hand_the_item_back() {
    use std::time::Duration;
    let (mut p, mut c) = spsc::bounded_blocking(1);
    assert_eq!(c.pop_blocking_timeout(Duration::from_millis(1)), Err(PopError::Empty));
    assert_eq!(
        c.read_chunk_blocking_timeout(1, Duration::from_millis(1)).err(),
        Some(PopError::Empty)
    );
    assert!(c.read_chunk_blocking(0).unwrap().is_empty()); // nothing wanted: no wait
    p.push_blocking_timeout(1, Duration::from_millis(1)).unwrap();
    assert_eq!(p.push_blocking_timeout(2, Duration::from_millis(1)), Err(PushError::Full(2)));
    assert_eq!(
        p.write_chunk_blocking_timeout(1, Duration::from_millis(1)).err(),
        Some(PushError::Full(()))
    );
    assert!(p.write_chunk_blocking(0).unwrap().is_empty());
    assert_eq!(c.read_chunk_blocking_timeout(4, Duration::MAX).unwrap().len(), 1);
    assert_eq!(c.pop_blocking_timeout(Duration::MAX), Ok(1));
    drop(c);
    // The queue has room, but nobody will read: the blocking calls say so.
    assert_eq!(p.push_blocking(3), Err(PushError::Abandoned(3)));
    assert_eq!(p.push_blocking_timeout(3, Duration::MAX), Err(PushError::Abandoned(3)));
    assert_eq!(p.write_chunk_blocking(1).err(), Some(PushError::Abandoned(())));
    p.push(3).unwrap(); // the non-blocking push succeeds while there is room
    assert_eq!(p.push_blocking(4), Err(PushError::Abandoned(4)));
    let (mut p, mut c) = spsc::bounded_blocking::<u8>(2);
    p.push(7).unwrap();
    drop(p);
    assert_eq!(c.read_chunk_blocking(2).unwrap().into_iter().collect::<Vec<_>>(), [7]);
    assert_eq!(c.pop_blocking(), Err(PopError::Abandoned));
    assert_eq!(c.read_chunk_blocking(1).err(), Some(PopError::Abandoned));
}

#[test]
fn blocking_two_thread_stress_loses_no_wakeup() {
    let n = scaled(200_000) as u64;
    let (mut p, mut c) = spsc::bounded_blocking::<u64>(2);
    thread::scope(|s| {
        s.spawn(move || {
            for i in 0..n {
                p.push_blocking(i).unwrap();
            }
        });
        let mut expected = 0;
        while let Ok(v) = c.pop_blocking() {
            assert_eq!(v, expected);
            expected += 1;
        }
        assert_eq!(expected, n);
    });
}

/// [FENCE-I1]: the sleep hand-shake (the process-wide barrier against the
/// waker's compiler fence where the kernel offers it, the symmetric fences
/// elsewhere), raced thousands of times. Two threads pass a token back and
/// forth through two blocking queues of capacity 1, and each answers after
/// a varying busy while (0–255 µs, around the ~100 µs a wait polls before
/// it parks). A lost wake-up shows as a wait that runs out its minute with
/// the token queued, instead of as a hang.
#[test]
#[cfg_attr(miri, ignore = "the barrier path is native; Miri runs the symmetric pair elsewhere")]
fn parks_that_race_wakes_lose_none() {
    use common::jitter;
    use std::time::Duration;
    let rounds = scaled(4_000) as u64;
    let minute = Duration::from_secs(60);
    let (mut ping, mut ping_rx) = spsc::bounded_blocking::<u64>(1);
    let (mut pong, mut pong_rx) = spsc::bounded_blocking::<u64>(1);
    thread::scope(|s| {
        s.spawn(move || {
            for i in 0..rounds {
                assert_eq!(ping_rx.pop_blocking_timeout(minute), Ok(i), "wake-up lost (ping {i})");
                jitter(i);
                pong.push_blocking(i).unwrap();
            }
        });
        for i in 0..rounds {
            jitter(i ^ 0x5555);
            ping.push_blocking(i).unwrap();
            assert_eq!(pong_rx.pop_blocking_timeout(minute), Ok(i), "wake-up lost (pong {i})");
        }
    });
}

/// [SPSC-S9]: in `Blocking` mode every call that publishes or frees wakes a
/// parked peer, non-blocking ones included. Each side parks in its blocking
/// calls while the other uses only non-blocking ones (single items, slices,
/// chunks, iterators), then the roles swap; nothing calls a wake method.
/// Before the fix a parked `pop_blocking` slept on with items queued after a
/// `push_slice` (loom: `non_blocking_commits_wake_a_parked_consumer`).
#[test]
fn non_blocking_calls_wake_a_parked_peer() {
    let n = scaled(20_000) as u64;
    let (mut p, mut c) = spsc::bounded_blocking::<u64>(4);
    thread::scope(|s| {
        s.spawn(move || {
            // Phase 1: the producer never blocks; the consumer parks.
            let mut spins = 0;
            let mut i = 0;
            while i < n {
                let pushed = match i % 3 {
                    0 => p.push(i).is_ok() as u64,
                    1 => p.push_slice(&[i, i + 1][..(n - i).min(2) as usize]) as u64,
                    _ => p.write_chunk(2).fill_from_iter(i..n.min(i + 2)) as u64,
                };
                i += pushed;
                if pushed == 0 {
                    wait(&mut spins);
                }
            }
            // Phase 2: the producer parks; the consumer never blocks.
            for i in n..2 * n {
                if i % 2 == 0 {
                    p.push_blocking(i).unwrap();
                } else {
                    p.write_chunk_blocking(1).unwrap().fill_from_iter([i]);
                }
            }
        });
        for i in 0..n {
            let got = if i % 2 == 0 {
                c.pop_blocking()
            } else {
                c.read_chunk_blocking(1).map(|chunk| chunk.into_iter().next().unwrap())
            };
            assert_eq!(got, Ok(i));
        }
        let mut spins = 0;
        let mut i = n;
        while i < 2 * n {
            let got: Vec<u64> = match i % 3 {
                0 => c.pop().into_iter().collect(),
                1 => {
                    let mut out = [0; 2];
                    let k = c.pop_slice(&mut out);
                    out[..k].to_vec()
                }
                _ => c.pop_iter().collect(),
            };
            if got.is_empty() {
                wait(&mut spins);
            }
            for v in got {
                assert_eq!(v, i);
                i += 1;
            }
        }
    });
}

#[test]
fn push_and_pop_from_two_threads_are_linearizable() {
    // Short histories of `push` (one thread) and `pop` (another) on a queue of
    // capacity 2, so that full and empty are both met, each checked against the
    // bounded FIFO spec with the SPSC roles (tests/common/lin).
    use common::lin::{self, queue::*, spsc::*};
    use std::sync::Mutex;
    let ops = if cfg!(miri) { 4 } else { 50 };
    for round in 0..scaled(40) {
        let (p, c) = spsc::bounded::<usize>(2);
        let (p, c) = (Mutex::new(Some(p)), Mutex::new(Some(c)));
        // Each thread puts its handle back when done: neither side is gone
        // before both have finished (abandonment is not in the spec).
        let history = lin::stress(2, |t, rec| {
            if t == 0 {
                let mut producer = p.lock().unwrap().take().unwrap();
                for i in 0..ops {
                    rec.call(QueueOp::Push(round * 1000 + i), |op| {
                        let QueueOp::Push(x) = *op else { unreachable!() };
                        match producer.push(x) {
                            Ok(()) => QueueRet::Pushed,
                            Err(PushError::Full(_)) => QueueRet::Full,
                            Err(PushError::Abandoned(_)) => unreachable!("the consumer lives"),
                        }
                    });
                }
                *p.lock().unwrap() = Some(producer);
            } else {
                let mut consumer = c.lock().unwrap().take().unwrap();
                for _ in 0..ops {
                    rec.call(QueueOp::Pop, |_| match consumer.pop() {
                        Ok(x) => QueueRet::Popped(Some(x)),
                        Err(PopError::Empty) => QueueRet::Popped(None),
                        Err(PopError::Abandoned) => unreachable!("the producer lives"),
                    });
                }
                *c.lock().unwrap() = Some(consumer);
            }
        });
        assert_spsc_roles(&history);
        lin::assert_linearizable(SpscSpec::bounded(2), &history);
    }
}

// ---------------------------------------------------------------------------
// What safe code can do to the queue (SAFETY.md, [SPSC-S1] .. [SPSC-S8]).
// ---------------------------------------------------------------------------

type P<S> = spsc::Producer<Item, S>;
type C<S> = spsc::Consumer<Item, S>;

/// Leaking a value as safe code can: heap handles own the ring, so they go
/// through [`leak`] (reachable from a static, so Miri reports no leak);
/// borrowed handles own no memory and are simply forgotten.
trait Forget {
    fn forget(self);
}

impl<T: Send + 'static> Forget for spsc::Producer<T, Heap> {
    fn forget(self) {
        leak(self);
    }
}

impl<T: Send + 'static> Forget for spsc::Consumer<T, Heap> {
    fn forget(self) {
        leak(self);
    }
}

impl<T> Forget for spsc::Producer<T, Borrowed<'_>> {
    fn forget(self) {
        mem::forget(self);
    }
}

impl<T> Forget for spsc::Consumer<T, Borrowed<'_>> {
    fn forget(self) {
        mem::forget(self);
    }
}

/// Pops every readable item into the book; returns the error that stopped it.
fn deliver_all<S: Storage>(c: &mut C<S>, book: &Book) -> PopError {
    loop {
        match c.pop() {
            Ok(item) => book.deliver(item),
            Err(e) => return e,
        }
    }
}

/// Pushes `n` new items, each of which must fit.
fn push_new<S: Storage>(p: &mut P<S>, book: &'static Book, n: usize) {
    for item in book.items(n) {
        p.push(item).unwrap();
    }
}

/// Moves both positions 3 slots on (items 0, 1, 2 delivered), so that the
/// chunks of the scenarios wrap around the end of the buffer (capacity 4).
fn wrap<S: Storage>(p: &mut P<S>, c: &mut C<S>, book: &'static Book) {
    push_new(p, book, 3);
    assert_eq!(deliver_all(c, book), PopError::Empty);
}

/// What a scenario expects: the ids it delivered (in order), the ids it
/// leaked whatever the storage (items of a leaked chunk), the ids still
/// queued when both handles are gone or forgotten, and what it forgot.
#[derive(Default)]
struct Outcome {
    delivered: Vec<usize>,
    leaked: Vec<usize>,
    left: Vec<usize>,
    forgot_producer: bool,
    forgot_consumer: bool,
}

/// A use of the queue that leaks something at some point of its life and
/// goes on using what is left, on either storage.
trait Scenario {
    fn name(&self) -> String;
    fn run<S: Storage>(&self, book: &'static Book, p: P<S>, c: C<S>) -> Outcome
    where
        P<S>: Forget,
        C<S>: Forget;
}

/// Runs `scenario` on a heap ring and on a borrowed `Queue` (capacity 4),
/// and checks exactly-once delivery and drop, and exactly which items leak:
///
/// - heap: the items still queued are dropped by the last handle, or leaked
///   with the ring when a handle was leaked;
/// - borrowed: the `Queue` is split again; the new consumer receives exactly
///   the items still queued, once each — or none if the old consumer was
///   leaked ([SPSC-S2]) — and the queue holds its full capacity again.
fn on_both_storages(book: &'static Book, scenario: &impl Scenario) {
    let name = scenario.name();

    book.reset();
    let (p, c) = spsc::bounded::<Item>(4);
    let out = scenario.run(book, p, c);
    let mut leaked = out.leaked.clone();
    if out.forgot_producer || out.forgot_consumer {
        leaked.extend(&out.left);
    }
    leaked.sort_unstable();
    book.assert_outcome(&out.delivered, &leaked, &format!("{name}, heap"));

    book.reset();
    let mut queue: Queue<Item, 4> = Queue::new();
    let (p, c) = queue.split();
    let out = scenario.run(book, p, c);
    let mut delivered = out.delivered.clone();
    let mut leaked = out.leaked.clone();
    if out.forgot_consumer {
        leaked.extend(&out.left);
    } else {
        delivered.extend(&out.left);
    }
    leaked.sort_unstable();
    {
        let (mut p, mut c) = queue.split();
        assert!(
            !p.is_abandoned() && !c.is_abandoned(),
            "{name}: a new split starts with both ends"
        );
        assert_eq!(deliver_all(&mut c, book), PopError::Empty);
        // The ring is whole again: exactly its capacity fits.
        push_new(&mut p, book, 4);
        let extra = book.item();
        assert!(matches!(p.push(extra), Err(PushError::Full(_))), "{name}: capacity");
    }
    drop(queue); // drops the four fresh items
    book.assert_outcome(&delivered, &leaked, &format!("{name}, borrowed"));
}

/// Ids `a..b`.
fn ids(range: std::ops::Range<usize>) -> Vec<usize> {
    range.collect()
}

/// [SPSC-S1]: a `WriteChunk` leaked after `written` of its 4 slots were
/// written (not committed); the producer goes on pushing into the same slots.
/// (`WriteChunk` and `ReadChunk` have no `Drop` today, so leaking one is
/// dropping it; the scenarios pin the outcome should one ever get a `Drop`.)
struct ForgetWriteChunk {
    written: usize,
}

#[allow(clippy::forget_non_drop)] // see `ForgetWriteChunk`
impl Scenario for ForgetWriteChunk {
    fn name(&self) -> String {
        format!("write chunk leaked after {} writes", self.written)
    }
    fn run<S: Storage>(&self, book: &'static Book, mut p: P<S>, mut c: C<S>) -> Outcome {
        wrap(&mut p, &mut c, book);
        let mut chunk = p.write_chunk(4);
        assert_eq!(chunk.len(), 4);
        let (a, b) = chunk.as_mut_slices();
        for slot in a.iter_mut().chain(b.iter_mut()).take(self.written) {
            slot.write(book.item());
        }
        mem::forget(chunk);
        let next = 3 + self.written;
        assert_eq!(c.pop().err(), Some(PopError::Empty), "nothing was published");
        push_new(&mut p, book, 4); // the chunk's slots, reused
        assert_eq!(c.pop().map(|item| item.id).ok(), Some(next));
        book.deliver(c.pop().unwrap());
        drop(p);
        assert_eq!(c.pop().map(|i| i.id).ok(), Some(next + 2));
        drop(c);
        Outcome {
            delivered: [ids(0..3), vec![next + 1]].concat(),
            leaked: ids(3..next),
            left: vec![next + 3],
            ..Outcome::default()
        }
    }
}

/// [SPSC-S1]: a `ReadChunk` leaked, after its items were reordered in place
/// or not; nothing was removed, so the consumer pops them all again.
struct ForgetReadChunk {
    touched: bool,
}

#[allow(clippy::forget_non_drop)] // see `ForgetWriteChunk`
impl Scenario for ForgetReadChunk {
    fn name(&self) -> String {
        format!("read chunk leaked (touched: {})", self.touched)
    }
    fn run<S: Storage>(&self, book: &'static Book, mut p: P<S>, mut c: C<S>) -> Outcome {
        wrap(&mut p, &mut c, book);
        push_new(&mut p, book, 3); // 3, 4, 5: slot 3, then 0, 1
        let mut chunk = c.read_chunk(3);
        assert_eq!(chunk.len(), 3);
        if self.touched {
            let (a, b) = chunk.as_mut_slices();
            mem::swap(&mut a[0], &mut b[0]); // items 3 and 4 change places
        }
        mem::forget(chunk);
        book.deliver(c.pop().unwrap());
        book.deliver(c.pop().unwrap());
        push_new(&mut p, book, 2); // 6, 7
        drop(p);
        book.deliver(c.pop().unwrap());
        book.deliver(c.pop().unwrap());
        drop(c);
        let first = if self.touched { vec![4, 3] } else { vec![3, 4] };
        Outcome {
            delivered: [ids(0..3), first, vec![5, 6]].concat(),
            left: vec![7],
            ..Outcome::default()
        }
    }
}

/// [SPSC-S1]: a chunk iterator (from `read_chunk(3).into_iter()` or
/// `pop_iter()`) leaked after yielding `taken` items. The rest of its chunk
/// is leaked; the items after it are popped once; the freed slots are reused.
struct ForgetReadIter {
    taken: usize,
    pop_iter: bool,
}

impl Scenario for ForgetReadIter {
    fn name(&self) -> String {
        format!("read iterator leaked after {} items (pop_iter: {})", self.taken, self.pop_iter)
    }
    fn run<S: Storage>(&self, book: &'static Book, mut p: P<S>, mut c: C<S>) -> Outcome {
        wrap(&mut p, &mut c, book);
        push_new(&mut p, book, 4); // 3, 4, 5, 6
        let (mut it, len) =
            if self.pop_iter { (c.pop_iter(), 4) } else { (c.read_chunk(3).into_iter(), 3) };
        for _ in 0..self.taken {
            book.deliver(it.next().unwrap());
        }
        mem::forget(it);
        let after = 3 + len; // the first item after the chunk
        let mut delivered = ids(0..3 + self.taken);
        if after < 7 {
            assert_eq!(c.len(), 1, "only the item after the chunk is readable");
            book.deliver(c.pop().unwrap());
            delivered.push(after);
        }
        // Finding the queue empty publishes the head the leaked iterator
        // moved on: the slots of its chunk are free again, even when the
        // chunk was the whole ring.
        assert_eq!(c.pop().err(), Some(PopError::Empty));
        assert_eq!(p.slots(), 4, "the leaked chunk's slots are free again");
        push_new(&mut p, book, 2); // 7, 8
        book.deliver(c.pop().unwrap());
        delivered.push(7);
        drop(p);
        drop(c);
        Outcome {
            delivered,
            leaked: ids(3 + self.taken..after),
            left: vec![8],
            ..Outcome::default()
        }
    }
}

/// [SPSC-S2]: the producer leaked at some point of its life; the consumer
/// receives everything it published, once, and never hears of abandonment.
struct ForgetProducer {
    point: usize,
}

#[allow(clippy::forget_non_drop)] // see `ForgetWriteChunk`
impl Scenario for ForgetProducer {
    fn name(&self) -> String {
        format!("producer leaked at point {}", self.point)
    }
    fn run<S: Storage>(&self, book: &'static Book, mut p: P<S>, mut c: C<S>) -> Outcome
    where
        P<S>: Forget,
    {
        wrap(&mut p, &mut c, book);
        let (delivered, leaked, left) = match self.point {
            // right after its last push
            0 => (vec![], vec![], vec![]),
            // with two items queued
            1 => {
                push_new(&mut p, book, 2);
                book.deliver(c.pop().unwrap());
                (vec![3], vec![], vec![4])
            }
            // after leaking a written write chunk, then one push
            2 => {
                let mut chunk = p.write_chunk(2);
                let (a, b) = chunk.as_mut_slices();
                for slot in a.iter_mut().chain(b) {
                    slot.write(book.item());
                }
                mem::forget(chunk);
                push_new(&mut p, book, 1);
                book.deliver(c.pop().unwrap());
                (vec![5], vec![3, 4], vec![])
            }
            // after a `fill_from_iter`
            _ => {
                assert_eq!(p.write_chunk(2).fill_from_iter(book.items(3)), 2);
                book.deliver(c.pop().unwrap());
                (vec![3], vec![], vec![4]) // item 5 did not fit: dropped with the Vec
            }
        };
        p.forget();
        assert!(!c.is_abandoned(), "a leaked producer is never gone");
        let _ = c.pop().map(|item| book.deliver(item));
        assert_eq!(c.pop().err(), Some(PopError::Empty), "empty, not abandoned");
        drop(c);
        let mut all = ids(0..3);
        all.extend(&delivered);
        all.extend(&left);
        Outcome {
            delivered: all,
            leaked,
            left: vec![],
            forgot_producer: true,
            ..Outcome::default()
        }
    }
}

/// [SPSC-S2]: the consumer leaked at some point of its life, possibly with a
/// leaked chunk iterator; the producer goes on until the queue is full (it
/// never hears of abandonment) and drops.
struct ForgetConsumer {
    point: usize,
}

impl Scenario for ForgetConsumer {
    fn name(&self) -> String {
        format!("consumer leaked at point {}", self.point)
    }
    fn run<S: Storage>(&self, book: &'static Book, mut p: P<S>, mut c: C<S>) -> Outcome
    where
        C<S>: Forget,
    {
        wrap(&mut p, &mut c, book);
        push_new(&mut p, book, 3); // 3, 4, 5
        let (delivered, leaked, left) = match self.point {
            // with three items queued
            0 => (vec![], vec![], vec![3, 4, 5]),
            // after a pop
            1 => {
                book.deliver(c.pop().unwrap());
                (vec![3], vec![], vec![4, 5])
            }
            // after a chunk iterator that yielded one item and was dropped
            2 => {
                book.deliver(c.read_chunk(2).into_iter().next().unwrap());
                (vec![3], vec![], vec![4, 5])
            }
            // with a leaked chunk iterator that yielded one item (issue 13, defect 2)
            3 => {
                let mut it = c.read_chunk(2).into_iter();
                book.deliver(it.next().unwrap());
                mem::forget(it);
                (vec![3], vec![4], vec![5])
            }
            // after a leaked chunk iterator, then a pop past it
            _ => {
                let mut it = c.pop_iter();
                book.deliver(it.next().unwrap());
                mem::forget(it);
                push_new(&mut p, book, 1); // 6: room only once the head is stored
                book.deliver(c.pop().unwrap());
                (vec![3, 6], vec![4, 5], vec![])
            }
        };
        c.forget();
        assert!(!p.is_abandoned(), "a leaked consumer is never gone");
        let mut left = left;
        loop {
            let item = book.item();
            let id = item.id;
            match p.push(item) {
                Ok(()) => left.push(id),
                Err(PushError::Full(item)) => break drop(item),
                Err(PushError::Abandoned(_)) => panic!("a leaked consumer is never gone"),
            }
        }
        drop(p);
        Outcome {
            delivered: [ids(0..3), delivered].concat(),
            leaked,
            left,
            forgot_consumer: true,
            ..Outcome::default()
        }
    }
}

#[test]
fn forget_write_chunk_at_every_point_of_its_life() {
    static BOOK: Book = Book::new();
    for written in [0, 2, 4] {
        on_both_storages(&BOOK, &ForgetWriteChunk { written });
    }
}

#[test]
fn forget_read_chunk_at_every_point_of_its_life() {
    static BOOK: Book = Book::new();
    for touched in [false, true] {
        on_both_storages(&BOOK, &ForgetReadChunk { touched });
    }
}

#[test]
fn forget_read_chunk_iterator_at_every_point_of_its_life() {
    static BOOK: Book = Book::new();
    for (taken, pop_iter) in [(0, false), (1, false), (3, false), (0, true), (2, true), (4, true)] {
        on_both_storages(&BOOK, &ForgetReadIter { taken, pop_iter });
    }
}

#[test]
fn forget_producer_at_every_point_of_its_life() {
    static BOOK: Book = Book::new();
    for point in 0..4 {
        on_both_storages(&BOOK, &ForgetProducer { point });
    }
}

#[test]
fn forget_consumer_at_every_point_of_its_life() {
    static BOOK: Book = Book::new();
    for point in 0..5 {
        on_both_storages(&BOOK, &ForgetConsumer { point });
    }
}

/// Issue 13, defect 2: a chunk iterator moves items out before the shared
/// head says so; leak it and its consumer, and the `Queue` must not drop the
/// items it moved out a second time.
#[test]
fn queue_drop_after_leaked_read_iterator_and_consumer_drops_nothing_twice() {
    static BOOK: Book = Book::new();
    let mut queue: Queue<Item, 4> = Queue::new();
    let (mut p, mut c) = queue.split();
    push_new(&mut p, &BOOK, 3);
    let mut it = c.pop_iter();
    BOOK.deliver(it.next().unwrap());
    mem::forget(it);
    mem::forget(c);
    drop(p);
    drop(queue);
    BOOK.assert_never_twice();
    assert_eq!(BOOK.leaked(), [1, 2], "the consumer's items leak with it");
}

/// Issue 13, defect 2, through `split`: the next consumer must not receive
/// an item the leaked iterator already moved out.
#[test]
fn split_after_leaked_read_iterator_and_consumer_hands_out_nothing_twice() {
    static BOOK: Book = Book::new();
    let mut queue: Queue<Item, 4> = Queue::new();
    let (mut p, mut c) = queue.split();
    push_new(&mut p, &BOOK, 3);
    let mut it = c.read_chunk(2).into_iter();
    BOOK.deliver(it.next().unwrap());
    mem::forget(it);
    mem::forget(c);
    drop(p);
    let (mut p, mut c) = queue.split();
    assert_eq!(deliver_all(&mut c, &BOOK), PopError::Empty);
    BOOK.assert_never_twice();
    push_new(&mut p, &BOOK, 4);
    assert_eq!(c.len(), 4, "the whole capacity is usable again");
    assert_eq!(deliver_all(&mut c, &BOOK), PopError::Empty);
    drop((p, c));
    drop(queue);
    BOOK.assert_outcome(&[0, 3, 4, 5, 6], &[1, 2], "after the second split");
}

/// Forgetting the `Queue` itself leaks its items and nothing else.
#[test]
fn forget_queue_leaks_its_items_only() {
    static BOOK: Book = Book::new();
    let mut queue: Queue<Item, 2> = Queue::new();
    let (mut p, c) = queue.split();
    push_new(&mut p, &BOOK, 2);
    drop((p, c));
    mem::forget(queue);
    BOOK.assert_outcome(&[], &[0, 1], "queue leaked");
}

/// [SPSC-S1]: a chunk iterator over the whole (full) ring, leaked. The
/// consumer sees the queue empty; the producer must not see it full for
/// ever: the consumer's empty path publishes the head the iterator moved on.
#[test]
fn leaked_iterator_over_the_whole_ring_frees_it_on_the_consumers_empty_path() {
    for poll in ["is_empty", "len", "pop", "peek", "read_chunk"] {
        let (mut p, mut c) = spsc::bounded::<u32>(4);
        assert_eq!(p.push_slice(&[1, 2, 3, 4]), 4);
        let mut it = c.pop_iter();
        assert_eq!(it.next(), Some(1));
        mem::forget(it);
        assert_eq!(p.slots(), 0, "nothing published yet");
        match poll {
            "is_empty" => assert!(c.is_empty()),
            "len" => assert_eq!(c.len(), 0),
            "pop" => assert_eq!(c.pop(), Err(PopError::Empty)),
            "peek" => assert_eq!(c.peek(), Err(PopError::Empty)),
            _ => assert!(c.read_chunk(4).is_empty()),
        }
        assert_eq!(p.slots(), 4, "after polling with {poll}, the ring is free again");
        assert_eq!(p.push_slice(&[5, 6]), 2);
        assert_eq!(c.pop_iter().collect::<Vec<_>>(), [5, 6]);
    }
}

/// As above with both sides blocking: the producer parks on the ring that
/// only looks full; the consumer's blocking pop finds it empty, publishes
/// its head and wakes the producer.
#[test]
fn leaked_iterator_over_the_whole_ring_does_not_deadlock_blocking_calls() {
    let (mut p, mut c) = spsc::bounded_blocking::<u32>(2);
    p.push_slice(&[1, 2]);
    let mut it = c.read_chunk(2).into_iter();
    assert_eq!(it.next(), Some(1));
    mem::forget(it);
    thread::scope(|s| {
        s.spawn(move || {
            for i in 3..3 + scaled(1000) as u32 {
                p.push_blocking(i).unwrap();
            }
        });
        let mut expected = 3;
        while let Ok(i) = c.pop_blocking() {
            assert_eq!(i, expected);
            expected += 1;
        }
        assert_eq!(expected, 3 + scaled(1000) as u32);
    });
}

/// An iterator that lies in `size_hint` and counts the calls of `next`.
struct Liar {
    yields: usize,
    hint: (usize, Option<usize>),
    calls: usize,
}

impl Iterator for Liar {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        self.calls += 1;
        (self.calls <= self.yields).then_some(self.calls as u32)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.hint
    }
}

/// [SPSC-S3]: the iterator of `fill_from_iter`/`push_from_iter` is trusted for
/// nothing: its `size_hint` is ignored, it is asked for no item more than
/// fits (so an iterator passed by `&mut` keeps the rest), and a panic in it
/// publishes what was written.
fn iterator_is_trusted_for_nothing<S: Storage>(
    mut p: spsc::Producer<u32, S>,
    mut c: spsc::Consumer<u32, S>,
) {
    // wrap, so the chunk crosses the end of the buffer (capacity 4)
    assert_eq!(p.push_slice(&[0; 3]), 3);
    assert_eq!(c.pop_slice(&mut [0; 3]), 3);
    for hint in [(0, Some(0)), (usize::MAX, None), (7, Some(3))] {
        let mut liar = Liar { yields: 2, hint, calls: 0 };
        assert_eq!(p.push_from_iter(&mut liar), 2, "{hint:?}");
        assert_eq!(liar.calls, 3, "asked once past its end");
        assert_eq!(c.pop_iter().collect::<Vec<_>>(), [1, 2]);
        let mut liar = Liar { yields: 10, hint, calls: 0 };
        assert_eq!(p.write_chunk(8).fill_from_iter(&mut liar), 4);
        assert_eq!(liar.calls, 4, "no item pulled that does not fit");
        assert_eq!(liar.next(), Some(5), "the rest stays in the iterator");
        assert_eq!(c.pop_iter().collect::<Vec<_>>(), [1, 2, 3, 4]);
    }
    // A panic on the third item: the two written before are published.
    let mut n = 0;
    let result = catch_unwind(AssertUnwindSafe(|| {
        p.push_from_iter(&mut std::iter::from_fn(|| {
            n += 1;
            assert!(n < 3, "iterator fails");
            Some(n)
        }))
    }));
    assert!(result.is_err());
    assert_eq!(c.pop_iter().collect::<Vec<_>>(), [1, 2]);
    // A panic in `into_iter` itself: nothing is written or published.
    struct Explodes;
    impl IntoIterator for Explodes {
        type Item = u32;
        type IntoIter = std::iter::Empty<u32>;
        fn into_iter(self) -> Self::IntoIter {
            panic!("into_iter fails")
        }
    }
    let result = catch_unwind(AssertUnwindSafe(|| p.write_chunk(4).fill_from_iter(Explodes)));
    assert!(result.is_err());
    assert!(c.is_empty());
    assert_eq!(p.slots(), 4);
}

#[test]
fn fill_from_iter_trusts_nothing_of_the_iterator() {
    let (p, c) = spsc::bounded(4);
    iterator_is_trusted_for_nothing::<Heap>(p, c);
    let mut queue: Queue<u32, 4> = Queue::new();
    let (p, c) = queue.split();
    iterator_is_trusted_for_nothing(p, c);
}

/// [SPSC-S3]: the iterator re-enters the queue: its `next` pops from the
/// consumer of the queue being filled. It sees only items published before
/// the fill; the fill's own items are published after it, in order.
#[test]
fn fill_from_iter_with_an_iterator_that_pops_the_same_queue() {
    let (mut p, mut c) = spsc::bounded::<u32>(4);
    p.push_slice(&[10, 20]);
    let mut seen = Vec::new();
    let source = std::iter::from_fn(|| {
        seen.push(c.pop().ok());
        Some(seen.len() as u32)
    });
    assert_eq!(p.push_from_iter(&mut source.take(3)), 2, "two free slots when the chunk was taken");
    assert_eq!(seen, [Some(10), Some(20)], "the fill's own items are not visible yet");
    assert_eq!(c.pop_iter().collect::<Vec<_>>(), [1, 2]);
}

/// An item running a hook when dropped, counted by a `DropCounter`.
struct Hook {
    hook: Option<Box<dyn FnOnce()>>,
    _counted: common::Tracked<()>,
}

impl Hook {
    fn new(counter: &DropCounter, hook: impl FnOnce() + 'static) -> Self {
        Hook { hook: Some(Box::new(hook)), _counted: counter.track(()) }
    }
    fn plain(counter: &DropCounter) -> Self {
        Hook { hook: None, _counted: counter.track(()) }
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        if let Some(hook) = self.hook.take() {
            hook();
        }
    }
}

/// [SPSC-S5]: items whose `Drop` pushes into the queue being committed from
/// (through a shared producer). The new items land in free slots only; every
/// item is dropped once.
#[test]
fn item_drop_pushing_into_the_same_queue_during_commit() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let counter = DropCounter::new();
    let (p, mut c) = spsc::bounded::<Hook>(4);
    let p = Rc::new(RefCell::new(p));
    for _ in 0..2 {
        let (producer, counter2) = (Rc::clone(&p), counter.clone());
        let item = Hook::new(&counter, move || {
            let pushed = producer.borrow_mut().push(Hook::plain(&counter2));
            assert!(pushed.is_ok(), "two slots were free");
        });
        assert!(p.borrow_mut().push(item).is_ok());
    }
    c.read_chunk(2).commit_all();
    assert_eq!(counter.dropped(), 2);
    assert_eq!(c.len(), 2, "the two items pushed by the drops");
    c.read_chunk(4).commit_all();
    assert_eq!(p.borrow_mut().slots(), 4);
    drop((p, c));
    assert_eq!((counter.created(), counter.alive()), (4, 0));
}

/// [SPSC-S5]: an item whose `Drop` drops the producer, while the consumer is
/// inside `commit`; the consumer then sees abandonment after the rest and,
/// as the last handle, drops what is left.
#[test]
fn item_drop_dropping_the_producer_during_commit() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let counter = DropCounter::new();
    let (p, mut c) = spsc::bounded::<Hook>(4);
    let p = Rc::new(RefCell::new(Some(p)));
    let producer = Rc::clone(&p);
    let item = Hook::new(&counter, move || drop(producer.borrow_mut().take()));
    let mut guard = p.borrow_mut();
    let q = guard.as_mut().unwrap();
    assert!(q.push(item).is_ok());
    for _ in 0..3 {
        assert!(q.push(Hook::plain(&counter)).is_ok());
    }
    drop(guard);
    c.read_chunk(2).commit_all();
    assert!(p.borrow().is_none() && c.is_abandoned());
    assert!(c.pop().is_ok());
    assert!(c.peek().is_ok());
    drop(c);
    assert_eq!((counter.created(), counter.alive()), (4, 0));
}

/// [SPSC-S4]: an item `Drop` that panics in `Queue::drop`: the other items
/// are still dropped, once, and the panic goes on.
#[test]
fn panicking_item_drop_in_queue_drop_drops_the_rest_once() {
    let dropped = std::cell::Cell::new(0);
    let mut queue: Queue<PanicOnDrop<'_>, 4> = Queue::new();
    {
        let (mut p, mut c) = queue.split();
        // wrap, so the items left straddle the end of the buffer
        for _ in 0..3 {
            p.push(PanicOnDrop { panics: false, dropped: &dropped }).unwrap();
            drop(c.pop().unwrap());
        }
        for i in 0..3 {
            p.push(PanicOnDrop { panics: i == 1, dropped: &dropped }).unwrap();
        }
    }
    dropped.set(0);
    let result = catch_unwind(AssertUnwindSafe(|| drop(queue)));
    assert!(result.is_err());
    assert_eq!(dropped.get(), 3);
}

/// [SPSC-S4]: an item `Drop` that panics while the consumer, as the last
/// handle, drains the ring: the rest are dropped and the ring is freed (Miri
/// checks the free).
#[test]
fn panicking_item_drop_when_the_consumer_goes_last() {
    let dropped = std::cell::Cell::new(0);
    let (mut p, c) = spsc::bounded(3);
    for i in 0..3 {
        p.push(PanicOnDrop { panics: i == 0, dropped: &dropped }).unwrap();
    }
    drop(p);
    let result = catch_unwind(AssertUnwindSafe(|| drop(c)));
    assert!(result.is_err());
    assert_eq!(dropped.get(), 3);
}

/// [SPSC-S8]: bad arguments are refused before anything changes.
#[test]
fn read_chunk_commit_of_more_than_its_length_panics_and_removes_nothing() {
    let (mut p, mut c) = spsc::bounded::<u32>(4);
    p.push_slice(&[1, 2, 3]);
    let result = catch_unwind(AssertUnwindSafe(|| c.read_chunk(2).commit(3)));
    assert!(result.is_err());
    assert_eq!(c.pop_iter().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(p.slots(), 4);
}

/// [SPSC-S8]: empty chunks, and chunks asked for more than the capacity.
#[test]
fn empty_and_oversized_chunks() {
    let (mut p, mut c) = spsc::bounded::<u32>(2);
    assert!(p.write_chunk(0).is_empty());
    // SAFETY: committing 0 slots initialises nothing.
    unsafe { p.write_chunk(0).commit(0) };
    assert!(c.read_chunk(0).is_empty());
    assert_eq!(c.read_chunk(0).into_iter().count(), 0);
    c.read_chunk(usize::MAX).commit(0);
    assert_eq!(p.write_chunk(usize::MAX).len(), 2);
    assert_eq!(p.push_slice(&[1, 2, 3]), 2);
    assert_eq!(c.read_chunk(usize::MAX).len(), 2);
    assert_eq!(c.pop_slice(&mut []), 0);
    assert_eq!(c.pop_iter().collect::<Vec<_>>(), [1, 2]);
}

/// Pushes its items from a thread-local destructor, then drops its producer.
struct PushAtExit<S: Storage> {
    producer: spsc::Producer<u64, S, Blocking>,
    n: u64,
}

impl<S: Storage> Drop for PushAtExit<S> {
    fn drop(&mut self) {
        for i in 0..self.n {
            if i % 2 == 0 {
                self.producer.push_blocking(i).unwrap();
            } else {
                while let Err(e) = self.producer.push(i) {
                    assert!(matches!(e, PushError::Full(_)));
                    thread::yield_now();
                }
            }
        }
    }
}

/// Pops until abandonment from a thread-local destructor, then drops its
/// consumer (the last handle: it frees the ring there).
struct PopAtExit<S: Storage> {
    consumer: spsc::Consumer<u64, S, Blocking>,
    sum: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<S: Storage> Drop for PopAtExit<S> {
    fn drop(&mut self) {
        let mut sum = 0;
        while let Ok(v) = self.consumer.pop_blocking() {
            sum += v;
        }
        self.sum.store(sum, std::sync::atomic::Ordering::SeqCst);
    }
}

/// [SPSC-S7]: every path of the queue (push, pop, the blocking calls and
/// their wake-ups, a handle's drop, the last handle's free) runs from a
/// thread-local destructor, on heap and borrowed storage.
#[test]
fn handles_used_and_dropped_in_thread_local_destructors() {
    use std::cell::RefCell;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    thread_local! {
        static PUSHER: RefCell<Option<PushAtExit<Heap>>> = const { RefCell::new(None) };
        static POPPER: RefCell<Option<PopAtExit<Heap>>> = const { RefCell::new(None) };
        static BORROWED: RefCell<Option<PushAtExit<Borrowed<'static>>>> = const { RefCell::new(None) };
    }
    let n = scaled(2000) as u64 + 3;
    let total = n * (n - 1) / 2;

    // The producer lives in a thread-local of a thread that ends at once.
    let (producer, mut consumer) = spsc::bounded_blocking::<u64>(2);
    let t =
        thread::spawn(move || PUSHER.with(|p| *p.borrow_mut() = Some(PushAtExit { producer, n })));
    let mut sum = 0;
    while let Ok(v) = consumer.pop_blocking() {
        sum += v;
    }
    t.join().unwrap();
    assert_eq!(sum, total);

    // The consumer lives in a thread-local and is the last handle.
    let (mut producer, consumer) = spsc::bounded_blocking::<u64>(2);
    let popped = Arc::new(AtomicU64::new(0));
    let sum = Arc::clone(&popped);
    let t =
        thread::spawn(move || POPPER.with(|c| *c.borrow_mut() = Some(PopAtExit { consumer, sum })));
    for i in 0..n {
        producer.push_blocking(i).unwrap();
    }
    drop(producer);
    t.join().unwrap();
    assert_eq!(popped.load(SeqCst), total);

    // Borrowed storage: a `'static` queue.
    static mut QUEUE: Queue<u64, 2> = Queue::new();
    // SAFETY: this test is the only user of the static.
    let queue: &'static mut Queue<u64, 2> = unsafe { &mut *std::ptr::addr_of_mut!(QUEUE) };
    let (producer, mut consumer) = queue.split_blocking();
    let t = thread::spawn(move || {
        BORROWED.with(|p| *p.borrow_mut() = Some(PushAtExit { producer, n }))
    });
    let mut sum = 0;
    while let Ok(v) = consumer.pop_blocking() {
        sum += v;
    }
    t.join().unwrap();
    assert_eq!(sum, total);
}

/// [SPSC-S6], std threads, the interleaving of issue 13's defect 1 over and
/// over: the consumer parks in `pop_blocking`, the producer's drop wakes it,
/// the consumer returns `Abandoned` and drops its handle while the producer
/// may still be inside its wake-up. Under Miri a wake-up not ordered before
/// the free ([SPSC-O10]'s Release) is a data race with the deallocation;
/// under AddressSanitizer a wake-up after the free is a use-after-free.
#[test]
fn parked_pop_woken_by_producer_drop_then_both_ends_free() {
    use std::sync::Barrier;
    for _ in 0..scaled(10_000) {
        let (p, mut c) = spsc::bounded_blocking::<u64>(1);
        let barrier = Barrier::new(2);
        let barrier = &barrier;
        thread::scope(|s| {
            s.spawn(move || {
                barrier.wait();
                drop(p);
            });
            s.spawn(move || {
                barrier.wait();
                assert_eq!(c.pop_blocking(), Err(PopError::Abandoned));
                drop(c);
            });
        });
    }
}

/// [SPSC-S6], std threads: the two handles are dropped at the same moment on
/// two threads, after a blocking call that ends in `Abandoned` or without;
/// every item is dropped exactly once. Under AddressSanitizer (`ci/san.sh`)
/// a touch of the freed ring fails the run.
#[test]
fn both_ends_dropped_on_two_threads_at_once() {
    use std::sync::Barrier;
    use std::time::Duration;
    for round in 0..scaled(4000).max(8) {
        let counter = DropCounter::new();
        let (mut p, mut c) = spsc::bounded_blocking(2);
        p.push(counter.track(0)).unwrap();
        let barrier = Barrier::new(2);
        let (counter_ref, barrier) = (&counter, &barrier);
        let variant = round % 4;
        thread::scope(|s| {
            s.spawn(move || {
                barrier.wait();
                match variant {
                    // fill up, then park until the consumer is gone
                    1 => loop {
                        if let Err(PushError::Abandoned(_)) = p.push_blocking(counter_ref.track(1))
                        {
                            break;
                        }
                    },
                    3 => drop(p.push(counter_ref.track(1))),
                    _ => {}
                }
                drop(p);
            });
            s.spawn(move || {
                barrier.wait();
                match variant {
                    // drain, then park until the producer is gone
                    0 => while c.pop_blocking().is_ok() {},
                    2 => while c.pop_blocking_timeout(Duration::from_secs(3600)).is_ok() {},
                    3 => drop(c.pop()),
                    _ => {}
                }
                drop(c);
            });
        });
        assert_eq!(counter.alive(), 0, "round {round}");
    }
}

/// [SPSC-O11]: the observers work through shared references, count what is
/// queued, and a positive count is honoured by the next pop; a consumer's
/// observer also publishes a head a leaked chunk iterator moved on.
#[test]
fn observers_take_shared_references() {
    fn counts<M: spsc::Mode>(
        p: &spsc::Producer<u32, Heap, M>,
        c: &spsc::Consumer<u32, Heap, M>,
    ) -> (usize, usize, bool, bool) {
        (p.slots(), c.len(), p.is_full(), c.is_empty())
    }
    let (mut p, mut c) = spsc::bounded::<u32>(3);
    assert_eq!(counts(&p, &c), (3, 0, false, true));
    p.push(1).unwrap();
    assert_eq!(counts(&p, &c), (2, 1, false, false));
    assert_eq!(p.push_slice(&[2, 3]), 2);
    assert_eq!(counts(&p, &c), (0, 3, true, false));
    assert!(!c.is_empty());
    assert_eq!(c.pop(), Ok(1));
    assert_eq!(counts(&p, &c), (1, 2, false, false));

    // A leaked iterator over both items: the consumer's own count sees the
    // queue empty and publishes its head, so the producer sees the slots free.
    let mut it = c.pop_iter();
    assert_eq!(it.next(), Some(2));
    mem::forget(it);
    assert_eq!(p.slots(), 1, "the leaked iterator's head is not published yet");
    assert_eq!(c.len(), 0);
    assert_eq!(p.slots(), 3);
    assert!(c.is_empty() && !p.is_full());

    // Blocking mode: the same observers.
    let (mut p, c) = spsc::bounded_blocking::<u32>(1);
    p.push(9).unwrap();
    assert_eq!(counts(&p, &c), (0, 1, true, false));
}

/// [SPSC-S10]: `fill_in_place` publishes what the closure reports, checks the
/// report, publishes nothing when the closure panics or lies, and lets the
/// closure pop through the consumer.
#[test]
fn fill_in_place_trusts_nothing_of_the_closure() {
    let (mut p, mut c) = spsc::bounded::<u32>(4);
    // Wrap the ring so the chunk comes in two slices.
    assert_eq!(p.push_slice(&[1, 2, 3]), 3);
    assert_eq!(c.pop_slice(&mut [0; 3]), 3);
    let n = p.write_chunk(4).fill_in_place(|a, b| {
        assert_eq!((a.len(), b.len()), (1, 3));
        assert!(a.iter().chain(b.iter()).all(|&v| v == 0), "slots start as T::default()");
        a[0] = 10;
        b[0] = 11;
        2
    });
    assert_eq!(n, 2);
    assert_eq!(c.pop_iter().collect::<Vec<_>>(), [10, 11]);

    // A count beyond the chunk: a panic, and nothing published.
    let lie = catch_unwind(AssertUnwindSafe(|| p.write_chunk(2).fill_in_place(|_, _| 3)));
    assert!(lie.is_err());
    assert!(c.is_empty());
    // A panicking closure: nothing published.
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        p.write_chunk(2).fill_in_place(|a, _| {
            a[0] = 7;
            panic!("render failed")
        })
    }));
    assert!(panicked.is_err());
    assert!(c.is_empty());
    // Fewer than written: only the reported prefix goes out.
    assert_eq!(
        p.write_chunk(3).fill_in_place(|a, b| {
            for (v, x) in a.iter_mut().chain(b.iter_mut()).zip(20..) {
                *v = x;
            }
            1
        }),
        1
    );
    assert_eq!(c.pop_iter().collect::<Vec<_>>(), [20]);
    // Re-entry through the consumer: it sees what was published before.
    p.push(30).unwrap();
    assert_eq!(
        p.write_chunk(1).fill_in_place(|a, _| {
            assert_eq!(c.pop(), Ok(30));
            assert_eq!(c.pop(), Err(PopError::Empty));
            a[0] = 31;
            1
        }),
        1
    );
    assert_eq!(c.pop(), Ok(31));
}

/// All-or-nothing slices: a push or pop that does not fit moves nothing;
/// over-long slices panic; the errors tell full/empty from abandoned.
#[test]
fn exact_slices_move_all_or_nothing() {
    let (mut p, mut c) = spsc::bounded::<u8>(4);
    assert_eq!(p.push_exact(b"abc"), Ok(()));
    assert_eq!(p.push_exact(b"de"), Err(PushError::Full(())));
    assert_eq!(c.len(), 3);
    let mut two = [0; 2];
    assert_eq!(c.pop_exact(&mut two), Ok(()));
    assert_eq!(&two, b"ab");
    assert_eq!(c.pop_exact(&mut two), Err(PopError::Empty));
    assert_eq!(c.len(), 1);
    assert_eq!(p.push_exact(b"de"), Ok(())); // wraps around the end of the ring
    assert_eq!(c.pop_exact(&mut [0; 3]), Ok(()));
    assert!(catch_unwind(AssertUnwindSafe(|| p.push_exact(b"12345"))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| c.pop_exact(&mut [0; 5]))).is_err());
    assert_eq!(p.push_exact(b"xy"), Ok(()));
    drop(p);
    let mut three = [0; 3];
    assert_eq!(c.pop_exact(&mut three), Err(PopError::Abandoned));
    assert_eq!(c.pop_exact(&mut two), Ok(()));
    assert_eq!(&two, b"xy");
    let (mut p, c) = spsc::bounded::<u8>(2);
    p.push(1).unwrap();
    drop(c);
    assert_eq!(p.push_exact(b"ab"), Err(PushError::Abandoned(())));
}

/// `std::io` on byte queues: non-blocking `WouldBlock`, end of stream,
/// `BrokenPipe`; the blocking forms stream more than the capacity.
#[test]
fn byte_queues_are_readers_and_writers() {
    use std::io::{ErrorKind, Read, Write};
    let (mut p, mut c) = spsc::bounded::<u8>(4);
    let mut buf = [0; 8];
    assert_eq!(c.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    assert_eq!(p.write(b"hello").unwrap(), 4);
    assert_eq!(p.write(b"o").unwrap_err().kind(), ErrorKind::WouldBlock);
    assert_eq!(p.write(b"").unwrap(), 0);
    p.flush().unwrap();
    assert_eq!(c.read(&mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"hell");
    p.write_all(b"o!").unwrap();
    drop(p);
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"o!");
    assert_eq!(c.read(&mut buf).unwrap(), 0, "end of stream");
    let (mut p, c) = spsc::bounded::<u8>(4);
    drop(c);
    assert_eq!(p.write(b"x").unwrap_err().kind(), ErrorKind::BrokenPipe);

    // Blocking: a stream of scaled() bytes through 4 slots, byte for byte.
    let n = scaled(100_000).max(64);
    let (mut p, mut c) = spsc::bounded_blocking::<u8>(4);
    let reader = thread::spawn(move || {
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        got
    });
    let data: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
    p.write_all(&data).unwrap();
    drop(p);
    assert_eq!(reader.join().unwrap(), data);
    let (mut p, c) = spsc::bounded_blocking::<u8>(1);
    p.write_all(b"a").unwrap();
    drop(c);
    assert_eq!(p.write(b"b").unwrap_err().kind(), ErrorKind::BrokenPipe);
}

/// [SPSC-S11]: a static queue is split once, whichever thread asks first;
/// the handles work across threads and every item arrives once, in order.
#[test]
fn a_static_queue_splits_once() {
    static QUEUE: Queue<u64, 8> = Queue::new();
    let winners: Vec<_> = thread::scope(|s| {
        let tries: Vec<_> = (0..4).map(|_| s.spawn(|| QUEUE.split_static())).collect();
        tries.into_iter().filter_map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(winners.len(), 1, "exactly one split");
    assert!(QUEUE.split_static().is_none());
    assert!(QUEUE.split_static_blocking().is_none());
    let (mut p, mut c) = winners.into_iter().next().unwrap();
    let n = scaled(10_000) as u64;
    let producer = thread::spawn(move || {
        for i in 0..n {
            while p.push(i).is_err() {
                std::hint::spin_loop();
            }
        }
    });
    let mut next = 0;
    while next < n {
        if let Ok(i) = c.pop() {
            assert_eq!(i, next);
            next += 1;
        }
    }
    producer.join().unwrap();
    assert_eq!(c.pop(), Err(PopError::Abandoned));
}

/// [SPSC-S11]: a queue split with `&mut` first, then leaked and split for
/// good: the items the first pair left are still there; a leaked consumer's
/// items are leaked, never handed out again.
#[test]
fn split_static_after_split_keeps_or_leaks_like_split() {
    // The leaked queues stay reachable from here, for Miri's leak check.
    static KEEP: std::sync::Mutex<Vec<&'static Queue<u32, 4>>> = std::sync::Mutex::new(Vec::new());
    let queue: &'static mut Queue<u32, 4> = Box::leak(Box::new(Queue::new()));
    {
        let (mut p, mut c) = queue.split();
        p.push_slice(&[1, 2, 3]);
        assert_eq!(c.pop(), Ok(1));
    }
    let queue: &'static Queue<u32, 4> = queue;
    KEEP.lock().unwrap().push(queue);
    let (_p, mut c) = queue.split_static().unwrap();
    assert_eq!(c.pop_iter().collect::<Vec<_>>(), [2, 3]);

    let queue: &'static mut Queue<u32, 4> = Box::leak(Box::new(Queue::new()));
    {
        let (mut p, mut c) = queue.split();
        p.push_slice(&[1, 2, 3]);
        let mut it = c.pop_iter();
        assert_eq!(it.next(), Some(1));
        mem::forget(it);
        mem::forget(c);
    }
    let queue: &'static Queue<u32, 4> = queue;
    KEEP.lock().unwrap().push(queue);
    let (mut p, mut c) = queue.split_static().unwrap();
    assert_eq!(c.pop(), Err(PopError::Empty), "the leaked consumer's items are not handed out");
    assert_eq!(p.push_slice(&[4, 5, 6, 7]), 4);
    assert_eq!(c.pop_iter().collect::<Vec<_>>(), [4, 5, 6, 7]);
}
