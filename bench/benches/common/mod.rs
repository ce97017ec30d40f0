//! Shared criterion harness: run a body on N threads released together by a
//! barrier, timing only the hot loop.
#![allow(dead_code, clippy::disallowed_types, clippy::disallowed_methods)]

use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

/// Runs `body(thread_index, iters)` on `threads` threads at once and returns
/// the wall time from their common start to the last one's end.
pub fn run_threads<F>(threads: usize, iters: u64, body: F) -> Duration
where
    F: Fn(usize, u64) + Sync,
{
    let start = Barrier::new(threads + 1);
    let end = Barrier::new(threads + 1);
    thread::scope(|s| {
        for t in 0..threads {
            let (start, end, body) = (&start, &end, &body);
            s.spawn(move || {
                start.wait();
                body(t, iters);
                end.wait();
            });
        }
        start.wait();
        let t0 = Instant::now();
        end.wait();
        t0.elapsed()
    })
}

/// A label for a thread count: anything above the machine's cores is
/// oversubscribed and says so.
pub fn threads_label(threads: usize) -> String {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    if threads > cores { format!("{threads}t-oversubscribed") } else { format!("{threads}t") }
}
