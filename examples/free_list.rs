//! A buffer pool on `TreiberStack`: worker threads take a 64 KiB buffer
//! from a shared free list, fill it, checksum it and give it back, instead of
//! allocating one per job. The pool hands every buffer to one worker at a
//! time (a popped buffer is that worker's alone) and never allocates after
//! warm-up beyond what the free list's nodes cost; at the end every buffer
//! is accounted for.
//!
//! ```text
//! cargo run --release --example free_list
//! ```
#![allow(clippy::disallowed_types)]

use acqrel::TreiberStack;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::thread;

const BUFFER: usize = 64 * 1024;
const WORKERS: usize = 4;
const JOBS: usize = 20_000;

/// A pool of reusable buffers: `get` pops one (allocating only when the
/// list is empty), `put` pushes it back.
struct Pool {
    free: TreiberStack<Box<[u8]>>,
    allocated: AtomicUsize,
}

impl Pool {
    fn new() -> Self {
        Self { free: TreiberStack::new(), allocated: AtomicUsize::new(0) }
    }

    fn get(&self) -> Box<[u8]> {
        self.free.pop().unwrap_or_else(|| {
            self.allocated.fetch_add(1, Relaxed);
            vec![0; BUFFER].into_boxed_slice()
        })
    }

    fn put(&self, buffer: Box<[u8]>) {
        self.free.push(buffer);
    }
}

/// The work: fill the buffer from the job number and checksum it.
fn job(buffer: &mut [u8], n: usize) -> u64 {
    for (i, b) in buffer.iter_mut().enumerate() {
        *b = (n.wrapping_mul(31) ^ i) as u8;
    }
    buffer.iter().map(|&b| u64::from(b)).sum()
}

fn main() {
    let pool = Pool::new();
    let started = std::time::Instant::now();
    let checksums: Vec<u64> = thread::scope(|s| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                let pool = &pool;
                s.spawn(move || {
                    let mut sum = 0u64;
                    for n in (w..JOBS).step_by(WORKERS) {
                        let mut buffer = pool.get();
                        sum = sum.wrapping_add(job(&mut buffer, n));
                        pool.put(buffer);
                    }
                    sum
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();

    // The same checksums computed with a fresh buffer per job.
    let mut scratch = vec![0; BUFFER];
    let expected: u64 = (0..JOBS).fold(0u64, |acc, n| acc.wrapping_add(job(&mut scratch, n)));
    let total = checksums.iter().fold(0u64, |acc, &c| acc.wrapping_add(c));
    assert_eq!(total, expected, "a buffer was shared between two jobs");

    let allocated = pool.allocated.load(Relaxed);
    let returned = pool.free.take_all().count();
    assert_eq!(returned, allocated, "every buffer came back to the pool");
    assert!(allocated <= WORKERS, "at most one buffer per worker is ever needed");
    println!(
        "{JOBS} jobs on {WORKERS} workers in {:.2} s with {allocated} buffers of {} KiB \
         (one allocation per job would have made {JOBS})",
        elapsed.as_secs_f64(),
        BUFFER / 1024
    );
}
