//! [`SequenceBarrier`]: what a consumer may read next.

use super::Cursor;
use super::sequence::{Sequence, minimum};
use super::wait_strategy::{Timeout, WaitStrategy};
use crate::loom::sync::Arc;
use core::cell::Cell;
use core::fmt;

/// A consumer's view of how far it may go: the producers' published
/// sequences for a first-stage consumer, the sequences of the stages it
/// depends on otherwise.
///
/// [`wait_for`](SequenceBarrier::wait_for) returns the *highest* available
/// sequence, not just the one asked for, so a consumer that fell behind
/// catches up in one batch (the Disruptor's natural batching) and publishes
/// its progress once per batch.
///
/// # Memory ordering
///
/// Every sequence returned is read with `Acquire` ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)):
/// the events up to it, and the work upstream stages did on them, are
/// visible to the caller.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{BusySpin, Sequence, SequenceBarrier};
/// use std::sync::Arc;
///
/// let cursor = Arc::new(Sequence::new());
/// let barrier = SequenceBarrier::new(Arc::clone(&cursor), vec![]);
/// cursor.set(5); // a producer published 0..=5
/// assert_eq!(barrier.wait_for(0, &BusySpin, || false), 5);
/// ```
pub struct SequenceBarrier<C> {
    cursor: Arc<C>,
    dependents: Vec<Arc<Sequence>>,
}

impl<C: Cursor> SequenceBarrier<C> {
    /// A barrier on the published sequences of `cursor` and, when
    /// `dependents` is not empty, on those consumers' sequences instead
    /// (they never pass the cursor themselves).
    ///
    /// # Examples
    ///
    /// A second-stage barrier follows the first stage, not the cursor:
    ///
    /// ```
    /// use acqrel::disruptor::{Sequence, SequenceBarrier};
    /// use std::sync::Arc;
    ///
    /// let cursor = Arc::new(Sequence::with_value(9));
    /// let first_stage = Arc::new(Sequence::with_value(3));
    /// let barrier = SequenceBarrier::new(cursor, vec![Arc::clone(&first_stage)]);
    /// assert_eq!(barrier.available(0), 3);
    /// ```
    pub fn new(cursor: Arc<C>, dependents: Vec<Arc<Sequence>>) -> Self {
        Self { cursor, dependents }
    }

    /// The highest sequence available to a consumer whose next is `next`
    /// (`next - 1` when nothing is).
    ///
    /// Never waits.
    ///
    /// # Memory ordering
    ///
    /// The value is read with `Acquire` ([DSR-O2](crate::safety#DSR-O2) from a single producer's
    /// cursor or an upstream stage's sequence, [DSR-O4](crate::safety#DSR-O4) from the
    /// multi-producer availability buffer): every event up to it was
    /// published, and the work upstream stages did on them happens-before the
    /// caller's reads.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{MultiProducerCursor, MultiProducerSequencer, Sequencer, SequenceBarrier};
    /// use std::sync::Arc;
    ///
    /// let cursor = Arc::new(MultiProducerCursor::new(8));
    /// let mut producer = MultiProducerSequencer::new(Arc::clone(&cursor), vec![]);
    /// let barrier = SequenceBarrier::new(cursor, vec![]);
    /// assert_eq!(barrier.available(0), -1); // nothing yet
    /// let hi = producer.try_claim(3).unwrap();
    /// producer.publish(hi - 2, hi);
    /// assert_eq!(barrier.available(0), 2);
    /// ```
    #[inline]
    pub fn available(&self, next: i64) -> i64 {
        if self.dependents.is_empty() {
            self.cursor.highest_published(next)
        } else {
            minimum(&self.dependents, i64::MAX)
        }
    }

    /// Waits through `wait` until `next` is available or `alerted()` is
    /// true; returns the highest available sequence (below `next` when
    /// alerted, or when the strategy gave up early).
    ///
    /// The value returned is the barrier's own last reading of
    /// [`available`](SequenceBarrier::available), taken through the closure
    /// it hands the strategy, never the strategy's answer: a strategy that
    /// lies cannot make it report a sequence that is not available
    /// ([`WaitStrategy`], SAFETY.md [DSR-S1](crate::safety#DSR-S1)).
    ///
    /// # Memory ordering
    ///
    /// As for [`available`](SequenceBarrier::available): the events up to the
    /// sequence returned, and upstream work on them, happen-before the
    /// caller's next reads ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)).
    ///
    /// # Examples
    ///
    /// A consumer waiting on another thread for a producer's publish:
    ///
    /// ```
    /// use acqrel::disruptor::{Sequence, SequenceBarrier, Yielding};
    /// use std::sync::Arc;
    /// use std::thread;
    ///
    /// let cursor = Arc::new(Sequence::new());
    /// let barrier = SequenceBarrier::new(Arc::clone(&cursor), vec![]);
    /// let consumer = thread::spawn(move || barrier.wait_for(0, &Yielding, || false));
    /// cursor.set(1); // publishes 0 and 1
    /// assert_eq!(consumer.join().unwrap(), 1);
    /// ```
    #[inline]
    pub fn wait_for<W: WaitStrategy>(
        &self,
        next: i64,
        wait: &W,
        alerted: impl Fn() -> bool,
    ) -> i64 {
        let seen = self.available(next);
        if seen >= next {
            return seen;
        }
        let reading = Cell::new(seen);
        // SAFE-CODE: [DSR-S1] the strategy's answer is ignored: what the caller may read is decided by `reading`, the last value this barrier read. The closure borrows a `Cell` on this stack, so it is neither `Send` nor `Sync`: the strategy can call it only on this thread and only during this call.
        let _ = wait.wait_for(next, || self.read_into(&reading, next), alerted);
        reading.get()
    }

    /// [`available`](SequenceBarrier::available), recorded in `reading`.
    #[inline]
    fn read_into(&self, reading: &Cell<i64>, next: i64) -> i64 {
        let seen = self.available(next);
        reading.set(seen);
        seen
    }

    /// Like [`wait_for`](SequenceBarrier::wait_for), but gives up at
    /// `deadline`. As there, the sequence returned is the barrier's own
    /// reading.
    ///
    /// # Errors
    ///
    /// [`Timeout`] if `deadline` passed first.
    ///
    /// # Memory ordering
    ///
    /// As for [`wait_for`](SequenceBarrier::wait_for) ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Sleeping, Sequence, SequenceBarrier, Timeout};
    /// use std::sync::Arc;
    /// use std::time::{Duration, Instant};
    ///
    /// let cursor = Arc::new(Sequence::new());
    /// let barrier = SequenceBarrier::new(Arc::clone(&cursor), vec![]);
    /// let soon = Instant::now() + Duration::from_millis(1);
    /// assert_eq!(barrier.wait_for_until(0, &Sleeping::default(), || false, soon), Err(Timeout));
    /// cursor.set(0);
    /// assert_eq!(barrier.wait_for_until(0, &Sleeping::default(), || false, soon), Ok(0));
    /// ```
    #[inline]
    pub fn wait_for_until<W: WaitStrategy>(
        &self,
        next: i64,
        wait: &W,
        alerted: impl Fn() -> bool,
        deadline: std::time::Instant,
    ) -> Result<i64, Timeout> {
        let seen = self.available(next);
        if seen >= next {
            return Ok(seen);
        }
        let reading = Cell::new(seen);
        // SAFE-CODE: [DSR-S1] as in `wait_for`: only the barrier's own last reading is returned.
        let waited =
            wait.wait_for_until(next, || self.read_into(&reading, next), alerted, deadline);
        waited.map(|_| reading.get())
    }
}

impl<C: Cursor> SequenceBarrier<C> {
    /// [`wait_for_until`](SequenceBarrier::wait_for_until) `timeout` from
    /// now; a timeout too long for an `Instant` waits without a deadline.
    pub(crate) fn wait_at_most<W: WaitStrategy>(
        &self,
        next: i64,
        wait: &W,
        alerted: impl Fn() -> bool,
        timeout: std::time::Duration,
    ) -> Result<i64, Timeout> {
        // SAFE-CODE: [DSR-S7] `Instant + Duration` panics on overflow: a huge timeout (a caller's, or a strategy's `timeout()`) means "no deadline", not a panic.
        match std::time::Instant::now().checked_add(timeout) {
            Some(deadline) => self.wait_for_until(next, wait, alerted, deadline),
            None => Ok(self.wait_for(next, wait, alerted)),
        }
    }
}

impl<C> fmt::Debug for SequenceBarrier<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SequenceBarrier")
            .field("dependents", &self.dependents)
            .finish_non_exhaustive()
    }
}
