//! Loom models of `MsQueue` (crossbeam-epoch model-checked too, built with
//! `--cfg loom --cfg crossbeam_loom`). Covers [MSQ-O1] [MSQ-O2] [MSQ-O3]
//! [MSQ-O4] [MSQ-O5] [MSQ-O6] [MSQ-O7] [MSQ-O8] [MSQ-I1] [MSQ-I2] [MSQ-I3]
//! [MSQ-I5] [MSQ-I6] [MSQ-O9] [MSQ-S5].
//!
//! Values are plain integers; the queue's node cells are loom cells, so a
//! value (or a node reached through `tail`/`head`) read without a
//! happens-before edge to its construction is a causality violation.
#![cfg(loom)]
#![allow(clippy::disallowed_types)]

use acqrel::MsQueue;
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// A value whose drop is counted (outside the model's memory: only totals matter).
struct Counted(&'static AtomicUsize);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Runs `f` at preemption bound 2: the models whose worker does two
/// operations take seconds at the CI's bound 3, and every interleaving
/// they exist for needs at most two preemptions.
fn model_bound_2(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(f);
}

fn drain(queue: &MsQueue<usize>) -> Vec<usize> {
    std::iter::from_fn(|| queue.pop()).collect()
}

/// A producer pushes onto a one-element queue while the consumer pops
/// twice: the old element comes first, the new one second or not yet.
#[test]
fn producer_consumer_on_prefilled_queue() {
    loom::model(|| {
        let queue = Arc::new(MsQueue::new());
        queue.push(1usize);
        let producer = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.push(2))
        };
        assert_eq!(queue.pop(), Some(1));
        let second = queue.pop();
        producer.join().unwrap();
        match second {
            Some(v) => assert_eq!(v, 2),
            None => assert_eq!(queue.pop(), Some(2)),
        }
        assert!(queue.is_empty());
    });
}

/// A producer pushes onto an empty queue and may be preempted between
/// linking its node and swinging `tail`; the consumer then finds
/// `head == tail` with a successor and must move `tail` on before retiring
/// the sentinel.
#[test]
fn pop_helps_lagging_tail() {
    loom::model(|| {
        let queue = Arc::new(MsQueue::new());
        let producer = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.push(1usize))
        };
        let got = queue.pop();
        producer.join().unwrap();
        // The retired sentinel must not still be the tail: push and pop again.
        queue.push(2);
        let mut all: Vec<usize> = got.into_iter().collect();
        all.extend(drain(&queue));
        assert_eq!(all, [1, 2]);
    });
}

/// Two producers push onto a one-element queue; the second may find the
/// tail lagging behind the first's node and help it forward.
#[test]
fn push_helps_lagging_tail() {
    loom::model(|| {
        let queue = Arc::new(MsQueue::new());
        queue.push(1usize);
        let producer = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.push(2))
        };
        queue.push(3);
        producer.join().unwrap();
        let all = drain(&queue);
        assert_eq!(all[0], 1);
        let mut rest = all[1..].to_vec();
        rest.sort_unstable();
        assert_eq!(rest, [2, 3]);
    });
}

/// On an empty queue a worker pushes and pops, so the sentinel becomes a
/// node the worker built; the main thread, checking `is_empty` and popping,
/// reaches that node through `head` alone.
#[test]
fn sentinel_built_by_another_thread() {
    model_bound_2(|| {
        let queue = Arc::new(MsQueue::new());
        let worker = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                queue.push(1usize);
                queue.pop()
            })
        };
        let _ = queue.is_empty();
        let mine = queue.pop();
        let theirs = worker.join().unwrap();
        let mut all: Vec<usize> = mine.into_iter().chain(theirs).collect();
        all.extend(drain(&queue));
        assert_eq!(all, [1]);
    });
}

/// As above, but the worker pushes and pops under one guard: the node is
/// built after the worker's pin, so the pin's fence cannot publish it and
/// only the `Release` on `head` does. The main thread pops without checking
/// `is_empty` first (whose `Acquire` would hide a weak `pop`).
#[test]
fn sentinel_built_under_one_guard() {
    model_bound_2(|| {
        let queue = Arc::new(MsQueue::new());
        let worker = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                let guard = crossbeam_epoch::pin();
                queue.push_with(1usize, &guard);
                queue.pop_with(&guard)
            })
        };
        let mine = queue.pop();
        let theirs = worker.join().unwrap();
        let mut all: Vec<usize> = mine.into_iter().chain(theirs).collect();
        all.extend(drain(&queue));
        assert_eq!(all, [1]);
    });
}

/// After a concurrent push and pop, dropping the queue drops every value
/// left exactly once and frees the sentinel.
#[test]
fn drop_after_concurrent_use() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    loom::model(|| {
        DROPS.store(0, SeqCst);
        let queue = Arc::new(MsQueue::new());
        queue.push(Counted(&DROPS));
        let worker = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                queue.push(Counted(&DROPS));
                drop(queue.pop());
            })
        };
        queue.push(Counted(&DROPS));
        worker.join().unwrap();
        drop(queue);
        assert_eq!(DROPS.load(SeqCst), 3);
    });
}

/// Hands this thread's retired nodes to the collector and collects a few
/// times, so that frees due by the epoch rules happen inside the model
/// (and a premature free would be a use-after-free that AddressSanitizer
/// reports: loom itself does not track freed memory).
fn collect_now() {
    for _ in 0..2 {
        crossbeam_epoch::pin().flush();
    }
}

/// Both threads pop from a two-element queue and drop their handle inside
/// their own thread; the spawned thread then collects until the sentinel it
/// retired is due, while the main thread may still be reading that node in
/// its pop: it is freed only after that pop unpins (a pop that did not pin
/// would read freed memory here, which AddressSanitizer reports). Whichever
/// thread drops the last `Arc` frees the queue. Every value is dropped
/// exactly once. Covers [MSQ-I1] [MSQ-I5] [MSQ-S5].
#[test]
fn sentinels_and_queue_freed_inside_the_threads() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    model_bound_2(|| {
        DROPS.store(0, SeqCst);
        let queue = Arc::new(MsQueue::new());
        queue.push(Counted(&DROPS));
        queue.push(Counted(&DROPS));
        let popper = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                drop(queue.pop());
                drop(queue);
                collect_now();
            })
        };
        drop(queue.pop());
        drop(queue);
        popper.join().unwrap();
        assert_eq!(DROPS.load(SeqCst), 2);
    });
}

/// `len` walks the queue while another thread pops the front (retiring the
/// old sentinel) and pushes at the back: every count is a length the queue
/// had while the walk ran (1 to 3), the walk never reads a freed node
/// (under AddressSanitizer too), and with nothing beside it the count is
/// exact.
#[test]
fn len_races_pop_and_push() {
    model_bound_2(|| {
        let queue = Arc::new(MsQueue::new());
        queue.push(1usize);
        queue.push(2usize);
        let worker = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                assert_eq!(queue.pop(), Some(1));
                queue.push(3);
            })
        };
        let n = queue.len();
        assert!((1..=3).contains(&n), "len {n} was never the queue's length");
        worker.join().unwrap();
        assert_eq!(queue.len(), 2);
        assert_eq!(drain(&queue), [2, 3]);
    });
}

/// A `push_all` of two values races a `pop_many(2)` and then a `pop`: the
/// batch may find the chain linked with `tail` still lagging at the
/// sentinel (it helps and takes one value) or at the chain's first node (it
/// stops there), or not yet linked. Every value comes out once, in order,
/// and the values the iterator reads lazily were published by the link.
#[test]
fn push_all_races_pop_many() {
    loom::model(|| {
        let queue = Arc::new(MsQueue::new());
        let producer = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.push_all([1usize, 2]))
        };
        let mut got: Vec<usize> = queue.pop_many(2).collect();
        got.extend(queue.pop());
        producer.join().unwrap();
        got.extend(drain(&queue));
        assert_eq!(got, [1, 2]);
    });
}

/// A `push` races a `push_all` of two values and may find `tail` lagging
/// inside the chain: it helps `tail` along the chain one node per retry and
/// links after the chain's end, so the chain's values stay together.
#[test]
fn push_helps_tail_along_a_chain() {
    model_bound_2(|| {
        let queue = Arc::new(MsQueue::new());
        let producer = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.push_all([1usize, 2]))
        };
        queue.push(3);
        producer.join().unwrap();
        let got = drain(&queue);
        assert!(got == [1, 2, 3] || got == [3, 1, 2], "{got:?}");
    });
}

/// A retired sentinel's memory goes back to a per-thread cache after its
/// grace period and the next push on that thread reuses it. The main thread
/// pops, collects (so that a node whose grace period has passed is recycled
/// inside the model) and pushes again, while another thread pops: were the
/// old sentinel reused while that pop still held it, the pop would read a
/// `next` or a value it never synchronised with (loom reports the race), or
/// move `head` onto a recycled node. Every value comes out once, in order
/// per producer. Covers [RCY-I1] [MSQ-I1].
#[test]
fn a_sentinel_is_recycled_only_after_every_pop_that_loaded_it_unpinned() {
    model_bound_2(|| {
        let queue = Arc::new(MsQueue::new());
        for v in 1..=2usize {
            queue.push(v);
        }
        let popper = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.pop())
        };
        let mine = queue.pop();
        collect_now();
        queue.push(3);
        let theirs = popper.join().unwrap();
        let mut all: Vec<usize> = mine.into_iter().chain(theirs).collect();
        all.sort_unstable();
        let rest = drain(&queue);
        all.extend(rest.iter().copied());
        all.sort_unstable();
        assert_eq!(all, [1, 2, 3]);
        assert_eq!(rest.last(), Some(&3), "the last push comes out last");
    });
}
