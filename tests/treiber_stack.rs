//! Behaviour and std-thread stress tests of `TreiberStack`, with a counting
//! allocator that watches live node allocations over a long run.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;

use acqrel::TreiberStack;
use common::epoch_memory::{Odd, memory_stays_flat};
use common::{DropCounter, scaled};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;

crate::count_live_nodes!();

/// A stack usable from a `static`: `new` is `const` (except under loom).
#[cfg(not(loom))]
static GLOBAL: TreiberStack<u32> = TreiberStack::new();

#[test]
fn lifo_order_and_emptiness() {
    let stack = TreiberStack::new();
    assert!(stack.is_empty());
    assert_eq!(stack.pop(), None);
    for i in 0..10 {
        stack.push(i);
        assert!(!stack.is_empty());
    }
    for i in (0..10).rev() {
        assert_eq!(stack.pop(), Some(i));
    }
    assert!(stack.is_empty());
    assert_eq!(stack.pop(), None);
    assert_eq!(format!("{stack:?}"), "TreiberStack { is_empty: true, .. }");
}

#[cfg(not(loom))]
#[test]
fn const_static_stack_works() {
    GLOBAL.push(7);
    GLOBAL.push(8);
    let mut got = [GLOBAL.pop().unwrap(), GLOBAL.pop().unwrap()];
    got.sort_unstable();
    assert_eq!(got, [7, 8]);
}

#[test]
fn reuse_over_many_laps() {
    // Push and pop through the same stack many times: nodes are retired and
    // new ones allocated every lap.
    let stack = TreiberStack::new();
    for lap in 0..scaled(10_000) {
        stack.push(lap);
        stack.push(lap + 1);
        assert_eq!(stack.pop(), Some(lap + 1));
        assert_eq!(stack.pop(), Some(lap));
        assert_eq!(stack.pop(), None);
    }
}

#[test]
fn guard_variants_share_one_pin() {
    let stack = TreiberStack::new();
    let guard = crossbeam_epoch::pin();
    for i in 0..100 {
        stack.push_with(i, &guard);
    }
    for i in (50..100).rev() {
        assert_eq!(stack.pop_with(&guard), Some(i));
    }
    drop(guard);
    assert_eq!(stack.pop(), Some(49));
    assert_eq!(stack.take_all().count(), 49);
}

#[test]
#[should_panic(expected = "default collector")]
fn guard_of_another_collector_is_refused() {
    let collector = crossbeam_epoch::Collector::new();
    let handle = collector.register();
    let guard = handle.pin();
    TreiberStack::new().push_with(1, &guard);
}

#[test]
#[should_panic(expected = "default collector")]
fn unprotected_guard_is_refused() {
    let stack: TreiberStack<i32> = TreiberStack::new();
    // SAFETY: the guard is refused before it is used.
    let guard = unsafe { crossbeam_epoch::unprotected() };
    stack.pop_with(guard);
}

#[test]
fn push_all_publishes_in_order_and_extend_matches() {
    let mut stack = TreiberStack::new();
    stack.push(0);
    stack.push_all(1..=3);
    stack.push_all(std::iter::empty());
    stack.extend([4, 5]);
    assert_eq!(stack.take_all().collect::<Vec<_>>(), [5, 4, 3, 2, 1, 0]);
    let collected: TreiberStack<i32> = (1..=3).collect();
    assert_eq!(collected.pop(), Some(3));
}

#[test]
fn take_all_partially_consumed_drops_the_rest() {
    let counter = DropCounter::new();
    let stack = TreiberStack::new();
    for i in 0..10 {
        stack.push(counter.track(i));
    }
    let mut batch = stack.take_all();
    assert_eq!(batch.next().unwrap().value, 9);
    assert_eq!(batch.next().unwrap().value, 8);
    assert_eq!(counter.dropped(), 2);
    stack.push(counter.track(100)); // the stack is usable while the batch lives
    drop(batch);
    assert_eq!(counter.dropped(), 10);
    assert_eq!(stack.pop().unwrap().value, 100);
    assert_eq!(counter.alive(), 0);
    assert_eq!(stack.take_all().count(), 0);
}

#[test]
fn every_value_dropped_exactly_once() {
    let counter = DropCounter::new();
    let stack = TreiberStack::new();
    for i in 0..100 {
        stack.push(counter.track(i));
    }
    for _ in 0..40 {
        drop(stack.pop().unwrap());
    }
    assert_eq!(counter.dropped(), 40);
    drop(stack); // dropped non-empty
    assert_eq!(counter.dropped(), 100);
    assert_eq!(counter.alive(), 0);
}

#[test]
fn zero_sized_values() {
    let stack = TreiberStack::new();
    for _ in 0..1000 {
        stack.push(());
    }
    let mut n = 0;
    while stack.pop().is_some() {
        n += 1;
    }
    assert_eq!(n, 1000);

    let counter = DropCounter::new();
    let zst = TreiberStack::new();
    zst.push_all((0..10).map(|_| counter.track(())));
    drop(zst.pop());
    drop(zst);
    assert_eq!(counter.dropped(), 10);
}

#[test]
fn panicking_iterator_in_push_all_leaves_the_stack_unchanged() {
    let counter = DropCounter::new();
    let stack = TreiberStack::new();
    stack.push(counter.track(-1));
    let result = catch_unwind(AssertUnwindSafe(|| {
        stack.push_all((0..10).map(|i| {
            assert!(i < 5, "iterator fails halfway");
            counter.track(i)
        }))
    }));
    assert!(result.is_err());
    assert_eq!(counter.dropped(), 5, "the private chain's values are dropped");
    assert_eq!(stack.pop().unwrap().value, -1);
    assert!(stack.is_empty());
}

#[test]
fn panicking_value_drop_in_pop_caller_does_not_corrupt() {
    struct Bomb(bool);
    impl Drop for Bomb {
        fn drop(&mut self) {
            if self.0 {
                panic!("boom");
            }
        }
    }
    let stack = TreiberStack::new();
    stack.push(Bomb(false));
    stack.push(Bomb(true));
    assert!(catch_unwind(AssertUnwindSafe(|| drop(stack.pop()))).is_err());
    assert!(!stack.pop().unwrap().0);
    assert!(stack.is_empty());
}

#[test]
fn send_and_sync_exactly_when_send() {
    fn shared<T: Send + Sync>() {}
    shared::<TreiberStack<Cell<u8>>>();
    shared::<acqrel::treiber_stack::TakeAll<Cell<u8>>>();
}

/// `threads` threads each push their own values and pop as many; every value
/// pushed comes out exactly once, from the stack or the leftovers.
fn conservation(threads: usize) {
    let per_thread = scaled(100_000);
    let stack = TreiberStack::new();
    let popped: Vec<Vec<usize>> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let stack = &stack;
                s.spawn(move || {
                    let mut got = Vec::new();
                    for i in 0..per_thread {
                        stack.push(t * per_thread + i);
                        if i % 3 == 2 {
                            stack.push_all([usize::MAX - (t * per_thread + i)]);
                        }
                        if let Some(v) = stack.pop() {
                            got.push(v);
                        }
                    }
                    got
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<usize> = popped.into_iter().flatten().chain(stack.take_all()).collect();
    all.sort_unstable();
    let mut expected: Vec<usize> = (0..threads * per_thread).collect();
    expected.extend(
        (0..threads * per_thread).filter(|v| v % per_thread % 3 == 2).map(|v| usize::MAX - v),
    );
    expected.sort_unstable();
    assert_eq!(all.len(), expected.len());
    assert!(all == expected, "a value was lost or duplicated");
}

#[test]
fn stress_conservation_two_threads() {
    conservation(2);
}

#[test]
fn stress_conservation_four_threads() {
    conservation(4);
}

#[test]
fn take_all_racing_pushers_loses_nothing() {
    let per_thread = scaled(50_000);
    let stack = TreiberStack::new();
    let mut taken = Vec::new();
    thread::scope(|s| {
        let pushers: Vec<_> = (0..2)
            .map(|t| {
                let stack = &stack;
                s.spawn(move || {
                    for i in 0..per_thread {
                        stack.push(t * per_thread + i);
                    }
                })
            })
            .collect();
        while !pushers.iter().all(|p| p.is_finished()) {
            taken.extend(stack.take_all());
        }
    });
    taken.extend(stack.take_all());
    taken.sort_unstable();
    assert_eq!(taken, (0..2 * per_thread).collect::<Vec<_>>());
}

#[test]
fn values_published_by_push_are_complete_when_popped() {
    // Boxed payloads: a stale read of the value would be a torn or dangling box.
    let n = scaled(20_000);
    let stack = TreiberStack::new();
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..n {
                stack.push(Box::new([i; 4]));
            }
        });
        let mut seen = 0;
        while seen < n {
            if let Some(b) = stack.pop() {
                assert!(b.iter().all(|&x| x == b[0]));
                seen += 1;
            }
        }
    });
}

#[test]
fn memory_stays_flat_over_a_long_run() {
    let stack = TreiberStack::new();
    memory_stays_flat(scaled(50_000), 256, || {
        stack.push(Odd([1; 977]));
        let v = stack.pop().expect("this thread pushed one");
        assert_eq!(v.0[976], 1);
    });
}

#[test]
fn push_and_pop_from_three_threads_are_linearizable() {
    // Short histories of `push`, `pop` and `pop_with` (one pin per call) from
    // three threads, each checked against the LIFO spec (tests/common/lin).
    // Values are unique per history, so a lost, duplicated or reordered value
    // shows as a result no sequential order explains.
    use common::lin::{self, stack::*};
    let ops = if cfg!(miri) { 6 } else { 34 };
    for round in 0..scaled(40) {
        let stack = TreiberStack::new();
        let history = lin::stress(3, |t, rec| {
            for i in 0..ops {
                // Pushes lead slightly, so pops meet both full and empty stacks.
                if (i + t) % 5 < 3 {
                    rec.call(StackOp::Push(round * 10_000 + t * 1000 + i), |op| {
                        let StackOp::Push(x) = *op else { unreachable!() };
                        stack.push(x);
                        StackRet::Pushed
                    });
                } else if i % 2 == 0 {
                    rec.call(StackOp::Pop, |_| StackRet::Popped(stack.pop()));
                } else {
                    rec.call(StackOp::Pop, |_| {
                        StackRet::Popped(stack.pop_with(&crossbeam_epoch::pin()))
                    });
                }
            }
        });
        lin::assert_linearizable(StackSpec::default(), &history);
    }
}
