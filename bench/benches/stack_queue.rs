//! Stacks and queues side by side: push+pop pairs on every thread, through
//! one small trait per family. Stack: `TreiberStack` (pin per operation, a
//! `handle()` that repins every 128 operations, and `push_all`/`take_all`
//! batches of 16) against `Mutex<Vec>`. Queue: `MsQueue` (pin per operation,
//! a `handle()`, and `push_all`/`pop_many` batches of 16) against
//! `Mutex<VecDeque>`, `crossbeam_queue::SegQueue` and
//! `concurrent_queue::ConcurrentQueue::unbounded`. A harness baseline (the
//! same loop around nothing) and the cost of `crossbeam_epoch::pin` come
//! with them, and producers and consumers on separate threads (1P1C, 2P2C)
//! for the queues. Throughput is in pairs (or values) per second over all threads; compare
//! ratios within one run. More threads than cores are labelled
//! oversubscribed: there a preempted lock holder stalls every other thread.
//!
//! `crossbeam_queue` is not a dependency of the loom build, so under
//! `--cfg loom` this bench is an empty program.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;

#[cfg(not(loom))]
criterion::criterion_main!(imp::benches);

#[cfg(loom)]
fn main() {}

/// The benches (not built under loom).
#[cfg(not(loom))]
mod imp {

    use crate::common::{run_threads, threads_label};
    use acqrel::{MsQueue, TreiberStack};
    use concurrent_queue::ConcurrentQueue;
    use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
    use crossbeam_queue::SegQueue;
    use std::collections::VecDeque;
    use std::hint::black_box;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    use std::time::Duration;

    /// `push_all`/`take_all` batch size.
    const BATCH: u64 = 16;
    const THREADS: [usize; 3] = [1, 2, 4];

    /// A container under test: one push and one pop.
    trait Pair: Sync {
        fn pair(&self, value: u64) -> Option<u64>;
    }

    impl Pair for TreiberStack<u64> {
        fn pair(&self, value: u64) -> Option<u64> {
            self.push(value);
            self.pop()
        }
    }

    impl Pair for Mutex<Vec<u64>> {
        fn pair(&self, value: u64) -> Option<u64> {
            self.lock().unwrap().push(value);
            self.lock().unwrap().pop()
        }
    }

    impl Pair for MsQueue<u64> {
        fn pair(&self, value: u64) -> Option<u64> {
            self.push(value);
            self.pop()
        }
    }

    impl Pair for Mutex<VecDeque<u64>> {
        fn pair(&self, value: u64) -> Option<u64> {
            self.lock().unwrap().push_back(value);
            self.lock().unwrap().pop_front()
        }
    }

    impl Pair for SegQueue<u64> {
        fn pair(&self, value: u64) -> Option<u64> {
            self.push(value);
            self.pop()
        }
    }

    impl Pair for ConcurrentQueue<u64> {
        fn pair(&self, value: u64) -> Option<u64> {
            self.push(value).unwrap();
            self.pop().ok()
        }
    }

    /// The harness baseline: the same loop and `black_box`, no container.
    struct Nothing;

    impl Pair for Nothing {
        fn pair(&self, value: u64) -> Option<u64> {
            Some(value)
        }
    }

    fn bench_pairs<P: Pair>(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        label: &str,
        threads: usize,
        container: &P,
    ) {
        group.bench_function(BenchmarkId::new(name, label), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, |t, n| {
                    for i in 0..n {
                        black_box(black_box(container).pair(t as u64 * n + i));
                    }
                })
            })
        });
    }

    fn stack(c: &mut Criterion) {
        let mut group = c.benchmark_group("stack_push_pop_pairs");
        for threads in THREADS {
            let label = threads_label(threads);
            group.throughput(Throughput::Elements(threads as u64));
            bench_pairs(&mut group, "harness_baseline", &label, threads, &Nothing);
            bench_pairs(&mut group, "mutex_vec", &label, threads, &Mutex::new(Vec::new()));
            bench_pairs(&mut group, "treiber_stack", &label, threads, &TreiberStack::new());

            let stack = TreiberStack::new();
            group.bench_function(BenchmarkId::new("treiber_stack_handle", &label), |b| {
                b.iter_custom(|iters| {
                    run_threads(threads, iters, |t, n| {
                        let mut handle = stack.handle();
                        for i in 0..n {
                            handle.push(t as u64 * n + i);
                            black_box(handle.pop());
                        }
                    })
                })
            });

            let stack = TreiberStack::new();
            group.bench_function(BenchmarkId::new("treiber_stack_batch16", &label), |b| {
                b.iter_custom(|iters| {
                    run_threads(threads, iters, |t, n| {
                        // `n` pairs in batches: push_all 16, take_all (which may
                        // also take other threads' values; all are counted).
                        let mut i = 0;
                        while i < n {
                            let len = BATCH.min(n - i);
                            stack.push_all((i..i + len).map(|v| t as u64 * n + v));
                            for v in stack.take_all() {
                                black_box(v);
                            }
                            i += len;
                        }
                    })
                })
            });
        }
        group.finish();
    }

    fn queue(c: &mut Criterion) {
        let mut group = c.benchmark_group("queue_push_pop_pairs");
        for threads in THREADS {
            let label = threads_label(threads);
            group.throughput(Throughput::Elements(threads as u64));
            bench_pairs(&mut group, "harness_baseline", &label, threads, &Nothing);
            bench_pairs(
                &mut group,
                "mutex_vecdeque",
                &label,
                threads,
                &Mutex::new(VecDeque::new()),
            );
            bench_pairs(&mut group, "crossbeam_segqueue", &label, threads, &SegQueue::new());
            bench_pairs(
                &mut group,
                "concurrent_queue_unbounded",
                &label,
                threads,
                &ConcurrentQueue::unbounded(),
            );
            bench_pairs(&mut group, "ms_queue", &label, threads, &MsQueue::new());

            let queue = MsQueue::new();
            group.bench_function(BenchmarkId::new("ms_queue_handle", &label), |b| {
                b.iter_custom(|iters| {
                    run_threads(threads, iters, |t, n| {
                        let mut handle = queue.handle();
                        for i in 0..n {
                            handle.push(t as u64 * n + i);
                            black_box(handle.pop());
                        }
                    })
                })
            });

            let queue = MsQueue::new();
            group.bench_function(BenchmarkId::new("ms_queue_batch16", &label), |b| {
                b.iter_custom(|iters| {
                    run_threads(threads, iters, |t, n| {
                        // `n` pairs in batches: push_all 16, pop_many 16 (which may
                        // also take other threads' values, or fewer; all are counted).
                        let mut i = 0;
                        while i < n {
                            let len = BATCH.min(n - i);
                            queue.push_all((i..i + len).map(|v| t as u64 * n + v));
                            for v in queue.pop_many(BATCH as usize) {
                                black_box(v);
                            }
                            i += len;
                        }
                    })
                })
            });
        }
        group.finish();
    }

    /// A FIFO queue under test, for the producer/consumer runs.
    trait Fifo: Sync {
        fn put(&self, value: u64);
        fn take(&self) -> Option<u64>;
    }

    impl Fifo for MsQueue<u64> {
        fn put(&self, value: u64) {
            self.push(value);
        }
        fn take(&self) -> Option<u64> {
            self.pop()
        }
    }

    impl Fifo for Mutex<VecDeque<u64>> {
        fn put(&self, value: u64) {
            self.lock().unwrap().push_back(value);
        }
        fn take(&self) -> Option<u64> {
            self.lock().unwrap().pop_front()
        }
    }

    impl Fifo for SegQueue<u64> {
        fn put(&self, value: u64) {
            self.push(value);
        }
        fn take(&self) -> Option<u64> {
            self.pop()
        }
    }

    /// `pairs` producers each push `n` values while `pairs` consumers each
    /// pop `n` (yielding when they find the queue empty, so that an
    /// oversubscribed run does not spin against a descheduled producer);
    /// the consumers' sum checks that every value came out once.
    fn producers_consumers(
        pairs: usize,
        n: u64,
        put: impl Fn(u64) + Sync,
        take: impl Fn() -> Option<u64> + Sync,
    ) -> Duration {
        let sum = AtomicU64::new(0);
        let elapsed = run_threads(2 * pairs, n, |t, n| {
            if t < pairs {
                for i in 0..n {
                    put(i);
                }
            } else {
                let mut mine = 0;
                let mut got = 0;
                while got < n {
                    match take() {
                        Some(v) => {
                            mine += v;
                            got += 1;
                        }
                        None => std::thread::yield_now(),
                    }
                }
                sum.fetch_add(mine, Relaxed);
            }
        });
        assert_eq!(sum.into_inner(), pairs as u64 * (n * n.saturating_sub(1) / 2));
        elapsed
    }

    fn bench_producers_consumers<Q: Fifo>(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        label: &str,
        pairs: usize,
        queue: &Q,
    ) {
        group.bench_function(BenchmarkId::new(name, label), |b| {
            b.iter_custom(|iters| {
                producers_consumers(pairs, iters, |v| queue.put(v), || queue.take())
            })
        });
    }

    /// Producers and consumers on separate threads (1P1C, and 2P2C, which
    /// on two cores is oversubscribed): values per second through the queue.
    fn queue_producers_consumers(c: &mut Criterion) {
        let mut group = c.benchmark_group("queue_producers_consumers");
        for pairs in [1, 2] {
            let label = match threads_label(2 * pairs).strip_prefix(&format!("{}t", 2 * pairs)) {
                Some(rest) => format!("{pairs}p{pairs}c{rest}"),
                None => format!("{pairs}p{pairs}c"),
            };
            group.throughput(Throughput::Elements(pairs as u64));
            bench_producers_consumers(
                &mut group,
                "mutex_vecdeque",
                &label,
                pairs,
                &Mutex::new(VecDeque::new()),
            );
            bench_producers_consumers(
                &mut group,
                "crossbeam_segqueue",
                &label,
                pairs,
                &SegQueue::new(),
            );
            bench_producers_consumers(&mut group, "ms_queue", &label, pairs, &MsQueue::new());
            let queue = MsQueue::new();
            group.bench_function(BenchmarkId::new("ms_queue_handle", &label), |b| {
                b.iter_custom(|iters| {
                    let sum = AtomicU64::new(0);
                    let elapsed = run_threads(2 * pairs, iters, |t, n| {
                        let mut handle = queue.handle();
                        if t < pairs {
                            for i in 0..n {
                                handle.push(i);
                            }
                        } else {
                            let (mut mine, mut got) = (0, 0);
                            while got < n {
                                match handle.pop() {
                                    Some(v) => {
                                        mine += v;
                                        got += 1;
                                    }
                                    None => std::thread::yield_now(),
                                }
                            }
                            sum.fetch_add(mine, Relaxed);
                        }
                    });
                    assert_eq!(
                        sum.into_inner(),
                        pairs as u64 * (iters * iters.saturating_sub(1) / 2)
                    );
                    elapsed
                })
            });
        }
        group.finish();
    }

    /// What one pin costs: a full fence (x86: a locked exchange) when the thread
    /// is not pinned yet, a counter increment when it already is.
    fn pin(c: &mut Criterion) {
        let mut group = c.benchmark_group("epoch_pin");
        group.bench_function("pin_unpin", |b| b.iter(|| drop(black_box(crossbeam_epoch::pin()))));
        group.bench_function("pin_nested_in_held_guard", |b| {
            let _outer = crossbeam_epoch::pin();
            b.iter(|| drop(black_box(crossbeam_epoch::pin())))
        });
        group.finish();
    }

    criterion_group!(benches, stack, queue, queue_producers_consumers, pin);
}
