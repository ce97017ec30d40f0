//! A multi-producer log collector on `MsQueue`: request-handling threads
//! push structured log records without blocking each other, and one writer
//! thread drains the queue into a sink (an in-memory buffer here, a file or
//! socket in real life). Records of each producer arrive in the order that
//! producer logged them; none is lost or duplicated.
//!
//! ```text
//! cargo run --release --example log_collector
//! ```
#![allow(clippy::disallowed_methods)]

use acqrel::{Counter, MsQueue, epoch};
use std::fmt::Write;
use std::thread;

const PRODUCERS: usize = 3;
const RECORDS: usize = 50_000;
/// Records a producer pushes under one epoch pin.
const BATCH: usize = 64;

/// One log record.
struct Record {
    producer: usize,
    sequence: usize,
    level: &'static str,
    message: String,
}

fn main() {
    let queue = MsQueue::new();
    let finished = Counter::new(0); // producers done
    let started = std::time::Instant::now();
    let (sink, counts) = thread::scope(|s| {
        for producer in 0..PRODUCERS {
            let (queue, finished) = (&queue, &finished);
            s.spawn(move || {
                // One pin per batch of records instead of one per record.
                for first in (0..RECORDS).step_by(BATCH) {
                    let guard = epoch::pin();
                    for sequence in first..(first + BATCH).min(RECORDS) {
                        let level = if sequence % 97 == 0 { "WARN" } else { "INFO" };
                        let message = format!("request {sequence} served in {} us", sequence % 500);
                        queue.push_with(Record { producer, sequence, level, message }, &guard);
                    }
                }
                // Release: pairs with the writer's `get_acquire` below, so
                // once it sees every producer finished, their pushes
                // happen-before its last drain.
                finished.add_release(1);
            });
        }
        let writer = s.spawn(|| {
            let mut sink = String::new();
            let mut next = [0usize; PRODUCERS];
            loop {
                let done = finished.get_acquire() == PRODUCERS as u64;
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
