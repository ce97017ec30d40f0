//! [`Sequence`]: a cache-padded sequence number, the Disruptor's unit of coordination.

use crate::loom::atomic::AtomicI64;
use crate::loom::atomic::Ordering::{Acquire, Release};
use crate::loom::sync::Arc;
use core::fmt;
use crossbeam_utils::CachePadded;

/// A cache-padded `i64` sequence number, starting at `-1` ("nothing yet").
///
/// Every party of a Disruptor owns one: the single-producer sequencer's cursor
/// (the highest published sequence) and each consumer's progress (the highest
/// sequence it has finished with). Only the owner writes its sequence; others
/// read it to decide how far they may go. Padding keeps each on its own cache
/// line so one party's writes do not slow down the reads of another's.
///
/// # Memory ordering
///
/// [`set`](Sequence::set) is a `Release` store and [`get`](Sequence::get) an
/// `Acquire` load ([DSR-O1](crate::safety#DSR-O1), [DSR-O2](crate::safety#DSR-O2) in SAFETY.md): whoever reads a value `n`
/// with `get` sees everything the owner did before it `set` `n`. That single
/// edge carries every hand-over in the Disruptor: a producer's event writes
/// to the consumers (cursor), a consumer's reads to the producer that will
/// overwrite the slot (wrap), and an upstream stage's work to the stages that
/// depend on it.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::Sequence;
///
/// let s = Sequence::new();
/// assert_eq!(s.get(), -1);
/// s.set(41);
/// assert_eq!(s.get(), 41);
/// ```
pub struct Sequence {
    value: CachePadded<AtomicI64>,
}

impl Sequence {
    /// The value of a sequence nothing has been done to yet.
    pub const INITIAL: i64 = -1;

    /// A new sequence at [`Sequence::INITIAL`] (`-1`).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::Sequence;
    ///
    /// static PROGRESS: Sequence = Sequence::new();
    /// assert_eq!(PROGRESS.get(), Sequence::INITIAL);
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self::with_value(Self::INITIAL)
    }

    /// A new sequence at [`Sequence::INITIAL`] (`-1`).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::Sequence;
    ///
    /// assert_eq!(Sequence::new().get(), -1);
    /// ```
    #[cfg(loom)]
    pub fn new() -> Self {
        Self::with_value(Self::INITIAL)
    }

    /// A new sequence holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::Sequence;
    ///
    /// let resumed = Sequence::with_value(99);
    /// assert_eq!(resumed.get(), 99);
    /// ```
    #[cfg(not(loom))]
    pub const fn with_value(value: i64) -> Self {
        Self { value: CachePadded::new(AtomicI64::new(value)) }
    }

    /// A new sequence holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::Sequence;
    ///
    /// let resumed = Sequence::with_value(99);
    /// assert_eq!(resumed.get(), 99);
    /// ```
    #[cfg(loom)]
    pub fn with_value(value: i64) -> Self {
        Self { value: CachePadded::new(AtomicI64::new(value)) }
    }

    /// Reads the sequence.
    ///
    /// # Memory ordering
    ///
    /// `Acquire`: everything the owner did before the [`set`](Sequence::set)
    /// that wrote the value read happens-before what the caller does next
    /// ([DSR-O2](crate::safety#DSR-O2)).
    ///
    /// # Examples
    ///
    /// A value set on another thread, and a write made before it (`Relaxed`
    /// on its own, ordered by the sequence):
    ///
    /// ```
    /// use acqrel::disruptor::Sequence;
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    /// use std::thread;
    ///
    /// let data = Arc::new(AtomicU64::new(0));
    /// let done = Arc::new(Sequence::new());
    /// let (w, d) = (Arc::clone(&data), Arc::clone(&done));
    /// let owner = thread::spawn(move || {
    ///     w.store(42, Relaxed);
    ///     d.set(0);
    /// });
    /// while done.get() < 0 {
    ///     std::hint::spin_loop();
    /// }
    /// assert_eq!(data.load(Relaxed), 42);
    /// owner.join().unwrap();
    /// ```
    #[inline]
    pub fn get(&self) -> i64 {
        // ORDERING: [DSR-O2] Acquire — pairs with [DSR-O1]: what the owner did before publishing this value (event writes, slot reads, upstream work) is visible to the reader.
        self.value.load(Acquire)
    }

    /// Sets the sequence. Only the sequence's owner calls this.
    ///
    /// # Memory ordering
    ///
    /// `Release`: everything the caller did before is visible to whoever
    /// reads the new value (or a later one) with [`get`](Sequence::get)
    /// ([DSR-O1](crate::safety#DSR-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::Sequence;
    ///
    /// let consumer = Sequence::new();
    /// consumer.set(7); // finished with every sequence up to 7
    /// assert_eq!(consumer.get(), 7);
    /// ```
    #[inline]
    pub fn set(&self, value: i64) {
        // ORDERING: [DSR-O1] Release — pairs with [DSR-O2]: the owner's work up to `value` happens-before any reader that sees it.
        self.value.store(value, Release);
    }
}

impl Default for Sequence {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Sequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Sequence").field(&self.get()).finish()
    }
}

/// The minimum of `sequences` (each read with [`Sequence::get`]), or `default`
/// when there are none.
#[inline]
pub(crate) fn minimum(sequences: &[Arc<Sequence>], default: i64) -> i64 {
    let mut min = default;
    for s in sequences {
        min = min.min(s.get());
    }
    min
}
