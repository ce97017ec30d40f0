//! The two handles: pushing and popping one item or a slice, the observers, and their drops.

use super::*;

/// The writing end of an SPSC queue.
///
/// `S` is where the ring lives: [`Heap`] (from [`bounded`], the default) or
/// [`Borrowed`] (from [`Queue::split`]). `M` is the mode: [`Polling`] (the
/// default) or [`Blocking`].
///
/// # Examples
///
/// ```
/// use std::thread;
///
/// let (mut producer, mut consumer) = acqrel::spsc::bounded(4);
/// thread::spawn(move || {
///     for word in ["one", "two", "three"] {
///         producer.push(word.to_string()).unwrap(); // room for all three
///     }
/// })
/// .join()
/// .unwrap();
/// assert_eq!(consumer.pop_iter().collect::<Vec<_>>(), ["one", "two", "three"]);
/// ```
pub struct Producer<T, S: Storage = Heap, M: Mode = Polling> {
    pub(super) ring: Ring<T>,
    /// Our position; we are the only writer of `tail`, so this is its value.
    pub(super) tail: usize,
    /// One lap past the consumer's position as last loaded (never ahead of
    /// the real one): we may write up to here. `tail == room_end` is the
    /// fast "full as far as we know" test of `push`.
    pub(super) room_end: usize,
    pub(super) _storage: PhantomData<(S, M, T)>,
}

/// The reading end of an SPSC queue.
///
/// `S` is where the ring lives: [`Heap`] (from [`bounded`], the default) or
/// [`Borrowed`] (from [`Queue::split`]). `M` is the mode: [`Polling`] (the
/// default) or [`Blocking`].
///
/// # Examples
///
/// ```
/// use std::thread;
///
/// let (mut producer, mut consumer) = acqrel::spsc::bounded(4);
/// producer.push_slice(&[1, 2, 3]);
/// drop(producer);
/// let total = thread::spawn(move || {
///     let mut total = 0;
///     while let Ok(n) = consumer.pop() {
///         total += n; // ends with `Err(Abandoned)` once the queue is drained
///     }
///     total
/// });
/// assert_eq!(total.join().unwrap(), 6);
/// ```
pub struct Consumer<T, S: Storage = Heap, M: Mode = Polling> {
    pub(super) ring: Ring<T>,
    /// Our position; we are the only writer of `head`, so this is its value.
    pub(super) head: usize,
    /// The producer's position as last loaded: never ahead of the real one.
    pub(super) tail_cache: usize,
    /// Set while a chunk iterator has moved `head` past items it may not
    /// have published yet: true from `ReadChunk::into_iter` to the
    /// iterator's drop, and for good if the iterator is leaked, until the
    /// consumer next finds the queue empty ([SPSC-S1](crate::safety#SPSC-S1)).
    pub(super) head_unpublished: Cell<bool>,
    /// How many items the last wait of a blocking call found (0 before the
    /// first): a long batch means the producer is streaming, and the next
    /// wait slips behind it (see `wait_for_items`).
    #[cfg(feature = "std")]
    pub(super) last_batch: usize,
    pub(super) _storage: PhantomData<(S, M, T)>,
}

// SAFETY: [SPSC-I1] a handle is the one producer of its ring; moving it to
// another thread moves that role with it, and items of type `T` cross threads
// (hence `T: Send`). The ring's memory is shared with the consumer only
// through atomics and the slot-ownership protocol of [SPSC-I2].
unsafe impl<T: Send, S: Storage, M: Mode> Send for Producer<T, S, M> {}

// SAFETY: [SPSC-I1] as for `Producer`: moving the handle moves the single
// consumer role; items it pops were sent from the producer's thread (`T: Send`).
unsafe impl<T: Send, S: Storage, M: Mode> Send for Consumer<T, S, M> {}

// Unwind safety: a panic in the middle of any call (an iterator given to
// `push_iter`, a chunk filler, an item's own code) leaves the ring
// consistent: positions move only after the slots they cover are written or
// read, and a chunk commits only what it was told. What a panic can leave
// half-done is an item's own state, hence the bounds on `T`.
impl<T: core::panic::UnwindSafe, S: Storage, M: Mode> core::panic::UnwindSafe
    for Producer<T, S, M>
{
}
impl<T: core::panic::RefUnwindSafe, S: Storage, M: Mode> core::panic::RefUnwindSafe
    for Producer<T, S, M>
{
}
impl<T: core::panic::UnwindSafe, S: Storage, M: Mode> core::panic::UnwindSafe
    for Consumer<T, S, M>
{
}
impl<T: core::panic::RefUnwindSafe, S: Storage, M: Mode> core::panic::RefUnwindSafe
    for Consumer<T, S, M>
{
}

impl<T, S: Storage, M: Mode> Producer<T, S, M> {
    pub(super) fn new(ring: Ring<T>, tail: usize, head: usize) -> Self {
        // Both handles of a waking ring exist only after the process has
        // chosen its fence pair ([FENCE-I1](crate::safety#FENCE-I1)).
        #[cfg(feature = "std")]
        if M::WAKES {
            crate::loom::asymmetric::prepare();
        }
        let room_end = ring.advance(head, ring.capacity);
        Self { ring, tail, room_end, _storage: PhantomData }
    }

    /// The number of items the queue can hold.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, _consumer) = acqrel::spsc::bounded::<u8>(3);
    /// assert_eq!(producer.capacity(), 3);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.ring.capacity
    }

    /// Free slots according to the cached head (a lower bound).
    #[inline(always)]
    pub(super) fn cached_free(&self) -> usize {
        self.ring.distance(self.tail, self.room_end)
    }

    /// Reloads the consumer's position and returns the free slots.
    #[inline]
    pub(super) fn refresh_free(&mut self) -> usize {
        // ORDERING: [SPSC-O4] Acquire — pairs with [SPSC-O3]: the consumer's reads of
        // the slots it freed happen-before we write them again.
        let head = self.ring.shared().head.load(Acquire);
        self.room_end = self.ring.advance(head, self.ring.capacity);
        self.cached_free()
    }

    /// Publishes our position after `n` slots were written.
    #[inline(always)]
    pub(super) fn publish(&mut self, n: usize) {
        self.tail = self.ring.advance(self.tail, n);
        // ORDERING: [SPSC-O1] Release — pairs with [SPSC-O2]: the slot writes before
        // this store happen-before the consumer's reads of them.
        self.ring.shared().tail.store(self.tail, Release);
        // SAFE-CODE: [SPSC-S9] in Blocking mode every publish, blocking or not, single item
        // or chunk, checks for a parked consumer: no call mix leaves it asleep.
        if M::WAKES {
            #[cfg(feature = "std")]
            self.ring.shared().wake(CONSUMER_WAITING);
        }
    }

    /// Appends `item`, or hands it back when the queue is full.
    ///
    /// Wait-free. When the cached head says the queue is full, reloads the
    /// consumer's position once; no other shared memory is touched.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] when the queue is full; [`PushError::Abandoned`]
    /// when it is full *and* the consumer has been dropped (a push that fits
    /// succeeds even then; its item is dropped with the queue).
    ///
    /// # Memory ordering
    ///
    /// Everything this thread did before `push` happens-before the consumer's
    /// `pop` (or `peek`, or read chunk) returning this item: the item is
    /// written, then published with a `Release` store of the producer's
    /// position ([SPSC-O1](crate::safety#SPSC-O1)), which the consumer loads with `Acquire` before it
    /// reads the slot ([SPSC-O2](crate::safety#SPSC-O2)). The other way round, the consumer's removal
    /// of the item that last used the slot happens-before the push writes it
    /// ([SPSC-O3](crate::safety#SPSC-O3), [SPSC-O4](crate::safety#SPSC-O4)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::{self, PushError};
    ///
    /// let (mut producer, mut consumer) = spsc::bounded(1);
    /// assert_eq!(producer.push("a"), Ok(()));
    /// assert_eq!(producer.push("b"), Err(PushError::Full("b")));
    /// assert_eq!(consumer.pop(), Ok("a"));
    /// assert_eq!(producer.push("b"), Ok(()));
    /// ```
    #[inline]
    pub fn push(&mut self, item: T) -> Result<(), PushError<T>> {
        if self.tail == self.room_end && self.refresh_free() == 0 {
            return Err(if self.is_abandoned() {
                PushError::Abandoned(item)
            } else {
                PushError::Full(item)
            });
        }
        let slot = self.ring.slot(self.tail);
        // SAFETY: [SPSC-I2] the slot at `tail` is free (the refreshed or cached
        // head is at least a lap behind it, and [SPSC-O4] ordered the consumer's
        // last read of it before now), so the producer owns it.
        slot.with_mut(|p| unsafe { (*p).write(item) });
        self.publish(1);
        Ok(())
    }

    /// Free slots: how many items could be pushed now.
    ///
    /// Reads the consumer's position. The consumer may free more slots at
    /// any moment, never fewer: the result is a lower bound that stays true
    /// until this producer pushes. An observer: it takes `&self`, and a
    /// following `push` reads the position again itself.
    ///
    /// # Memory ordering
    ///
    /// A snapshot: a `Relaxed` load of the consumer's position ([SPSC-O11](crate::safety#SPSC-O11)).
    /// It orders no other memory — a free slot counted here says nothing
    /// about what the consumer did before freeing it. A `push` into that slot
    /// is still ordered after the consumer's removal, by its own `Acquire`
    /// load ([SPSC-O4](crate::safety#SPSC-O4)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded(4);
    /// producer.push_slice(&[1, 2, 3]);
    /// assert_eq!(producer.slots(), 1);
    /// consumer.pop().unwrap();
    /// assert_eq!(producer.slots(), 2);
    /// ```
    #[inline]
    pub fn slots(&self) -> usize {
        // ORDERING: [SPSC-O11] Relaxed — a count for the caller: no slot is written on its strength.
        let head = self.ring.shared().head.load(Relaxed);
        self.ring.distance(self.tail, self.ring.advance(head, self.ring.capacity))
    }

    /// Whether the queue is full (no slot is free). May turn false at any
    /// moment as the consumer pops.
    ///
    /// # Memory ordering
    ///
    /// A snapshot, as for [`slots`](Producer::slots) ([SPSC-O11](crate::safety#SPSC-O11)): it orders
    /// no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, _consumer) = acqrel::spsc::bounded(1);
    /// assert!(!producer.is_full());
    /// producer.push(1).unwrap();
    /// assert!(producer.is_full());
    /// ```
    #[inline]
    pub fn is_full(&self) -> bool {
        self.cached_free() == 0 && self.slots() == 0
    }

    /// Whether the consumer has been dropped. Once true, stays true.
    ///
    /// # Memory ordering
    ///
    /// If true, everything the consumer did before it was dropped
    /// happens-before this call returns: its drop sets the flag with a
    /// `Release` read-modify-write ([SPSC-O5](crate::safety#SPSC-O5)), read here with `Acquire`
    /// ([SPSC-O6](crate::safety#SPSC-O6)). If false, nothing is ordered.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, consumer) = acqrel::spsc::bounded::<u8>(1);
    /// assert!(!producer.is_abandoned());
    /// std::thread::spawn(move || drop(consumer)).join().unwrap();
    /// assert!(producer.is_abandoned());
    /// ```
    pub fn is_abandoned(&self) -> bool {
        // ORDERING: [SPSC-O6] Acquire — pairs with [SPSC-O5]: the consumer's last accesses happen-before us.
        self.ring.shared().state.load(Acquire) & CONSUMER_GONE != 0
    }

    /// Moves items from `iter` into the queue until it is full or the
    /// iterator ends, publishing them all at once; returns how many moved.
    ///
    /// Items the queue has no room for stay in `iter`: no item is lost.
    ///
    /// # Memory ordering
    ///
    /// As for [`push`](Producer::push), for every item moved: one `Release`
    /// store publishes them all ([SPSC-O1](crate::safety#SPSC-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded(3);
    /// let mut source = 1..=5;
    /// assert_eq!(producer.push_from_iter(&mut source), 3);
    /// assert_eq!(source.next(), Some(4)); // still there
    /// assert_eq!(consumer.pop(), Ok(1));
    /// ```
    pub fn push_from_iter<I: Iterator<Item = T>>(&mut self, iter: &mut I) -> usize {
        self.write_chunk(usize::MAX).fill_from_iter(iter)
    }

    /// Up to `max` free slots, to fill and commit at once.
    ///
    /// The chunk has `min(max, free slots)` slots (possibly 0). Nothing is
    /// published until [`WriteChunk::commit`] (or
    /// [`WriteChunk::fill_from_iter`]); a chunk dropped uncommitted publishes
    /// nothing. One Release store publishes the whole chunk.
    ///
    /// # Memory ordering
    ///
    /// The chunk's slots are free: the consumer's removal of the items that
    /// last used them happens-before this call returns ([SPSC-O3](crate::safety#SPSC-O3),
    /// [SPSC-O4](crate::safety#SPSC-O4)). The commit publishes the chunk's items as a `push` does
    /// ([SPSC-O1](crate::safety#SPSC-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u32>(8);
    /// drop(producer.write_chunk(4)); // never committed: publishes nothing
    /// assert!(consumer.is_empty());
    /// let chunk = producer.write_chunk(4);
    /// assert_eq!(chunk.len(), 4);
    /// assert_eq!(chunk.fill_from_iter((0..).map(|i| i * 10)), 4);
    /// assert_eq!(consumer.pop_iter().collect::<Vec<_>>(), [0, 10, 20, 30]);
    /// ```
    pub fn write_chunk(&mut self, max: usize) -> WriteChunk<'_, T, S, M> {
        let mut free = self.cached_free();
        if free < max {
            free = self.refresh_free();
        }
        let len = free.min(max);
        WriteChunk { producer: self, len }
    }
}

impl<T: Copy, S: Storage, M: Mode> Producer<T, S, M> {
    /// Copies as many items of `items` as fit, in order, publishing them at
    /// once; returns how many were copied.
    ///
    /// # Memory ordering
    ///
    /// As for [`push`](Producer::push), for every item copied: one `Release`
    /// store publishes them all ([SPSC-O1](crate::safety#SPSC-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u8>(4);
    /// assert_eq!(producer.push_slice(b"hello"), 4);
    /// let mut out = [0; 8];
    /// assert_eq!(consumer.pop_slice(&mut out), 4);
    /// assert_eq!(&out[..4], b"hell");
    /// ```
    pub fn push_slice(&mut self, items: &[T]) -> usize {
        let mut chunk = self.write_chunk(items.len());
        let n = chunk.len;
        chunk.copy_from(&items[..n]);
        // SAFETY: [SPSC-I2] `copy_from` initialised all `n` slots of the chunk.
        unsafe { chunk.commit(n) };
        n
    }

    /// Copies all of `items`, in order, publishing them at once — or, if
    /// fewer slots than `items.len()` are free, nothing.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] when they do not all fit now (nothing is pushed);
    /// [`PushError::Abandoned`] when they do not fit and the consumer is
    /// gone, so they never will.
    ///
    /// # Panics
    ///
    /// If `items` is longer than the queue's capacity: it could never fit.
    ///
    /// # Memory ordering
    ///
    /// On success, as for [`push_slice`](Producer::push_slice) ([SPSC-O1](crate::safety#SPSC-O1)).
    /// An [`Abandoned`](PushError::Abandoned) error is seen as
    /// [`is_abandoned`](Producer::is_abandoned) sees it ([SPSC-O6](crate::safety#SPSC-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::{self, PushError};
    ///
    /// let (mut producer, mut consumer) = spsc::bounded::<u8>(4);
    /// assert_eq!(producer.push_exact(b"abc"), Ok(()));
    /// assert_eq!(producer.push_exact(b"de"), Err(PushError::Full(()))); // one slot free
    /// assert_eq!(consumer.len(), 3); // nothing of "de" was pushed
    /// ```
    pub fn push_exact(&mut self, items: &[T]) -> Result<(), PushError<()>> {
        assert!(
            items.len() <= self.capacity(),
            "push_exact of {} items into an SPSC queue of capacity {}: they can never fit",
            items.len(),
            self.capacity()
        );
        let mut chunk = self.write_chunk(items.len());
        if chunk.len < items.len() {
            return Err(if self.is_abandoned() {
                PushError::Abandoned(())
            } else {
                PushError::Full(())
            });
        }
        chunk.copy_from(items);
        // SAFETY: [SPSC-I2] `copy_from` initialised all `items.len()` slots of the chunk.
        unsafe { chunk.commit(items.len()) };
        Ok(())
    }
}

impl<T, S: Storage, M: Mode> Consumer<T, S, M> {
    pub(super) fn new(ring: Ring<T>, head: usize, tail: usize) -> Self {
        #[cfg(feature = "std")]
        if M::WAKES {
            crate::loom::asymmetric::prepare(); // as in `Producer::new`
        }
        Self {
            ring,
            head,
            tail_cache: tail,
            head_unpublished: Cell::new(false),
            #[cfg(feature = "std")]
            last_batch: 0,
            _storage: PhantomData,
        }
    }

    /// The number of items the queue can hold.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_producer, consumer) = acqrel::spsc::bounded::<u8>(3);
    /// assert_eq!(consumer.capacity(), 3);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.ring.capacity
    }

    /// Readable items according to the cached tail (a lower bound).
    #[inline(always)]
    pub(super) fn cached_len(&self) -> usize {
        self.ring.distance(self.head, self.tail_cache)
    }

    /// Reloads the producer's position and returns the readable items.
    #[inline]
    pub(super) fn refresh_len(&mut self) -> usize {
        // ORDERING: [SPSC-O2] Acquire — pairs with [SPSC-O1]: the producer's slot
        // writes before its tail store happen-before our reads of those slots.
        self.tail_cache = self.ring.shared().tail.load(Acquire);
        self.cached_len()
    }

    /// Readable items, reloading the producer's position when the cache says
    /// fewer than `wanted`; when there are none, checks for abandonment.
    #[inline(always)]
    pub(super) fn available(&mut self, wanted: usize) -> Result<usize, PopError> {
        let len = self.cached_len();
        if len >= wanted {
            return Ok(len);
        }
        let len = self.refresh_len();
        if len > 0 { Ok(len) } else { self.empty_or_abandoned() }
    }

    /// The empty path: `Abandoned` if the producer is gone and left nothing.
    #[cold]
    pub(super) fn empty_or_abandoned(&mut self) -> Result<usize, PopError> {
        self.publish_leaked_head();
        if !self.is_abandoned() {
            return Err(PopError::Empty);
        }
        // The producer's final tail happens-before the flag we just acquired
        // ([SPSC-O6]), so this reload sees every item it ever pushed.
        match self.refresh_len() {
            0 => Err(PopError::Abandoned),
            len => Ok(len),
        }
    }

    /// Publishes our position after `n` slots were read.
    #[inline(always)]
    pub(super) fn release(&mut self, n: usize) {
        self.head = self.ring.advance(self.head, n);
        self.store_head();
    }

    /// On the empty path: if a leaked chunk iterator left our position ahead
    /// of the stored one, store it now (which, in [`Blocking`] mode, wakes a
    /// producer parked on the queue that only looked full), so the slots of
    /// the leaked chunk are free again. Never called with `sleep` held (`park` re-checks with
    /// `refresh_len`, which does not come here).
    #[inline(always)]
    pub(super) fn publish_leaked_head(&self) {
        if self.head_unpublished.get() {
            self.publish_leaked_head_slow();
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn publish_leaked_head_slow(&self) {
        // SAFE-CODE: [SPSC-S1] a leaked chunk iterator never published the head it moved
        // on; without this, a ring it covered whole would look full to the producer and
        // empty to us for as long as we only poll.
        self.head_unpublished.set(false);
        self.store_head();
    }

    #[inline(always)]
    pub(super) fn store_head(&self) {
        // ORDERING: [SPSC-O3] Release — pairs with [SPSC-O4]: our reads of the freed
        // slots happen-before the producer writes them again.
        self.ring.shared().head.store(self.head, Release);
        // SAFE-CODE: [SPSC-S9] likewise every head store (pop, commit, iterator drop, drop)
        // checks for a parked producer.
        if M::WAKES {
            #[cfg(feature = "std")]
            self.ring.shared().wake(PRODUCER_WAITING);
        }
    }

    /// Removes and returns the oldest item.
    ///
    /// Wait-free. When the cached tail says the queue is empty, reloads the
    /// producer's position once (and, if still empty, the abandonment flag).
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] when there is no item; [`PopError::Abandoned`]
    /// when there is none and the producer has been dropped, so none will
    /// ever come.
    ///
    /// # Memory ordering
    ///
    /// The item's `push`, and everything the producer did before it,
    /// happens-before `pop` returns it: the slot is read only after an
    /// `Acquire` load of the producer's position ([SPSC-O2](crate::safety#SPSC-O2)) that reads its
    /// `Release` store ([SPSC-O1](crate::safety#SPSC-O1)). In turn, the `pop` — its read of the item
    /// and everything the consumer did before — happens-before the push that
    /// writes the slot again ([SPSC-O3](crate::safety#SPSC-O3), [SPSC-O4](crate::safety#SPSC-O4)). An
    /// [`Abandoned`](PopError::Abandoned) error is final: every push the
    /// producer made happens-before it ([SPSC-O5](crate::safety#SPSC-O5), [SPSC-O6](crate::safety#SPSC-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::{self, PopError};
    ///
    /// let (mut producer, mut consumer) = spsc::bounded(2);
    /// assert_eq!(consumer.pop(), Err(PopError::Empty));
    /// producer.push(7).unwrap();
    /// drop(producer);
    /// assert_eq!(consumer.pop(), Ok(7)); // queued items outlive the producer
    /// assert_eq!(consumer.pop(), Err(PopError::Abandoned));
    /// ```
    #[inline]
    pub fn pop(&mut self) -> Result<T, PopError> {
        if self.head == self.tail_cache {
            self.available(1)?;
        }
        let slot = self.ring.slot(self.head);
        // SAFETY: [SPSC-I2] `head` is behind the acquired tail ([SPSC-O2]), so the
        // slot holds an initialised item that only the consumer may take.
        let item = slot.with(|p| unsafe { (*p).assume_init_read() });
        self.release(1);
        Ok(item)
    }

    /// The oldest item, left in the queue.
    ///
    /// # Errors
    ///
    /// As for [`pop`](Consumer::pop).
    ///
    /// # Memory ordering
    ///
    /// As for [`pop`](Consumer::pop): the item's `push` happens-before `peek`
    /// returns it ([SPSC-O1](crate::safety#SPSC-O1), [SPSC-O2](crate::safety#SPSC-O2)). Nothing is removed, so no slot is
    /// freed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded(2);
    /// producer.push(String::from("x")).unwrap();
    /// assert_eq!(consumer.peek().map(|s| s.as_str()), Ok("x"));
    /// assert_eq!(consumer.pop().as_deref(), Ok("x"));
    /// ```
    pub fn peek(&mut self) -> Result<&T, PopError> {
        self.available(1)?;
        let slot = self.ring.slot(self.head);
        // SAFETY: [SPSC-I2] as in `pop`; the item stays in place while `&self` is
        // borrowed, because only this consumer could remove it.
        Ok(slot.with(|p| unsafe { (*p).assume_init_ref() }))
    }

    /// Readable items: how many could be popped now.
    ///
    /// Reads the producer's position. The producer may add more at any
    /// moment, never fewer: a lower bound that stays true until this consumer
    /// pops. An observer: it takes `&self`, and a following `pop` reads the
    /// position again itself.
    ///
    /// # Memory ordering
    ///
    /// A snapshot: a `Relaxed` load of the producer's position ([SPSC-O11](crate::safety#SPSC-O11)).
    /// It orders no other memory, but its count holds: after a count of `n`,
    /// the next `n` pops of this consumer return items, each ordered after
    /// its push by the pop itself ([SPSC-O2](crate::safety#SPSC-O2)). After
    /// [`is_abandoned`](Consumer::is_abandoned) returned true it counts every
    /// item the producer left.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, consumer) = acqrel::spsc::bounded(4);
    /// assert_eq!(consumer.slots(), 0);
    /// producer.push_slice(&[1, 2]);
    /// assert_eq!(consumer.slots(), 2);
    /// ```
    #[inline]
    pub fn slots(&self) -> usize {
        // ORDERING: [SPSC-O11] Relaxed — a count for the caller: no slot is read on its strength.
        let tail = self.ring.shared().tail.load(Relaxed);
        let len = self.ring.distance(self.head, tail);
        if len == 0 {
            self.publish_leaked_head();
        }
        len
    }

    /// The same as [`slots`](Consumer::slots): the number of queued items.
    ///
    /// # Memory ordering
    ///
    /// A snapshot, as for [`slots`](Consumer::slots) ([SPSC-O11](crate::safety#SPSC-O11)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, consumer) = acqrel::spsc::bounded(2);
    /// producer.push('a').unwrap();
    /// assert_eq!(consumer.len(), 1);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.slots()
    }

    /// Whether the queue is empty. May turn false at any moment as the
    /// producer pushes.
    ///
    /// # Memory ordering
    ///
    /// A snapshot, as for [`slots`](Consumer::slots) ([SPSC-O11](crate::safety#SPSC-O11)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, consumer) = acqrel::spsc::bounded(2);
    /// assert!(consumer.is_empty());
    /// producer.push('a').unwrap();
    /// assert!(!consumer.is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.cached_len() == 0 && self.slots() == 0
    }

    /// Whether the producer has been dropped. Once true, stays true.
    ///
    /// # Memory ordering
    ///
    /// If true, every push the producer made (everything it did before it
    /// was dropped) happens-before this call returns, so a following
    /// [`len`](Consumer::len) counts every item it left: its drop sets the
    /// flag with a `Release` read-modify-write ([SPSC-O5](crate::safety#SPSC-O5)), read here with
    /// `Acquire` ([SPSC-O6](crate::safety#SPSC-O6)). If false, nothing is ordered.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, consumer) = acqrel::spsc::bounded(4);
    /// assert!(!consumer.is_abandoned());
    /// std::thread::spawn(move || producer.push_slice(&[1, 2])).join().unwrap();
    /// assert!(consumer.is_abandoned()); // the producer was dropped with its thread
    /// assert_eq!(consumer.len(), 2);
    /// ```
    pub fn is_abandoned(&self) -> bool {
        // ORDERING: [SPSC-O6] Acquire — pairs with [SPSC-O5]: the producer's final tail is visible after this.
        self.ring.shared().state.load(Acquire) & PRODUCER_GONE != 0
    }

    /// Up to `max` readable items, to look at and then commit (remove) at once.
    ///
    /// The chunk holds `min(max, readable)` items (possibly 0). Nothing is
    /// removed until [`ReadChunk::commit`]; its iterator
    /// ([`ReadChunk::into_iter`]) moves items out and commits exactly the ones
    /// it yielded. One Release store frees the whole chunk.
    ///
    /// # Memory ordering
    ///
    /// Each item's `push` happens-before this call returns ([SPSC-O1](crate::safety#SPSC-O1),
    /// [SPSC-O2](crate::safety#SPSC-O2)). The commit frees the slots with one `Release` store, and
    /// everything the consumer did before it happens-before the producer
    /// writes those slots again ([SPSC-O3](crate::safety#SPSC-O3), [SPSC-O4](crate::safety#SPSC-O4)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u32>(4);
    /// producer.push_slice(&[1, 2, 3]);
    /// let chunk = consumer.read_chunk(8);
    /// let (first, second) = chunk.as_slices();
    /// assert_eq!(first.iter().chain(second).sum::<u32>(), 6);
    /// chunk.commit_all();
    /// assert!(consumer.is_empty());
    /// ```
    pub fn read_chunk(&mut self, max: usize) -> ReadChunk<'_, T, S, M> {
        let len = match self.available(max) {
            Ok(len) => len.min(max),
            Err(_) => 0,
        };
        ReadChunk { consumer: self, len }
    }

    /// An iterator popping every item readable now.
    ///
    /// The items it yields are removed from the queue; their slots are freed
    /// for the producer all at once, with one Release store, when the
    /// iterator is dropped. Items it did not yield stay queued.
    ///
    /// # Memory ordering
    ///
    /// As for [`read_chunk`](Consumer::read_chunk): each item's `push`
    /// happens-before the iterator yields it ([SPSC-O1](crate::safety#SPSC-O1), [SPSC-O2](crate::safety#SPSC-O2)); the
    /// iterator's drop happens-before the producer reuses the slots
    /// ([SPSC-O3](crate::safety#SPSC-O3), [SPSC-O4](crate::safety#SPSC-O4)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded(4);
    /// producer.push_slice(&[1, 2, 3]);
    /// let firsts: Vec<i32> = consumer.pop_iter().take(2).collect();
    /// assert_eq!(firsts, [1, 2]);
    /// assert_eq!(consumer.pop(), Ok(3)); // not taken, still queued
    /// ```
    pub fn pop_iter(&mut self) -> ReadChunkIter<'_, T, S, M> {
        self.read_chunk(usize::MAX).into_iter()
    }
}

impl<T: Copy, S: Storage, M: Mode> Consumer<T, S, M> {
    /// Copies the oldest items into `out`, as many as are readable and fit,
    /// and removes them; returns how many.
    ///
    /// # Memory ordering
    ///
    /// As for [`pop`](Consumer::pop), for every item copied: their pushes
    /// happen-before the copy ([SPSC-O1](crate::safety#SPSC-O1), [SPSC-O2](crate::safety#SPSC-O2)), and one `Release` store
    /// frees their slots ([SPSC-O3](crate::safety#SPSC-O3)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u16>(4);
    /// producer.push_slice(&[1, 2, 3]);
    /// let mut out = [0; 2];
    /// assert_eq!(consumer.pop_slice(&mut out), 2);
    /// assert_eq!(out, [1, 2]);
    /// assert_eq!(consumer.pop_slice(&mut out), 1);
    /// assert_eq!(out[0], 3);
    /// assert_eq!(consumer.pop_slice(&mut out), 0); // empty
    /// ```
    pub fn pop_slice(&mut self, out: &mut [T]) -> usize {
        let chunk = self.read_chunk(out.len());
        let n = chunk.len;
        chunk.copy_to(&mut out[..n]);
        chunk.commit_all();
        n
    }

    /// Fills all of `out` with the oldest items and removes them — or, if
    /// fewer than `out.len()` are readable, removes nothing.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] when fewer items are queued (nothing is
    /// removed); [`PopError::Abandoned`] when fewer are queued and the
    /// producer is gone, so no more will come.
    ///
    /// # Panics
    ///
    /// If `out` is longer than the queue's capacity: it could never be
    /// filled.
    ///
    /// # Memory ordering
    ///
    /// On success, as for [`pop_slice`](Consumer::pop_slice) ([SPSC-O2](crate::safety#SPSC-O2),
    /// [SPSC-O3](crate::safety#SPSC-O3)). An [`Abandoned`](PopError::Abandoned) error is final:
    /// every push the producer made happens-before it ([SPSC-O6](crate::safety#SPSC-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::{self, PopError};
    ///
    /// let (mut producer, mut consumer) = spsc::bounded::<u8>(4);
    /// producer.push_slice(b"abc");
    /// let mut pair = [0; 2];
    /// assert_eq!(consumer.pop_exact(&mut pair), Ok(()));
    /// assert_eq!(&pair, b"ab");
    /// assert_eq!(consumer.pop_exact(&mut pair), Err(PopError::Empty)); // only "c" is left
    /// assert_eq!(consumer.pop(), Ok(b'c'));
    /// ```
    pub fn pop_exact(&mut self, out: &mut [T]) -> Result<(), PopError> {
        assert!(
            out.len() <= self.capacity(),
            "pop_exact of {} items from an SPSC queue of capacity {}: it can never hold them",
            out.len(),
            self.capacity()
        );
        if self.read_chunk(out.len()).len < out.len() {
            if !self.is_abandoned() {
                return Err(PopError::Empty);
            }
            // Abandoned: the producer's last push happens-before the flag we
            // acquired ([SPSC-O6]), so this look is final.
            if self.read_chunk(out.len()).len < out.len() {
                return Err(PopError::Abandoned);
            }
        }
        let chunk = self.read_chunk(out.len());
        chunk.copy_to(out);
        chunk.commit_all();
        Ok(())
    }
}

impl<T, S: Storage, M: Mode> Drop for Producer<T, S, M> {
    fn drop(&mut self) {
        leave::<T, S>(self.ring, Side::PRODUCER);
    }
}

impl<T, S: Storage, M: Mode> Drop for Consumer<T, S, M> {
    fn drop(&mut self) {
        // SAFE-CODE: [SPSC-S1] the local head can be ahead of the stored one only
        // after a leaked chunk iterator; store it so the items it covered are never
        // dropped again by whoever drains the ring ([SPSC-I4]).
        self.store_head();
        leave::<T, S>(self.ring, Side::CONSUMER);
    }
}

impl<T, S: Storage, M: Mode> fmt::Debug for Producer<T, S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer").field("capacity", &self.ring.capacity).finish_non_exhaustive()
    }
}

impl<T, S: Storage, M: Mode> fmt::Debug for Consumer<T, S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer").field("capacity", &self.ring.capacity).finish_non_exhaustive()
    }
}
