//! Which types are `UnwindSafe` and `RefUnwindSafe`, and which are not on
//! purpose.
//!
//! The containers, queues and Disruptor handles are: a panic anywhere in a
//! call (an item's `Drop`, an iterator or closure the call was given) leaves
//! their state consistent, so using them after `catch_unwind` needs no
//! `AssertUnwindSafe`. (The item types' own unwind safety is still required
//! where the handles hand out or own items.) `SpinLock` and `TicketLock` are
//! not `RefUnwindSafe`: they do not poison, so data a panic left half-updated
//! under the lock would be seen as it is; a caller who has checked that the
//! data stays consistent says so with `AssertUnwindSafe`.
use acqrel::disruptor::{
    Blocking, Consumers, EventPoller, MultiProducer, Sequence, SingleProducer, Yielding,
};
use acqrel::spsc::{Blocking as Parking, Consumer, Heap, Producer, Queue};
use acqrel::{Counter, MsQueue, RawSpinLock, RawTicketLock, ShardedCounter, TreiberStack};
use std::panic::{RefUnwindSafe, UnwindSafe};

fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

#[test]
fn the_primitives_are_unwind_safe() {
    unwind_safe::<Counter>();
    unwind_safe::<ShardedCounter>();
    unwind_safe::<TreiberStack<Vec<u8>>>();
    unwind_safe::<acqrel::treiber_stack::TakeAll<Vec<u8>>>();
    unwind_safe::<acqrel::treiber_stack::IntoIter<Vec<u8>>>();
    unwind_safe::<MsQueue<Vec<u8>>>();
    unwind_safe::<acqrel::ms_queue::IntoIter<Vec<u8>>>();
    unwind_safe::<acqrel::ms_queue::PopMany<Vec<u8>>>();
    unwind_safe::<RawSpinLock>();
    unwind_safe::<RawTicketLock>();
    unwind_safe::<Producer<Vec<u8>>>();
    unwind_safe::<Consumer<Vec<u8>>>();
    unwind_safe::<Producer<u8, Heap, Parking>>();
    unwind_safe::<Consumer<u8, Heap, Parking>>();
    unwind_safe::<Queue<Vec<u8>, 8>>();
    unwind_safe::<Sequence>();
    unwind_safe::<Blocking>();
    unwind_safe::<Consumers>();
    unwind_safe::<SingleProducer<Vec<u8>, Yielding>>();
    unwind_safe::<MultiProducer<Vec<u8>, Blocking, Blocking>>();
    unwind_safe::<EventPoller<Vec<u8>, Sequence, Blocking>>();
}

/// Using a shared queue again after a panic in code that was pushing to it
/// needs no `AssertUnwindSafe`, and finds every item pushed before it.
#[test]
fn a_queue_is_used_again_after_a_panic_without_assert_unwind_safe() {
    let queue = MsQueue::new();
    queue.push(1);
    let r = std::panic::catch_unwind(|| {
        for i in 2..5 {
            assert!(i != 4, "the source failed");
            queue.push(i);
        }
    });
    assert!(r.is_err());
    assert_eq!(std::iter::from_fn(|| queue.pop()).collect::<Vec<_>>(), [1, 2, 3]);
}
