//! The lost-update story: eight workers credit payments (in paise) to one
//! settlement total. A total kept with a load followed by a store loses money
//! whenever two workers interleave; `Counter` and `ShardedCounter` reconcile
//! to the unit.
//!
//! ```text
//! cargo run --release --example settlement
//! ```
#![allow(clippy::disallowed_types)]

use acqrel::{Counter, ShardedCounter};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::thread;

const WORKERS: u64 = 8;
const PAYMENTS: u64 = 200_000;

/// The amount of payment `i` of worker `w`, in paise: varied, deterministic.
fn amount(w: u64, i: u64) -> u64 {
    100 + (w * 7919 + i * 104_729) % 50_000
}

fn main() {
    let expected: u64 = (0..WORKERS).flat_map(|w| (0..PAYMENTS).map(move |i| amount(w, i))).sum();

    // The bug: read the total, add, write it back — two steps, not one.
    let naive = AtomicU64::new(0);
    let counter = Counter::new(0);
    let sharded = ShardedCounter::new();
    thread::scope(|s| {
        for w in 0..WORKERS {
            let (naive, counter, sharded) = (&naive, &counter, &sharded);
            s.spawn(move || {
                let local = sharded.local();
                for i in 0..PAYMENTS {
                    let paise = amount(w, i);
                    let seen = naive.load(Relaxed);
                    naive.store(seen + paise, Relaxed);
                    counter.add(paise);
                    local.add(paise);
                }
            });
        }
    });

    let rupees = |paise: u64| format!("{}.{:02}", paise / 100, paise % 100);
    let naive = naive.into_inner();
    println!("{WORKERS} workers x {PAYMENTS} payments");
    println!("expected total        Rs {:>16}", rupees(expected));
    println!(
        "load-then-store total Rs {:>16}  (lost Rs {})",
        rupees(naive),
        rupees(expected.saturating_sub(naive))
    );
    println!("Counter               Rs {:>16}", rupees(counter.get()));
    println!("ShardedCounter        Rs {:>16}", rupees(sharded.sum()));
    assert_eq!(counter.get(), expected, "Counter must reconcile to the paisa");
    assert_eq!(sharded.sum(), expected, "ShardedCounter must reconcile to the paisa");
}
