//! [`MultiProducerSequencer`]: an atomic claim counter and a per-slot
//! availability buffer of lap numbers.

use super::sequence::{Sequence, minimum};
use super::single_producer::wait_a_little;
use super::{Cursor, InsufficientCapacity, Sequencer};
use crate::loom::atomic::AtomicI64;
use crate::loom::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::loom::sync::Arc;
use core::fmt;
use crossbeam_utils::CachePadded;

#[cfg(not(feature = "std"))]
use alloc::{boxed::Box, vec::Vec};

/// The state multi-producer handles share with the consumers: the claim
/// counter and the availability buffer.
///
/// `available[i]` holds the lap (`sequence >> log2(capacity)`) of the last
/// sequence published into slot `i`, or `-1`. Sequence `s` is published iff
/// `available[s & mask] == s >> shift`: earlier laps hold smaller numbers and
/// the next lap cannot be claimed before `s` is consumed ([DSR-I4](crate::safety#DSR-I4)).
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Cursor, MultiProducerCursor, MultiProducerSequencer, Sequencer};
/// use std::sync::Arc;
///
/// let cursor = Arc::new(MultiProducerCursor::new(4));
/// let mut producer = MultiProducerSequencer::new(Arc::clone(&cursor), vec![]);
/// let hi = producer.try_claim(2).unwrap();
/// assert_eq!((cursor.claimed(), cursor.highest_published(0)), (1, -1));
/// producer.publish(hi - 1, hi);
/// assert_eq!(cursor.highest_published(0), 1);
/// ```
pub struct MultiProducerCursor {
    /// The highest sequence claimed by any producer.
    claim: CachePadded<AtomicI64>,
    available: Box<[AtomicI64]>,
    mask: i64,
    shift: u32,
}

impl MultiProducerCursor {
    /// The shared state of a ring of `capacity` slots, nothing claimed.
    ///
    /// # Panics
    ///
    /// If `capacity` is not a power of two or exceeds `2^32`.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::MultiProducerCursor;
    ///
    /// let cursor = MultiProducerCursor::new(1024);
    /// assert_eq!(cursor.claimed(), -1);
    /// ```
    pub fn new(capacity: usize) -> Self {
        super::ring_buffer::check_capacity(capacity);
        let available: Vec<AtomicI64> = (0..capacity).map(|_| AtomicI64::new(-1)).collect();
        Self {
            claim: CachePadded::new(AtomicI64::new(Sequence::INITIAL)),
            available: available.into_boxed_slice(),
            mask: capacity as i64 - 1,
            shift: capacity.trailing_zeros(),
        }
    }

    /// The highest sequence claimed so far (published or not).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([DSR-O6](crate::safety#DSR-O6)): a claimed sequence may not be published yet, and
    /// reading the counter orders no other memory. Consumers learn what is
    /// published from [`Cursor::highest_published`].
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{MultiProducerCursor, MultiProducerSequencer, Sequencer};
    /// use std::sync::Arc;
    ///
    /// let cursor = Arc::new(MultiProducerCursor::new(8));
    /// let mut a = MultiProducerSequencer::new(Arc::clone(&cursor), vec![]);
    /// let mut b = a.clone();
    /// a.try_claim(2).unwrap();
    /// b.try_claim(3).unwrap();
    /// assert_eq!(cursor.claimed(), 4);
    /// ```
    #[inline]
    pub fn claimed(&self) -> i64 {
        // ORDERING: [DSR-O6] Relaxed — a count for shutdown and diagnostics; it publishes nothing (readiness is each slot's availability entry).
        self.claim.load(Relaxed)
    }

    #[inline]
    fn entry(&self, sequence: i64) -> &AtomicI64 {
        &self.available[(sequence & self.mask) as usize]
    }
}

impl Cursor for MultiProducerCursor {
    #[inline]
    fn highest_published(&self, next: i64) -> i64 {
        // Bounded by one lap, not by the claim counter: reading the counter
        // here would pull its cache line away from the producers' next
        // `fetch_add` on every poll. A sequence nobody claimed yet has an
        // entry from an earlier lap (or -1), so the scan stops there anyway.
        let hi = next + self.mask;
        let mut s = next;
        while s <= hi {
            // ORDERING: [DSR-O4] Acquire — pairs with [DSR-O3]: the producer's event write to this slot happens-before our read of it.
            if self.entry(s).load(Acquire) != s >> self.shift {
                return s - 1;
            }
            s += 1;
        }
        hi
    }
}

impl fmt::Debug for MultiProducerCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiProducerCursor")
            .field("claimed", &self.claimed())
            .field("capacity", &self.available.len())
            .finish_non_exhaustive()
    }
}

/// One producer's handle on a sequencer shared by many producers.
///
/// Clone it for each producer thread: the clones share the claim counter
/// and availability buffer ([`MultiProducerCursor`]) and each keeps its own
/// cached minimum of the gating sequences (a plain field, so the cache needs
/// no atomics and carries no cross-producer ordering obligation).
///
/// # Algorithm
///
/// Every claim reads the claim counter, checks (or waits) until the
/// consumers leave room for the range after it, and only then takes the
/// range with a compare-exchange from the value it read; if another
/// producer claimed meanwhile, it starts over from the value it found. So a
/// claim that gives up, is alerted, or whose wait strategy panics has
/// claimed nothing: no sequence is ever taken that its producer does not
/// then publish. (A `fetch_add` before the wait would be one instruction
/// cheaper under contention, but it commits to a range before there is
/// room for it, and an abandoned wait would leave a gap the consumers
/// never pass.) [`publish`](Sequencer::publish) stores each slot's lap number
/// with `Release`; consumers read the longest run of published slots
/// ([`Cursor::highest_published`]), so an unfinished slot holds back the
/// slots after it even when those are already published.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Cursor, MultiProducerCursor, MultiProducerSequencer, Sequencer};
/// use std::sync::Arc;
///
/// let cursor = Arc::new(MultiProducerCursor::new(4));
/// let mut a = MultiProducerSequencer::new(Arc::clone(&cursor), vec![]);
/// let mut b = a.clone();
/// let sa = a.try_claim(1).unwrap();
/// let sb = b.try_claim(1).unwrap();
/// b.publish(sb, sb);
/// assert_eq!(cursor.highest_published(0), -1); // slot 0 not yet written
/// a.publish(sa, sa);
/// assert_eq!(cursor.highest_published(0), 1);
/// ```
#[derive(Debug, Clone)]
pub struct MultiProducerSequencer {
    cursor: Arc<MultiProducerCursor>,
    gating: Arc<Vec<Arc<Sequence>>>,
    capacity: i64,
    cached_gate: i64,
}

impl MultiProducerSequencer {
    /// A handle claiming from `cursor`, never overtaking the consumers whose
    /// sequences are `gating`.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{MultiProducerCursor, MultiProducerSequencer, Sequence, Sequencer};
    /// use std::sync::Arc;
    ///
    /// let consumer = Arc::new(Sequence::new());
    /// let cursor = Arc::new(MultiProducerCursor::new(2));
    /// let mut seq = MultiProducerSequencer::new(cursor, vec![Arc::clone(&consumer)]);
    /// assert_eq!(seq.try_claim(2), Ok(1));
    /// assert!(seq.try_claim(1).is_err()); // the consumer has read nothing
    /// consumer.set(0);
    /// assert_eq!(seq.try_claim(1), Ok(2));
    /// ```
    pub fn new(cursor: Arc<MultiProducerCursor>, gating: Vec<Arc<Sequence>>) -> Self {
        let capacity = cursor.available.len() as i64;
        // [DSR-I2] no gating sequence read yet: the smallest `i64` is the only
        // lower bound known (a gating sequence may start below -1).
        Self { cursor, gating: Arc::new(gating), capacity, cached_gate: i64::MIN }
    }

    /// The shared state.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{MultiProducerCursor, MultiProducerSequencer};
    /// use std::sync::Arc;
    ///
    /// let cursor = Arc::new(MultiProducerCursor::new(8));
    /// let seq = MultiProducerSequencer::new(Arc::clone(&cursor), vec![]);
    /// assert!(Arc::ptr_eq(seq.cursor(), &cursor));
    /// ```
    pub fn cursor(&self) -> &Arc<MultiProducerCursor> {
        &self.cursor
    }

    #[inline]
    fn has_room(&mut self, hi: i64) -> bool {
        let wrap_point = hi - self.capacity;
        if wrap_point <= self.cached_gate {
            return true;
        }
        // [DSR-O2] Acquire reads of the gating sequences: their readers are
        // done with every slot up to the minimum.
        self.cached_gate = minimum(&self.gating, i64::MAX);
        wrap_point <= self.cached_gate
    }

    /// The try-claim loop behind both [`Sequencer::try_claim`] and
    /// [`Sequencer::try_claim_or_missing`], inlined into each (`try_claim`
    /// drops the count).
    #[inline(always)]
    fn try_claim_range(&mut self, n: usize) -> Result<i64, usize> {
        let n = super::check_batch(n, self.capacity);
        // ORDERING: [DSR-O5] Relaxed — the compare-exchange below validates the value; the room check relies on the gating Acquire loads, not on this load.
        let mut current = self.cursor.claim.load(Relaxed);
        loop {
            let hi = current + n;
            if !self.has_room(hi) {
                // Nothing claimed: the range is taken only once room is
                // known. `has_room` refused on a fresh reading, now in
                // `cached_gate`.
                return Err(super::missing(hi - self.capacity, self.cached_gate, n));
            }
            // ORDERING: [DSR-O5] Relaxed on success and on failure — the claim's uniqueness is atomicity of the read-modify-write; nothing is published through the counter.
            match self.cursor.claim.compare_exchange_weak(current, hi, Relaxed, Relaxed) {
                Ok(_) => return Ok(hi),
                Err(seen) => current = seen,
            }
        }
    }
}

impl Sequencer for MultiProducerSequencer {
    type Cursor = MultiProducerCursor;

    fn try_claim(&mut self, n: usize) -> Result<i64, InsufficientCapacity> {
        self.try_claim_range(n).map_err(|_| InsufficientCapacity)
    }

    // Inline, unlike `try_claim`: an out-of-line copy would be the same
    // code as `try_claim`'s, and the two symbols would be folded into one.
    #[inline]
    fn try_claim_or_missing(&mut self, n: usize) -> Result<i64, usize> {
        self.try_claim_range(n)
    }

    fn claim_while(&mut self, n: usize, mut keep_waiting: impl FnMut() -> bool) -> Option<i64> {
        let n = super::check_batch(n, self.capacity);
        // ORDERING: [DSR-O5] Relaxed — the compare-exchange below validates the value; the room check relies on the gating Acquire loads, not on this load.
        let mut current = self.cursor.claim.load(Relaxed);
        let backoff = crate::loom::Backoff::new();
        loop {
            let hi = current + n;
            if !self.has_room(hi) {
                if !keep_waiting() {
                    return None; // nothing claimed
                }
                wait_a_little(&backoff);
                continue;
            }
            // ORDERING: [DSR-O5] Relaxed on success and on failure — the claim's uniqueness is atomicity of the read-modify-write; nothing is published through the counter.
            match self.cursor.claim.compare_exchange_weak(current, hi, Relaxed, Relaxed) {
                Ok(_) => return Some(hi),
                Err(seen) => current = seen,
            }
        }
    }

    #[cfg(feature = "std")]
    fn claim_with<P: super::WaitStrategy>(
        &mut self,
        n: usize,
        wait: &P,
        alerted: impl Fn() -> bool,
    ) -> Option<i64> {
        let n = super::check_batch(n, self.capacity);
        // ORDERING: [DSR-O5] Relaxed — the compare-exchange below validates the value; the room check relies on the gating Acquire loads, not on this load.
        let mut current = self.cursor.claim.load(Relaxed);
        loop {
            let hi = current + n;
            if !self.has_room(hi) {
                // SAFE-CODE: [DSR-S2] wait before claiming: a strategy that panics, or an alert, leaves nothing claimed and so no gap behind which the consumers would stop.
                self.cached_gate = super::single_producer::wait_through(
                    hi - self.capacity,
                    &self.gating,
                    wait,
                    &alerted,
                )?;
            }
            // ORDERING: [DSR-O5] Relaxed on success and on failure — the claim's uniqueness is atomicity of the read-modify-write; nothing is published through the counter.
            match self.cursor.claim.compare_exchange_weak(current, hi, Relaxed, Relaxed) {
                Ok(_) => return Some(hi),
                Err(seen) => current = seen,
            }
        }
    }

    #[inline]
    fn publish(&self, lo: i64, hi: i64) {
        for s in lo..=hi {
            // ORDERING: [DSR-O3] Release — pairs with [DSR-O4]: this slot's event write happens-before a consumer that sees its lap.
            self.cursor.entry(s).store(s >> self.cursor.shift, Release);
        }
    }

    fn claimed(&self) -> i64 {
        self.cursor.claimed()
    }

    fn capacity(&self) -> usize {
        self.capacity as usize
    }
}
