//! [`SingleProducerSequencer`]: claims without read-modify-writes, publishes
//! with one `Release` store.

use super::Sequencer;
use super::sequence::{Sequence, minimum};
use crate::loom::sync::Arc;

#[cfg(not(feature = "std"))]
use alloc::vec::Vec;

/// The sequencer of a Disruptor with exactly one producer.
///
/// The claim state (`next_value`, the last sequence handed out, and
/// `cached_gate`, the last minimum of the gating sequences seen) are plain
/// fields behind `&mut self`: one producer, so no atomic read-modify-write
/// and no shared claim counter. The only shared writes are the cursor's
/// `Release` stores in [`publish`](Sequencer::publish).
///
/// # Algorithm
///
/// To claim `n` sequences up to `hi = next_value + n`, the slots of
/// `hi - capacity` and below must have been consumed by every gating
/// (last-stage) consumer. The cached minimum answers that for free until it
/// says "full"; only then are the gating sequences read again ([DSR-O2](crate::safety#DSR-O2)).
/// Consumers only move forward, so a stale cache errs on the side of
/// waiting, never of overwriting ([DSR-I2](crate::safety#DSR-I2)).
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Sequence, Sequencer, SingleProducerSequencer};
/// use std::sync::Arc;
///
/// let cursor = Arc::new(Sequence::new());
/// let consumer = Arc::new(Sequence::new());
/// let mut seq = SingleProducerSequencer::new(Arc::clone(&cursor), 2, vec![Arc::clone(&consumer)]);
/// let hi = seq.try_claim(2).unwrap();
/// seq.publish(hi - 1, hi);
/// assert_eq!(cursor.get(), 1);
/// assert!(seq.try_claim(1).is_err()); // both slots still unread
/// consumer.set(0);
/// assert_eq!(seq.try_claim(1), Ok(2));
/// ```
#[derive(Debug)]
pub struct SingleProducerSequencer {
    cursor: Arc<Sequence>,
    gating: Vec<Arc<Sequence>>,
    capacity: i64,
    /// The highest sequence claimed so far.
    next_value: i64,
    /// The minimum of `gating` when last read (a lower bound of the real one).
    cached_gate: i64,
}

impl SingleProducerSequencer {
    /// A sequencer publishing through `cursor` into a ring of `capacity`
    /// slots, never overtaking the consumers whose sequences are `gating`.
    ///
    /// # Panics
    ///
    /// If `capacity` is not a power of two or exceeds `2^32`.
    ///
    /// # Examples
    ///
    /// Resuming after sequence 99, with a consumer that has read everything:
    ///
    /// ```
    /// use acqrel::disruptor::{Sequence, Sequencer, SingleProducerSequencer};
    /// use std::sync::Arc;
    ///
    /// let cursor = Arc::new(Sequence::with_value(99));
    /// let consumer = Arc::new(Sequence::with_value(99));
    /// let mut seq = SingleProducerSequencer::new(cursor, 16, vec![consumer]);
    /// assert_eq!(seq.try_claim(1), Ok(100));
    /// ```
    pub fn new(cursor: Arc<Sequence>, capacity: usize, gating: Vec<Arc<Sequence>>) -> Self {
        super::ring_buffer::check_capacity(capacity);
        let start = cursor.get();
        // SAFE-CODE: [DSR-S7] [DSR-I2] no gating sequence has been read yet: the only lower bound known is the smallest `i64`, so the first claim reads them (the cursor is no bound: the consumers may be behind it).
        Self { cursor, gating, capacity: capacity as i64, next_value: start, cached_gate: i64::MIN }
    }

    /// The cursor: the highest published sequence.
    ///
    /// # Memory ordering
    ///
    /// Reading it with [`Sequence::get`] acquires every event published up to
    /// the value read ([DSR-O1](crate::safety#DSR-O1), [DSR-O2](crate::safety#DSR-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Sequence, Sequencer, SingleProducerSequencer};
    /// use std::sync::Arc;
    ///
    /// let mut seq = SingleProducerSequencer::new(Arc::new(Sequence::new()), 8, vec![]);
    /// let hi = seq.try_claim(2).unwrap();
    /// assert_eq!(seq.cursor().get(), -1); // claimed, not yet published
    /// seq.publish(hi - 1, hi);
    /// assert_eq!(seq.cursor().get(), 1);
    /// ```
    pub fn cursor(&self) -> &Arc<Sequence> {
        &self.cursor
    }

    #[inline]
    fn has_room(&mut self, hi: i64) -> bool {
        let wrap_point = hi - self.capacity;
        if wrap_point <= self.cached_gate {
            return true;
        }
        self.refresh_gate(wrap_point)
    }

    #[cold]
    fn refresh_gate(&mut self, wrap_point: i64) -> bool {
        // [DSR-O2] Acquire reads: every gating consumer's reads of the slots
        // up to the value seen happen-before our overwrite of them.
        self.cached_gate = minimum(&self.gating, i64::MAX);
        wrap_point <= self.cached_gate
    }
}

impl Sequencer for SingleProducerSequencer {
    type Cursor = Sequence;

    #[inline]
    fn try_claim_or_missing(&mut self, n: usize) -> Result<i64, usize> {
        let n = super::check_batch(n, self.capacity);
        let hi = self.next_value + n;
        if !self.has_room(hi) {
            // `has_room` refused on a fresh reading, now in `cached_gate`.
            return Err(super::missing(hi - self.capacity, self.cached_gate, n));
        }
        self.next_value = hi;
        Ok(hi)
    }

    #[inline]
    fn claim_while(&mut self, n: usize, keep_waiting: impl FnMut() -> bool) -> Option<i64> {
        let n = super::check_batch(n, self.capacity);
        let hi = self.next_value + n;
        if !self.has_room(hi) {
            return self.wait_for_room(hi, keep_waiting);
        }
        self.next_value = hi;
        Some(hi)
    }

    #[cfg(feature = "std")]
    #[inline]
    fn claim_with<P: super::WaitStrategy>(
        &mut self,
        n: usize,
        wait: &P,
        alerted: impl Fn() -> bool,
    ) -> Option<i64> {
        let n = super::check_batch(n, self.capacity);
        let hi = self.next_value + n;
        if !self.has_room(hi) {
            self.cached_gate = wait_through(hi - self.capacity, &self.gating, wait, alerted)?;
        }
        self.next_value = hi;
        Some(hi)
    }

    #[inline]
    fn publish(&self, _lo: i64, hi: i64) {
        // [DSR-O1] Release store of the cursor: the event writes of every
        // sequence up to `hi` happen-before a consumer that reads `hi`. No
        // StoreLoad fence follows ([DSR-I3]).
        self.cursor.set(hi);
    }

    fn claimed(&self) -> i64 {
        self.next_value
    }

    fn capacity(&self) -> usize {
        self.capacity as usize
    }
}

impl SingleProducerSequencer {
    /// The full-ring path of `claim_while`: waits until `hi` fits. Out of
    /// line, so that the claim path keeps no waiting state.
    #[cold]
    fn wait_for_room(&mut self, hi: i64, mut keep_waiting: impl FnMut() -> bool) -> Option<i64> {
        let backoff = crate::loom::Backoff::new();
        while !self.has_room(hi) {
            if !keep_waiting() {
                return None;
            }
            wait_a_little(&backoff);
        }
        self.next_value = hi;
        Some(hi)
    }
}

/// A producer's wait, through `wait`, until every gating sequence reaches
/// `wrap_point`; the gating minimum then (as read by this function, never as
/// answered by the strategy), or `None` if alerted first.
#[cfg(feature = "std")]
#[cold]
pub(crate) fn wait_through<P: super::WaitStrategy>(
    wrap_point: i64,
    gating: &[Arc<Sequence>],
    wait: &P,
    alerted: impl Fn() -> bool,
) -> Option<i64> {
    // [DSR-O2] Acquire reads: every gating consumer's reads of the slots up
    // to the value seen happen-before our overwrite of them. A sleeping wait
    // is woken by the consumers' signals ([DSR-I8]).
    let gate = core::cell::Cell::new(i64::MIN);
    let read = || {
        let seen = minimum(gating, i64::MAX);
        gate.set(seen);
        seen
    };
    loop {
        // SAFE-CODE: [DSR-S1] the strategy's answer is ignored: the gate the producer caches and claims by is `gate`, a value read here. The closure borrows a `Cell` on this stack (neither `Send` nor `Sync`), so every reading is made on this thread, during this call.
        let _ = wait.wait_for(wrap_point, read, &alerted);
        if gate.get() >= wrap_point {
            return Some(gate.get());
        }
        if alerted() {
            return None;
        }
        // The strategy returned without seeing room (or without looking):
        // look once ourselves, so that even a strategy that never calls
        // `available` only turns this wait into a spin.
        if read() >= wrap_point {
            return Some(gate.get());
        }
    }
}

/// One step of a producer's wait for room: spin, then yield.
pub(crate) fn wait_a_little(backoff: &crate::loom::Backoff) {
    if backoff.is_completed() {
        #[cfg(feature = "std")]
        #[allow(clippy::disallowed_methods)] // the switch module's yield
        crate::loom::thread::yield_now();
        #[cfg(not(feature = "std"))]
        crate::loom::spin_loop();
    } else {
        backoff.snooze();
    }
}
