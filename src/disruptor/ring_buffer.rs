//! [`RingBuffer`]: pre-allocated events indexed by `sequence & mask`.

use crate::loom::UnsafeCell;
use core::fmt;

#[cfg(not(feature = "std"))]
use alloc::{boxed::Box, vec::Vec};

/// A fixed ring of pre-allocated events, reused lap after lap.
///
/// The capacity is a power of two, so the slot of sequence `s` is
/// `s & (capacity - 1)`: one AND, no division. Events are made once by a
/// factory when the ring is built and then written in place by producers, so
/// publishing allocates nothing.
///
/// The ring itself does no coordination: who may touch which slot when is
/// decided by the sequencers and barriers ([DSR-I1](crate::safety#DSR-I1) in SAFETY.md). That is
/// why the accessors are `unsafe`.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::RingBuffer;
///
/// let ring = RingBuffer::new(8, || 0u64);
/// assert_eq!(ring.capacity(), 8);
/// // SAFETY: no other thread exists, so nothing else touches slot 3.
/// unsafe { *ring.get_mut(3) = 7 };
/// // SAFETY: as above; slot 11 is slot 3 one lap later.
/// assert_eq!(unsafe { *ring.get(11) }, 7);
/// ```
pub struct RingBuffer<E> {
    slots: Box<[UnsafeCell<E>]>,
    mask: i64,
}

// SAFETY: [DSR-I1] slots are handed between threads only under the sequencer
// protocol: a writer has exclusive access and readers share `&E`, so moving
// events across threads needs `E: Send` and sharing them `E: Sync`.
unsafe impl<E: Send + Sync> Sync for RingBuffer<E> {}
// SAFETY: [DSR-I1] the ring owns its events; sending it sends them.
unsafe impl<E: Send> Send for RingBuffer<E> {}

impl<E> RingBuffer<E> {
    /// Builds a ring of `capacity` events, each made by `factory`.
    ///
    /// # Panics
    ///
    /// If `capacity` is not a power of two (zero included) or exceeds `2^32`.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::RingBuffer;
    ///
    /// let mut made = 0;
    /// let ring = RingBuffer::new(4, || {
    ///     made += 1;
    ///     String::with_capacity(64) // allocated once, reused every lap
    /// });
    /// assert_eq!((ring.capacity(), made), (4, 4));
    /// ```
    pub fn new(capacity: usize, mut factory: impl FnMut() -> E) -> Self {
        check_capacity(capacity);
        let slots: Vec<UnsafeCell<E>> = (0..capacity).map(|_| UnsafeCell::new(factory())).collect();
        Self { slots: slots.into_boxed_slice(), mask: capacity as i64 - 1 }
    }

    /// The number of slots.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::RingBuffer;
    ///
    /// assert_eq!(RingBuffer::new(1024, || [0u8; 16]).capacity(), 1024);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    #[inline]
    fn cell(&self, sequence: i64) -> &UnsafeCell<E> {
        debug_assert!(sequence >= 0, "negative sequence {sequence}");
        let index = (sequence & self.mask) as usize;
        debug_assert!(index < self.slots.len());
        // SAFETY: [DSR-I1] the length is a power of two and `mask` is the length minus one, so `index` is in bounds.
        unsafe { self.slots.get_unchecked(index) }
    }

    /// Shared access to the event of `sequence`.
    ///
    /// # Safety
    ///
    /// Either `sequence` is published (the caller acquired a sequence at or
    /// beyond it, [DSR-O2](crate::safety#DSR-O2)) and no producer may claim it again (`sequence +
    /// capacity`) while the returned reference lives: the caller's own
    /// gating sequence must stay below `sequence` until it is done reading;
    /// or the caller claimed `sequence` and has not published it, and no
    /// reference from [`get_mut`](RingBuffer::get_mut) to the slot lives
    /// while the returned one does.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::RingBuffer;
    ///
    /// let ring = RingBuffer::new(2, || 5u32);
    /// // SAFETY: one thread, and no `&mut` to the slot lives.
    /// let first = unsafe { ring.get(0) };
    /// // SAFETY: as above; sequence 2 is slot 0 again, a shared borrow beside `first`.
    /// let again = unsafe { ring.get(2) };
    /// assert_eq!((*first, *again), (5, 5));
    /// ```
    #[inline]
    pub unsafe fn get(&self, sequence: i64) -> &E {
        // SAFETY: [DSR-I1] the caller guarantees no writer holds this slot while the reference lives.
        self.cell(sequence).with(|p| unsafe { &*p })
    }

    /// Calls `f(event, sequence, sequence == hi)` for every sequence in
    /// `lo..=hi`, in order: a consumer's batch, with the slot lookup hoisted
    /// out of the loop.
    ///
    /// # Safety
    ///
    /// As for [`get`](RingBuffer::get), for every sequence of the range, and
    /// the range is not empty: `0 <= lo <= hi` (the loop stops at `hi`).
    #[cfg(feature = "std")] // only the std-only processor reads batches
    #[inline]
    pub(crate) unsafe fn read_batch(&self, lo: i64, hi: i64, mut f: impl FnMut(&E, i64, bool)) {
        debug_assert!(0 <= lo && lo <= hi, "empty or negative batch {lo}..={hi}");
        // In locals, not read through `self` per event: a handler that calls
        // code the compiler cannot see into would force those reloads.
        let base = self.slots.as_ptr();
        let mask = self.mask;
        let mut s = lo;
        loop {
            let end = s == hi;
            // SAFETY: [DSR-I1] `s & mask` is below the length (see `cell`), and the caller guarantees no writer holds these slots while `f` runs.
            let cell = unsafe { &*base.add((s & mask) as usize) };
            // SAFETY: [DSR-I1] as above.
            f(cell.with(|p| unsafe { &*p }), s, end);
            if end {
                break;
            }
            s += 1;
        }
    }

    /// Exclusive access to the event of `sequence`.
    ///
    /// # Safety
    ///
    /// The caller must have claimed `sequence` from a sequencer and not yet
    /// published it (so no consumer reads the slot and no other producer
    /// claims it), and must not hold another reference to the slot.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::RingBuffer;
    ///
    /// let ring = RingBuffer::new(4, Vec::<u8>::new);
    /// // SAFETY: one thread, and no other reference to slot 1 lives.
    /// unsafe { ring.get_mut(1).extend_from_slice(b"abc") };
    /// // SAFETY: the `&mut` above is gone.
    /// assert_eq!(unsafe { ring.get(5) }, b"abc");
    /// ```
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get_mut(&self, sequence: i64) -> &mut E {
        // SAFETY: [DSR-I1] the caller holds the claim on this slot: nobody else reads or writes it.
        self.cell(sequence).with_mut(|p| unsafe { &mut *p })
    }
}

/// Panics unless `capacity` is a usable ring size.
pub(crate) fn check_capacity(capacity: usize) {
    // SAFE-CODE: [DSR-S7] the mask indexing of [DSR-I1] needs a power-of-two length.
    assert!(
        capacity.is_power_of_two(),
        "Disruptor ring capacity must be a power of two (got {capacity})"
    );
    assert!(
        capacity as u64 <= 1u64 << 32,
        "Disruptor ring capacity must be at most 2^32 (got {capacity})"
    );
}

impl<E> fmt::Debug for RingBuffer<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingBuffer").field("capacity", &self.capacity()).finish_non_exhaustive()
    }
}
