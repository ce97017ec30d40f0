//! Shared test helpers: scaled sizes, drop counting and the linearizability
//! checker ([`lin`]).
#![allow(dead_code, clippy::disallowed_types, clippy::disallowed_methods)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// `n` scaled for the current runner: divided by 1000 under Miri (at least
/// 1), and by `ACQREL_TEST_SCALE` when set (the aarch64 job under qemu sets
/// it), so stress tests keep their shape but fit the slower executors.
pub fn scaled(n: usize) -> usize {
    let divisor = if cfg!(miri) {
        1000
    } else {
        std::env::var("ACQREL_TEST_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1)
    };
    (n / divisor).max(1)
}

/// Counts live and dropped [`Tracked`] values.
#[derive(Clone, Default)]
pub struct DropCounter {
    created: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl DropCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A new tracked value carrying `id`.
    pub fn track<T>(&self, value: T) -> Tracked<T> {
        self.created.fetch_add(1, SeqCst);
        Tracked { value, dropped: Arc::clone(&self.dropped) }
    }

    pub fn created(&self) -> usize {
        self.created.load(SeqCst)
    }

    pub fn dropped(&self) -> usize {
        self.dropped.load(SeqCst)
    }

    /// Values created and not yet dropped.
    pub fn alive(&self) -> usize {
        self.created() - self.dropped()
    }
}

/// A value whose drop is counted by the [`DropCounter`] that made it.
#[derive(Debug)]
pub struct Tracked<T> {
    pub value: T,
    dropped: Arc<AtomicUsize>,
}

impl<T> Drop for Tracked<T> {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, SeqCst);
    }
}

pub mod epoch_memory;
pub mod lin;

/// Busy-waits (it never sleeps) for 0–255 µs, picked from `seed`. Varies
/// when a thread answers another, so that the other's blocking wait is,
/// from round to round, still polling, announcing itself or asleep when the
/// answer lands. Not a synchronisation: the tests that use it pass whatever
/// the wait turns out to be.
pub fn jitter(seed: u64) {
    let micros = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56;
    let until = std::time::Instant::now() + std::time::Duration::from_micros(micros);
    while std::time::Instant::now() < until {
        std::hint::spin_loop();
    }
}
