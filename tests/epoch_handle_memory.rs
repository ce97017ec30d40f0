//! Memory through container handles (`TreiberStack::handle`,
//! `MsQueue::handle`) over a long run: the handle's repin and flush every
//! `Handle::REPIN_EVERY` operations keep retired nodes flowing to the
//! collector, so live nodes stay far below what was retired. A binary of its
//! own: in one with other tests, another test's pin, preempted, holds every
//! free back for a while, and the count could not tell a handle that never
//! repins (whose thread holds its pin for the whole run: this test fails on
//! it) from a busy machine.
#![allow(clippy::disallowed_types)]

mod common;

use acqrel::{MsQueue, TreiberStack};
use common::epoch_memory::{Odd, memory_stays_flat_with};
use common::scaled;

crate::count_live_nodes!();

/// Two threads push and pop through handles: each holds one pin across
/// `Handle::REPIN_EVERY` operations at a time, and the repin and flush keep
/// retired nodes flowing to the collector.
#[test]
fn stack_memory_stays_flat_through_handles() {
    let stack = TreiberStack::new();
    memory_stays_flat_with(
        scaled(50_000),
        256,
        || stack.handle(),
        |handle| {
            handle.push(Odd([1; 977]));
            let v = handle.pop().expect("this thread pushed one");
            assert_eq!(v.0[976], 1);
        },
    );
}

/// Two threads push and pop through handles: each holds one pin across
/// `Handle::REPIN_EVERY` operations at a time, and the repin and flush keep
/// retired nodes flowing to the collector.
#[test]
fn queue_memory_stays_flat_through_handles() {
    let queue = MsQueue::new();
    memory_stays_flat_with(
        scaled(50_000),
        256,
        || queue.handle(),
        |handle| {
            handle.push(Odd([1; 977]));
            let v = handle.pop().expect("this thread pushed one");
            assert_eq!(v.0[976], 1);
        },
    );
}
