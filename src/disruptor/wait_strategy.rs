//! How a consumer waits for the next sequence: [`BusySpin`], [`Yielding`],
//! [`Sleeping`] and [`Blocking`].
//!
//! A strategy trades latency for CPU: `BusySpin` reacts in nanoseconds and
//! burns a core; `Blocking` sleeps on a condition variable and costs the
//! producer a fence and a load per publish (plus a lock and a notify only
//! while someone sleeps). The strategy is chosen once per Disruptor and used
//! by all of its consumers.

use crate::loom::atomic::AtomicUsize;
use crate::loom::atomic::Ordering::{Relaxed, SeqCst};
use crate::loom::atomic::fence;
#[allow(clippy::disallowed_types)] // the switch module's (loom-checked) Mutex and Condvar
use crate::loom::sync::{Condvar, Mutex};
use core::fmt;

/// A way for a consumer to wait until a sequence becomes available.
///
/// Implementors must return as soon as `available()` reaches `sequence` or
/// `alerted()` is true (checking both at least once), and `signal` must wake
/// every waiter that could otherwise miss an update made before the call.
pub trait WaitStrategy: Send + Sync + 'static {
    /// Waits until `available() >= sequence` or `alerted()`, and returns the
    /// last value of `available()` it saw (which may exceed `sequence`:
    /// natural batching, or fall short of it when alerted).
    fn wait_for<A, H>(&self, sequence: i64, available: A, alerted: H) -> i64
    where
        A: Fn() -> i64,
        H: Fn() -> bool;

    /// Called by a producer after it published, and by shutdown and halt:
    /// wakes the consumers that sleep.
    fn signal(&self);
}

/// Spins on the sequence: lowest latency, one busy core per consumer.
#[derive(Debug, Default, Clone, Copy)]
pub struct BusySpin;

impl WaitStrategy for BusySpin {
    #[inline]
    fn wait_for<A, H>(&self, sequence: i64, available: A, alerted: H) -> i64
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        loop {
            let seen = available();
            if seen >= sequence || alerted() {
                return seen;
            }
            crate::loom::spin_loop();
        }
    }

    #[inline]
    fn signal(&self) {}
}

/// Spins a little, then yields the CPU between checks: good when consumers
/// share cores with other threads.
#[derive(Debug, Default, Clone, Copy)]
pub struct Yielding;

impl WaitStrategy for Yielding {
    #[inline]
    fn wait_for<A, H>(&self, sequence: i64, available: A, alerted: H) -> i64
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        let mut spins = 0u32;
        loop {
            let seen = available();
            if seen >= sequence || alerted() {
                return seen;
            }
            if spins < 100 {
                spins += 1;
                crate::loom::spin_loop();
            } else {
                #[allow(clippy::disallowed_methods)] // the switch module's yield
                crate::loom::thread::yield_now();
            }
        }
    }

    #[inline]
    fn signal(&self) {}
}

/// Spins, then yields, then sleeps in short naps: little CPU when idle,
/// sleep-sized latency after an idle period, and nothing on the producer's
/// path.
#[derive(Debug, Clone, Copy)]
pub struct Sleeping {
    #[cfg_attr(loom, allow(dead_code))]
    nap: std::time::Duration,
}

impl Sleeping {
    /// Naps of `nap` once spinning and yielding gave nothing.
    pub fn new(nap: std::time::Duration) -> Self {
        Self { nap }
    }
}

impl Default for Sleeping {
    /// Naps of 100 µs.
    fn default() -> Self {
        Self::new(std::time::Duration::from_micros(100))
    }
}

impl WaitStrategy for Sleeping {
    fn wait_for<A, H>(&self, sequence: i64, available: A, alerted: H) -> i64
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        let backoff = crate::loom::Backoff::new();
        loop {
            let seen = available();
            if seen >= sequence || alerted() {
                return seen;
            }
            if !backoff.is_completed() {
                backoff.snooze();
            } else {
                #[cfg(not(loom))]
                std::thread::sleep(self.nap);
                #[cfg(loom)]
                #[allow(clippy::disallowed_methods)] // the switch module's yield
                crate::loom::thread::yield_now();
            }
        }
    }

    #[inline]
    fn signal(&self) {}
}

/// How many times [`Blocking`] polls before it goes to sleep. None under
/// loom: the polls only precede the sleep protocol, which the loom model
/// must explore without the extra scheduling points they add.
#[cfg(not(loom))]
const BLOCKING_SPINS: u32 = 1 << 10;
#[cfg(loom)]
const BLOCKING_SPINS: u32 = 0;

/// Spins briefly, then sleeps on a condition variable; the producer wakes
/// sleepers after it publishes. An idle consumer uses no CPU.
///
/// # Algorithm
///
/// A consumer that finds nothing available after a short spin takes the mutex, counts itself in
/// `sleepers`, issues a `SeqCst` fence, checks again, and only then waits on
/// the condition variable (which releases the mutex atomically). A producer,
/// after its `Release` publish, issues a `SeqCst` fence and reads `sleepers`;
/// only if it is non-zero does it take the mutex and notify. The two fences
/// form a Dekker pair: either the producer sees the sleeper, or the sleeper's
/// re-check sees the publish — never neither, so no wake-up is lost
/// ([DSR-O7] in SAFETY.md). Holding the mutex from the count to the wait
/// keeps the notify from slipping in between.
#[derive(Default)]
#[allow(clippy::disallowed_types)] // the switch module's Mutex and Condvar
pub struct Blocking {
    mutex: Mutex<()>,
    condvar: Condvar,
    sleepers: AtomicUsize,
}

impl Blocking {
    /// A new blocking strategy.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for Blocking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocking").finish_non_exhaustive()
    }
}

impl WaitStrategy for Blocking {
    fn wait_for<A, H>(&self, sequence: i64, available: A, alerted: H) -> i64
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        // Spin briefly first: an event that is about to arrive costs neither
        // side a sleep and a wake-up.
        #[cfg_attr(loom, allow(clippy::reversed_empty_ranges))]
        for _ in 0..BLOCKING_SPINS {
            let seen = available();
            if seen >= sequence || alerted() {
                return seen;
            }
            crate::loom::spin_loop();
        }
        loop {
            let seen = available();
            if seen >= sequence || alerted() {
                return seen;
            }
            let mut guard = self.mutex.lock().unwrap_or_else(|e| e.into_inner());
            // ORDERING: [DSR-O7] Relaxed — the count is only changed under the mutex; its visibility to the producer comes from the fence below.
            self.sleepers.fetch_add(1, Relaxed);
            // ORDERING: [DSR-O7] SeqCst fence — StoreLoad against the producer's fence in `signal`: our count is seen there, or our re-check below sees its publish.
            fence(SeqCst);
            let seen = available();
            if seen >= sequence || alerted() {
                // ORDERING: [DSR-O7] Relaxed — under the mutex; a stale positive count costs the producer one needless notify.
                self.sleepers.fetch_sub(1, Relaxed);
                return seen;
            }
            guard = self.condvar.wait(guard).unwrap_or_else(|e| e.into_inner());
            // ORDERING: [DSR-O7] Relaxed — under the mutex again.
            self.sleepers.fetch_sub(1, Relaxed);
            drop(guard);
        }
    }

    fn signal(&self) {
        // ORDERING: [DSR-O7] SeqCst fence — StoreLoad: the publish before it is ordered before the `sleepers` load after it (pairs with the consumer's fence).
        fence(SeqCst);
        // ORDERING: [DSR-O7] Relaxed — the fence pair decides what this load must see.
        if self.sleepers.load(Relaxed) != 0 {
            let _guard = self.mutex.lock().unwrap_or_else(|e| e.into_inner());
            self.condvar.notify_all();
        }
    }
}
