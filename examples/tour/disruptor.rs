//! Disruptor: one producer hands events to one consumer.
use crate::{Measured, Row};
use acqrel::disruptor::{Blocking, Builder};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc;
use std::thread;

const EVENTS: u64 = 2_000_000;

pub(crate) fn tour() -> Vec<Row> {
    println!("disruptor: 1 producer -> 1 consumer, {EVENTS} events, capacity 1024");

    let baseline = Measured::time("mpsc::sync_channel", EVENTS, || {
        let (tx, rx) = mpsc::sync_channel::<u64>(1024);
        let consumer = thread::spawn(move || rx.iter().sum::<u64>());
        for i in 0..EVENTS {
            tx.send(i).unwrap();
        }
        drop(tx);
        assert_eq!(consumer.join().unwrap(), EVENTS * (EVENTS - 1) / 2);
    });

    let sum = Arc::new(AtomicU64::new(0));
    let ours = Measured::time("Disruptor", EVENTS, || {
        let s = Arc::clone(&sum);
        let mut local = 0u64;
        let (mut producer, consumers) = Builder::single_producer(1024, || 0u64, Blocking::new())
            .handle_events_with(move |e: &u64, _, end: bool| {
                local += e;
                if end {
                    s.store(local, Relaxed);
                }
            })
            .build();
        for i in 0..EVENTS {
            producer.publish(|e| *e = i).unwrap();
        }
        drop(producer);
        consumers.join().unwrap();
    });
    assert_eq!(sum.load(Relaxed), EVENTS * (EVENTS - 1) / 2);

    vec![Row {
        primitive: "Disruptor",
        workload: "1P1C hand-off, blocking consumer".into(),
        ours,
        baseline,
    }]
}
