//! How much CPU an idle Disruptor burns, per wait strategy: the consumers
//! (and a producer facing a full ring) wait for one second with nothing to
//! do, and the process's CPU time over that second is read from
//! `/proc/self/task/*/schedstat` (nanoseconds per thread; Linux only).
//!
//! `Blocking` consumers sleep on a condition variable, so their idle cost is
//! the spin before they fall asleep; `BusySpin` is shown for scale. The
//! program fails if the idle `Blocking` Disruptor uses more than 10 % of a
//! core (a sign that something spins instead of sleeping).
//!
//! ```text
//! cargo run --release --example disruptor_idle_cpu
//! ```
#![allow(clippy::disallowed_methods)]

use acqrel::Counter;
use acqrel::disruptor::{Blocking, Builder, BusySpin, WaitStrategy};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EVENTS: u64 = 1000;

/// CPU time of every thread of this process so far, in nanoseconds, or
/// `None` where `/proc` has no schedstat.
fn process_cpu_ns() -> Option<u64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("schedstat");
        let text = std::fs::read_to_string(path).ok()?;
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// Builds a Disruptor of `consumers` handlers, each waiting with its own
/// strategy from `make`, whose producer sleeps on a full ring; lets it
/// handle a few events, then measures one idle second. Returns the CPU used
/// as a percentage of one core.
fn idle_percent<W: WaitStrategy>(make: impl Fn() -> W, consumers: usize) -> Option<f64> {
    let handled = Arc::new(Counter::new(0));
    // The first consumer makes the builder buildable (its type says so);
    // the rest join the same stage.
    let h = Arc::clone(&handled);
    let mut builder = Builder::single_producer(64, || 0u64, BusySpin).handle_events_with_wait(
        move |_, _, _| {
            h.increment();
        },
        make(),
    );
    for _ in 1..consumers {
        let h = Arc::clone(&handled);
        builder = builder.handle_events_with_wait(
            move |_, _, _| {
                h.increment();
            },
            make(),
        );
    }
    let (mut producer, joined) = builder.producer_wait(Blocking::new()).build();
    for i in 0..EVENTS {
        producer.publish(|e| *e = i).unwrap();
    }
    // Wait until every consumer has handled every event; from here on they
    // only wait.
    while handled.get() < EVENTS * consumers as u64 {
        std::thread::yield_now();
    }
    let (cpu0, t0) = (process_cpu_ns()?, Instant::now());
    // The idle second being measured.
    std::thread::sleep(Duration::from_secs(1));
    let (cpu1, wall) = (process_cpu_ns()?, t0.elapsed());
    drop(producer);
    joined.join().unwrap();
    assert_eq!(handled.get(), EVENTS * consumers as u64);
    Some((cpu1 - cpu0) as f64 / wall.as_nanos() as f64 * 100.0)
}

fn main() {
    let Some(blocking) = idle_percent(Blocking::new, 4) else {
        println!("no /proc/self/task/*/schedstat here: nothing measured");
        return;
    };
    println!("idle 1 s, 4 Blocking consumers + a Blocking producer: {blocking:.3}% of one core");
    assert!(blocking < 10.0, "idle Blocking consumers used {blocking:.1}% of a core");
    let spin = idle_percent(|| BusySpin, 1).unwrap_or(f64::NAN);
    println!("idle 1 s, 1 BusySpin consumer (for scale):            {spin:.1}% of one core");
}
