//! Behaviour and std-thread stress tests of `MsQueue`, with a counting
//! allocator that watches live node allocations over a long run.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;
#[path = "common/thread_exit.rs"]
mod thread_exit;

use acqrel::MsQueue;
use common::epoch_memory::{Odd, memory_stays_flat};
use common::{DropCounter, Tracked, scaled};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::thread;
use thread_exit::{BOTH, at_thread_exit};

/// Fails to compile if `$type` implements any of the traits: naming
/// `check` is ambiguous exactly when a second impl of `NotImpl` applies.
macro_rules! assert_not_impl_any {
    ($type:ty: $($trait:path),+) => {$({
        trait NotImpl<A> {
            fn check() {}
        }
        impl<T: ?Sized> NotImpl<()> for T {}
        impl<T: ?Sized + $trait> NotImpl<u8> for T {}
        <$type as NotImpl<_>>::check();
    })+};
}

crate::count_live_nodes!();

#[test]
fn fifo_order_and_emptiness() {
    let queue = MsQueue::new();
    assert!(queue.is_empty());
    assert_eq!(queue.pop(), None);
    for i in 0..10 {
        queue.push(i);
        assert!(!queue.is_empty());
    }
    for i in 0..10 {
        assert_eq!(queue.pop(), Some(i));
    }
    assert!(queue.is_empty());
    assert_eq!(queue.pop(), None);
    assert_eq!(format!("{queue:?}"), "MsQueue { len: 0, .. }");
    let default: MsQueue<u8> = MsQueue::default();
    assert!(default.is_empty());
}

/// On one thread `len` is the exact length after every operation, also as
/// the sentinel moves on, and agrees with `is_empty`.
#[test]
fn len_is_exact_on_one_thread() {
    let mut queue = MsQueue::new();
    let mut model = std::collections::VecDeque::new();
    let check = |queue: &MsQueue<u32>, model: &std::collections::VecDeque<u32>| {
        assert_eq!(queue.len(), model.len());
        assert_eq!(queue.is_empty(), model.is_empty());
    };
    check(&queue, &model);
    for lap in 0..3 {
        for i in 0..5 {
            queue.push(lap * 10 + i);
            model.push_back(lap * 10 + i);
            check(&queue, &model);
        }
        queue.extend([100, 101]);
        model.extend([100, 101]);
        check(&queue, &model);
        let guard = acqrel::epoch::pin();
        queue.push_with(200, &guard);
        model.push_back(200);
        check(&queue, &model);
        while model.len() > 1 {
            assert_eq!(queue.pop_with(&guard), model.pop_front());
            check(&queue, &model);
        }
    }
    assert_eq!(queue.pop(), model.pop_front());
    check(&queue, &model);
}

/// With pushers only, every `len` another thread reads is at least the one
/// before it and at most the number pushed; the walk ends although the
/// queue keeps growing while it walks.
#[test]
fn len_with_concurrent_pushers_only_grows() {
    let per_thread = scaled(20_000);
    let queue = MsQueue::new();
    thread::scope(|s| {
        for t in 0..2 {
            let queue = &queue;
            s.spawn(move || {
                for i in 0..per_thread {
                    queue.push(t * per_thread + i);
                }
            });
        }
        let mut last = 0;
        while last < 2 * per_thread {
            let now = queue.len();
            assert!(last <= now && now <= 2 * per_thread, "{last} then {now}");
            last = now;
        }
    });
    assert_eq!(queue.len(), 2 * per_thread);
}

/// `len` walks nodes that a concurrent consumer pops and retires: it never
/// counts more than were pushed, and it reads no freed node (Miri).
#[test]
fn len_while_a_producer_and_a_consumer_run() {
    let n = scaled(20_000);
    let queue = MsQueue::new();
    let popped = AtomicUsize::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..n {
                queue.push(i);
            }
        });
        s.spawn(|| {
            let mut next = 0;
            while next < n {
                if let Some(v) = queue.pop() {
                    assert_eq!(v, next);
                    next += 1;
                    popped.store(next, Relaxed);
                }
            }
        });
        while popped.load(Relaxed) < n {
            assert!(queue.len() <= n);
        }
    });
    assert_eq!(queue.len(), 0);
}

/// `Debug` shows the length and no values, so `T` need not be `Debug`.
#[test]
fn debug_shows_the_length_not_the_values() {
    struct Opaque;
    let queue: MsQueue<_> = [Opaque, Opaque, Opaque].into_iter().collect();
    assert_eq!(format!("{queue:?}"), "MsQueue { len: 3, .. }");
    assert_eq!(format!("{:?}", queue.into_iter()), "IntoIter { .. }");
}

#[test]
fn from_iter_and_extend_keep_the_order() {
    let mut queue: MsQueue<i32> = (1..=3).collect();
    queue.extend([4, 5]);
    queue.extend(std::iter::empty());
    queue.push(6);
    let mut got = Vec::new();
    while let Some(v) = queue.pop() {
        got.push(v);
    }
    assert_eq!(got, [1, 2, 3, 4, 5, 6]);
    assert!(MsQueue::<i32>::from_iter(std::iter::empty()).is_empty());
}

/// An iterator that yields `values` tracked values, then panics.
fn yields_then_panics(drops: &DropCounter, values: i32) -> impl Iterator<Item = Tracked<i32>> {
    (0..).map(move |i| if i < values { drops.track(i) } else { panic!("the iterator panics") })
}

/// A panic in the iterator of `extend` leaves the values it yielded before
/// pushed, in order; in `from_iter` they go with the half-made queue. Each
/// value is dropped once either way.
#[test]
fn extend_and_from_iter_with_a_panicking_iterator() {
    let drops = DropCounter::new();
    let mut queue = MsQueue::new();
    queue.push(drops.track(-1));
    assert!(
        catch_unwind(AssertUnwindSafe(|| queue.extend(yields_then_panics(&drops, 3)))).is_err()
    );
    assert_eq!(queue.len(), 4);
    let got: Vec<i32> = queue.into_iter().map(|t| t.value).collect();
    assert_eq!(got, [-1, 0, 1, 2]);
    let made =
        catch_unwind(AssertUnwindSafe(|| yields_then_panics(&drops, 5).collect::<MsQueue<_>>()));
    assert!(made.is_err());
    assert_eq!((drops.created(), drops.dropped()), (9, 9));
}

#[test]
fn into_iter_yields_front_first() {
    let queue: MsQueue<i32> = (1..=5).collect();
    assert_eq!(queue.pop(), Some(1));
    queue.push(6);
    assert_eq!(queue.into_iter().collect::<Vec<_>>(), [2, 3, 4, 5, 6]);
    let mut empty = MsQueue::<i32>::new().into_iter();
    assert_eq!(empty.next(), None);
    assert_eq!(empty.next(), None);
    let mut order = Vec::new();
    for v in (0..4).collect::<MsQueue<_>>() {
        order.push(v);
    }
    assert_eq!(order, [0, 1, 2, 3]);
}

/// Every value of an owning iterator is dropped once: those it returned by
/// the caller, the rest when the iterator is dropped part-way (or unused).
#[test]
fn into_iter_partially_consumed_drops_the_rest_once() {
    for taken in [0, 1, 4, 10] {
        let counter = DropCounter::new();
        let queue: MsQueue<_> = (0..10).map(|i| counter.track(i)).collect();
        let mut values = queue.into_iter();
        for expected in 0..taken {
            assert_eq!(values.next().unwrap().value, expected as i32);
        }
        assert_eq!(counter.dropped(), taken, "taken {taken}");
        drop(values);
        assert_eq!((counter.created(), counter.dropped()), (10, 10), "taken {taken}");
    }
}

/// One value's `Drop` panics while a dropped owning iterator drops the
/// values it did not return: every other value is still dropped once.
#[test]
fn into_iter_with_a_panicking_drop_drops_every_other_value_once() {
    for taken in [0, 2] {
        let drops = DropCounter::new();
        let queue: MsQueue<_> =
            (0..8).map(|i| Bomb { armed: i == 5, _tracked: drops.track(i) }).collect();
        let mut values = queue.into_iter();
        for _ in 0..taken {
            drop(values.next().unwrap());
        }
        assert!(catch_unwind(AssertUnwindSafe(|| drop(values))).is_err());
        assert_eq!((drops.created(), drops.dropped()), (8, 8), "taken {taken}");
    }
}

/// An owning iterator moves to another thread and finishes there.
#[test]
fn into_iter_finishes_on_another_thread() {
    let counter = DropCounter::new();
    let queue: MsQueue<_> = (0..6).map(|i| counter.track(i)).collect();
    let mut values = queue.into_iter();
    assert_eq!(values.next().unwrap().value, 0);
    let rest = thread::spawn(move || values.map(|t| t.value).collect::<Vec<_>>()).join().unwrap();
    assert_eq!(rest, [1, 2, 3, 4, 5]);
    assert_eq!(counter.alive(), 0);
}

/// A leaked owning iterator leaks its queue with the values it still holds,
/// and nothing else. It is held in `ManuallyDrop` and released at the end,
/// so the test itself leaks nothing.
#[test]
fn forgotten_into_iter_leaks_its_values_and_nothing_else() {
    let drops = DropCounter::new();
    let queue: MsQueue<_> = (0..10).map(|i| drops.track(i)).collect();
    let mut values = queue.into_iter();
    assert_eq!(values.next().unwrap().value, 0);
    let leaked = std::mem::ManuallyDrop::new(values);
    let other: MsQueue<_> = (0..3).map(|i| drops.track(i)).collect();
    assert_eq!(other.len(), 3);
    drop(other);
    assert_eq!(drops.alive(), 9, "exactly the leaked values are alive");
    drop(std::mem::ManuallyDrop::into_inner(leaked));
    assert_eq!(drops.alive(), 0);
}

#[test]
fn reuse_over_many_laps() {
    // The sentinel moves on with every pop; empty and refill many times.
    let queue = MsQueue::new();
    for lap in 0..scaled(10_000) {
        queue.push(lap);
        queue.push(lap + 1);
        assert_eq!(queue.pop(), Some(lap));
        assert_eq!(queue.pop(), Some(lap + 1));
        assert_eq!(queue.pop(), None);
    }
}

#[test]
fn guard_variants_share_one_pin() {
    let queue = MsQueue::new();
    let guard = crossbeam_epoch::pin();
    for i in 0..100 {
        queue.push_with(i, &guard);
    }
    for i in 0..50 {
        assert_eq!(queue.pop_with(&guard), Some(i));
    }
    drop(guard);
    assert_eq!(queue.pop(), Some(50));
}

#[test]
#[should_panic(expected = "default collector")]
fn guard_of_another_collector_is_refused() {
    let collector = crossbeam_epoch::Collector::new();
    let handle = collector.register();
    let guard = handle.pin();
    MsQueue::new().push_with(1, &guard);
}

#[test]
#[should_panic(expected = "default collector")]
fn unprotected_guard_is_refused() {
    let queue: MsQueue<i32> = MsQueue::new();
    // SAFETY: the guard is refused before it is used.
    let guard = unsafe { crossbeam_epoch::unprotected() };
    queue.pop_with(guard);
}

/// A refused guard (another collector's, or `unprotected()`) panics before
/// the queue is touched, with a message that names the queue (it used to
/// speak of a stack), in `push_with` and `pop_with` alike; the value given
/// to `push_with` is dropped once and the queue is unchanged.
#[test]
fn a_refused_guard_leaves_the_queue_untouched() {
    let drops = DropCounter::new();
    let queue = MsQueue::new();
    queue.push(drops.track(1));
    let collector = crossbeam_epoch::Collector::new();
    let handle = collector.register();
    let foreign = handle.pin();
    // SAFETY: the guard is refused before it is used.
    let unprotected = unsafe { crossbeam_epoch::unprotected() };
    for guard in [&foreign, unprotected] {
        let pushed = catch_unwind(AssertUnwindSafe(|| queue.push_with(drops.track(2), guard)));
        let payload = pushed.unwrap_err();
        let message = match payload.downcast_ref::<String>() {
            Some(message) => message.clone(),
            None => payload.downcast_ref::<&str>().expect("a text message").to_string(),
        };
        assert!(message.contains("queue's nodes"), "{message}");
        assert!(!message.contains("stack"), "{message}");
        assert!(catch_unwind(AssertUnwindSafe(|| queue.pop_with(guard))).is_err());
    }
    assert_eq!(drops.dropped(), 2, "the refused values were dropped");
    assert_eq!(queue.pop().map(|t| t.value), Some(1));
    assert!(queue.pop().is_none());
}

/// A value whose `Drop` panics when `armed`; its tracked part counts the
/// drop either way (fields are dropped even when `Drop::drop` panics).
struct Bomb {
    armed: bool,
    _tracked: Tracked<i32>,
}

impl Drop for Bomb {
    fn drop(&mut self) {
        if self.armed {
            panic!("an item's Drop panics");
        }
    }
}

/// One value's `Drop` panics while the queue is dropped: every other value
/// is still dropped exactly once, whatever its place in the queue, and the
/// nodes are freed (Miri, LeakSanitizer).
#[test]
fn panicking_drop_when_the_queue_is_dropped_drops_every_other_value_once() {
    for armed in [1, 4, 7] {
        let drops = DropCounter::new();
        let queue = MsQueue::new();
        for i in 0..8 {
            queue.push(Bomb { armed: i == armed, _tracked: drops.track(i) });
        }
        // The sentinel moves on: the popped value's node becomes the sentinel.
        assert!(!queue.pop().unwrap().armed);
        assert!(catch_unwind(AssertUnwindSafe(|| drop(queue))).is_err());
        assert_eq!((drops.created(), drops.dropped()), (8, 8), "armed {armed}");
    }
}

/// Values whose `Drop` uses the queue they came from (pushing a smaller
/// value and popping one): the popped value has left the queue whole, so
/// its `Drop` meets a consistent queue. Each value is dropped once.
#[cfg(not(loom))]
#[test]
fn values_whose_drop_reenters_the_same_queue() {
    use std::sync::OnceLock;
    static QUEUE: OnceLock<MsQueue<Echo>> = OnceLock::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Echo(u32);
    impl Drop for Echo {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Relaxed);
            if self.0 > 0 {
                let queue = QUEUE.get().unwrap();
                queue.push(Echo(self.0 - 1));
                queue.push(Echo(0));
                drop(queue.pop());
            }
        }
    }
    let queue = QUEUE.get_or_init(MsQueue::new);
    queue.push(Echo(3));
    // Each pop drops one value, whose `Drop` pushes two and pops (and drops) one.
    let mut popped = 0;
    while let Some(echo) = queue.pop() {
        drop(echo);
        popped += 1;
    }
    assert!(queue.is_empty());
    assert_eq!(DROPS.load(Relaxed), 7, "Echo(3), Echo(2), Echo(1), Echo(0) × 4");
    assert!(popped >= 1);
}

/// Every operation from a thread-local destructor, both while the thread's
/// crossbeam-epoch handle still lives and after it was destroyed (then
/// `pin` registers a fresh handle); the last reference to the queue is also
/// dropped there, with values in it.
#[test]
fn every_operation_works_from_a_thread_local_destructor() {
    for when in BOTH {
        let drops = DropCounter::new();
        let queue = Arc::new(MsQueue::new());
        queue.push(drops.track(1));
        let (q, d) = (Arc::clone(&queue), drops.clone());
        let popped = at_thread_exit(when, move || {
            let popped = q.pop().map(|t| t.value);
            assert!(q.is_empty());
            q.push(d.track(2));
            let guard = crossbeam_epoch::pin();
            q.push_with(d.track(3), &guard);
            assert_eq!(q.pop_with(&guard).map(|t| t.value), Some(2));
            drop(guard);
            popped
        });
        assert_eq!(popped, Some(1));
        assert_eq!(queue.pop().map(|t| t.value), Some(3));

        queue.push(drops.track(4));
        at_thread_exit(when, move || drop(queue)); // the last reference, one value left
        assert_eq!((drops.created(), drops.dropped()), (4, 4));
    }
}

/// The queue moves to another thread and is dropped there, with values in
/// it, while this thread is pinned: the values are dropped once and the
/// sentinels retired earlier are freed later by the collector without it.
#[test]
fn queue_dropped_on_another_thread_while_this_one_is_pinned() {
    let drops = DropCounter::new();
    let queue = MsQueue::new();
    for i in 0..6 {
        queue.push(drops.track(i));
    }
    let guard = crossbeam_epoch::pin();
    assert_eq!(queue.pop_with(&guard).map(|t| t.value), Some(0));
    thread::spawn(move || drop(queue)).join().unwrap();
    drop(guard);
    assert_eq!((drops.created(), drops.dropped()), (6, 6));
}

#[test]
fn every_value_dropped_exactly_once() {
    let counter = DropCounter::new();
    let queue = MsQueue::new();
    for i in 0..100 {
        queue.push(counter.track(i));
    }
    for i in 0..40 {
        assert_eq!(queue.pop().unwrap().value, i);
    }
    assert_eq!(counter.dropped(), 40);
    drop(queue); // dropped non-empty: 60 values and the sentinel
    assert_eq!(counter.dropped(), 100);
    assert_eq!(counter.alive(), 0);

    // An empty queue frees its sentinel (Miri reports a leak otherwise).
    drop(MsQueue::<String>::new());
}

#[test]
fn zero_sized_values() {
    let queue = MsQueue::new();
    for _ in 0..1000 {
        queue.push(());
    }
    let mut n = 0;
    while queue.pop().is_some() {
        n += 1;
    }
    assert_eq!(n, 1000);
    let counter = DropCounter::new();
    let zst = MsQueue::new();
    for _ in 0..10 {
        zst.push(counter.track(()));
    }
    drop(zst.pop());
    drop(zst);
    assert_eq!(counter.dropped(), 10);
}

#[test]
fn panicking_value_drop_does_not_corrupt() {
    struct Bomb(bool);
    impl Drop for Bomb {
        fn drop(&mut self) {
            if self.0 {
                panic!("boom");
            }
        }
    }
    let queue = MsQueue::new();
    queue.push(Bomb(true));
    queue.push(Bomb(false));
    assert!(catch_unwind(AssertUnwindSafe(|| drop(queue.pop()))).is_err());
    assert!(!queue.pop().unwrap().0);
    assert!(queue.is_empty());
}

#[test]
fn send_and_sync_exactly_when_send() {
    use acqrel::ms_queue::{IntoIter, PopMany};
    use std::rc::Rc;
    use std::sync::MutexGuard;
    fn shared<T: Send + Sync>() {}
    shared::<MsQueue<Cell<u8>>>();
    shared::<IntoIter<Cell<u8>>>();
    shared::<PopMany<Cell<u8>>>();
    // Neither for a `T` that is not `Send`, whether or not it is `Sync`.
    assert_not_impl_any!(MsQueue<Rc<u8>>: Send, Sync);
    assert_not_impl_any!(IntoIter<Rc<u8>>: Send, Sync);
    assert_not_impl_any!(MsQueue<MutexGuard<'static, u8>>: Send, Sync);
    assert_not_impl_any!(IntoIter<MutexGuard<'static, u8>>: Send, Sync);
    assert_not_impl_any!(PopMany<Rc<u8>>: Send, Sync);
    assert_not_impl_any!(PopMany<MutexGuard<'static, u8>>: Send, Sync);
}

/// `producers` threads push `(producer, sequence)` pairs while `consumers`
/// threads pop: every pair comes out exactly once, and each consumer sees
/// each producer's sequence numbers in increasing order.
fn mpmc(producers: usize, consumers: usize) {
    let per_producer = scaled(100_000);
    let queue = MsQueue::new();
    let done = AtomicUsize::new(0);
    let popped: Vec<Vec<(usize, usize)>> = thread::scope(|s| {
        for p in 0..producers {
            let (queue, done) = (&queue, &done);
            s.spawn(move || {
                for i in 0..per_producer {
                    queue.push((p, i));
                }
                done.fetch_add(1, Relaxed);
            });
        }
        let handles: Vec<_> = (0..consumers)
            .map(|_| {
                let (queue, done) = (&queue, &done);
                s.spawn(move || {
                    let mut got = Vec::new();
                    let mut last = vec![None; producers];
                    loop {
                        let finished = done.load(Relaxed) == producers;
                        match queue.pop() {
                            Some((p, i)) => {
                                assert!(last[p] < Some(i), "producer {p}'s order broken");
                                last[p] = Some(i);
                                got.push((p, i));
                            }
                            // Empty after every producer finished: all values are out.
                            None if finished => break,
                            None => {}
                        }
                    }
                    got
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<(usize, usize)> = popped.into_iter().flatten().collect();
    assert!(queue.is_empty());
    all.sort_unstable();
    let expected: Vec<(usize, usize)> =
        (0..producers).flat_map(|p| (0..per_producer).map(move |i| (p, i))).collect();
    assert!(all == expected, "a value was lost or duplicated");
}

#[test]
fn stress_mpmc_two_threads() {
    mpmc(1, 1);
}

#[test]
fn stress_mpmc_four_threads() {
    mpmc(2, 2);
}

#[test]
fn values_published_by_push_are_complete_when_popped() {
    // Boxed payloads: a stale read of the value would be a torn or dangling box.
    let n = scaled(20_000);
    let queue = MsQueue::new();
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..n {
                queue.push(Box::new([i; 4]));
            }
        });
        let mut next = 0;
        while next < n {
            if let Some(b) = queue.pop() {
                assert_eq!(*b, [next; 4]);
                next += 1;
            }
        }
    });
}

/// Handles on two threads at once, mixed with the plain methods: every value
/// pushed is popped exactly once.
#[test]
fn handles_on_two_threads_conserve_every_value() {
    let queue = MsQueue::new();
    let per = scaled(20_000) as u64;
    let sums: Vec<u64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2u64)
            .map(|t| {
                let queue = &queue;
                s.spawn(move || {
                    let mut handle = queue.handle();
                    let mut sum = 0;
                    for i in 0..per {
                        handle.push(t * per + i);
                        if i % 3 == 0 {
                            queue.push(u64::MAX); // a plain call nested in the handle's pin
                        }
                        if let Some(x) = handle.pop() {
                            sum += if x == u64::MAX { 0 } else { x + 1 };
                        }
                    }
                    sum
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let rest: u64 =
        std::iter::from_fn(|| queue.pop()).map(|x| if x == u64::MAX { 0 } else { x + 1 }).sum();
    let n = 2 * per;
    assert_eq!(sums.iter().sum::<u64>() + rest, n * (n + 1) / 2);
}

#[test]
fn memory_stays_flat_over_a_long_run() {
    let queue = MsQueue::new();
    memory_stays_flat(scaled(50_000), 256, || {
        queue.push(Odd([1; 977]));
        let v = queue.pop().expect("this thread pushed one");
        assert_eq!(v.0[976], 1);
    });
}

#[test]
fn push_and_pop_from_three_threads_are_linearizable() {
    // Short histories of `push`/`push_with` and `pop`/`pop_with` from three
    // threads, each checked against the unbounded FIFO spec
    // (tests/common/lin). Values are unique per history, so a lost, duplicated
    // or reordered value shows as a result no sequential order explains.
    use common::lin::{self, queue::*};
    let ops = if cfg!(miri) { 6 } else { 34 };
    for round in 0..scaled(40) {
        let queue = MsQueue::new();
        let history = lin::stress(3, |t, rec| {
            for i in 0..ops {
                let x = round * 10_000 + t * 1000 + i;
                match (i + t) % 4 {
                    0 => rec.call(QueueOp::Push(x), |_| {
                        queue.push(x);
                        QueueRet::Pushed
                    }),
                    1 => rec.call(QueueOp::Push(x), |_| {
                        queue.push_with(x, &crossbeam_epoch::pin());
                        QueueRet::Pushed
                    }),
                    2 => rec.call(QueueOp::Pop, |_| QueueRet::Popped(queue.pop())),
                    _ => rec.call(QueueOp::Pop, |_| {
                        QueueRet::Popped(queue.pop_with(&crossbeam_epoch::pin()))
                    }),
                };
            }
        });
        lin::assert_linearizable(QueueSpec::unbounded(), &history);
    }
}

/// One thread: `push_all` keeps the iteration order between single pushes,
/// `pop_many` returns the front first, stops at the end of the queue, and an
/// empty iterator pushes nothing.
#[test]
fn push_all_and_pop_many_keep_fifo_order() {
    let queue = MsQueue::new();
    queue.push_all(std::iter::empty());
    assert!(queue.is_empty());
    assert_eq!(queue.pop_many(5).next(), None);
    queue.push(0);
    queue.push_all(1..=5);
    queue.push(6);
    queue.push_all([7]);
    assert_eq!(queue.len(), 8);
    let mut batch = queue.pop_many(3);
    assert_eq!(batch.len(), 3);
    assert_eq!(batch.by_ref().collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(batch.next(), None);
    assert_eq!(queue.pop_many(1).collect::<Vec<_>>(), [3]);
    assert_eq!(queue.pop(), Some(4));
    assert_eq!(queue.pop_many(usize::MAX).collect::<Vec<_>>(), [5, 6, 7]);
    assert!(queue.is_empty());
    queue.push_all(8..10);
    assert_eq!(queue.into_iter().collect::<Vec<_>>(), [8, 9]);
}

/// `pop_many(0)` returns an empty iterator and leaves the queue alone.
#[test]
fn pop_many_of_zero_touches_nothing() {
    let queue: MsQueue<i32> = (1..=3).collect();
    let mut none = queue.pop_many(0);
    assert_eq!(none.size_hint(), (0, Some(0)));
    assert_eq!(none.next(), None);
    assert_eq!(format!("{none:?}"), "PopMany { len: 0, .. }");
    assert_eq!(queue.len(), 3);
    assert_eq!(queue.pop(), Some(1));
}

/// While other threads push single values, the values of each `push_all`
/// come out next to each other and in their order.
#[test]
fn push_all_is_contiguous_among_concurrent_pushes() {
    let rounds = scaled(2_000);
    let queue = MsQueue::new();
    thread::scope(|s| {
        for t in 0..2 {
            let queue = &queue;
            s.spawn(move || {
                for i in 0..rounds {
                    queue.push((t, i, 0));
                }
            });
        }
        let queue = &queue;
        s.spawn(move || {
            for i in 0..rounds {
                queue.push_all((0..4).map(|j| (9, i, j)));
            }
        });
    });
    let all: Vec<(usize, usize, usize)> = queue.into_iter().collect();
    assert_eq!(all.len(), rounds * 6);
    let mut next = [0; 2];
    let mut batches = 0;
    let mut i = 0;
    while i < all.len() {
        match all[i] {
            (9, round, 0) => {
                assert_eq!(round, batches, "batches out of order");
                let batch: Vec<_> = (0..4).map(|j| (9, round, j)).collect();
                assert_eq!(all[i..i + 4], batch[..], "a batch was split at {i}");
                batches += 1;
                i += 4;
            }
            (t, seq, 0) if t < 2 => {
                assert_eq!(seq, next[t], "pusher {t} out of order");
                next[t] += 1;
                i += 1;
            }
            other => panic!("unexpected {other:?} at {i}"),
        }
    }
    assert_eq!((batches, next[0], next[1]), (rounds, rounds, rounds));
}

/// Two threads each mix `push_all`, `push`, `pop_many` and `pop` on one
/// queue: every value comes out exactly once, and each thread's values come
/// out of every batch in the order they went in.
#[test]
fn batches_and_single_operations_conserve_every_value() {
    let rounds = scaled(5_000);
    let queue = MsQueue::new();
    let taken: Vec<Vec<(usize, usize)>> = thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let queue = &queue;
                s.spawn(move || {
                    let mut seen = Vec::new();
                    let mut seq = 0;
                    for round in 0..rounds {
                        if round % 2 == t {
                            queue.push_all((seq..seq + 3).map(|i| (t, i)));
                            seq += 3;
                        } else {
                            queue.push((t, seq));
                            seq += 1;
                        }
                        if round % 3 == 0 {
                            seen.extend(queue.pop());
                        } else {
                            let batch: Vec<_> = queue.pop_many(1 + round % 4).collect();
                            for pair in batch.windows(2) {
                                if pair[0].0 == pair[1].0 {
                                    assert!(pair[0].1 < pair[1].1, "{pair:?} out of order");
                                }
                            }
                            seen.extend(batch);
                        }
                    }
                    seen
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut all: Vec<(usize, usize)> = taken.into_iter().flatten().collect();
    all.extend(queue);
    all.sort_unstable();
    let pushed =
        |t| (rounds / 2) * 4 + if rounds % 2 == 1 { if t == 0 { 3 } else { 1 } } else { 0 };
    let expected: Vec<(usize, usize)> =
        (0..2).flat_map(|t| (0..pushed(t)).map(move |i| (t, i))).collect();
    assert_eq!(all, expected);
}

/// An iterator dropped part-way (or unused) drops the values it did not
/// return, each once, and the queue goes on.
#[test]
fn pop_many_dropped_early_drops_the_rest_once() {
    for taken in [0, 1, 3, 4] {
        let drops = DropCounter::new();
        let queue = MsQueue::new();
        queue.push_all((0..6).map(|i| drops.track(i)));
        let mut batch = queue.pop_many(4);
        for expected in 0..taken {
            assert_eq!(batch.next().unwrap().value, expected);
        }
        assert_eq!(drops.dropped(), taken as usize, "taken {taken}");
        drop(batch);
        assert_eq!(drops.dropped(), 4, "taken {taken}");
        assert_eq!(queue.pop().unwrap().value, 4);
        drop(queue);
        assert_eq!((drops.created(), drops.dropped()), (6, 6), "taken {taken}");
    }
}

/// A leaked iterator leaks the values it still holds, and nothing else: the
/// queue goes on, and no value is dropped twice. It is held in
/// `ManuallyDrop` and released at the end, so the test itself leaks nothing.
#[test]
fn forgotten_pop_many_leaks_its_values_and_nothing_else() {
    let drops = DropCounter::new();
    let queue = MsQueue::new();
    queue.push_all((0..8).map(|i| drops.track(i)));
    let mut batch = queue.pop_many(5);
    assert_eq!(batch.next().unwrap().value, 0);
    let leaked = std::mem::ManuallyDrop::new(batch);
    queue.push(drops.track(8));
    let rest: Vec<i32> = queue.pop_many(usize::MAX).map(|t| t.value).collect();
    assert_eq!(rest, [5, 6, 7, 8]);
    drop(queue);
    assert_eq!(drops.alive(), 4, "exactly the leaked values are alive");
    drop(std::mem::ManuallyDrop::into_inner(leaked));
    assert_eq!((drops.created(), drops.dropped()), (9, 9));
}

/// An iterator whose `Drop` panics after it yielded its values.
struct PanicsOnDrop<I>(I);

impl<I: Iterator> Iterator for PanicsOnDrop<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        self.0.next()
    }
}

impl<I> Drop for PanicsOnDrop<I> {
    fn drop(&mut self) {
        panic!("the iterator's Drop panics");
    }
}

/// A panic in `push_all`'s iterator, in `next` or in its `Drop`, leaves the
/// queue unchanged and drops the values it yielded, each once.
#[test]
fn panicking_iterator_in_push_all_leaves_the_queue_unchanged() {
    let drops = DropCounter::new();
    let queue = MsQueue::new();
    queue.push(drops.track(-1));
    let pushed = catch_unwind(AssertUnwindSafe(|| queue.push_all(yields_then_panics(&drops, 3))));
    assert!(pushed.is_err());
    assert_eq!(drops.alive(), 1);
    let values = PanicsOnDrop((0..4).map(|i| drops.track(i)));
    assert!(catch_unwind(AssertUnwindSafe(|| queue.push_all(values))).is_err());
    assert_eq!(drops.alive(), 1);
    assert_eq!(queue.len(), 1);
    queue.push_all((10..12).map(|i| drops.track(i)));
    let got: Vec<i32> = queue.into_iter().map(|t| t.value).collect();
    assert_eq!(got, [-1, 10, 11]);
    assert_eq!((drops.created(), drops.dropped()), (10, 10));
}

/// The iterator given to `push_all` pushes to and pops from the same queue:
/// it sees the queue without its own chain, and the chain goes in after.
#[test]
fn push_all_iterator_that_uses_the_queue_itself() {
    let queue = MsQueue::new();
    queue.push(0);
    let values = (1..=3).inspect(|&i| {
        queue.push(i * 10);
        assert_eq!(queue.pop_many(1).collect::<Vec<_>>(), [(i - 1) * 10]);
    });
    queue.push_all(values);
    assert_eq!(queue.pop_many(usize::MAX).collect::<Vec<_>>(), [30, 1, 2, 3]);
}

/// One value's `Drop` panics while a dropped `pop_many` iterator drops the
/// values it did not return: every other value is still dropped once, and
/// the queue goes on.
#[test]
fn pop_many_with_a_panicking_drop_drops_every_other_value_once() {
    for taken in [0, 2] {
        let drops = DropCounter::new();
        let queue = MsQueue::new();
        queue.push_all((0..8).map(|i| Bomb { armed: i == 4, _tracked: drops.track(i) }));
        let mut batch = queue.pop_many(6);
        for _ in 0..taken {
            drop(batch.next().unwrap());
        }
        assert!(catch_unwind(AssertUnwindSafe(|| drop(batch))).is_err());
        assert_eq!(drops.dropped(), 6, "taken {taken}");
        assert_eq!(queue.len(), 2);
        drop(queue);
        assert_eq!((drops.created(), drops.dropped()), (8, 8), "taken {taken}");
    }
}

/// A `pop_many` with no limit on another thread races long `push_all`s,
/// whose `tail` may lag anywhere inside the chain just linked: every batch
/// is a run of consecutive values, and every value comes out once.
#[test]
fn pop_many_never_passes_a_lagging_tail() {
    let chains = scaled(500);
    let len = 32;
    let queue = MsQueue::new();
    let taken = thread::scope(|s| {
        let queue = &queue;
        s.spawn(move || {
            for c in 0..chains {
                queue.push_all(c * len..(c + 1) * len);
            }
        });
        let consumer = s.spawn(move || {
            let mut next = 0;
            while next < chains * len {
                for v in queue.pop_many(usize::MAX) {
                    assert_eq!(v, next);
                    next += 1;
                }
                // The queue stays usable: a push after the batch goes to its end.
                assert!(queue.len() <= chains * len);
            }
            next
        });
        consumer.join().unwrap()
    });
    assert_eq!(taken, chains * len);
    assert!(queue.is_empty());
    queue.push(1);
    assert_eq!(queue.pop(), Some(1));
}

/// A batch moves to another thread and finishes there.
#[test]
fn pop_many_finishes_on_another_thread() {
    let drops = DropCounter::new();
    let queue = MsQueue::new();
    queue.push_all((0..6).map(|i| drops.track(i)));
    let mut batch = queue.pop_many(4);
    assert_eq!(batch.next().unwrap().value, 0);
    let rest = thread::spawn(move || batch.map(|t| t.value).collect::<Vec<_>>()).join().unwrap();
    assert_eq!(rest, [1, 2, 3]);
    drop(queue);
    assert_eq!(drops.alive(), 0);
}
