//! Counters: two threads count events into one total.
//!
//! No crate beats a `std` atomic at counting, so the rivals here are both
//! from `std`: `AtomicU64::fetch_add` (what most code reaches for) and
//! `Mutex<u64>`.
use crate::{Contender, Done, Row, Tally};
use acqrel::{Counter, ShardedCounter};
use std::hint::black_box;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::thread;

const THREADS: u64 = 2;
const PER_THREAD: u64 = 5_000_000;
const TOTAL: u64 = THREADS * PER_THREAD;

/// Runs `count` on every thread; each returns the sum of the tickets it drew
/// (the value before its increment), and the tally is the final total read
/// by `total` with the sum of all tickets. Unique tickets `0..TOTAL` sum to
/// `TOTAL * (TOTAL - 1) / 2`.
fn tickets(count: impl Fn() -> u64 + Sync, total: impl FnOnce() -> u64) -> Tally {
    let sum = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| s.spawn(|| (0..PER_THREAD).fold(0u64, |sum, _| sum.wrapping_add(count()))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).fold(0u64, u64::wrapping_add)
    });
    Tally { items: total(), sum, in_order: true }
}

fn tickets_words(t: &Tally) -> String {
    format!("final total {}, sum of the tickets handed out {} (each ticket once)", t.items, t.sum)
}

/// Without tickets: every thread runs `body(PER_THREAD)`, which counts that
/// many events and returns how many it counted; the tally is the total read
/// at the end and the sum of the per-thread counts.
fn events(body: impl Fn(u64) -> u64 + Sync, total: impl FnOnce() -> u64) -> Tally {
    let sum = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS).map(|_| s.spawn(|| body(PER_THREAD))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    Tally { items: total(), sum, in_order: true }
}

/// Counts `n` events with `inc` and returns how many it counted.
#[inline]
fn count(n: u64, mut inc: impl FnMut()) -> u64 {
    let mut made = 0;
    for _ in 0..n {
        inc();
        made += 1;
    }
    made
}

fn events_words(t: &Tally) -> String {
    format!("final total {}, increments made {}", t.items, t.sum)
}

pub(crate) fn tour() -> Vec<Done> {
    let counter = Row {
        primitive: "Counter",
        workload: "one shared total, increment() as tickets".into(),
        threads: THREADS as usize,
        ops: TOTAL,
        expected: Tally::of_range(TOTAL),
        order: "",
        contenders: vec![
            Contender::new("acqrel", "Counter::increment", || {
                let c = Counter::new(0);
                tickets(|| black_box(&c).increment(), || c.get())
            }),
            Contender::new("std", "AtomicU64::fetch_add(Relaxed)", || {
                let c = AtomicU64::new(0);
                tickets(|| black_box(&c).fetch_add(1, Relaxed), || c.load(Relaxed))
            }),
            Contender::new("std", "Mutex<u64>", || {
                let c = Mutex::new(0u64);
                tickets(
                    || {
                        let mut g = black_box(&c).lock().unwrap();
                        *g += 1;
                        *g - 1
                    },
                    || *c.lock().unwrap(),
                )
            }),
        ],
        describe: tickets_words,
        if_slower: "Counter::increment is the same single fetch_add as the atomic, so a gap here \
                    is noise between runs; for a total many threads bump, ShardedCounter \
                    (next row) keeps a cell per thread and does not contend.",
    }
    .run();

    let sharded = Row {
        primitive: "ShardedCounter",
        workload: "one shared total, per-thread handle".into(),
        threads: THREADS as usize,
        ops: TOTAL,
        expected: Tally { items: TOTAL, sum: TOTAL, in_order: true },
        order: "",
        contenders: vec![
            Contender::new("acqrel", "ShardedCounter::local().inc()", || {
                let c = ShardedCounter::new();
                events(
                    |n| {
                        // One handle per thread, taken once, as a worker would.
                        let local = c.local();
                        count(n, || black_box(&local).inc())
                    },
                    || c.sum(),
                )
            }),
            Contender::new("std", "AtomicU64::fetch_add(Relaxed)", || {
                let c = AtomicU64::new(0);
                events(
                    |n| {
                        count(n, || {
                            black_box(&c).fetch_add(1, Relaxed);
                        })
                    },
                    || c.load(Relaxed),
                )
            }),
            Contender::new("std", "Mutex<u64>", || {
                let c = Mutex::new(0u64);
                events(|n| count(n, || *black_box(&c).lock().unwrap() += 1), || *c.lock().unwrap())
            }),
        ],
        describe: events_words,
        if_slower: "a sharded increment touches only its own cell, so only a machine where the \
                    two threads share a core should show this; if reads dominate, a plain \
                    Counter is one load per read where ShardedCounter::sum scans every cell.",
    }
    .run();
    vec![counter, sharded]
}
