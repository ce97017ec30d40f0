//! TreiberStack and MsQueue: every thread pushes a value and pops one, over
//! and over, so the threads' pairs meet on the same head (and tail). Values
//! carry their producer in the high bits; the tally is the number and sum of
//! the values popped, the container must be empty at the end, and for the
//! queues every popper sees each producer's values in increasing order.
use crate::{Contender, Done, Row, Tally};
use acqrel::{MsQueue, TreiberStack};
use crossbeam_queue::SegQueue;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::thread;

const THREADS: u64 = 2;
const PAIRS: u64 = 1_000_000;

fn value(t: u64, i: u64) -> u64 {
    t << 32 | i
}

/// Every thread runs `PAIRS` pairs through `pair` (a push of its value, then
/// a pop), then `is_empty` must hold.
fn pairs(pair: impl Fn(u64) -> Option<u64> + Sync, is_empty: impl FnOnce() -> bool) -> Tally {
    let per_thread: Vec<Tally> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let pair = &pair;
                s.spawn(move || {
                    let mut tally = Tally { items: 0, sum: 0, in_order: true };
                    // The next value expected from each producer, for FIFO.
                    let mut next = [0u64; THREADS as usize];
                    for i in 0..PAIRS {
                        // A pop after our own push always finds a value: each
                        // thread has at most one value in flight.
                        let v = pair(value(t, i)).expect("a pop after a push found nothing");
                        tally.items += 1;
                        tally.sum = tally.sum.wrapping_add(v);
                        let (from, n) = ((v >> 32) as usize, v & 0xFFFF_FFFF);
                        tally.in_order &= n >= next[from];
                        next[from] = n + 1;
                    }
                    tally
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(is_empty(), "values left behind after every push was popped");
    per_thread.iter().fold(Tally { items: 0, sum: 0, in_order: true }, |a, b| Tally {
        items: a.items + b.items,
        sum: a.sum.wrapping_add(b.sum),
        in_order: a.in_order && b.in_order,
    })
}

fn expected() -> Tally {
    let mut sum = 0u64;
    for t in 0..THREADS {
        for i in 0..PAIRS {
            sum = sum.wrapping_add(value(t, i));
        }
    }
    Tally { items: THREADS * PAIRS, sum, in_order: true }
}

fn words(t: &Tally) -> String {
    format!("{} values popped, sum {}, container empty afterwards", t.items, t.sum)
}

fn seg_queue() -> Contender<'static> {
    Contender::new("crossbeam", "crossbeam_queue::SegQueue", || {
        let q = SegQueue::new();
        pairs(
            |v| {
                q.push(v);
                q.pop()
            },
            || q.is_empty(),
        )
    })
}

pub(crate) fn tour() -> Vec<Done> {
    let expected = expected();
    // A stack owes no order across threads; its row checks conservation
    // only, so its tally's order flag must not decide the comparison.
    let unordered = |mut t: Tally| {
        t.in_order = true;
        t
    };
    let stack = Row {
        primitive: "TreiberStack",
        workload: "push+pop pairs, values conserved".into(),
        threads: THREADS as usize,
        ops: THREADS * PAIRS,
        expected,
        order: "",
        contenders: vec![
            Contender::new("acqrel", "TreiberStack", move || {
                let s = TreiberStack::new();
                unordered(pairs(
                    |v| {
                        s.push(v);
                        s.pop()
                    },
                    || s.is_empty(),
                ))
            }),
            Contender::new("std", "Mutex<Vec>", move || {
                let s = Mutex::new(Vec::new());
                unordered(pairs(
                    |v| {
                        s.lock().unwrap().push(v);
                        s.lock().unwrap().pop()
                    },
                    || s.lock().unwrap().is_empty(),
                ))
            }),
            // No crate ships a maintained lock-free stack; where LIFO order
            // is not needed (a pool, a free list) SegQueue is what a user picks.
            Contender::new("crossbeam", "crossbeam_queue::SegQueue (pool)", move || {
                let q = SegQueue::new();
                unordered(pairs(
                    |v| {
                        q.push(v);
                        q.pop()
                    },
                    || q.is_empty(),
                ))
            }),
        ],
        describe: words,
        if_slower: "every push allocates a node and every pop sends it through crossbeam-epoch's \
                    collector (a pin per call), where Mutex<Vec> reuses one buffer and SegQueue \
                    allocates one block per 31 values; push_all/take_all batches cut that cost, \
                    and for one value at a time Mutex<Vec> is the faster stack (SegQueue where \
                    LIFO order does not matter).",
    }
    .run();

    let queue = Row {
        primitive: "MsQueue",
        workload: "push+pop pairs, FIFO per producer".into(),
        threads: THREADS as usize,
        ops: THREADS * PAIRS,
        expected,
        order: "each producer's FIFO order",
        contenders: vec![
            Contender::new("acqrel", "MsQueue", || {
                let q = MsQueue::new();
                pairs(
                    |v| {
                        q.push(v);
                        q.pop()
                    },
                    || q.is_empty(),
                )
            }),
            Contender::new("std", "Mutex<VecDeque>", || {
                let q = Mutex::new(VecDeque::new());
                pairs(
                    |v| {
                        q.lock().unwrap().push_back(v);
                        q.lock().unwrap().pop_front()
                    },
                    || q.lock().unwrap().is_empty(),
                )
            }),
            seg_queue(),
        ],
        describe: words,
        if_slower: "MsQueue allocates a node and pins an epoch per operation, where SegQueue \
                    claims slots in blocks of 31 values; for an unbounded MPMC queue use \
                    crossbeam_queue::SegQueue, and where producers and consumers are known \
                    spsc or the Disruptor.",
    }
    .run();
    vec![stack, queue]
}
