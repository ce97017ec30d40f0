//! Behaviour and std-thread stress tests of the SPSC queue (`acqrel::spsc`).
//!
//! Not built under `--cfg loom` (the slice views of chunks do not exist there;
//! the loom models are in `loom_spsc.rs`).
#![cfg(not(loom))]
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;
#[path = "common/exactly_once.rs"]
mod exactly_once;

use acqrel::spsc::{self, PopError, PushError, Queue, Storage};
use common::{DropCounter, scaled};
use exactly_once::{Book, Item};
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
    let (mut p, mut c) = spsc::bounded(1);
    assert_eq!(c.pop_blocking_timeout(Duration::from_millis(1)), Err(PopError::Empty));
    p.push_blocking_timeout(1, Duration::from_millis(1)).unwrap();
    assert_eq!(p.push_blocking_timeout(2, Duration::from_millis(1)), Err(PushError::Full(2)));
    assert_eq!(c.pop_blocking_timeout(Duration::MAX), Ok(1));
    drop(c);
    p.push(3).unwrap();
    assert_eq!(p.push_blocking(4), Err(PushError::Abandoned(4)));
    let (p, mut c) = spsc::bounded::<u8>(1);
    drop(p);
    assert_eq!(c.pop_blocking(), Err(PopError::Abandoned));
}

#[test]
fn blocking_two_thread_stress_loses_no_wakeup() {
    let n = scaled(200_000) as u64;
    let (mut p, mut c) = spsc::bounded::<u64>(2);
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

#[test]
fn plain_push_then_wake_consumer_wakes_a_parked_pop() {
    let n = scaled(20_000) as u64;
    let (mut p, mut c) = spsc::bounded::<u64>(4);
    thread::scope(|s| {
        s.spawn(move || {
            let mut spins = 0;
            for i in 0..n {
                while p.push(i).is_err() {
                    p.wake_consumer();
                    wait(&mut spins);
                }
                p.wake_consumer();
            }
        });
        for i in 0..n {
            assert_eq!(c.pop_blocking(), Ok(i));
            c.wake_producer();
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

type P<S> = spsc::Producer<Item, S>;
type C<S> = spsc::Consumer<Item, S>;
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

/// A chunk iterator over the whole (full) ring, leaked. The
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
    let (mut p, mut c) = spsc::bounded::<u32>(2);
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
