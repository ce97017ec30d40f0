//! The Disruptor side by side with the `disruptor` crate 4.x, a bounded
//! `crossbeam-channel` and `crossbeam_queue::ArrayQueue` (capacity 1024 for
//! all), through the same body: time from the first publish until the
//! consumer has handled the last event. Thread start-up and teardown are
//! outside the timed region except where noted. Also sequencer
//! micro-benchmarks (claim + publish on one thread) against an empty loop,
//! and a producer feeding a two-stage chain.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

#[cfg(not(loom))]
mod common;

#[cfg(not(loom))]
mod benches {
    use crate::common::threads_label;
    use acqrel::disruptor::{
        Builder, BusySpin, MultiProducerCursor, MultiProducerSequencer, Sequence, Sequencer,
        SingleProducerSequencer, Yielding,
    };
    use criterion::{BenchmarkId, Criterion, Throughput};
    use crossbeam_queue::ArrayQueue;
    use crossbeam_utils::{Backoff, CachePadded};
    use std::hint::black_box;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering::Acquire, Ordering::Release};
    use std::thread;
    use std::time::{Duration, Instant};

    const CAPACITY: usize = 1024;
    const BATCH: u64 = 64;

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

    fn wait_until(seen: &AtomicU64, n: u64) {
        while seen.load(Acquire) < n {
            std::hint::spin_loop();
        }
    }

    /// Our single producer, BusySpin; `batch` events per publish call.
    fn ours_1p1c(n: u64, batch: u64) -> Duration {
        let (seen, mut count) = counter();
        let (mut p, c) = Builder::single_producer(CAPACITY, || 0u64, BusySpin)
            .handle_events_with(move |e: &u64, _, end| count(e, end))
            .build();
        let t0 = Instant::now();
        if batch == 1 {
            for i in 0..n {
                p.publish(|e| *e = i).unwrap();
            }
        } else {
            for r in 0..n / batch {
                p.publish_batch(batch as usize, |e, i| *e = r * batch + i as u64).unwrap();
            }
        }
        wait_until(&seen, n / batch * batch);
        let t = t0.elapsed();
        drop(p);
        c.join().unwrap();
        t
    }

    fn peer_1p1c(n: u64, batch: u64) -> Duration {
        use disruptor::Producer as _;
        let (seen, mut count) = counter();
        let mut p = disruptor::build_single_producer(CAPACITY, || 0u64, disruptor::BusySpin)
            .handle_events_with(move |e: &u64, _, end| count(e, end))
            .build();
        let t0 = Instant::now();
        if batch == 1 {
            for i in 0..n {
                p.publish(|e| *e = i);
            }
        } else {
            for r in 0..n / batch {
                p.batch_publish(batch as usize, |it| {
                    for (i, e) in it.enumerate() {
                        *e = r * batch + i as u64;
                    }
                });
            }
        }
        wait_until(&seen, n / batch * batch);
        let t = t0.elapsed();
        drop(p);
        t
    }

    fn channel_1p1c(n: u64) -> Duration {
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

    fn array_queue_1p1c(n: u64) -> Duration {
        let q = ArrayQueue::<u64>::new(CAPACITY);
        thread::scope(|s| {
            let q2 = &q;
            let consumer = s.spawn(move || {
                let mut got = 0;
                while got < n {
                    match q2.pop() {
                        Some(v) => {
                            black_box(v);
                            got += 1;
                        }
                        None => std::hint::spin_loop(),
                    }
                }
            });
            let t0 = Instant::now();
            for i in 0..n {
                while q.push(i).is_err() {
                    std::hint::spin_loop();
                }
            }
            consumer.join().unwrap();
            t0.elapsed()
        })
    }

    pub fn one_producer_one_consumer(c: &mut Criterion) {
        let mut g = c.benchmark_group("disruptor_1p1c_busy_spin");
        g.throughput(Throughput::Elements(1));
        let label = threads_label(2);
        g.bench_function(BenchmarkId::new("acqrel", &label), |b| {
            b.iter_custom(|n| ours_1p1c(n, 1))
        });
        g.bench_function(BenchmarkId::new("disruptor_crate", &label), |b| {
            b.iter_custom(|n| peer_1p1c(n, 1))
        });
        g.bench_function(BenchmarkId::new("crossbeam_channel", &label), |b| {
            b.iter_custom(channel_1p1c)
        });
        g.bench_function(BenchmarkId::new("array_queue_spin", &label), |b| {
            b.iter_custom(array_queue_1p1c)
        });
        g.finish();

        let mut g = c.benchmark_group("disruptor_1p1c_batch64_busy_spin");
        g.throughput(Throughput::Elements(1));
        // Iteration counts round down to whole batches; the timing covers the events sent.
        g.bench_function(BenchmarkId::new("acqrel", &label), |b| {
            b.iter_custom(|n| ours_1p1c(n.max(BATCH), BATCH))
        });
        g.bench_function(BenchmarkId::new("disruptor_crate", &label), |b| {
            b.iter_custom(|n| peer_1p1c(n.max(BATCH), BATCH))
        });
        g.finish();
    }

    /// The `disruptor` crate has no yielding strategy; this one yields on every empty poll.
    #[derive(Clone, Copy)]
    struct PeerYield;
    impl disruptor::wait_strategies::WaitStrategy for PeerYield {
        fn wait_for(&self, _: disruptor::Sequence) {
            thread::yield_now();
        }
    }

    fn ours_2p1c(n: u64) -> Duration {
        let per = n / 2;
        let (seen, mut count) = counter();
        let (p, c) = Builder::multi_producer(CAPACITY, || 0u64, Yielding)
            .handle_events_with(move |e: &u64, _, end| count(e, end))
            .build();
        let t0 = Instant::now();
        thread::scope(|s| {
            for _ in 0..2 {
                let mut p = p.clone();
                s.spawn(move || {
                    for i in 0..per {
                        p.publish(|e| *e = i).unwrap();
                    }
                });
            }
        });
        wait_until(&seen, 2 * per);
        let t = t0.elapsed();
        drop(p);
        c.join().unwrap();
        t
    }

    fn peer_2p1c(n: u64) -> Duration {
        use disruptor::Producer as _;
        let per = n / 2;
        let (seen, mut count) = counter();
        let p = disruptor::build_multi_producer(CAPACITY, || 0u64, PeerYield)
            .handle_events_with(move |e: &u64, _, end| count(e, end))
            .build();
        let t0 = Instant::now();
        thread::scope(|s| {
            for _ in 0..2 {
                let mut p = p.clone();
                s.spawn(move || {
                    for i in 0..per {
                        p.publish(|e| *e = i);
                    }
                });
            }
        });
        wait_until(&seen, 2 * per);
        let t = t0.elapsed();
        drop(p);
        t
    }

    fn channel_2p1c(n: u64) -> Duration {
        let per = n / 2;
        let (tx, rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
        let t0 = Instant::now();
        thread::scope(|s| {
            for _ in 0..2 {
                let tx = tx.clone();
                s.spawn(move || {
                    for i in 0..per {
                        tx.send(i).unwrap();
                    }
                });
            }
            for _ in 0..2 * per {
                black_box(rx.recv().unwrap());
            }
        });
        t0.elapsed()
    }

    fn array_queue_2p1c(n: u64) -> Duration {
        let per = n / 2;
        let q = ArrayQueue::<u64>::new(CAPACITY);
        let t0 = Instant::now();
        thread::scope(|s| {
            for _ in 0..2 {
                let q = &q;
                s.spawn(move || {
                    let backoff = Backoff::new();
                    for i in 0..per {
                        while q.push(i).is_err() {
                            backoff.snooze();
                        }
                        backoff.reset();
                    }
                });
            }
            let backoff = Backoff::new();
            let mut got = 0;
            while got < 2 * per {
                match q.pop() {
                    Some(v) => {
                        black_box(v);
                        got += 1;
                        backoff.reset();
                    }
                    None => backoff.snooze(),
                }
            }
        });
        t0.elapsed()
    }

    pub fn two_producers_one_consumer(c: &mut Criterion) {
        let mut g = c.benchmark_group("disruptor_2p1c_yielding");
        g.throughput(Throughput::Elements(1));
        // Timed from before the producer threads start (their spawn is included).
        let label = threads_label(3);
        g.bench_function(BenchmarkId::new("acqrel", &label), |b| {
            b.iter_custom(|n| ours_2p1c(n.max(2)))
        });
        g.bench_function(BenchmarkId::new("disruptor_crate", &label), |b| {
            b.iter_custom(|n| peer_2p1c(n.max(2)))
        });
        g.bench_function(BenchmarkId::new("crossbeam_channel", &label), |b| {
            b.iter_custom(|n| channel_2p1c(n.max(2)))
        });
        g.bench_function(BenchmarkId::new("array_queue_spin_then_yield", &label), |b| {
            b.iter_custom(|n| array_queue_2p1c(n.max(2)))
        });
        g.finish();
    }

    /// One producer, two stages in a chain: the second stage sees an event
    /// only after the first has handled it. Three busy threads on two cores.
    fn ours_pipeline(n: u64) -> Duration {
        let (seen, mut count) = counter();
        let (mut p, c) = Builder::single_producer(CAPACITY, || 0u64, Yielding)
            .handle_events_with(|e: &u64, _, _| {
                black_box(*e);
            })
            .then(move |e: &u64, _, end| count(e, end))
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

    fn peer_pipeline(n: u64) -> Duration {
        use disruptor::Producer as _;
        let (seen, mut count) = counter();
        let mut p = disruptor::build_single_producer(CAPACITY, || 0u64, PeerYield)
            .handle_events_with(|e: &u64, _, _| {
                black_box(*e);
            })
            .and_then()
            .handle_events_with(move |e: &u64, _, end| count(e, end))
            .build();
        let t0 = Instant::now();
        for i in 0..n {
            p.publish(|e| *e = i);
        }
        wait_until(&seen, n);
        let t = t0.elapsed();
        drop(p);
        t
    }

    /// Two bounded channels in a chain, a thread per stage.
    fn channel_pipeline(n: u64) -> Duration {
        let (tx1, rx1) = crossbeam_channel::bounded::<u64>(CAPACITY);
        let (tx2, rx2) = crossbeam_channel::bounded::<u64>(CAPACITY);
        thread::scope(|s| {
            s.spawn(move || {
                for v in rx1 {
                    tx2.send(black_box(v)).unwrap();
                }
            });
            let t0 = Instant::now();
            s.spawn(move || {
                for i in 0..n {
                    tx1.send(i).unwrap();
                }
            });
            for _ in 0..n {
                black_box(rx2.recv().unwrap());
            }
            t0.elapsed()
        })
    }

    pub fn pipeline(c: &mut Criterion) {
        let mut g = c.benchmark_group("disruptor_pipeline_1p_2stages_yielding");
        g.throughput(Throughput::Elements(1));
        let label = threads_label(3);
        g.bench_function(BenchmarkId::new("acqrel", &label), |b| b.iter_custom(ours_pipeline));
        g.bench_function(BenchmarkId::new("disruptor_crate", &label), |b| {
            b.iter_custom(peer_pipeline)
        });
        g.bench_function(BenchmarkId::new("crossbeam_channel", &label), |b| {
            b.iter_custom(channel_pipeline)
        });
        g.finish();
    }

    pub fn sequencers(c: &mut Criterion) {
        let mut g = c.benchmark_group("disruptor_sequencer_claim_publish");
        g.throughput(Throughput::Elements(1));
        g.bench_function("harness_empty_loop", |b| {
            b.iter_custom(|n| {
                let t0 = Instant::now();
                for i in 0..n {
                    black_box(i);
                }
                t0.elapsed()
            })
        });
        g.bench_function("single_producer", |b| {
            b.iter_custom(|n| {
                let cursor = Arc::new(Sequence::new());
                let consumer = Arc::new(Sequence::new());
                let mut seq =
                    SingleProducerSequencer::new(cursor, CAPACITY, vec![Arc::clone(&consumer)]);
                let mut last = -1i64;
                let t0 = Instant::now();
                for _ in 0..n {
                    let hi = match seq.try_claim(1) {
                        Ok(hi) => hi,
                        Err(_) => {
                            // A consumer catching up once a lap: the gating re-read path.
                            consumer.set(last);
                            seq.try_claim(1).unwrap()
                        }
                    };
                    last = hi;
                    seq.publish(hi, hi);
                    black_box(hi);
                }
                t0.elapsed()
            })
        });
        g.bench_function("multi_producer_uncontended", |b| {
            b.iter_custom(|n| {
                let cursor = Arc::new(MultiProducerCursor::new(CAPACITY));
                let mut seq = MultiProducerSequencer::new(cursor, vec![]);
                let t0 = Instant::now();
                for _ in 0..n {
                    let hi = seq.try_claim(1).unwrap();
                    seq.publish(hi, hi);
                    black_box(hi);
                }
                t0.elapsed()
            })
        });
        g.finish();
    }
}

#[cfg(not(loom))]
criterion::criterion_group! {
    name = disruptor_benches;
    config = criterion::Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = benches::one_producer_one_consumer, benches::two_producers_one_consumer, benches::pipeline, benches::sequencers
}
#[cfg(not(loom))]
criterion::criterion_main!(disruptor_benches);

#[cfg(loom)]
fn main() {}
