//! The run-time state one Disruptor's producers, consumer threads and
//! pollers share: the ring, the cursor, the default wait strategy, the
//! shutdown and halt flags, and the graph's sleepers. The builder makes it;
//! nothing here knows the builder.

use super::processor::PanicPayload;
use super::ring_buffer::RingBuffer;
use super::wait_strategy::WaitStrategy;
use super::wait_strategy::{Signals, catching, resume};
use crate::loom::atomic::Ordering::Relaxed;
use crate::loom::atomic::{AtomicBool, AtomicI64, AtomicUsize};
use crate::loom::sync::Arc;
use std::boxed::Box;

pub(crate) type Factory<E> = Box<dyn Fn() -> E + Send + Sync>;

/// Shutdown and halt state shared by producers and consumers.
pub(crate) struct Control {
    /// `i64::MAX` while producers exist; then the last sequence claimed.
    pub(crate) end: AtomicI64,
    pub(crate) halted: AtomicBool,
    /// Live producer handles.
    pub(crate) producers: AtomicUsize,
}

impl Control {
    pub(crate) fn new() -> Self {
        Self {
            end: AtomicI64::new(i64::MAX),
            halted: AtomicBool::new(false),
            producers: AtomicUsize::new(1),
        }
    }

    #[inline]
    pub(crate) fn alerted(&self) -> bool {
        self.end() != i64::MAX || self.is_halted()
    }

    #[inline]
    pub(crate) fn end(&self) -> i64 {
        // ORDERING: [DSR-O9] Relaxed — a consumer stops only after it has acquired every sequence up to `end` through [DSR-O2]/[DSR-O4]; the value itself publishes nothing.
        self.end.load(Relaxed)
    }

    pub(crate) fn close(&self, end: i64) {
        // ORDERING: [DSR-O9] Relaxed — see `end`; sleepers see it through the fence in `WaitStrategy::signal` ([DSR-O7]).
        self.end.store(end, Relaxed);
    }

    #[inline]
    pub(crate) fn is_halted(&self) -> bool {
        // ORDERING: [DSR-O9] Relaxed — a halted party only stops; it reads no data another wrote.
        self.halted.load(Relaxed)
    }

    pub(crate) fn halt(&self) {
        // ORDERING: [DSR-O9] Relaxed — see `is_halted`.
        self.halted.store(true, Relaxed);
    }
}

/// What producers and consumers of one Disruptor share.
pub(crate) struct Shared<E, C, W> {
    pub(crate) ring: RingBuffer<E>,
    pub(crate) cursor: Arc<C>,
    /// The default strategy: consumers added without one of their own.
    pub(crate) wait: W,
    pub(crate) control: Control,
    /// The graph's other sleeping strategies, set once by `build` before
    /// any consumer thread starts or any producer exists.
    pub(crate) signals: std::sync::OnceLock<Signals>,
    pub(crate) factory: Factory<E>,
}

impl<E, C, W: WaitStrategy> Shared<E, C, W> {
    /// Wakes every sleeping strategy of the graph ([DSR-I8](crate::safety#DSR-I8)); for the cold
    /// paths and pollers (threads and producers keep their own copy).
    pub(crate) fn signal(&self) {
        match self.signals.get() {
            Some(signals) => signals.signal(&self.wait),
            None => self.wait.signal(),
        }
    }

    /// [`signal`](Shared::signal) from a `Drop` impl or a guard: a
    /// strategy's panic is resumed only if the thread is not unwinding.
    pub(crate) fn signal_from_drop(&self) {
        resume(catching(|| self.signal()));
    }

    /// Replaces the event of slot `s` with a fresh one from the factory,
    /// before a claimed range whose writer panicked, or whose claim was
    /// leaked, is published ([DSR-I6](crate::safety#DSR-I6)). If the factory panics, the slot
    /// keeps what it holds; if the old event's `Drop` panics, the fresh
    /// event is in place anyway. Either panic is returned, not propagated:
    /// the caller publishes the range first.
    ///
    /// # Safety
    ///
    /// The caller holds the claim on `s` (claimed and not yet published)
    /// and no reference to the slot lives.
    #[cold]
    pub(crate) unsafe fn reset(&self, s: i64) -> Option<PanicPayload> {
        // SAFE-CODE: [DSR-S2] the factory is user code: a panic here is caught, so it cannot keep the range from being published or, inside a drop during unwinding, abort the process.
        let fresh = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(&self.factory)) {
            Ok(fresh) => fresh,
            Err(panic) => return Some(panic),
        };
        // SAFETY: [DSR-I1] the caller holds the claim on `s` and no reference to the slot lives.
        let slot = unsafe { self.ring.get_mut(s) };
        catching(|| *slot = fresh)
    }
}
