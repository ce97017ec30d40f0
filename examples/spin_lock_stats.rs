//! Request statistics behind a spin lock: worker threads handle simulated
//! requests and record each one's latency into a shared histogram with
//! count, sum, minimum and maximum. The critical section is a handful of
//! additions — the case a spin lock is for — and the fields must change
//! together, which is why this is a lock and not four atomics: a reader
//! taking a snapshot must never see a count that disagrees with the sum.
//!
//! ```text
//! cargo run --release --example spin_lock_stats
//! ```
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use acqrel::SpinLock;
use std::thread;

/// Latency buckets: bucket `b` holds latencies in `[2^b, 2^(b+1))` µs.
const BUCKETS: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Stats {
    count: u64,
    sum_us: u64,
    min_us: u64,
    max_us: u64,
    buckets: [u64; BUCKETS],
}

impl Stats {
    const fn new() -> Self {
        Self { count: 0, sum_us: 0, min_us: u64::MAX, max_us: 0, buckets: [0; BUCKETS] }
    }

    fn record(&mut self, latency_us: u64) {
        self.count += 1;
        self.sum_us += latency_us;
        self.min_us = self.min_us.min(latency_us);
        self.max_us = self.max_us.max(latency_us);
        let b = (63 - latency_us.max(1).leading_zeros() as usize).min(BUCKETS - 1);
        self.buckets[b] += 1;
    }

    /// The upper bound (µs) of the bucket holding the `q`-quantile.
    fn quantile_bound(&self, q: f64) -> u64 {
        let target = (self.count as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (b, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return 1 << (b + 1);
            }
        }
        u64::MAX
    }
}

/// A simulated request: some work, and a latency drawn from a skewed
/// distribution (deterministic per thread, so the totals can be checked).
fn handle_request(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    let r = *state % 1000;
    match r {
        0..=899 => 50 + r % 200,       // the common fast path
        900..=989 => 400 + r * 3,      // slower requests
        _ => 20_000 + (r - 990) * 500, // the tail
    }
}

fn main() {
    let stats_lock = SpinLock::new(Stats::new());
    const WORKERS: u64 = 4;
    const REQUESTS: u64 = 250_000;

    let expected_sum: u64 = thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let stats_lock = &stats_lock;
                s.spawn(move || {
                    let mut rng = 0x2545_F491_4F6C_DD1D ^ (w + 1);
                    let mut own_sum = 0;
                    for _ in 0..REQUESTS {
                        let latency = handle_request(&mut rng);
                        own_sum += latency;
                        stats_lock.lock().record(latency);
                    }
                    own_sum
                })
            })
            .collect();
        // A reporter takes consistent snapshots while the workers run.
        for _ in 0..5 {
            let snap = *stats_lock.lock();
            assert_eq!(snap.buckets.iter().sum::<u64>(), snap.count, "snapshot is consistent");
            thread::yield_now();
        }
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });

    let stats = *stats_lock.lock();
    assert_eq!(stats.count, WORKERS * REQUESTS, "every request was recorded once");
    assert_eq!(stats.sum_us, expected_sum, "no latency was lost or double-counted");
    println!("requests: {}", stats.count);
    println!(
        "latency µs: mean {:.0}, min {}, max {}, p50 < {}, p99 < {}, p99.9 < {}",
        stats.sum_us as f64 / stats.count as f64,
        stats.min_us,
        stats.max_us,
        stats.quantile_bound(0.5),
        stats.quantile_bound(0.99),
        stats.quantile_bound(0.999),
    );
    for (b, n) in stats.buckets.iter().enumerate().filter(|(_, n)| **n > 0) {
        println!("  [{:>6}, {:>6}) µs  {n}", 1u64 << b, 1u64 << (b + 1));
    }
}
