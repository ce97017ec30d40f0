//! The `metrics` feature: `Counter` and `ShardedCounter` back the counters
//! of a `metrics` recorder, and the `counter!` macro reaches them.
#![cfg(feature = "metrics")]
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use acqrel::{Counter, ShardedCounter};
use metrics::{CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use std::sync::Arc;
use std::thread;

/// A recorder that hands out one `Counter` for the key `plain` and one
/// `ShardedCounter` for every other key.
struct Backed {
    plain: Arc<Counter>,
    sharded: Arc<ShardedCounter>,
}

impl Recorder for Backed {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> metrics::Counter {
        if key.name() == "plain" {
            metrics::Counter::from_arc(Arc::clone(&self.plain))
        } else {
            metrics::Counter::from_arc(Arc::clone(&self.sharded))
        }
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[test]
fn a_recorder_backed_by_both_counters_sees_every_count() {
    let recorder =
        Backed { plain: Arc::new(Counter::new(0)), sharded: Arc::new(ShardedCounter::new()) };
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("plain").increment(3);
        metrics::counter!("sharded").increment(4);
        metrics::counter!("plain").absolute(10);
        metrics::counter!("sharded").absolute(20);
        // Late reports of older totals change nothing.
        metrics::counter!("plain").absolute(2);
        metrics::counter!("sharded").absolute(5);
        metrics::counter!("sharded").increment(1);
    });
    assert_eq!(recorder.plain.get(), 10);
    assert_eq!(recorder.sharded.sum(), 21);
}

/// The handles `from_arc` makes are `Send + Sync` and count from many threads.
#[test]
fn handles_count_from_many_threads() {
    let per_worker = if cfg!(miri) { 50 } else { 50_000 };
    let plain = Arc::new(Counter::new(0));
    let sharded = Arc::new(ShardedCounter::new());
    let (a, b) = (
        metrics::Counter::from_arc(Arc::clone(&plain)),
        metrics::Counter::from_arc(Arc::clone(&sharded)),
    );
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..per_worker {
                    a.increment(1);
                    b.increment(2);
                }
            });
        }
    });
    assert_eq!(plain.get(), 4 * per_worker);
    assert_eq!(sharded.sum(), 8 * per_worker);
}

/// `absolute` is "at least": from racing reporters, the largest total wins,
/// whatever order the reports arrive in.
#[test]
fn racing_absolute_reports_keep_the_largest() {
    let plain = Counter::new(0);
    let sharded = ShardedCounter::new();
    thread::scope(|s| {
        for w in 0..4u64 {
            let (plain, sharded) = (&plain, &sharded);
            s.spawn(move || {
                for total in (0..100u64).map(|i| i * 4 + w) {
                    CounterFn::absolute(plain, total);
                    CounterFn::absolute(sharded, total);
                }
            });
        }
    });
    assert_eq!(plain.get(), 399);
    assert_eq!(sharded.sum(), 399);
}
