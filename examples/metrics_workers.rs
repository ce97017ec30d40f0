//! A worker pool instrumented through the `metrics` facade, with acqrel
//! counters behind it: the workers count jobs, bytes and failures with
//! `metrics::counter!` handles as any library would, and a small in-process
//! recorder backs every counter with a `ShardedCounter` (the hot totals,
//! bumped by every worker on every job) or a `Counter` (rare or
//! single-writer counts). A scraper thread reads the totals while the
//! workers run, as an exporter would, and checks that no total ever goes
//! down; at the end every total is checked against the jobs handed out.
//!
//! ```text
//! cargo run --release --example metrics_workers --features metrics
//! ```
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use acqrel::{Counter, ShardedCounter};
use metrics::{Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

const WORKERS: usize = 4;
const JOBS: u64 = 8_000_000;
/// Jobs a worker takes per ticket.
const BATCH: u64 = 256;
/// A worker publishes its running total (with `absolute`) every this many jobs.
const REPORT_EVERY: u64 = 4096;

/// The acqrel counter behind one metric.
#[derive(Debug)]
enum Backing {
    /// For totals that every worker bumps on every job: one cell per thread,
    /// summed when read.
    Sharded(Arc<ShardedCounter>),
    /// For everything else: one word.
    Plain(Arc<Counter>),
}

impl Backing {
    fn value(&self) -> u64 {
        match self {
            Backing::Sharded(c) => c.sum(),
            Backing::Plain(c) => c.get(),
        }
    }
}

/// The recorder: the first registration of a key makes its counter, and
/// every handle registered for that key afterwards shares it. Registration
/// is the cold path (a handle is registered once and then kept), so a
/// `Mutex` around the map is enough; counting never touches it.
#[derive(Debug, Clone)]
struct Registry {
    /// Metric names that get a `ShardedCounter`.
    hot: &'static [&'static str],
    counters: Arc<Mutex<HashMap<Key, Backing>>>,
}

impl Registry {
    fn new(hot: &'static [&'static str]) -> Self {
        Self { hot, counters: Arc::default() }
    }

    /// Every counter's current value, by `name{label=value,...}`.
    fn snapshot(&self) -> BTreeMap<String, u64> {
        let counters = self.counters.lock().unwrap();
        counters.iter().map(|(key, backing)| (render(key), backing.value())).collect()
    }

    /// Which kind of counter backs each metric.
    fn backings(&self) -> BTreeMap<String, &'static str> {
        let counters = self.counters.lock().unwrap();
        counters
            .iter()
            .map(|(key, backing)| {
                let kind = match backing {
                    Backing::Sharded(_) => "ShardedCounter",
                    Backing::Plain(_) => "Counter",
                };
                (render(key), kind)
            })
            .collect()
    }
}

fn render(key: &Key) -> String {
    let labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
    if labels.is_empty() {
        key.name().to_owned()
    } else {
        format!("{}{{{}}}", key.name(), labels.join(","))
    }
}

impl Recorder for Registry {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> metrics::Counter {
        let mut counters = self.counters.lock().unwrap();
        let backing = counters.entry(key.clone()).or_insert_with(|| {
            if self.hot.contains(&key.name()) {
                Backing::Sharded(Arc::new(ShardedCounter::new()))
            } else {
                Backing::Plain(Arc::new(Counter::new(0)))
            }
        });
        match backing {
            Backing::Sharded(c) => metrics::Counter::from_arc(Arc::clone(c)),
            Backing::Plain(c) => metrics::Counter::from_arc(Arc::clone(c)),
        }
    }

    // This example records counters only.
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

/// What job `id` is: its payload size, and why it fails, if it does.
fn job(id: u64) -> (u64, Option<&'static str>) {
    let size = 64 + (id.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54); // 64 ..= 1087 bytes
    let failure = if id % 1009 == 0 {
        Some("timeout")
    } else if id % 97 == 0 {
        Some("bad_input")
    } else {
        None
    };
    (size, failure)
}

/// One worker: takes batches of jobs until they run out, counting each job
/// through the facade. Returns how many jobs it ran.
fn worker(index: usize, next_batch: &Counter) -> u64 {
    // Handles are registered once, outside the loop: `increment` on them is
    // a call straight into the acqrel counter.
    let jobs = metrics::counter!("jobs_total");
    let bytes = metrics::counter!("bytes_total");
    let timeouts = metrics::counter!("jobs_failed_total", "reason" => "timeout");
    let bad_input = metrics::counter!("jobs_failed_total", "reason" => "bad_input");
    let mine = metrics::counter!("worker_jobs_total", "worker" => index.to_string());
    let mut done = 0;
    let mut checksum = 0u64;
    loop {
        let first = next_batch.fetch_add(BATCH);
        if first >= JOBS {
            break;
        }
        for id in first..(first + BATCH).min(JOBS) {
            let (size, failure) = job(id);
            // The "work": a few rounds of mixing per job.
            for round in 0..size / 64 {
                checksum = (checksum ^ id ^ round).wrapping_mul(0x100_0000_01b3);
            }
            jobs.increment(1);
            bytes.increment(size);
            match failure {
                Some("timeout") => timeouts.increment(1),
                Some(_) => bad_input.increment(1),
                None => {}
            }
            done += 1;
            if done % REPORT_EVERY == 0 {
                // A running total published as such: a repeated or late
                // report never counts twice (`absolute` keeps the largest).
                mine.absolute(done);
            }
        }
    }
    mine.absolute(done);
    std::hint::black_box(checksum);
    done
}

fn main() {
    let registry = Registry::new(&["jobs_total", "bytes_total"]);
    metrics::set_global_recorder(registry.clone()).expect("the first recorder installed");

    let next_batch = Counter::new(0); // the first job of the next batch
    let started = Instant::now();
    let (per_worker, scrapes) = thread::scope(|s| {
        let next_batch = &next_batch;
        let workers: Vec<_> =
            (0..WORKERS).map(|w| s.spawn(move || worker(w, next_batch))).collect();
        // The scraper: what an exporter would serve, read while the workers
        // count. Each total only grows, so no scrape may see one go down.
        let mut last = BTreeMap::new();
        let mut scrapes = 0;
        while workers.iter().any(|w| !w.is_finished()) {
            let now = registry.snapshot();
            for (name, value) in &last {
                assert!(now[name] >= *value, "{name} went down from {value} to {}", now[name]);
            }
            last = now;
            scrapes += 1;
            thread::yield_now();
        }
        let per_worker: Vec<u64> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        (per_worker, scrapes)
    });
    let elapsed = started.elapsed();

    // What the pool was given, computed on its own.
    let (mut bytes, mut timeouts, mut bad_input) = (0, 0, 0);
    for id in 0..JOBS {
        let (size, failure) = job(id);
        bytes += size;
        match failure {
            Some("timeout") => timeouts += 1,
            Some(_) => bad_input += 1,
            None => {}
        }
    }
    let totals = registry.snapshot();
    println!("{:<40} {:>12}  backed by", "metric", "value");
    let backings = registry.backings();
    for (name, value) in &totals {
        println!("{name:<40} {value:>12}  {}", backings[name]);
    }
    assert_eq!(totals["jobs_total"], JOBS);
    assert_eq!(totals["bytes_total"], bytes);
    assert_eq!(totals["jobs_failed_total{reason=timeout}"], timeouts);
    assert_eq!(totals["jobs_failed_total{reason=bad_input}"], bad_input);
    assert_eq!(per_worker.iter().sum::<u64>(), JOBS, "every job ran exactly once");
    for (w, done) in per_worker.iter().enumerate() {
        assert_eq!(totals[&format!("worker_jobs_total{{worker={w}}}")], *done);
    }
    assert_eq!(backings["jobs_total"], "ShardedCounter");
    assert_eq!(backings["jobs_failed_total{reason=timeout}"], "Counter");
    println!(
        "{JOBS} jobs on {WORKERS} workers in {:.2} s; {scrapes} scrapes while they ran, \
         no total ever went down; every total matches the jobs handed out",
        elapsed.as_secs_f64()
    );
}
