//! SPSC queue: one thread hands `u64` work items to another.
use crate::{Measured, Row};
use acqrel::spsc;
use std::sync::mpsc;
use std::thread;

const ITEMS: u64 = 5_000_000;
const CAPACITY: usize = 1024;

pub(crate) fn tour() -> Vec<Row> {
    println!("spsc: 1 producer -> 1 consumer, {ITEMS} u64 items, capacity {CAPACITY}");
    let expected = ITEMS * (ITEMS - 1) / 2;

    let (tx, rx) = mpsc::sync_channel::<u64>(CAPACITY);
    let mut sum = 0;
    let baseline = Measured::time("mpsc::sync_channel", ITEMS, || {
        thread::scope(|s| {
            s.spawn(move || {
                for i in 0..ITEMS {
                    tx.send(i).unwrap();
                }
            });
            sum = rx.iter().sum::<u64>();
        })
    });
    assert_eq!(sum, expected);

    let (mut producer, mut consumer) = spsc::bounded_blocking::<u64>(CAPACITY);
    let mut sum = 0;
    let ours = Measured::time("spsc::bounded_blocking", ITEMS, || {
        thread::scope(|s| {
            s.spawn(move || {
                for i in 0..ITEMS {
                    producer.push_blocking(i).unwrap();
                }
            });
            while let Ok(i) = consumer.pop_blocking() {
                sum += i;
            }
        })
    });
    assert_eq!(sum, expected);
    let blocking = Row {
        primitive: "spsc",
        workload: "1P1C u64, cap 1024, blocking calls".into(),
        ours,
        baseline,
    };

    let (tx, rx) = mpsc::sync_channel::<u64>(CAPACITY);
    let mut sum = 0;
    let baseline = Measured::time("mpsc::sync_channel", ITEMS, || {
        thread::scope(|s| {
            s.spawn(move || {
                for i in 0..ITEMS {
                    tx.send(i).unwrap();
                }
            });
            sum = rx.iter().sum::<u64>();
        })
    });
    assert_eq!(sum, expected);
    let (mut producer, mut consumer) = spsc::bounded::<u64>(CAPACITY);
    let mut sum = 0;
    let ours = Measured::time("spsc chunks", ITEMS, || {
        thread::scope(|s| {
            s.spawn(move || {
                let mut next = 0..ITEMS;
                while !next.is_empty() {
                    if producer.push_from_iter(&mut next) == 0 {
                        thread::yield_now();
                    }
                }
            });
            loop {
                let chunk = consumer.read_chunk(usize::MAX);
                if chunk.is_empty() {
                    if consumer.is_abandoned() && consumer.is_empty() {
                        break;
                    }
                    thread::yield_now();
                    continue;
                }
                sum += chunk.into_iter().sum::<u64>();
            }
        })
    });
    assert_eq!(sum, expected);
    let chunks =
        Row { primitive: "spsc", workload: "1P1C u64, cap 1024, chunk API".into(), ours, baseline };
    vec![blocking, chunks]
}
