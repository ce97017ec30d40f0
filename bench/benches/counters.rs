//! Counters side by side: the physical floor (a plain per-thread increment),
//! `AtomicU64::fetch_add`, `Mutex<u64>`, `Counter`, and `ShardedCounter`
//! through its convenience call and its per-thread handle. Throughput is in
//! increments per second over all threads; compare ratios within one run.
#![allow(clippy::disallowed_types)]

mod common;

use acqrel::{Counter, ShardedCounter};
use common::{run_threads, threads_label};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crossbeam_utils::CachePadded;
use std::hint::black_box;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

fn increments(c: &mut Criterion) {
    let mut group = c.benchmark_group("counter_increment");
    for threads in [1usize, 2] {
        let label = threads_label(threads);
        group.throughput(Throughput::Elements(threads as u64));

        group.bench_function(BenchmarkId::new("plain_per_thread_floor", &label), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, |_, n| {
                    let mut cell = CachePadded::new(0u64);
                    for _ in 0..n {
                        *black_box(&mut *cell) += 1;
                    }
                    black_box(*cell);
                })
            })
        });
        group.bench_function(BenchmarkId::new("atomic_fetch_add_shared", &label), |b| {
            let shared = CachePadded::new(AtomicU64::new(0));
            b.iter_custom(|iters| {
                run_threads(threads, iters, |_, n| {
                    for _ in 0..n {
                        black_box(&*shared).fetch_add(1, Relaxed);
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::new("mutex_u64", &label), |b| {
            let shared = Mutex::new(0u64);
            b.iter_custom(|iters| {
                run_threads(threads, iters, |_, n| {
                    for _ in 0..n {
                        *black_box(&shared).lock().unwrap() += 1;
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::new("acqrel_counter", &label), |b| {
            let shared = Counter::new(0);
            b.iter_custom(|iters| {
                run_threads(threads, iters, |_, n| {
                    for _ in 0..n {
                        black_box(&shared).increment();
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::new("acqrel_sharded_inc", &label), |b| {
            let shared = ShardedCounter::new();
            b.iter_custom(|iters| {
                run_threads(threads, iters, |_, n| {
                    for _ in 0..n {
                        black_box(&shared).inc();
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::new("acqrel_sharded_local", &label), |b| {
            let shared = ShardedCounter::new();
            b.iter_custom(|iters| {
                run_threads(threads, iters, |_, n| {
                    let local = shared.local();
                    for _ in 0..n {
                        black_box(&local).inc();
                    }
                })
            })
        });
    }
    group.finish();
}

fn reads(c: &mut Criterion) {
    let mut group = c.benchmark_group("counter_read");
    let sharded = ShardedCounter::new();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| sharded.inc());
        }
    });
    group.bench_function("sharded_sum_2_cells", |b| b.iter(|| black_box(&sharded).sum()));
    let single = AtomicU64::new(0);
    group.bench_function("atomic_load_baseline", |b| b.iter(|| black_box(&single).load(Relaxed)));
    group.finish();
}

criterion_group!(benches, increments, reads);
criterion_main!(benches);
