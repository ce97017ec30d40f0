//! `Queue<T, N>`: a ring stored inline, in a local, a field or a `static`.

use super::*;

/// A queue of capacity `N` in caller-provided storage: no allocation,
/// `const`-constructible, so it can live in a `static` on `no_std` targets.
///
/// [`split`](Queue::split) borrows it mutably and returns the two handles,
/// which are the same [`Producer`]/[`Consumer`] types as [`bounded`]'s, with
/// [`Borrowed`] storage. Items left queued when the handles go stay in the
/// `Queue` (a later `split` sees them) and are dropped with it.
///
/// # Leaked handles
///
/// Leaking a handle (`mem::forget`, a reference cycle) is safe. A leaked
/// producer leaves its published items behind as usual. A leaked
/// **consumer** takes the items still queued with it: the `Queue` cannot
/// tell which of them the consumer had already moved out (a
/// [`ReadChunkIter`] moves items out before it stores the consumer's
/// position, which only its drop or the consumer's does), so the next
/// `split`, or the `Queue`'s drop, treats the ring as empty and never drops
/// those items — as `Vec::drain` leaks the rest of a vector when its
/// iterator is leaked. Nothing is ever dropped or handed out twice
/// (SAFETY.md, [SPSC-I4](crate::safety#SPSC-I4)).
///
/// # Panics
///
/// [`Queue::new`] panics if `N` is 0 (at compile time when used in a
/// `const` or `static`).
///
/// # Examples
///
/// ```
/// use acqrel::spsc::Queue;
/// use std::thread;
///
/// let mut queue: Queue<u32, 16> = Queue::new();
/// let (mut producer, mut consumer) = queue.split();
/// thread::scope(|s| {
///     s.spawn(move || {
///         for i in 0..100 {
///             while producer.push(i).is_err() {}
///         }
///     });
///     let mut sum = 0;
///     let mut seen = 0;
///     while seen < 100 {
///         if let Ok(i) = consumer.pop() {
///             sum += i;
///             seen += 1;
///         }
///     }
///     assert_eq!(sum, 4950);
/// });
/// ```
pub struct Queue<T, const N: usize> {
    pub(super) shared: Shared,
    /// Set by the one [`split_static`](Queue::split_static) that succeeds.
    pub(super) claimed: AtomicBool,
    pub(super) slots: [Slot<T>; N],
}

impl<T, const N: usize> Queue<T, N> {
    /// Creates an empty queue; usable in a `const` or `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::Queue;
    ///
    /// static GLOBAL: Queue<u64, 8> = Queue::new();
    /// assert_eq!(GLOBAL.capacity(), 8);
    ///
    /// let mut local: Queue<u64, 8> = Queue::new();
    /// let (mut producer, mut consumer) = local.split();
    /// producer.push(1).unwrap();
    /// assert_eq!(consumer.pop(), Ok(1));
    /// ```
    ///
    /// A capacity of 0 does not compile:
    ///
    /// ```compile_fail
    /// let queue: acqrel::spsc::Queue<u8, 0> = acqrel::spsc::Queue::new();
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        const { assert!(N > 0, "spsc queue capacity must be at least 1") };
        Self {
            shared: Shared::new(NO_HANDLES),
            claimed: AtomicBool::new(false),
            slots: [const { UnsafeCell::new(MaybeUninit::uninit()) }; N],
        }
    }

    /// Creates an empty queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue: acqrel::spsc::Queue<u8, 2> = acqrel::spsc::Queue::new();
    /// assert_eq!(queue.capacity(), 2);
    /// ```
    #[cfg(loom)]
    pub fn new() -> Self {
        const { assert!(N > 0, "spsc queue capacity must be at least 1") };
        Self {
            shared: Shared::new(NO_HANDLES),
            claimed: AtomicBool::new(false),
            slots: core::array::from_fn(|_| UnsafeCell::new(MaybeUninit::uninit())),
        }
    }

    /// The number of items the queue can hold: `N`.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue: acqrel::spsc::Queue<u8, 3> = acqrel::spsc::Queue::new();
    /// assert_eq!(queue.capacity(), 3);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The two ends of the queue, borrowing it until both are gone.
    ///
    /// Items left queued by the previous pair of handles are still there,
    /// unless that pair's consumer was leaked (see the type's docs).
    ///
    /// # Memory ordering
    ///
    /// The handles synchronise as [`bounded`]'s do (see [`Producer::push`]
    /// and [`Consumer::pop`]). The split itself needs no atomic ordering:
    /// `&mut self` means every use of the previous handles is over and
    /// happens-before it (their threads were joined, or it was this thread,
    /// [SPSC-I3](crate::safety#SPSC-I3)).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut queue: acqrel::spsc::Queue<u32, 4> = acqrel::spsc::Queue::new();
    /// let (mut producer, consumer) = queue.split();
    /// producer.push(1).unwrap();
    /// drop((producer, consumer));
    /// let (_producer, mut consumer) = queue.split();
    /// assert_eq!(consumer.pop(), Ok(1)); // left by the first pair
    /// ```
    pub fn split(&mut self) -> (Producer<T, Borrowed<'_>>, Consumer<T, Borrowed<'_>>) {
        self.split_in()
    }

    /// The two ends of the queue in [`Blocking`] mode (`std` only), borrowing
    /// it until both are gone: as [`split`](Queue::split), with the blocking
    /// calls of [`bounded_blocking`]'s handles.
    ///
    /// # Memory ordering
    ///
    /// As for [`split`](Queue::split); the blocking calls wake as
    /// [`Blocking`] describes.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::Queue;
    /// use std::thread;
    ///
    /// let mut queue: Queue<u32, 4> = Queue::new();
    /// let (mut producer, mut consumer) = queue.split_blocking();
    /// thread::scope(|s| {
    ///     s.spawn(move || (0..100).for_each(|i| producer.push_blocking(i).unwrap()));
    ///     let mut sum = 0;
    ///     while let Ok(i) = consumer.pop_blocking() {
    ///         sum += i;
    ///     }
    ///     assert_eq!(sum, 4950);
    /// });
    /// ```
    #[cfg(feature = "std")]
    #[allow(clippy::type_complexity)]
    pub fn split_blocking(
        &mut self,
    ) -> (Producer<T, Borrowed<'_>, Blocking>, Consumer<T, Borrowed<'_>, Blocking>) {
        self.split_in()
    }

    /// The two ends of a queue that lives for the whole program (a plain
    /// `static`, or a leaked box), once: the first call gets them, every
    /// later call `None`. No `unsafe`, no `static mut`.
    ///
    /// Items left queued by the handles of an earlier
    /// [`split`](Queue::split) are still there, unless that split's consumer
    /// was leaked (see the type's docs).
    ///
    /// # Memory ordering
    ///
    /// The claim is a `Relaxed` swap ([SPSC-O12](crate::safety#SPSC-O12)): being a
    /// read-modify-write, it lets exactly one call win, however many threads
    /// race, but it orders no other memory — a `None` says nothing about
    /// what the winner did. The handles reach other threads only through
    /// something that orders (a spawn, a channel, a lock), and from then on
    /// synchronise as [`push`](Producer::push) and [`pop`](Consumer::pop) do.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::Queue;
    ///
    /// static EVENTS: Queue<u32, 64> = Queue::new();
    ///
    /// let (mut producer, mut consumer) = EVENTS.split_static().unwrap();
    /// assert!(EVENTS.split_static().is_none()); // only once
    /// let t = std::thread::spawn(move || producer.push(7).unwrap());
    /// t.join().unwrap();
    /// assert_eq!(consumer.pop(), Ok(7));
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn split_static(
        &'static self,
    ) -> Option<(Producer<T, Borrowed<'static>>, Consumer<T, Borrowed<'static>>)> {
        self.split_static_in()
    }

    /// As [`split_static`](Queue::split_static), in [`Blocking`] mode (`std`
    /// only).
    ///
    /// # Memory ordering
    ///
    /// As for [`split_static`](Queue::split_static) ([SPSC-O12](crate::safety#SPSC-O12)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::Queue;
    ///
    /// static LINES: Queue<u8, 16> = Queue::new();
    ///
    /// let (mut producer, mut consumer) = LINES.split_static_blocking().unwrap();
    /// let t = std::thread::spawn(move || (0..100).for_each(|i| producer.push_blocking(i).unwrap()));
    /// let mut sum = 0u32;
    /// while let Ok(i) = consumer.pop_blocking() {
    ///     sum += u32::from(i);
    /// }
    /// t.join().unwrap();
    /// assert_eq!(sum, 4950);
    /// ```
    #[cfg(feature = "std")]
    #[allow(clippy::type_complexity)]
    pub fn split_static_blocking(
        &'static self,
    ) -> Option<(Producer<T, Borrowed<'static>, Blocking>, Consumer<T, Borrowed<'static>, Blocking>)>
    {
        self.split_static_in()
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn split_static_in<M: Mode>(
        &'static self,
    ) -> Option<(Producer<T, Borrowed<'static>, M>, Consumer<T, Borrowed<'static>, M>)> {
        // SAFE-CODE: [SPSC-S11] one claim ever: the queue is shared (`&'static`), so
        // only this read-modify-write's atomicity keeps two pairs of handles apart.
        // ORDERING: [SPSC-O12] Relaxed — uniqueness is the read-modify-write's atomicity; every earlier access to the queue happens-before us already.
        if self.claimed.swap(true, Relaxed) {
            return None;
        }
        // We hold the only claim and `&'static self` excludes any `&mut`:
        // nobody else touches the ring until we hand out the handles.
        // ORDERING: [SPSC-O12] Relaxed — as above: the last `split`'s handles were done before the `&'static` borrow began.
        let consumer_dropped = self.shared.state.load(Relaxed) & CONSUMER_DONE != 0;
        // ORDERING: [SPSC-O12] Relaxed — as above.
        let tail = self.shared.tail.load(Relaxed);
        let head = if consumer_dropped {
            // ORDERING: [SPSC-O12] Relaxed — as above.
            self.shared.head.load(Relaxed)
        } else {
            // SAFE-CODE: [SPSC-S2] as in `settle`: a leaked consumer's head may be stale;
            // what is left is leaked, never handed out again.
            // ORDERING: [SPSC-O12] Relaxed — as above.
            self.shared.head.store(tail, Relaxed);
            tail
        };
        // ORDERING: [SPSC-O12] Relaxed — the handles reach other threads only through whatever sends them, which orders this store first.
        self.shared.state.store(0, Relaxed);
        let ring = self.ring();
        Some((Producer::new(ring, tail, head), Consumer::new(ring, head, tail)))
    }

    pub(super) fn split_in<M: Mode>(
        &mut self,
    ) -> (Producer<T, Borrowed<'_>, M>, Consumer<T, Borrowed<'_>, M>) {
        let (head, tail) = self.settle();
        self.shared.state.with_mut(|s| *s = 0);
        let ring = self.ring();
        (Producer::new(ring, tail, head), Consumer::new(ring, head, tail))
    }

    /// The positions the last pair of handles left, under `&mut self` (no
    /// handle is alive). If the last consumer was leaked, its `head` may be
    /// stale, so the items still queued are leaked with it: the ring is made
    /// empty (`head = tail`).
    pub(super) fn settle(&mut self) -> (usize, usize) {
        let tail = self.shared.tail.with_mut(|t| *t);
        let consumer_dropped = self.shared.state.with_mut(|s| *s & CONSUMER_DONE != 0);
        let head = if consumer_dropped {
            self.shared.head.with_mut(|h| *h)
        } else {
            // SAFE-CODE: [SPSC-S2] the consumer was leaked, maybe with a chunk
            // iterator that moved items out without storing `head` ([SPSC-I4]):
            // leak what is left instead of handing it out or dropping it again.
            self.shared.head.with_mut(|h| *h = tail);
            tail
        };
        (head, tail)
    }

    /// A view of the queue's ring.
    pub(super) fn ring(&self) -> Ring<T> {
        Ring {
            shared: NonNull::from(&self.shared),
            slots: NonNull::from(&self.slots).cast::<Slot<T>>(),
            capacity: N,
        }
    }
}

impl<T, const N: usize> Default for Queue<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> Drop for Queue<T, N> {
    fn drop(&mut self) {
        let (head, tail) = self.settle();
        // SAFETY: [SPSC-I4] `&mut self`: no handle is alive, and the items at
        // `head .. tail` were left by the last handles (whose consumer was
        // dropped, or the range is empty), dropped by nobody.
        unsafe { self.ring().drop_items(head, tail) };
    }
}

impl<T, const N: usize> fmt::Debug for Queue<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue").field("capacity", &N).finish_non_exhaustive()
    }
}

// SAFETY: [SPSC-I1] a `Queue` is used from several threads only through the
// handles of `split`, which need `&mut Queue`; sending the queue itself sends
// its items (`T: Send`).
unsafe impl<T: Send, const N: usize> Send for Queue<T, N> {}
// SAFETY: [SPSC-I1] `&Queue` gives access to nothing but `capacity`.
unsafe impl<T: Send, const N: usize> Sync for Queue<T, N> {}
// Unwind safety as for the handles: the storage is consistent after a panic
// anywhere; an item's own state is the item's business.
impl<T: core::panic::UnwindSafe, const N: usize> core::panic::UnwindSafe for Queue<T, N> {}
impl<T: core::panic::RefUnwindSafe, const N: usize> core::panic::RefUnwindSafe for Queue<T, N> {}
