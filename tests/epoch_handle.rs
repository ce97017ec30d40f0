//! Leaking a container handle (`TreiberStack::handle`, `MsQueue::handle`):
//! the handle's pin is never released, which holds back every later free of
//! retired nodes in the process, but no value is lost, delivered twice or
//! dropped twice, and every other thread goes on. A binary of its own: the
//! pin a leak leaves behind would stall the flat-memory tests of the
//! containers' own test files.
#![allow(clippy::disallowed_types)]

mod common;

use acqrel::{MsQueue, TreiberStack};
use common::{DropCounter, Tracked, scaled};
use std::collections::BTreeSet;
use std::mem;
use std::thread;

/// Leaks a handle after `ops` operations through it (so at each point of
/// the repin cycle), then moves every value through the plain methods and
/// a fresh handle on two other threads: each value comes out once, and the
/// container's drop drops what is left, once.
fn leak_at_every_point<C: Sync>(
    new: impl Fn() -> C,
    push: impl Fn(&C, Tracked<usize>) + Sync,
    pop: impl Fn(&C) -> Option<Tracked<usize>> + Sync,
    leak: impl Fn(&C, &DropCounter, usize),
) {
    let points = [0, 1, 2, 63, 127, 128, 129, 300];
    for ops in points {
        let drops = DropCounter::new();
        let container = new();
        leak(&container, &drops, ops);
        let per = scaled(500);
        let seen: Vec<usize> = thread::scope(|s| {
            let workers: Vec<_> = (0..2)
                .map(|t| {
                    let (container, drops, push, pop) = (&container, &drops, &push, &pop);
                    s.spawn(move || {
                        let mut seen = Vec::new();
                        for i in 0..per {
                            push(container, drops.track(1_000_000 + t * per + i));
                            if i % 2 == 0 {
                                if let Some(v) = pop(container) {
                                    seen.push(v.value);
                                }
                            }
                        }
                        seen
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
        });
        let unique: BTreeSet<usize> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "a value came out twice (leak after {ops})");
        drop(container);
        assert_eq!(drops.alive(), 0, "a value was lost or dropped twice (leak after {ops})");
    }
}

#[test]
fn a_leaked_stack_handle_loses_and_repeats_nothing() {
    leak_at_every_point(
        TreiberStack::new,
        |s, v| s.push(v),
        |s| s.pop(),
        |stack, drops, ops| {
            let mut handle = stack.handle();
            for i in 0..ops {
                handle.push(drops.track(i));
                if i % 3 == 0 {
                    drop(handle.pop());
                }
            }
            mem::forget(handle);
        },
    );
}

#[test]
fn a_leaked_queue_handle_loses_and_repeats_nothing() {
    leak_at_every_point(
        MsQueue::new,
        |q, v| q.push(v),
        |q| q.pop(),
        |queue, drops, ops| {
            let mut handle = queue.handle();
            for i in 0..ops {
                handle.push(drops.track(i));
                if i % 3 == 0 {
                    drop(handle.pop());
                }
            }
            mem::forget(handle);
        },
    );
}
