//! Threads that sleep when idle: the Disruptor with `Blocking` consumers and
//! producers next to `std::sync::mpsc::sync_channel` and a bounded
//! `crossbeam-channel` (capacity 1024 for all), the multi-producer Disruptor
//! on more busy threads than cores next to the `disruptor` crate, and the
//! latency of bursty traffic (bursts of 1..=64 items, 50 µs apart) from
//! publish to handling for every blocking queue of the crate and the two
//! channels.
//!
//! The latency table is printed after criterion's groups when the bench runs
//! as a benchmark (`cargo bench --bench blocking`); as a test it runs a few
//! bursts per queue and checks that every item arrived, in order.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

#[cfg(not(loom))]
mod common;

#[cfg(not(loom))]
mod benches {
    use crate::common::threads_label;
    use acqrel::disruptor::{Blocking, Builder, BusySpin};
    use acqrel::spsc;
    use criterion::{BenchmarkId, Criterion, Throughput};
    use crossbeam_utils::CachePadded;
    use std::hint::black_box;
    use std::sync::atomic::{AtomicU64, Ordering::Acquire, Ordering::Release};
    use std::sync::{Arc, Mutex, OnceLock, mpsc};
    use std::thread;
    use std::time::{Duration, Instant};

    const CAPACITY: usize = 1024;

    /// Counts handled events and publishes the count at the end of each batch.
    fn counter() -> (Arc<CachePadded<AtomicU64>>, impl FnMut(&u64, bool) + Send + 'static) {
        let seen = Arc::new(CachePadded::new(AtomicU64::new(0)));
        let s = Arc::clone(&seen);
        let mut count = 0u64;
        (seen, move |e: &u64, end: bool| {
            black_box(*e);
            count += 1;
            if end {
                s.store(count, Release);
            }
        })
    }

    /// The timing thread waits for the consumer's last batch (yielding: with
    /// blocking consumers every thread of the run may share the two cores).
    fn wait_until(seen: &AtomicU64, n: u64) {
        while seen.load(Acquire) < n {
            thread::yield_now();
        }
    }

    fn disruptor_1p1c_blocking(n: u64) -> Duration {
        let (seen, mut count) = counter();
        let (mut p, c) = Builder::single_producer(CAPACITY, || 0u64, Blocking::new())
            .producer_wait(Blocking::new())
            .handle_events_with(move |e: &u64, _, end| count(e, end))
            .build();
        let t0 = Instant::now();
        for i in 0..n {
            p.publish(|e| *e = i).unwrap();
        }
        wait_until(&seen, n);
        let t = t0.elapsed();
        drop(p);
        c.join().unwrap();
        t
    }

    fn sync_channel_1p1c(n: u64) -> Duration {
        let (tx, rx) = mpsc::sync_channel::<u64>(CAPACITY);
        thread::scope(|s| {
            let consumer = s.spawn(move || {
                for _ in 0..n {
                    black_box(rx.recv().unwrap());
                }
            });
            let t0 = Instant::now();
            for i in 0..n {
                tx.send(i).unwrap();
            }
            consumer.join().unwrap();
            t0.elapsed()
        })
    }

    fn crossbeam_1p1c(n: u64) -> Duration {
        let (tx, rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
        thread::scope(|s| {
            let consumer = s.spawn(move || {
                for _ in 0..n {
                    black_box(rx.recv().unwrap());
                }
            });
            let t0 = Instant::now();
            for i in 0..n {
                tx.send(i).unwrap();
            }
            consumer.join().unwrap();
            t0.elapsed()
        })
    }

    /// One blocking producer, one blocking consumer (two threads).
    pub fn one_producer_one_consumer(c: &mut Criterion) {
        let mut g = c.benchmark_group("disruptor_1p1c_blocking");
        g.throughput(Throughput::Elements(1));
        let label = threads_label(2);
        g.bench_function(BenchmarkId::new("acqrel_blocking", &label), |b| {
            b.iter_custom(disruptor_1p1c_blocking)
        });
        g.bench_function(BenchmarkId::new("std_sync_channel", &label), |b| {
            b.iter_custom(sync_channel_1p1c)
        });
        g.bench_function(BenchmarkId::new("crossbeam_channel_bounded", &label), |b| {
            b.iter_custom(crossbeam_1p1c)
        });
        g.finish();
    }

    fn disruptor_2p1c_blocking(n: u64) -> Duration {
        let n = n.max(2) / 2 * 2;
        let (seen, mut count) = counter();
        let (p, c) = Builder::multi_producer(CAPACITY, || 0u64, Blocking::new())
            .producer_wait(Blocking::new())
            .handle_events_with(move |e: &u64, _, end| count(e, end))
            .build();
        let t0 = Instant::now();
        thread::scope(|s| {
            for _ in 0..2 {
                let mut p = p.clone();
                s.spawn(move || {
                    for i in 0..n / 2 {
                        p.publish(|e| *e = i).unwrap();
                    }
                });
            }
        });
        wait_until(&seen, n);
        let t = t0.elapsed();
        drop(p);
        c.join().unwrap();
        t
    }

    fn crossbeam_2p1c(n: u64) -> Duration {
        let n = n.max(2) / 2 * 2;
        let (tx, rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
        let t0 = Instant::now();
        thread::scope(|s| {
            for _ in 0..2 {
                let tx = tx.clone();
                s.spawn(move || (0..n / 2).for_each(|i| tx.send(i).unwrap()));
            }
            for _ in 0..n {
                black_box(rx.recv().unwrap());
            }
        });
        t0.elapsed()
    }

    fn disruptor_2p1c_busy_spin(n: u64) -> Duration {
        let n = n.max(2) / 2 * 2;
        let (seen, mut count) = counter();
        let (p, c) = Builder::multi_producer(CAPACITY, || 0u64, BusySpin)
            .producer_wait(BusySpin)
            .handle_events_with(move |e: &u64, _, end| count(e, end))
            .build();
        let t0 = Instant::now();
        thread::scope(|s| {
            for _ in 0..2 {
                let mut p = p.clone();
                s.spawn(move || {
                    for i in 0..n / 2 {
                        p.publish(|e| *e = i).unwrap();
                    }
                });
            }
        });
        wait_until(&seen, n);
        let t = t0.elapsed();
        drop(p);
        c.join().unwrap();
        t
    }

    fn disruptor_crate_2p1c_busy_spin(n: u64) -> Duration {
        use disruptor::Producer as _;
        let n = n.max(2) / 2 * 2;
        let (seen, mut count) = counter();
        let p = disruptor::build_multi_producer(CAPACITY, || 0u64, disruptor::BusySpin)
            .handle_events_with(move |e: &u64, _, end| count(e, end))
            .build();
        let t0 = Instant::now();
        thread::scope(|s| {
            for _ in 0..2 {
                let mut p = p.clone();
                s.spawn(move || {
                    for i in 0..n / 2 {
                        p.publish(|e| *e = i);
                    }
                });
            }
        });
        wait_until(&seen, n);
        let t = t0.elapsed();
        drop(p);
        t
    }

    /// Two producers and one consumer: three threads, more than this
    /// machine's two cores, so the labels say oversubscribed where they are.
    pub fn two_producers_one_consumer(c: &mut Criterion) {
        let label = threads_label(3);
        let mut g = c.benchmark_group("disruptor_2p1c_blocking");
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::new("acqrel_blocking", &label), |b| {
            b.iter_custom(disruptor_2p1c_blocking)
        });
        g.bench_function(BenchmarkId::new("crossbeam_channel_bounded", &label), |b| {
            b.iter_custom(crossbeam_2p1c)
        });
        g.finish();
        let mut g = c.benchmark_group("disruptor_2p1c_busy_spin");
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::new("acqrel", &label), |b| {
            b.iter_custom(disruptor_2p1c_busy_spin)
        });
        g.bench_function(BenchmarkId::new("disruptor_crate", &label), |b| {
            b.iter_custom(disruptor_crate_2p1c_busy_spin)
        });
        g.finish();
    }

    // ---- bursty latency ----

    /// Nanoseconds since the first call: the stamp an item carries.
    fn now_ns() -> u64 {
        static BASE: OnceLock<Instant> = OnceLock::new();
        BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }

    /// The burst sizes (1..=64) of a run, from a fixed xorshift sequence so
    /// every queue sees the same traffic.
    fn bursts(count: usize) -> Vec<usize> {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        (0..count)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 64) as usize + 1
            })
            .collect()
    }

    const GAP: Duration = Duration::from_micros(50);

    /// The producer's side of a run: each burst is sent back to back, then
    /// the producer waits out the gap (spinning on the clock, as a producer
    /// busy with other work would not sleep either). An item is its index
    /// and the time it was sent.
    fn produce(bursts: &[usize], mut send: impl FnMut(u64, u64)) {
        let mut index = 0;
        for &burst in bursts {
            for _ in 0..burst {
                send(index, now_ns());
                index += 1;
            }
            let until = Instant::now() + GAP;
            while Instant::now() < until {
                std::hint::spin_loop();
            }
        }
    }

    /// What a consumer saw: latencies in ns, and whether the indices came in
    /// order without a gap.
    #[derive(Default)]
    struct Seen {
        latencies: Vec<u64>,
        next: u64,
        in_order: bool,
    }

    impl Seen {
        fn new(total: usize) -> Self {
            Seen { latencies: Vec::with_capacity(total), next: 0, in_order: true }
        }
        fn record(&mut self, index: u64, stamp: u64) {
            self.latencies.push(now_ns().saturating_sub(stamp));
            self.in_order &= index == self.next;
            self.next += 1;
        }
    }

    fn spsc_bursty(bursts: &[usize]) -> Seen {
        let total: usize = bursts.iter().sum();
        let (mut p, mut c) = spsc::bounded_blocking::<(u64, u64)>(CAPACITY);
        thread::scope(|s| {
            let consumer = s.spawn(move || {
                let mut seen = Seen::new(total);
                while let Ok((index, stamp)) = c.pop_blocking() {
                    seen.record(index, stamp);
                }
                seen
            });
            produce(bursts, |i, t| p.push_blocking((i, t)).unwrap());
            drop(p);
            consumer.join().unwrap()
        })
    }

    fn disruptor_bursty(bursts: &[usize]) -> Seen {
        let total: usize = bursts.iter().sum();
        let seen = Arc::new(Mutex::new(Seen::new(total)));
        let mut local = Seen::new(total);
        let out = Arc::clone(&seen);
        let (mut p, c) = Builder::single_producer(CAPACITY, || (0u64, 0u64), Blocking::new())
            .producer_wait(Blocking::new())
            .handle_events_with(move |e: &(u64, u64), _, end| {
                local.record(e.0, e.1);
                if end && local.next == total as u64 {
                    *out.lock().unwrap() = std::mem::take(&mut local);
                }
            })
            .build();
        produce(bursts, |i, t| {
            p.publish(|e| *e = (i, t)).unwrap();
        });
        drop(p);
        c.join().unwrap();
        std::mem::take(&mut *seen.lock().unwrap())
    }

    fn crossbeam_bursty(bursts: &[usize]) -> Seen {
        let total: usize = bursts.iter().sum();
        let (tx, rx) = crossbeam_channel::bounded::<(u64, u64)>(CAPACITY);
        thread::scope(|s| {
            let consumer = s.spawn(move || {
                let mut seen = Seen::new(total);
                while let Ok((index, stamp)) = rx.recv() {
                    seen.record(index, stamp);
                }
                seen
            });
            produce(bursts, |i, t| tx.send((i, t)).unwrap());
            drop(tx);
            consumer.join().unwrap()
        })
    }

    fn sync_channel_bursty(bursts: &[usize]) -> Seen {
        let total: usize = bursts.iter().sum();
        let (tx, rx) = mpsc::sync_channel::<(u64, u64)>(CAPACITY);
        thread::scope(|s| {
            let consumer = s.spawn(move || {
                let mut seen = Seen::new(total);
                while let Ok((index, stamp)) = rx.recv() {
                    seen.record(index, stamp);
                }
                seen
            });
            produce(bursts, |i, t| tx.send((i, t)).unwrap());
            drop(tx);
            consumer.join().unwrap()
        })
    }

    type Run = fn(&[usize]) -> Seen;

    const QUEUES: [(&str, Run); 4] = [
        ("acqrel spsc (Blocking mode)", spsc_bursty),
        ("acqrel Disruptor (Blocking)", disruptor_bursty),
        ("crossbeam-channel bounded", crossbeam_bursty),
        ("std sync_channel", sync_channel_bursty),
    ];

    fn percentile(sorted: &[u64], p: f64) -> u64 {
        sorted[((sorted.len() - 1) as f64 * p).round() as usize]
    }

    /// Runs every queue `rounds` times, alternating them, over the same
    /// bursts; prints p50 and p99 of the latencies of all rounds together.
    pub fn bursty_latency(rounds: usize, bursts_per_round: usize, print: bool) {
        let bursts = bursts(bursts_per_round);
        let total: usize = bursts.iter().sum();
        let mut all: Vec<Vec<u64>> = vec![Vec::new(); QUEUES.len()];
        for _ in 0..rounds {
            for (q, (name, run)) in QUEUES.iter().enumerate() {
                let seen = run(&bursts);
                assert_eq!(seen.latencies.len(), total, "{name}: items lost or duplicated");
                assert!(seen.in_order, "{name}: items out of order");
                all[q].extend(seen.latencies);
            }
        }
        if !print {
            return;
        }
        println!(
            "\nbursty latency, publish to handling: {rounds} rounds x {bursts_per_round} bursts \
             of 1..=64 items ({total} items per round), 50 us gaps, queues alternated"
        );
        let base: Vec<u64> = {
            let mut v = all[2].clone();
            v.sort_unstable();
            vec![percentile(&v, 0.5), percentile(&v, 0.99)]
        };
        for (q, (name, _)) in QUEUES.iter().enumerate() {
            let mut v = std::mem::take(&mut all[q]);
            v.sort_unstable();
            let (p50, p99) = (percentile(&v, 0.5), percentile(&v, 0.99));
            println!(
                "  {name:<30} p50 {p50:>7} ns ({:.2}x crossbeam)   p99 {p99:>8} ns ({:.2}x crossbeam)",
                p50 as f64 / base[0] as f64,
                p99 as f64 / base[1] as f64
            );
        }
    }
}

#[cfg(not(loom))]
criterion::criterion_group! {
    name = blocking_benches;
    config = criterion::Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = benches::one_producer_one_consumer, benches::two_producers_one_consumer
}

#[cfg(not(loom))]
fn main() {
    blocking_benches();
    criterion::Criterion::default().configure_from_args().final_summary();
    // As a benchmark: the latency table; as a test: a short run that checks
    // every item arrived in order.
    if std::env::args().any(|a| a == "--bench") {
        benches::bursty_latency(5, 2000, true);
    } else {
        benches::bursty_latency(1, 50, false);
    }
}

#[cfg(loom)]
fn main() {}
