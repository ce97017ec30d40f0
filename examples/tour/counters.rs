//! Counters: a settlement-style total from several threads.
use crate::{Measured, Row};
use acqrel::{Counter, ShardedCounter};
use std::sync::Mutex;
use std::thread;

const THREADS: u64 = 2;
const PER_THREAD: u64 = 10_000_000;

pub(crate) fn tour() -> Vec<Row> {
    println!("counters: {THREADS} threads x {PER_THREAD} increments each");
    let total = THREADS * PER_THREAD;

    let mutex = Mutex::new(0u64);
    let baseline = Measured::time("Mutex<u64>", total, || {
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for _ in 0..PER_THREAD {
                        *mutex.lock().unwrap() += 1;
                    }
                });
            }
        })
    });
    assert_eq!(*mutex.lock().unwrap(), total);

    let counter = Counter::new(0);
    let ours = Measured::time("Counter", total, || {
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for _ in 0..PER_THREAD {
                        counter.increment();
                    }
                });
            }
        })
    });
    assert_eq!(counter.get(), total);
    let counter_row =
        Row { primitive: "Counter", workload: "shared total, 2 threads".into(), ours, baseline };

    let mutex = Mutex::new(0u64);
    let baseline = Measured::time("Mutex<u64>", total, || {
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for _ in 0..PER_THREAD {
                        *mutex.lock().unwrap() += 1;
                    }
                });
            }
        })
    });
    let sharded = ShardedCounter::new();
    let ours = Measured::time("ShardedCounter", total, || {
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    let local = sharded.local();
                    for _ in 0..PER_THREAD {
                        local.inc();
                    }
                });
            }
        })
    });
    assert_eq!(sharded.sum(), total);
    let sharded_row = Row {
        primitive: "ShardedCounter",
        workload: "per-thread cells, 2 threads".into(),
        ours,
        baseline,
    };
    vec![counter_row, sharded_row]
}
