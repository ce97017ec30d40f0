//! Recycled nodes: a popped node waits in its thread's batch of retired
//! nodes, then (after its grace period) in a cache of the thread that ran
//! the batch's deferred function, bounded per layout; it is reused by that
//! thread's next push, and goes back to the allocator when the threads
//! exit. A binary of its own, with one test: the node count is global to
//! the binary, and another test's pin would hold collection back.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;

use acqrel::{MsQueue, TreiberStack};
use common::epoch_memory::{NODE_SIZE, Odd, live_nodes};
use common::scaled;
use std::thread;

crate::count_live_nodes!();

/// The documented bound of one thread's cache for one layout.
const CACHE_BYTES: usize = 64 * 1024;
/// The documented number of retired nodes a thread gathers before it hands
/// them to the collector as one batch.
const BATCH: usize = 64;

/// Runs `pairs` pushes then as many pops on one thread, collects until every
/// retired node has been handed on, and checks what that thread keeps.
fn recycle_on_a_thread_of_its_own(
    pairs: usize,
    push: impl Fn(Odd) + Sync,
    pop: impl Fn() -> Option<Odd> + Sync,
) {
    let baseline = live_nodes();
    thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..pairs {
                push(Odd([3; 977]));
            }
            for _ in 0..pairs {
                assert_eq!(pop().expect("pushed above").0[0], 3);
            }
            assert!(pop().is_none());
            // Nothing else pins in this binary: the epoch advances and every
            // retired node's deferred function runs here.
            for _ in 0..64 {
                acqrel::epoch::pin().flush();
            }
            // What is still live: the cache, and the retired nodes of a
            // batch not yet full.
            let kept = live_nodes() - baseline;
            assert!(kept > 0, "no node was kept for reuse");
            assert!(
                kept < CACHE_BYTES / NODE_SIZE + BATCH,
                "{kept} nodes of {NODE_SIZE} bytes kept"
            );
            // The next push reuses a kept node: nothing is allocated.
            push(Odd([4; 977]));
            assert_eq!(live_nodes() - baseline, kept, "a push allocated although a node was kept");
            assert_eq!(pop().expect("pushed above").0[0], 4);
        });
    });
    // The thread has exited: its cache is freed, and its last batch of
    // retired nodes (not yet full) went to the collector.
    collect_until_back_to(baseline, "recycled nodes outlived their threads");
}

/// Runs the collector from threads that exit (so that whatever they cache
/// is freed with them) until the live node count is back to `baseline`.
fn collect_until_back_to(baseline: usize, what: &str) {
    for _ in 0..1000 {
        if live_nodes() == baseline {
            break;
        }
        thread::spawn(|| {
            for _ in 0..8 {
                acqrel::epoch::pin().flush();
            }
        })
        .join()
        .unwrap();
    }
    assert_eq!(live_nodes(), baseline, "{what}");
}

/// A producer that outruns its consumer: the queue grows while the consumer
/// pops half of it, its pops retire nodes in batches and recycle them; once
/// both threads have exited and the queue has dropped with the other half,
/// every node is back with the allocator.
fn producer_outruns_its_consumer(n: usize) {
    let baseline = live_nodes();
    let queue = MsQueue::new();
    thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..n {
                queue.push(Odd([5; 977]));
            }
        });
        s.spawn(|| {
            let mut got = 0;
            while got < n / 2 {
                match queue.pop() {
                    Some(v) => {
                        assert_eq!(v.0[0], 5);
                        got += 1;
                    }
                    None => thread::yield_now(),
                }
            }
        });
    });
    assert!(live_nodes() - baseline >= n - n / 2, "the values not popped are still queued");
    drop(queue);
    collect_until_back_to(baseline, "nodes outlived the queue and its threads");
}

#[test]
fn recycled_nodes_are_bounded_reused_and_freed_when_their_thread_exits() {
    // Stack, queue, then a producer outrunning its consumer, in turn (not in
    // parallel: the count is global).
    let stack = TreiberStack::new();
    recycle_on_a_thread_of_its_own(scaled(2_000).max(2 * BATCH), |v| stack.push(v), || stack.pop());
    drop(stack);
    let queue = MsQueue::new();
    // The queue's sentinel is one live node of its own.
    recycle_on_a_thread_of_its_own(scaled(2_000).max(2 * BATCH), |v| queue.push(v), || queue.pop());
    drop(queue);
    producer_outruns_its_consumer(scaled(20_000).max(4 * BATCH));
}
