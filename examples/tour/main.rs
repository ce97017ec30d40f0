//! A tour of acqrel: each primitive on a small real workload, timed next to
//! the std baseline a user would otherwise reach for. Runs in well under 30 s:
//!
//! ```text
//! cargo run --release --example tour
//! ```
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod counters;
mod disruptor;
mod spin_lock;
mod spsc;
mod stack_queue;

use std::time::{Duration, Instant};

/// One line of the tour's table.
pub(crate) struct Row {
    pub(crate) primitive: &'static str,
    pub(crate) workload: String,
    pub(crate) ours: Measured,
    pub(crate) baseline: Measured,
}

/// A named implementation's throughput on a workload.
pub(crate) struct Measured {
    pub(crate) name: &'static str,
    pub(crate) ops: u64,
    pub(crate) elapsed: Duration,
}

impl Measured {
    pub(crate) fn time(name: &'static str, ops: u64, f: impl FnOnce()) -> Self {
        let t0 = Instant::now();
        f();
        Self { name, ops, elapsed: t0.elapsed() }
    }

    fn mops(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64() / 1e6
    }
}

fn main() {
    let started = Instant::now();
    let mut rows = Vec::new();
    rows.extend(counters::tour());
    rows.extend(spsc::tour());
    rows.extend(disruptor::tour());
    rows.extend(spin_lock::tour());
    rows.extend(stack_queue::tour());

    println!();
    println!(
        "{:<16} {:<44} {:>26} {:>26} {:>7}",
        "primitive", "workload", "acqrel (M ops/s)", "baseline (M ops/s)", "ratio"
    );
    for row in &rows {
        println!(
            "{:<16} {:<44} {:>26} {:>26} {:>6.1}x",
            row.primitive,
            row.workload,
            format!("{} {:.1}", row.ours.name, row.ours.mops()),
            format!("{} {:.1}", row.baseline.name, row.baseline.mops()),
            row.ours.mops() / row.baseline.mops()
        );
    }
    println!("\ntour finished in {:.1} s", started.elapsed().as_secs_f64());
}
