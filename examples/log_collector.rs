//! A multi-producer log collector on `MsQueue`: request-handling threads
//! push structured log records without blocking each other, and one writer
//! thread drains the queue into a sink (an in-memory buffer here, a file or
//! socket in real life). Records of each producer arrive in the order that
//! producer logged them; none is lost or duplicated.
//!
//! ```text
//! cargo run --release --example log_collector
//! ```
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use acqrel::MsQueue;
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering::Acquire, Ordering::Release};
use std::thread;

const PRODUCERS: usize = 3;
const RECORDS: usize = 50_000;

/// One log record.
struct Record {
    producer: usize,
    sequence: usize,
    level: &'static str,
    message: String,
}

fn main() {
    let queue = MsQueue::new();
    let finished = AtomicUsize::new(0);
    let started = std::time::Instant::now();
    let (sink, counts) = thread::scope(|s| {
        for producer in 0..PRODUCERS {
            let (queue, finished) = (&queue, &finished);
            s.spawn(move || {
                // One pin per batch of records instead of one per record.
                for chunk in (0..RECORDS).collect::<Vec<_>>().chunks(64) {
                    let guard = crossbeam_epoch::pin();
                    for &sequence in chunk {
                        let level = if sequence % 97 == 0 { "WARN" } else { "INFO" };
                        let message = format!("request {sequence} served in {} us", sequence % 500);
                        queue.push_with(Record { producer, sequence, level, message }, &guard);
                    }
                }
                // Release: pairs with the writer's Acquire load below, so
                // once it sees every producer finished, their pushes
                // happen-before its last drain.
                finished.fetch_add(1, Release);
            });
        }
        let writer = s.spawn(|| {
            let mut sink = String::new();
            let mut next = [0usize; PRODUCERS];
            loop {
                let done = finished.load(Acquire) == PRODUCERS;
                let mut drained = 0;
                while let Some(r) = queue.pop() {
                    assert_eq!(r.sequence, next[r.producer], "producer {}'s order", r.producer);
                    next[r.producer] += 1;
                    writeln!(sink, "[{}] p{} #{} {}", r.level, r.producer, r.sequence, r.message)
                        .unwrap();
                    drained += 1;
                }
                if done {
                    break (sink, next);
                }
                if drained == 0 {
                    thread::yield_now();
                }
            }
        });
        writer.join().unwrap()
    });
    let elapsed = started.elapsed();
    assert!(counts.iter().all(|&c| c == RECORDS), "a record was lost: {counts:?}");
    assert_eq!(sink.lines().count(), PRODUCERS * RECORDS);
    let warnings = sink.lines().filter(|l| l.starts_with("[WARN]")).count();
    println!(
        "{} records from {PRODUCERS} producers collected in order in {:.2} s ({warnings} warnings)",
        PRODUCERS * RECORDS,
        elapsed.as_secs_f64()
    );
    println!("last line: {}", sink.lines().last().unwrap_or_default());
}
