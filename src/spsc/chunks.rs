//! Write and read chunks: many slots filled or read in place, published with one store.

use super::*;

/// Free slots of a [`Producer`], from [`Producer::write_chunk`]: fill them,
/// then publish them with one commit.
///
/// A chunk dropped without a commit publishes nothing.
///
/// # Memory ordering
///
/// The chunk's slots are free: the consumer's removal of the items that last
/// used them happens-before the chunk is made ([SPSC-O3](crate::safety#SPSC-O3), [SPSC-O4](crate::safety#SPSC-O4)). A
/// commit publishes the items written with one `Release` store ([SPSC-O1](crate::safety#SPSC-O1)),
/// so their writes happen-before the consumer reads them ([SPSC-O2](crate::safety#SPSC-O2)).
///
/// # Examples
///
/// ```
/// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u8>(4);
/// let chunk = producer.write_chunk(3);
/// assert_eq!(chunk.len(), 3);
/// assert_eq!(chunk.fill_from_iter(*b"abc"), 3);
/// assert_eq!(consumer.pop_iter().collect::<Vec<_>>(), b"abc");
/// ```
pub struct WriteChunk<'p, T, S: Storage = Heap, M: Mode = Polling> {
    pub(super) producer: &'p mut Producer<T, S, M>,
    pub(super) len: usize,
}

impl<T, S: Storage, M: Mode> WriteChunk<'_, T, S, M> {
    /// The number of free slots in the chunk.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, _consumer) = acqrel::spsc::bounded::<u8>(4);
    /// producer.push(0).unwrap();
    /// assert_eq!(producer.write_chunk(2).len(), 2); // as many as asked for
    /// assert_eq!(producer.write_chunk(8).len(), 3); // as many as are free
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the chunk has no slot (the queue was full).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, _consumer) = acqrel::spsc::bounded::<u8>(1);
    /// assert!(!producer.write_chunk(1).is_empty());
    /// producer.push(0).unwrap();
    /// assert!(producer.write_chunk(1).is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk's slots as (up to) two slices, in queue order: the second is
    /// non-empty only when the chunk wraps around the end of the buffer.
    ///
    /// Writing to the slots publishes nothing: a [`commit`](Self::commit) does
    /// (or use [`fill_from_iter`](Self::fill_from_iter) or
    /// [`fill_in_place`](Self::fill_in_place), which need no `unsafe`).
    ///
    /// Not available under `--cfg loom`, whose cells are not contiguous.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u8>(4);
    /// producer.push_slice(&[1, 2, 3]);
    /// assert_eq!(consumer.pop_slice(&mut [0; 3]), 3);
    /// // Free slots now run from index 3 to the end, then wrap to index 0.
    /// let mut chunk = producer.write_chunk(4);
    /// let (first, second) = chunk.as_mut_slices();
    /// assert_eq!((first.len(), second.len()), (1, 3));
    /// ```
    #[cfg(not(loom))]
    pub fn as_mut_slices(&mut self) -> (&mut [MaybeUninit<T>], &mut [MaybeUninit<T>]) {
        let ring = self.producer.ring;
        let (index, to_end) = ring.contiguous(self.producer.tail);
        let first = self.len.min(to_end);
        let base = ring.slots.as_ptr().cast::<MaybeUninit<T>>();
        // SAFETY: [SPSC-I2] the chunk's `len` slots from `tail` are free and owned by
        // the producer, which this chunk borrows mutably; `Slot<T>` is a
        // `repr(transparent)` cell around `MaybeUninit<T>`, and the two ranges
        // `index .. index + first` and `0 .. len - first` lie inside the buffer
        // and do not overlap.
        unsafe {
            (
                core::slice::from_raw_parts_mut(base.add(index), first),
                core::slice::from_raw_parts_mut(base, self.len - first),
            )
        }
    }

    /// Publishes the first `n` slots of the chunk as items.
    ///
    /// # Safety
    ///
    /// The first `n` slots (in the order of [`as_mut_slices`](Self::as_mut_slices))
    /// must have been initialised, and `n <= self.len()`.
    ///
    /// # Memory ordering
    ///
    /// One `Release` store of the producer's position publishes the `n`
    /// items ([SPSC-O1](crate::safety#SPSC-O1)): everything the producer did before the commit —
    /// the writes of the items included — happens-before the consumer's read
    /// of any of them ([SPSC-O2](crate::safety#SPSC-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u32>(8);
    /// let mut chunk = producer.write_chunk(4);
    /// let (first, second) = chunk.as_mut_slices();
    /// for (i, slot) in first.iter_mut().chain(second).enumerate() {
    ///     slot.write(i as u32 * 10);
    /// }
    /// // SAFETY: the first two slots (all four, in fact) were written above.
    /// unsafe { chunk.commit(2) };
    /// assert_eq!(consumer.pop_iter().collect::<Vec<_>>(), [0, 10]);
    /// ```
    pub unsafe fn commit(self, n: usize) {
        debug_assert!(n <= self.len);
        self.producer.publish(n);
    }

    /// Moves items from `items` into the chunk until it is full or the
    /// iterator ends, then publishes them; returns how many.
    ///
    /// Pass `&mut iter` (or `iter.by_ref()`) to keep the items that did not
    /// fit; an iterator passed by value is dropped with them.
    ///
    /// If the iterator panics, the items already written are published (not
    /// leaked) before the panic continues.
    ///
    /// # Memory ordering
    ///
    /// As for [`commit`](Self::commit): one `Release` store publishes the
    /// items moved ([SPSC-O1](crate::safety#SPSC-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u64>(4);
    /// assert_eq!(producer.write_chunk(3).fill_from_iter(10..), 3);
    /// let mut rest = 0..10;
    /// assert_eq!(producer.write_chunk(8).fill_from_iter(&mut rest), 1);
    /// assert_eq!(rest.next(), Some(1)); // not taken
    /// assert_eq!(consumer.pop_iter().collect::<Vec<_>>(), [10, 11, 12, 0]);
    /// ```
    pub fn fill_from_iter<I: IntoIterator<Item = T>>(self, items: I) -> usize {
        let mut iter = items.into_iter();
        /// Publishes what was written, also when `next()` unwinds.
        struct Publish<'a, T, S: Storage, M: Mode> {
            producer: &'a mut Producer<T, S, M>,
            written: usize,
        }
        impl<T, S: Storage, M: Mode> Drop for Publish<'_, T, S, M> {
            fn drop(&mut self) {
                if self.written > 0 {
                    self.producer.publish(self.written);
                }
            }
        }
        let len = self.len;
        let ring = self.producer.ring;
        let start = ring.index(self.producer.tail);
        let first = len.min(ring.capacity - start);
        let mut guard = Publish { producer: self.producer, written: 0 };
        // The chunk's slots: `start ..` up to the end of the buffer, then `0 ..`.
        for (from, n) in [(start, first), (0, len - first)] {
            for index in from..from + n {
                // SAFE-CODE: [SPSC-S3] the chunk's length bounds the writes (never the
                // iterator's `size_hint`), `next` is called only for a free slot, and the
                // guard publishes what was written if `next` panics.
                let Some(item) = iter.next() else { return guard.written };
                // SAFETY: [SPSC-I2] the slot is one of the chunk's free slots, owned by the producer.
                ring.slot_at(index).with_mut(|p| unsafe { (*p).write(item) });
                guard.written += 1;
            }
        }
        guard.written
    }

    /// Copies `items` (exactly `len` of them) into the chunk's slots.
    pub(super) fn copy_from(&mut self, items: &[T])
    where
        T: Copy,
    {
        debug_assert_eq!(items.len(), self.len);
        #[cfg(not(loom))]
        {
            let (first, second) = self.as_mut_slices();
            let (a, b) = items.split_at(first.len());
            // SAFETY: [SPSC-I2] `MaybeUninit<T>` has `T`'s layout; lengths match.
            unsafe {
                core::ptr::copy_nonoverlapping(a.as_ptr(), first.as_mut_ptr().cast::<T>(), a.len());
                core::ptr::copy_nonoverlapping(
                    b.as_ptr(),
                    second.as_mut_ptr().cast::<T>(),
                    b.len(),
                );
            }
        }
        #[cfg(loom)]
        for (i, item) in items.iter().enumerate() {
            let pos = self.producer.ring.advance(self.producer.tail, i);
            // SAFETY: [SPSC-I2] a free slot of the chunk, owned by the producer.
            self.producer.ring.slot(pos).with_mut(|p| unsafe { (*p).write(*item) });
        }
    }
}

// Not under loom: its slot cells hand out no slices (as for `as_mut_slices`).
#[cfg(not(loom))]
impl<T: Copy + Default, S: Storage, M: Mode> WriteChunk<'_, T, S, M> {
    /// Writes the chunk in place without `unsafe`: every slot is first set
    /// to `T::default()`, `fill` gets them as two slices (in queue order:
    /// the first, then the second, which is empty unless the chunk wraps
    /// around the end of the ring) and returns how many slots, from the
    /// start, it wants published; those are published at once. Returns that
    /// number.
    ///
    /// If `fill` panics, nothing is published.
    ///
    /// # Panics
    ///
    /// If `fill` returns more than the chunk's length (nothing is published
    /// then).
    ///
    /// # Memory ordering
    ///
    /// As for [`commit`](Self::commit): one `Release` store publishes the
    /// slots `fill` reported ([SPSC-O1](crate::safety#SPSC-O1)), so what `fill` wrote happens-before
    /// the consumer reads it.
    ///
    /// # Examples
    ///
    /// ```
    /// // An audio callback rendering straight into the queue.
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<f32>(256);
    /// let mut phase = 0.0f32;
    /// let written = producer.write_chunk(128).fill_in_place(|first, second| {
    ///     for sample in first.iter_mut().chain(second.iter_mut()) {
    ///         *sample = phase.sin();
    ///         phase += 0.1;
    ///     }
    ///     first.len() + second.len()
    /// });
    /// assert_eq!(written, 128);
    /// assert_eq!(consumer.len(), 128);
    /// ```
    pub fn fill_in_place(mut self, fill: impl FnOnce(&mut [T], &mut [T]) -> usize) -> usize {
        let len = self.len;
        let (first, second) = self.as_mut_slices();
        for slot in first.iter_mut().chain(second.iter_mut()) {
            slot.write(T::default());
        }
        // SAFETY: [SPSC-I2] every slot of both slices was initialised just above, and
        // `MaybeUninit<T>` has `T`'s layout; the slices stay borrowed from this chunk.
        let (first, second) = unsafe {
            (
                &mut *(core::ptr::from_mut(first) as *mut [T]),
                &mut *(core::ptr::from_mut(second) as *mut [T]),
            )
        };
        // SAFE-CODE: [SPSC-S10] the count is the user's answer: checked, never trusted.
        let n = fill(first, second);
        assert!(n <= len, "fill_in_place: `fill` reported {n} slots written in a chunk of {len}");
        // SAFETY: [SPSC-I2] all `len` slots hold initialised values and `n <= len`.
        unsafe { self.commit(n) };
        n
    }
}

impl<T, S: Storage, M: Mode> fmt::Debug for WriteChunk<'_, T, S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteChunk").field("len", &self.len).finish_non_exhaustive()
    }
}

/// Readable items of a [`Consumer`], from [`Consumer::read_chunk`]: look at
/// them, then remove them with one commit.
///
/// A chunk dropped without a commit removes nothing.
///
/// # Memory ordering
///
/// Each item's `push` happens-before the chunk is made ([SPSC-O1](crate::safety#SPSC-O1),
/// [SPSC-O2](crate::safety#SPSC-O2)). A commit (or the drop of the chunk's iterator) frees the slots
/// with one `Release` store ([SPSC-O3](crate::safety#SPSC-O3)): everything the consumer did before
/// it happens-before the producer writes those slots again ([SPSC-O4](crate::safety#SPSC-O4)).
///
/// # Examples
///
/// ```
/// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u8>(4);
/// producer.push_slice(b"abc");
/// let chunk = consumer.read_chunk(2);
/// assert_eq!(chunk.as_slices(), (&b"ab"[..], &b""[..]));
/// drop(chunk); // not committed: the items stay
/// consumer.read_chunk(2).commit_all();
/// assert_eq!(consumer.pop(), Ok(b'c'));
/// ```
pub struct ReadChunk<'c, T, S: Storage = Heap, M: Mode = Polling> {
    pub(super) consumer: &'c mut Consumer<T, S, M>,
    pub(super) len: usize,
}

impl<'c, T, S: Storage, M: Mode> ReadChunk<'c, T, S, M> {
    /// The number of items in the chunk.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u8>(4);
    /// producer.push_slice(&[1, 2, 3]);
    /// assert_eq!(consumer.read_chunk(2).len(), 2); // as many as asked for
    /// assert_eq!(consumer.read_chunk(8).len(), 3); // as many as are queued
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the chunk holds no item (the queue was empty).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u8>(4);
    /// assert!(consumer.read_chunk(1).is_empty());
    /// producer.push(0).unwrap();
    /// assert!(!consumer.read_chunk(1).is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk's items as (up to) two slices, oldest first: the second is
    /// non-empty only when the chunk wraps around the end of the buffer.
    ///
    /// Not available under `--cfg loom`, whose cells are not contiguous.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u8>(4);
    /// producer.push_slice(&[1, 2, 3]);
    /// consumer.read_chunk(2).commit_all();
    /// producer.push_slice(&[4, 5, 6]); // 5 and 6 wrap to the buffer's start
    /// let chunk = consumer.read_chunk(4);
    /// assert_eq!(chunk.as_slices(), (&[3, 4][..], &[5, 6][..]));
    /// ```
    #[cfg(not(loom))]
    pub fn as_slices(&self) -> (&[T], &[T]) {
        let (base, index, first) = self.raw_parts();
        // SAFETY: [SPSC-I2] the chunk's `len` slots from `head` hold initialised items
        // owned by the consumer (acquired through [SPSC-O2]); the layout and range
        // argument is that of `WriteChunk::as_mut_slices`.
        unsafe {
            (
                core::slice::from_raw_parts(base.add(index), first),
                core::slice::from_raw_parts(base, self.len - first),
            )
        }
    }

    /// The chunk's items as (up to) two mutable slices, oldest first.
    ///
    /// Not available under `--cfg loom`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded(4);
    /// producer.push_slice(&[1, 2, 3]);
    /// let mut chunk = consumer.read_chunk(3);
    /// let (first, second) = chunk.as_mut_slices();
    /// first.iter_mut().chain(second).for_each(|n| *n *= 10); // edited in place
    /// assert_eq!(chunk.into_iter().collect::<Vec<_>>(), [10, 20, 30]);
    /// ```
    #[cfg(not(loom))]
    pub fn as_mut_slices(&mut self) -> (&mut [T], &mut [T]) {
        let (base, index, first) = self.raw_parts();
        // SAFETY: [SPSC-I2] as in `as_slices`; the items are the consumer's alone and
        // this chunk borrows the consumer mutably, so nothing else sees them.
        unsafe {
            (
                core::slice::from_raw_parts_mut(base.add(index), first),
                core::slice::from_raw_parts_mut(base, self.len - first),
            )
        }
    }

    /// The buffer, the slot index of the chunk's first item, and how many of
    /// its items lie before the end of the buffer.
    #[cfg(not(loom))]
    pub(super) fn raw_parts(&self) -> (*mut T, usize, usize) {
        let ring = self.consumer.ring;
        let (index, to_end) = ring.contiguous(self.consumer.head);
        (ring.slots.as_ptr().cast::<T>(), index, self.len.min(to_end))
    }

    /// Removes (drops) the first `n` items of the chunk.
    ///
    /// If an item's `Drop` panics, the rest of the `n` items are still
    /// dropped and removed before the panic continues (a second panic while
    /// doing so aborts, as for `Vec`). No item is leaked or dropped twice.
    ///
    /// # Panics
    ///
    /// If `n > self.len()`.
    ///
    /// # Memory ordering
    ///
    /// One `Release` store of the consumer's position frees the `n` slots
    /// ([SPSC-O3](crate::safety#SPSC-O3)): everything the consumer did before the commit — its reads
    /// of the items and their drops included — happens-before the producer
    /// writes those slots again ([SPSC-O4](crate::safety#SPSC-O4)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded(4);
    /// producer.push_slice(&[1, 2, 3]);
    /// consumer.read_chunk(3).commit(2); // drops 1 and 2
    /// assert_eq!(consumer.pop(), Ok(3));
    /// ```
    pub fn commit(self, n: usize) {
        // SAFE-CODE: [SPSC-S8] checked before anything moves: a bad `n` removes nothing.
        assert!(n <= self.len, "commit of {n} items from a chunk of {}", self.len);
        /// Publishes the new head when the loop below ends, and if an item's
        /// `Drop` unwinds out of it, first drops the items still left.
        struct Finish<'a, T, S: Storage, M: Mode> {
            consumer: &'a mut Consumer<T, S, M>,
            left: usize,
        }
        impl<T, S: Storage, M: Mode> Finish<'_, T, S, M> {
            fn drop_next(&mut self) {
                self.left -= 1;
                let pos = self.consumer.head;
                self.consumer.head = self.consumer.ring.advance(pos, 1);
                let slot = self.consumer.ring.slot(pos);
                // SAFE-CODE: [SPSC-S5] the item's `Drop` is user code: it may push through
                // the producer (which sees these slots still taken: the shared head is
                // stored only at the end) or drop it (the consumer keeps the ring alive).
                // SAFETY: [SPSC-I4] the item is initialised, ours, and not yet dropped:
                // `head` moved past it before its drop, so it is dropped once.
                slot.with_mut(|p| unsafe { (*p).assume_init_drop() });
            }
        }
        impl<T, S: Storage, M: Mode> Drop for Finish<'_, T, S, M> {
            fn drop(&mut self) {
                // SAFE-CODE: [SPSC-S4] non-empty only while unwinding from a panicking
                // item `Drop`: the rest are dropped and the new head is published.
                while self.left > 0 {
                    self.drop_next();
                }
                self.consumer.store_head();
                self.consumer.head_unpublished.set(false);
            }
        }
        let mut finish = Finish { consumer: self.consumer, left: n };
        while finish.left > 0 {
            finish.drop_next();
        }
    }

    /// Removes (drops) every item of the chunk.
    ///
    /// # Memory ordering
    ///
    /// As for [`commit`](Self::commit) ([SPSC-O3](crate::safety#SPSC-O3), [SPSC-O4](crate::safety#SPSC-O4)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded(4);
    /// producer.push_slice(&[1, 2, 3]);
    /// consumer.read_chunk(8).commit_all();
    /// assert!(consumer.is_empty());
    /// assert_eq!(producer.slots(), 4);
    /// ```
    pub fn commit_all(self) {
        let n = self.len;
        self.commit(n);
    }

    /// Copies the chunk's items into `out` (exactly `len` of them).
    pub(super) fn copy_to(&self, out: &mut [T])
    where
        T: Copy,
    {
        debug_assert_eq!(out.len(), self.len);
        #[cfg(not(loom))]
        {
            let (a, b) = self.as_slices();
            out[..a.len()].copy_from_slice(a);
            out[a.len()..].copy_from_slice(b);
        }
        #[cfg(loom)]
        for (i, out) in out.iter_mut().enumerate() {
            let pos = self.consumer.ring.advance(self.consumer.head, i);
            // SAFETY: [SPSC-I2] an initialised item of the chunk, owned by the consumer.
            *out = self.consumer.ring.slot(pos).with(|p| unsafe { (*p).assume_init_read() });
        }
    }
}

impl<'c, T, S: Storage, M: Mode> IntoIterator for ReadChunk<'c, T, S, M> {
    type Item = T;
    type IntoIter = ReadChunkIter<'c, T, S, M>;

    /// Moves the chunk's items out one by one; the ones yielded are removed
    /// from the queue (with one Release store, when the iterator is dropped),
    /// the rest stay queued.
    fn into_iter(self) -> Self::IntoIter {
        let ring = self.consumer.ring;
        let head = self.consumer.head;
        let start = ring.index(head);
        let first = self.len.min(ring.capacity - start);
        // SAFE-CODE: [SPSC-S1] move the local head past the whole chunk now:
        // should the iterator be leaked, its items are leaked too, never read
        // twice ([SPSC-I4]). Its drop puts the head right after the items it yielded.
        self.consumer.head = ring.advance(head, self.len);
        let was_unpublished = self.consumer.head_unpublished.get();
        self.consumer.head_unpublished.set(was_unpublished || self.len > 0);
        ReadChunkIter {
            consumer: self.consumer,
            head,
            start,
            first,
            len: self.len,
            taken: 0,
            was_unpublished,
        }
    }
}

impl<T, S: Storage, M: Mode> fmt::Debug for ReadChunk<'_, T, S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadChunk").field("len", &self.len).finish_non_exhaustive()
    }
}

/// An iterator moving items out of a [`ReadChunk`]; commits the items it
/// yielded when dropped.
///
/// Made by [`ReadChunk::into_iter`] and [`Consumer::pop_iter`]. Items it did
/// not yield stay queued; a leaked iterator leaks them instead (none is ever
/// handed out twice).
///
/// # Memory ordering
///
/// Each item's `push` happens-before the iterator yields it ([SPSC-O1](crate::safety#SPSC-O1),
/// [SPSC-O2](crate::safety#SPSC-O2)). The iterator's drop frees the slots of the items yielded with
/// one `Release` store ([SPSC-O3](crate::safety#SPSC-O3)), which happens-before the producer writes
/// them again ([SPSC-O4](crate::safety#SPSC-O4)).
///
/// # Examples
///
/// ```
/// let (mut producer, mut consumer) = acqrel::spsc::bounded(4);
/// producer.push_slice(&[1, 2, 3, 4]);
/// let mut iter = consumer.read_chunk(3).into_iter();
/// assert_eq!(iter.len(), 3);
/// assert_eq!(iter.next(), Some(1));
/// assert_eq!(producer.slots(), 0); // nothing freed yet
/// drop(iter); // commits 1; 2 and 3 stay queued
/// assert_eq!(producer.slots(), 1);
/// assert_eq!(consumer.pop_iter().sum::<i32>(), 9);
/// ```
pub struct ReadChunkIter<'c, T, S: Storage = Heap, M: Mode = Polling> {
    pub(super) consumer: &'c mut Consumer<T, S, M>,
    /// The consumer's position before the chunk.
    pub(super) head: usize,
    /// Slot index of the chunk's first item, and how many items lie before
    /// the end of the buffer.
    pub(super) start: usize,
    pub(super) first: usize,
    pub(super) len: usize,
    pub(super) taken: usize,
    /// Whether the consumer's head was already unpublished before the chunk
    /// (after an earlier leaked iterator): then the drop must not clear it
    /// without storing.
    pub(super) was_unpublished: bool,
}

impl<T, S: Storage, M: Mode> Iterator for ReadChunkIter<'_, T, S, M> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.taken == self.len {
            return None;
        }
        let index =
            if self.taken < self.first { self.start + self.taken } else { self.taken - self.first };
        self.taken += 1;
        // SAFETY: [SPSC-I2] an initialised item of the chunk, owned by the consumer;
        // `taken` moved past it, so it is moved out exactly once.
        Some(self.consumer.ring.slot_at(index).with(|p| unsafe { (*p).assume_init_read() }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.len - self.taken;
        (left, Some(left))
    }

    /// One loop per contiguous part of the chunk, without `next`'s
    /// per-item choice of part: what `for`, `sum` and `fold` run.
    #[inline]
    fn fold<B, F: FnMut(B, T) -> B>(mut self, init: B, mut f: F) -> B {
        let ring = self.consumer.ring;
        let mut acc = init;
        while self.taken < self.first {
            let index = self.start + self.taken;
            // SAFE-CODE: [SPSC-S4] counted before `f` runs: should it panic, the
            // iterator's drop commits this item (moved out, now `f`'s).
            self.taken += 1;
            // SAFETY: [SPSC-I2] as in `next`: initialised, owned, moved out once.
            acc = f(acc, ring.slot_at(index).with(|p| unsafe { (*p).assume_init_read() }));
        }
        while self.taken < self.len {
            let index = self.taken - self.first;
            self.taken += 1;
            // SAFETY: [SPSC-I2] as above, for the part after the wrap.
            acc = f(acc, ring.slot_at(index).with(|p| unsafe { (*p).assume_init_read() }));
        }
        acc
    }
}

impl<T, S: Storage, M: Mode> ExactSizeIterator for ReadChunkIter<'_, T, S, M> {}

impl<T, S: Storage, M: Mode> Drop for ReadChunkIter<'_, T, S, M> {
    fn drop(&mut self) {
        // Items not yielded stay queued: the head goes back to just after the
        // last one yielded, and only that is published.
        self.consumer.head = self.consumer.ring.advance(self.head, self.taken);
        if self.taken > 0 {
            self.consumer.store_head();
            self.consumer.head_unpublished.set(false);
        } else {
            self.consumer.head_unpublished.set(self.was_unpublished);
        }
    }
}

impl<T, S: Storage, M: Mode> fmt::Debug for ReadChunkIter<'_, T, S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadChunkIter")
            .field("left", &(self.len - self.taken))
            .finish_non_exhaustive()
    }
}
