//! A bounded single-producer single-consumer queue: wait-free, batch-capable,
//! on the heap or in caller-provided (`static`) storage.
//!
//! # Guarantees
//!
//! [`bounded`] returns one [`Producer`] and one [`Consumer`]. Every
//! non-blocking operation of both handles (`push`, `pop`, `peek`, the chunk
//! and slice calls, `len`/`slots`, `is_abandoned`) is **wait-free**: a
//! bounded number of steps, no loop that waits for the other side, no
//! compare-exchange, no lock — apart from the user code some of them run
//! (the iterator of [`Producer::push_from_iter`], the `Drop` of the items a
//! [`ReadChunk::commit`] removes).
//!
//! [`bounded_blocking`] (and [`Queue::split_blocking`], `std` only) makes a
//! queue in [`Blocking`] mode: its handles also have blocking calls that
//! park the thread while the queue is full or empty, and every call that
//! publishes an item or frees a slot wakes a parked peer, so no mix of
//! blocking and non-blocking calls can leave one asleep with work waiting;
//! each such commit costs a `SeqCst` fence, which [`bounded`]'s [`Polling`]
//! handles never pay. The mode is part of the handle types
//! (`Producer<T, Heap, Blocking>`). Dropping a handle takes two read-modify-writes, and the lock of
//! the blocking layer only if the other side is parked; the last handle of a
//! heap ring also drops the items still queued. Items come out in the order
//! they went in, each exactly once, and each item is dropped at most once:
//! by whoever pops it, or — if it is still queued — when the last handle goes
//! (heap form) or the [`Queue`] is dropped (borrowed form).
//!
//! Leaking (`mem::forget`) is safe and never worse than a leak: a leaked
//! chunk or chunk iterator leaks the items it held; a leaked handle is, to
//! the other side, a handle that is still there, and keeps a heap ring (with
//! its items) alive for good; a leaked consumer of a [`Queue`] takes the items
//! still queued with it. No item is ever dropped or handed out twice
//! (SAFETY.md, "What safe code can do to it").
//!
//! The handles are `Send` but not `Sync`, and every method that moves items
//! or positions takes `&mut self`: at any moment one thread pushes and one
//! thread pops, which is what lets the queue work without read-modify-write
//! instructions ([SPSC-I1]). The observers (`capacity`, `slots`, `len`,
//! `is_empty`, `is_full`, `is_abandoned`) take `&self`.
//!
//! ```compile_fail
//! // A producer cannot be shared between threads (it is not `Sync`):
//! let (producer, _consumer) = acqrel::spsc::bounded::<u32>(4);
//! let shared = &producer;
//! std::thread::scope(|s| {
//!     s.spawn(move || shared.is_abandoned());
//! });
//! ```
//!
//! ```compile_fail
//! // Handles are invariant in the item type: a producer of `&'static str`
//! // cannot become a producer of shorter-lived references while its consumer
//! // still hands out `&'static str`.
//! fn shorten<'a>(p: acqrel::spsc::Producer<&'static str>) -> acqrel::spsc::Producer<&'a str> {
//!     p
//! }
//! ```
//!
//! ```compile_fail
//! // Nor can a consumer:
//! let (_producer, consumer) = acqrel::spsc::bounded::<u32>(4);
//! let shared = &consumer;
//! std::thread::scope(|s| {
//!     s.spawn(move || shared.capacity());
//! });
//! ```
//!
//! # Algorithm
//!
//! The classic Lamport ring buffer (L. Lamport, *Specifying Concurrent
//! Program Modules*, TOPLAS 1983) with the two refinements that make it fast
//! on real caches, as in `rtrb` and in Rigtorp's `SPSCQueue`:
//!
//! - the producer owns the `tail` position and the consumer owns `head`; each
//!   keeps its own position in a local field and only *stores* it;
//! - each side caches the other's position and reloads it (one `Acquire`
//!   load) only when the cache says "full" (producer) or "empty" (consumer),
//!   so in steady state a push or pop touches no cache line the other side
//!   writes.
//!
//! Positions run over `0 .. 2 * capacity` and wrap there; slot `p` is
//! `p` if `p < capacity`, else `p - capacity`. Using twice the capacity tells
//! "full" (`tail - head == capacity`) from "empty" (`tail == head`) without a
//! wasted slot, for **any** capacity ≥ 1 (not only powers of two), and needs
//! only a compare and a subtraction, never a division.
//!
//! | slots at positions | state | owned by |
//! |---|---|---|
//! | `head .. tail` | initialised items | the consumer (reads, drops) |
//! | `tail .. head + capacity` | uninitialised | the producer (writes) |
//!
//! # Storage
//!
//! The algorithm is written once, over a pointer to the positions and a
//! pointer plus length for the slots. [`bounded`] allocates them ([`Heap`]);
//! [`Queue`] holds them inline, is `const`-constructible, and hands out
//! handles that borrow it ([`Borrowed`]) — for `no_std` targets without an
//! allocator, or a queue in a `static`. The handles are the same types with a
//! different storage parameter.
//!
//! # Choosing a capacity
//!
//! A slot can be written again only after its item has reached the consumer
//! and word of its removal has come back: a round trip between the two cores,
//! however the items are pushed. So `capacity` items at most move per round
//! trip, and no API can beat `capacity / round trip`. With a 100 ns round
//! trip, capacity 64 caps throughput near 640 M items/s; the chunk API came
//! within 0.87–1.00 of that bound in the README's runs, the two sides handing
//! the whole ring back and forth. Size the queue for the rate it must sustain
//! times the round trip, plus room for bursts; from a few hundred slots up the
//! bound no longer binds and the code path sets the pace.
//!
//! # Memory ordering
//!
//! Three things can go wrong in a ring shared by two threads, and each is
//! ruled out by a named entry in SAFETY.md:
//!
//! 1. **Claim race** — two writers claim the same slot. Impossible by
//!    construction: there is one producer and one consumer ([SPSC-I1]), so
//!    positions are advanced by plain stores, not compare-exchanges.
//! 2. **Visibility** — the consumer sees the new tail but not the item. The
//!    producer writes the slot, then stores `tail` with `Release` ([SPSC-O1]);
//!    the consumer loads `tail` with `Acquire` ([SPSC-O2]) before reading
//!    the slot. A popped item happens-after its push.
//! 3. **Overwrite while reading** — the producer reuses a slot the consumer is
//!    still reading. The consumer reads (moves out or drops) the item, then
//!    stores `head` with `Release` ([SPSC-O3]); the producer loads `head` with
//!    `Acquire` ([SPSC-O4]) before writing a slot it frees.
//!
//! Each side's own position needs no ordering at all: it is never loaded from
//! memory, only stored (its owner keeps the value, [SPSC-I2]). Abandonment
//! (a handle dropped) is a bit of the `state` word set with a `Release`
//! read-modify-write ([SPSC-O5]) and read with `Acquire` ([SPSC-O6]), so a
//! consumer that sees the producer gone also sees every item it pushed. The
//! ring's lifetime is a second bit per handle, set with an `AcqRel`
//! read-modify-write after the handle's last access to the ring
//! ([SPSC-O10]): the handle that finds the other's bit set is the last one,
//! and frees the ring ([SPSC-I3]).

use crate::loom::UnsafeCell;
use crate::loom::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use crate::loom::atomic::{AtomicBool, AtomicUsize};
use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use crossbeam_utils::CachePadded;

#[cfg(feature = "std")]
use crate::loom::atomic::{Ordering::SeqCst, fence};
#[cfg(feature = "std")]
use crate::patience::Patience;
// The blocking layer's mutex and condition variable come through the switch
// module (loom's under `--cfg loom`); clippy sees through the re-export.
#[cfg(feature = "std")]
#[allow(clippy::disallowed_types)]
use crate::loom::sync::{Condvar, Mutex};
#[cfg(not(feature = "std"))]
use alloc::boxed::Box;
#[cfg(feature = "std")]
use std::time::{Duration, Instant};

type Slot<T> = UnsafeCell<MaybeUninit<T>>;

/// `state` bit: the producer has been dropped (abandonment, [SPSC-O5]).
const PRODUCER_GONE: usize = 1;
/// `state` bit: the consumer has been dropped (abandonment, [SPSC-O5]).
const CONSUMER_GONE: usize = 2;
/// `state` bit: the consumer is (about to be) parked in a blocking pop.
#[cfg(feature = "std")]
const CONSUMER_WAITING: usize = 4;
/// `state` bit: the producer is (about to be) parked in a blocking push.
#[cfg(feature = "std")]
const PRODUCER_WAITING: usize = 8;
/// `state` bit: the producer's drop has made its last access to the ring
/// (lifetime, [SPSC-I3]); set after `PRODUCER_GONE`.
const PRODUCER_DONE: usize = 16;
/// `state` bit: the consumer's drop has made its last access to the ring
/// (lifetime, [SPSC-I3]); set after `CONSUMER_GONE`. In a [`Queue`] it also
/// tells that the shared `head` is the consumer's real position ([SPSC-I4]).
const CONSUMER_DONE: usize = 32;

/// `state` of a [`Queue`] without handles: as if a pair had been dropped, so
/// that the first [`Queue::split`] trusts the (initial) positions.
const NO_HANDLES: usize = PRODUCER_GONE | CONSUMER_GONE | PRODUCER_DONE | CONSUMER_DONE;

/// What both sides share apart from the slots.
#[allow(clippy::disallowed_types)] // `Mutex`/`Condvar` from `crate::loom::sync`
struct Shared {
    /// The consumer's position: written by the consumer only ([SPSC-I2]).
    head: CachePadded<AtomicUsize>,
    /// The producer's position: written by the producer only ([SPSC-I2]).
    tail: CachePadded<AtomicUsize>,
    /// `*_GONE | *_WAITING | *_DONE`; touched only on slow paths, by the
    /// blocking layer, and on drop.
    ///
    /// | bit | set by | cleared by | meaning |
    /// |---|---|---|---|
    /// | `PRODUCER_GONE`, `CONSUMER_GONE` | that handle's drop, first RMW | `Queue::split` | abandonment: the other side's calls report it |
    /// | `CONSUMER_WAITING`, `PRODUCER_WAITING` | `park` | `park` | that side sleeps, or is about to |
    /// | `PRODUCER_DONE`, `CONSUMER_DONE` | that handle's drop, second RMW | `Queue::split` | lifetime: that handle will not touch the ring again |
    state: CachePadded<AtomicUsize>,
    /// Held by a blocking waiter from setting its `*_WAITING` bit until it
    /// sleeps, and by a waker around its notification ([SPSC-I5]).
    #[cfg(feature = "std")]
    sleep: Mutex<()>,
    /// Where blocked handles sleep (at most one per side).
    #[cfg(feature = "std")]
    wakeup: Condvar,
}

#[allow(clippy::disallowed_types)] // `Mutex`/`Condvar` from `crate::loom::sync`
impl Shared {
    #[cfg(not(loom))]
    const fn new(state: usize) -> Self {
        Self {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            state: CachePadded::new(AtomicUsize::new(state)),
            #[cfg(feature = "std")]
            sleep: Mutex::new(()),
            #[cfg(feature = "std")]
            wakeup: Condvar::new(),
        }
    }

    #[cfg(loom)]
    fn new(state: usize) -> Self {
        Self {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            state: CachePadded::new(AtomicUsize::new(state)),
            #[cfg(feature = "std")]
            sleep: Mutex::new(()),
            #[cfg(feature = "std")]
            wakeup: Condvar::new(),
        }
    }
}

/// A view of one ring: where its positions and slots are, and its capacity.
/// Both handles of a ring hold a copy; it owns nothing.
struct Ring<T> {
    shared: NonNull<Shared>,
    slots: NonNull<Slot<T>>,
    capacity: usize,
}

impl<T> Clone for Ring<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ring<T> {}

impl<T> Ring<T> {
    #[inline(always)]
    fn shared(&self) -> &Shared {
        // SAFETY: [SPSC-I3] the positions outlive every handle holding this view.
        unsafe { self.shared.as_ref() }
    }

    /// The slot at position `pos` (`pos < 2 * capacity`).
    #[inline(always)]
    fn slot(&self, pos: usize) -> &Slot<T> {
        debug_assert!(pos < 2 * self.capacity);
        self.slot_at(self.index(pos))
    }

    /// The slot index of position `pos`.
    #[inline(always)]
    fn index(&self, pos: usize) -> usize {
        if pos < self.capacity { pos } else { pos - self.capacity }
    }

    /// The slot with index `index` (`index < capacity`).
    #[inline(always)]
    fn slot_at(&self, index: usize) -> &Slot<T> {
        debug_assert!(index < self.capacity);
        // SAFETY: [SPSC-I3] `index < capacity` and the slots outlive every handle.
        unsafe { &*self.slots.as_ptr().add(index) }
    }

    /// `pos` moved on by `n <= capacity`, wrapping at `2 * capacity`.
    #[inline(always)]
    fn advance(&self, pos: usize, n: usize) -> usize {
        let wrap = 2 * self.capacity - n;
        if pos < wrap { pos + n } else { pos - wrap }
    }

    /// Items in `head .. tail`.
    #[inline(always)]
    fn distance(&self, head: usize, tail: usize) -> usize {
        if tail >= head { tail - head } else { tail + (2 * self.capacity - head) }
    }

    /// The slot index of `pos` and how many slots follow it before the end of
    /// the buffer.
    #[cfg(not(loom))]
    #[inline(always)]
    fn contiguous(&self, pos: usize) -> (usize, usize) {
        let index = if pos < self.capacity { pos } else { pos - self.capacity };
        (index, self.capacity - index)
    }

    /// Drops the items at positions `head .. tail`.
    ///
    /// # Safety
    ///
    /// The caller has exclusive access to those slots and they hold initialised
    /// items that nobody else will drop ([SPSC-I4]).
    unsafe fn drop_items(&self, head: usize, tail: usize) {
        /// Drops the items left between `head` and `tail`; as a guard, it goes
        /// on dropping the rest if one item's `Drop` unwinds.
        struct Rest<'a, T> {
            ring: &'a Ring<T>,
            head: usize,
            tail: usize,
        }
        impl<T> Rest<'_, T> {
            fn drop_next(&mut self) {
                let slot = self.ring.slot(self.head);
                self.head = self.ring.advance(self.head, 1);
                // SAFETY: [SPSC-I4] the caller guarantees the slot is initialised and
                // ours alone; `head` moved past it first, so it is dropped once.
                slot.with_mut(|p| unsafe { (*p).assume_init_drop() });
            }
        }
        impl<T> Drop for Rest<'_, T> {
            fn drop(&mut self) {
                // SAFE-CODE: [SPSC-S4] non-empty only while unwinding from a panicking
                // item `Drop`: the rest are still dropped, once each.
                while self.head != self.tail {
                    self.drop_next();
                }
            }
        }
        let mut rest = Rest { ring: self, head, tail };
        while rest.head != rest.tail {
            rest.drop_next();
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Where a ring's positions and slots live: [`Heap`] or [`Borrowed`].
///
/// The trait is sealed; it only selects what the last handle does when it
/// goes.
pub trait Storage: sealed::Sealed {
    /// Whether the last handle frees the ring (and drops the items still in it).
    #[doc(hidden)]
    const OWNED_BY_HANDLES: bool;
}

/// Storage allocated by [`bounded`] and freed, with any items still queued,
/// when both handles are gone.
#[derive(Debug)]
pub struct Heap(());

/// Storage borrowed from a [`Queue`] for `'a`: items left in it stay there
/// (for the next [`Queue::split`]) and are dropped with the `Queue`.
#[derive(Debug)]
pub struct Borrowed<'a>(PhantomData<&'a mut ()>);

impl sealed::Sealed for Heap {}
impl sealed::Sealed for Borrowed<'_> {}

impl Storage for Heap {
    const OWNED_BY_HANDLES: bool = true;
}

impl Storage for Borrowed<'_> {
    const OWNED_BY_HANDLES: bool = false;
}

/// Whether a queue's handles can park: [`Polling`] or [`Blocking`].
///
/// Chosen when the queue is made ([`bounded`] / [`bounded_blocking`],
/// [`Queue::split`] / [`Queue::split_blocking`]) and fixed for both handles,
/// so that no mix of calls can leave a handle asleep while there is work for
/// it ([SPSC-S9]). The trait is sealed.
pub trait Mode: sealed::Sealed {
    /// Whether every position store checks for a parked peer.
    #[doc(hidden)]
    const WAKES: bool;
}

/// The mode of [`bounded`] and [`Queue::split`]: the handles never park
/// (no blocking calls), so no operation pays for waking one — `push` and
/// `pop` stay a few plain loads and stores.
#[derive(Debug)]
pub struct Polling(());

/// The mode of [`bounded_blocking`] and [`Queue::split_blocking`] (`std`
/// only): the handles have blocking calls ([`Producer::push_blocking`],
/// [`Consumer::pop_blocking`], the blocking chunk calls), and *every*
/// operation that frees a slot or publishes an item — blocking or not,
/// single item or chunk — wakes the other side if it is parked. That check
/// costs a `SeqCst` fence per commit (a chunk pays it once).
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct Blocking(());

impl sealed::Sealed for Polling {}
#[cfg(feature = "std")]
impl sealed::Sealed for Blocking {}

impl Mode for Polling {
    const WAKES: bool = false;
}

#[cfg(feature = "std")]
impl Mode for Blocking {
    const WAKES: bool = true;
}

/// The heap allocation behind [`bounded`]: freed by the last handle.
/// `repr(C)` puts `shared` at offset 0, so a `Ring`'s positions pointer is
/// also a pointer to the whole allocation ([SPSC-I3]).
#[repr(C)]
struct HeapRing<T> {
    shared: Shared,
    slots: Box<[Slot<T>]>,
}

/// Creates a queue holding up to `capacity` items and returns its two ends.
///
/// Every capacity ≥ 1 is usable in full: a queue of capacity 3 holds three
/// items (no slot is sacrificed to tell full from empty).
///
/// # Panics
///
/// If `capacity` is 0 (a queue that can never hold an item is a bug, not a
/// rendezvous channel), or if `capacity` items of `T` do not fit in memory
/// (`capacity > usize::MAX / 2`, or more than `isize::MAX` bytes).
///
/// # Examples
///
/// ```
/// use acqrel::spsc;
/// use std::thread;
///
/// let (mut producer, mut consumer) = spsc::bounded::<u64>(64);
/// let sender = thread::spawn(move || {
///     for i in 0..1000 {
///         while producer.push(i).is_err() {
///             std::hint::spin_loop(); // full: the consumer is behind
///         }
///     }
/// });
/// let mut expected = 0;
/// while expected < 1000 {
///     if let Ok(item) = consumer.pop() {
///         assert_eq!(item, expected);
///         expected += 1;
///     }
/// }
/// sender.join().unwrap();
/// ```
pub fn bounded<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    heap_pair(capacity)
}

/// Creates a queue holding up to `capacity` items whose two ends can park
/// ([`Blocking`] mode, `std` only).
///
/// The handles have the non-blocking calls of [`bounded`]'s and the
/// blocking ones: [`Producer::push_blocking`], [`Consumer::pop_blocking`],
/// [`Producer::write_chunk_blocking`], [`Consumer::read_chunk_blocking`] and
/// their timed forms. Every call that publishes an item or frees a slot —
/// `push`, `pop`, a chunk commit, a blocking call — wakes the other side if
/// it is parked, so any mix of calls is safe from lost wake-ups. The price is
/// one `SeqCst` fence per commit, which [`bounded`]'s handles do not pay.
///
/// # Panics
///
/// As [`bounded`].
///
/// # Examples
///
/// ```
/// use acqrel::spsc;
/// use std::thread;
///
/// let (mut producer, mut consumer) = spsc::bounded_blocking::<u64>(16);
/// let sender = thread::spawn(move || {
///     for i in 0..1000 {
///         producer.push_blocking(i).unwrap(); // sleeps while the queue is full
///     }
///     producer.push_slice(&[1000, 1001]); // non-blocking calls wake a parked consumer too
/// });
/// let mut sum = 0;
/// while let Ok(i) = consumer.pop_blocking() {
///     sum += i; // sleeps while the queue is empty; `Err(Abandoned)` once the producer is gone
/// }
/// assert_eq!(sum, (0..1002).sum::<u64>());
/// sender.join().unwrap();
/// ```
#[cfg(feature = "std")]
pub fn bounded_blocking<T>(
    capacity: usize,
) -> (Producer<T, Heap, Blocking>, Consumer<T, Heap, Blocking>) {
    heap_pair(capacity)
}

fn heap_pair<T, M: Mode>(capacity: usize) -> (Producer<T, Heap, M>, Consumer<T, Heap, M>) {
    check_capacity::<T>(capacity);
    let slots = allocate_slots::<T>(capacity);
    let raw = Box::into_raw(Box::new(HeapRing { shared: Shared::new(0), slots }));
    // SAFETY: [SPSC-I3] `raw` comes from `Box::into_raw`: valid and non-null. The
    // slots pointer is taken from the leaked allocation itself, so it stays valid
    // until the last handle rebuilds and drops the `Box`.
    let (shared, slots) =
        unsafe { (NonNull::new_unchecked(raw), NonNull::new_unchecked((*raw).slots.as_mut_ptr())) };
    let ring = Ring { shared: shared.cast::<Shared>(), slots, capacity };
    (Producer::new(ring, 0, 0), Consumer::new(ring, 0, 0))
}

#[inline]
fn check_capacity<T>(capacity: usize) {
    // SAFE-CODE: [SPSC-S8] a capacity that is 0 or does not fit in memory is refused
    // before anything is allocated (positions run to `2 * capacity`).
    assert!(capacity > 0, "spsc queue capacity must be at least 1");
    assert!(
        capacity <= usize::MAX / 2 && core::alloc::Layout::array::<T>(capacity).is_ok(),
        "spsc queue capacity overflow: {capacity} items do not fit in memory"
    );
}

#[cfg(not(loom))]
fn allocate_slots<T>(capacity: usize) -> Box<[Slot<T>]> {
    let uninit: Box<[MaybeUninit<Slot<T>>]> = Box::new_uninit_slice(capacity);
    // SAFETY: [SPSC-I4] a `Slot<T>` is an `UnsafeCell<MaybeUninit<T>>`, for which
    // any bytes (uninitialised ones included) are a valid value, and
    // `MaybeUninit<Slot<T>>` has the same layout.
    unsafe { Box::from_raw(Box::into_raw(uninit) as *mut [Slot<T>]) }
}

#[cfg(loom)]
fn allocate_slots<T>(capacity: usize) -> Box<[Slot<T>]> {
    (0..capacity).map(|_| UnsafeCell::new(MaybeUninit::uninit())).collect()
}

/// The error of [`Producer::push`]: the item is handed back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PushError<T> {
    /// The queue is full.
    Full(T),
    /// The queue is full and the consumer is gone: it never will have room.
    Abandoned(T),
}

impl<T> PushError<T> {
    /// The item that was not pushed.
    pub fn into_inner(self) -> T {
        match self {
            PushError::Full(item) | PushError::Abandoned(item) => item,
        }
    }
}

impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Full(_) => f.write_str("Full(..)"),
            PushError::Abandoned(_) => f.write_str("Abandoned(..)"),
        }
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Full(_) => f.write_str("spsc queue is full"),
            PushError::Abandoned(_) => f.write_str("spsc queue is full and its consumer is gone"),
        }
    }
}

impl<T> core::error::Error for PushError<T> {}

/// The error of [`Consumer::pop`] and [`Consumer::peek`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopError {
    /// The queue is empty.
    Empty,
    /// The queue is empty and the producer is gone: no item will ever come.
    Abandoned,
}

impl fmt::Display for PopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PopError::Empty => f.write_str("spsc queue is empty"),
            PopError::Abandoned => f.write_str("spsc queue is empty and its producer is gone"),
        }
    }
}

impl core::error::Error for PopError {}

/// The writing end of an SPSC queue.
///
/// `S` is where the ring lives: [`Heap`] (from [`bounded`], the default) or
/// [`Borrowed`] (from [`Queue::split`]).
pub struct Producer<T, S: Storage = Heap, M: Mode = Polling> {
    ring: Ring<T>,
    /// Our position; we are the only writer of `tail`, so this is its value.
    tail: usize,
    /// One lap past the consumer's position as last loaded (never ahead of
    /// the real one): we may write up to here. `tail == room_end` is the
    /// fast "full as far as we know" test of `push`.
    room_end: usize,
    _storage: PhantomData<(S, M, T)>,
}

/// The reading end of an SPSC queue.
///
/// `S` is where the ring lives: [`Heap`] (from [`bounded`], the default) or
/// [`Borrowed`] (from [`Queue::split`]).
pub struct Consumer<T, S: Storage = Heap, M: Mode = Polling> {
    ring: Ring<T>,
    /// Our position; we are the only writer of `head`, so this is its value.
    head: usize,
    /// The producer's position as last loaded: never ahead of the real one.
    tail_cache: usize,
    /// Set while a chunk iterator has moved `head` past items it may not
    /// have published yet: true from `ReadChunk::into_iter` to the
    /// iterator's drop, and for good if the iterator is leaked, until the
    /// consumer next finds the queue empty ([SPSC-S1]).
    head_unpublished: Cell<bool>,
    _storage: PhantomData<(S, M, T)>,
}

// SAFETY: [SPSC-I1] a handle is the one producer of its ring; moving it to
// another thread moves that role with it, and items of type `T` cross threads
// (hence `T: Send`). The ring's memory is shared with the consumer only
// through atomics and the slot-ownership protocol of [SPSC-I2].
unsafe impl<T: Send, S: Storage, M: Mode> Send for Producer<T, S, M> {}

// SAFETY: [SPSC-I1] as for `Producer`: moving the handle moves the single
// consumer role; items it pops were sent from the producer's thread (`T: Send`).
unsafe impl<T: Send, S: Storage, M: Mode> Send for Consumer<T, S, M> {}

impl<T, S: Storage, M: Mode> Producer<T, S, M> {
    fn new(ring: Ring<T>, tail: usize, head: usize) -> Self {
        let room_end = ring.advance(head, ring.capacity);
        Self { ring, tail, room_end, _storage: PhantomData }
    }

    /// The number of items the queue can hold.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.ring.capacity
    }

    /// Free slots according to the cached head (a lower bound).
    #[inline(always)]
    fn cached_free(&self) -> usize {
        self.ring.distance(self.tail, self.room_end)
    }

    /// Reloads the consumer's position and returns the free slots.
    #[inline]
    fn refresh_free(&mut self) -> usize {
        // ORDERING: [SPSC-O4] Acquire — pairs with [SPSC-O3]: the consumer's reads of
        // the slots it freed happen-before we write them again.
        let head = self.ring.shared().head.load(Acquire);
        self.room_end = self.ring.advance(head, self.ring.capacity);
        self.cached_free()
    }

    /// Publishes our position after `n` slots were written.
    #[inline(always)]
    fn publish(&mut self, n: usize) {
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
    /// `pop` (or `peek`, or read chunk) returning this item.
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
    /// If true, the consumer's last operation happens-before this call.
    pub fn is_abandoned(&self) -> bool {
        // ORDERING: [SPSC-O6] Acquire — pairs with [SPSC-O5]: the consumer's last accesses happen-before us.
        self.ring.shared().state.load(Acquire) & CONSUMER_GONE != 0
    }

    /// Moves items from `iter` into the queue until it is full or the
    /// iterator ends, publishing them all at once; returns how many moved.
    ///
    /// Items the queue has no room for stay in `iter`: no item is lost.
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
    /// # Examples
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    ///
    /// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u32>(8);
    /// let mut chunk = producer.write_chunk(4);
    /// let (first, second) = chunk.as_mut_slices();
    /// for (i, slot) in first.iter_mut().chain(second).enumerate() {
    ///     slot.write(i as u32 * 10);
    /// }
    /// let n = chunk.len();
    /// // SAFETY: all `n` slots were written above.
    /// unsafe { chunk.commit(n) };
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
    fn new(ring: Ring<T>, head: usize, tail: usize) -> Self {
        Self {
            ring,
            head,
            tail_cache: tail,
            head_unpublished: Cell::new(false),
            _storage: PhantomData,
        }
    }

    /// The number of items the queue can hold.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.ring.capacity
    }

    /// Readable items according to the cached tail (a lower bound).
    #[inline(always)]
    fn cached_len(&self) -> usize {
        self.ring.distance(self.head, self.tail_cache)
    }

    /// Reloads the producer's position and returns the readable items.
    #[inline]
    fn refresh_len(&mut self) -> usize {
        // ORDERING: [SPSC-O2] Acquire — pairs with [SPSC-O1]: the producer's slot
        // writes before its tail store happen-before our reads of those slots.
        self.tail_cache = self.ring.shared().tail.load(Acquire);
        self.cached_len()
    }

    /// Readable items, reloading the producer's position when the cache says
    /// fewer than `wanted`; when there are none, checks for abandonment.
    #[inline(always)]
    fn available(&mut self, wanted: usize) -> Result<usize, PopError> {
        let len = self.cached_len();
        if len >= wanted {
            return Ok(len);
        }
        let len = self.refresh_len();
        if len > 0 { Ok(len) } else { self.empty_or_abandoned() }
    }

    /// The empty path: `Abandoned` if the producer is gone and left nothing.
    #[cold]
    fn empty_or_abandoned(&mut self) -> Result<usize, PopError> {
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
    fn release(&mut self, n: usize) {
        self.head = self.ring.advance(self.head, n);
        self.store_head();
    }

    /// On the empty path: if a leaked chunk iterator left our position ahead
    /// of the stored one, store it now (which, in [`Blocking`] mode, wakes a
    /// producer parked on the queue that only looked full), so the slots of
    /// the leaked chunk are free again. Never called with `sleep` held (`park` re-checks with
    /// `refresh_len`, which does not come here).
    #[inline(always)]
    fn publish_leaked_head(&self) {
        if self.head_unpublished.get() {
            self.publish_leaked_head_slow();
        }
    }

    #[cold]
    #[inline(never)]
    fn publish_leaked_head_slow(&self) {
        // SAFE-CODE: [SPSC-S1] a leaked chunk iterator never published the head it moved
        // on; without this, a ring it covered whole would look full to the producer and
        // empty to us for as long as we only poll.
        self.head_unpublished.set(false);
        self.store_head();
    }

    #[inline(always)]
    fn store_head(&self) {
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
    /// happens-before `pop` returns it.
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
    /// If true, every push the producer made happens-before this call, so a
    /// following [`len`](Consumer::len) counts every item it left.
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

    /// An iterator popping every item readable now, committing as it goes
    /// (one Release store when it is dropped).
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

/// Which handle is leaving: its `GONE` and `DONE` bits, and the other
/// side's `WAITING` and `DONE` bits.
#[derive(Clone, Copy)]
struct Side {
    gone: usize,
    done: usize,
    #[cfg(feature = "std")]
    other_waiting: usize,
    other_done: usize,
}

impl Side {
    const PRODUCER: Side = Side {
        gone: PRODUCER_GONE,
        done: PRODUCER_DONE,
        #[cfg(feature = "std")]
        other_waiting: CONSUMER_WAITING,
        other_done: CONSUMER_DONE,
    };
    const CONSUMER: Side = Side {
        gone: CONSUMER_GONE,
        done: CONSUMER_DONE,
        #[cfg(feature = "std")]
        other_waiting: PRODUCER_WAITING,
        other_done: PRODUCER_DONE,
    };
}

/// Drops one handle, in two read-modify-writes of `state`:
///
/// 1. `GONE` (abandonment): from here on the other side's calls see this side
///    gone; if the other side sleeps in a blocking call, wake it. The ring is
///    still alive: the other handle frees it only after step 2.
/// 2. `DONE` (lifetime): after this, the ring is touched again only if the
///    other handle was already done, that is, by the last handle, which drains
///    the queued items and frees the ring (heap storage only).
#[cold]
fn leave<T, S: Storage>(ring: Ring<T>, side: Side) {
    // ORDERING: [SPSC-O5] Release — our last slot accesses and final position happen-before
    // whoever acquires this bit ([SPSC-O6]): "gone" implies "every item it pushed is visible".
    let _before = ring.shared().state.fetch_or(side.gone, Release);
    #[cfg(feature = "std")]
    if _before & side.other_waiting != 0 {
        // A waiter of the other side set its bit before our read-modify-write in
        // the modification order of `state`, or sees our bit when it checks for
        // abandonment after setting its own ([SPSC-I5]): it is never left asleep.
        // SAFE-CODE: [SPSC-S6] the mutex and condition variable are still alive here:
        // the other handle cannot free the ring before our `DONE` below ([SPSC-I3]).
        ring.shared().notify();
    }
    // SAFE-CODE: [SPSC-S6] the last access to the ring by a handle that is not the
    // last one: nothing of the ring is touched after this read-modify-write unless it
    // finds the other handle done ([SPSC-I3]).
    // ORDERING: [SPSC-O10] AcqRel — Release: every access of ours to the ring (slots, positions,
    // the mutex in `notify`) happens-before the other handle's drain and free; Acquire: if the
    // other handle is done, its accesses happen-before ours below.
    let before = ring.shared().state.fetch_or(side.done, AcqRel);
    if before & side.other_done == 0 || !S::OWNED_BY_HANDLES {
        return;
    }
    // We are the last handle of a heap ring.
    // ORDERING: [SPSC-O7] Relaxed — both positions' final stores happen-before
    // this through [SPSC-O10], so coherence gives their final values.
    let head = ring.shared().head.load(Relaxed);
    // ORDERING: [SPSC-O7] Relaxed — as above.
    let tail = ring.shared().tail.load(Relaxed);
    /// Frees the allocation after the items, even if an item's `Drop` unwinds.
    struct Free<T>(NonNull<HeapRing<T>>);
    impl<T> Drop for Free<T> {
        fn drop(&mut self) {
            // SAFETY: [SPSC-I3] the pointer came from `Box::into_raw` of this
            // `HeapRing<T>` (`repr(C)`, `shared` first), and the last handle is its
            // last user. The slots are `MaybeUninit`: freeing drops no item.
            drop(unsafe { Box::from_raw(self.0.as_ptr()) });
        }
    }
    let _free = Free(ring.shared.cast::<HeapRing<T>>());
    // SAFETY: [SPSC-I4] both handles are done with the ring ([SPSC-O10]), so the
    // items at `head .. tail` are ours alone and nobody else will drop them.
    unsafe { ring.drop_items(head, tail) };
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

/// Free slots of a [`Producer`], from [`Producer::write_chunk`]: fill them,
/// then publish them with one commit.
pub struct WriteChunk<'p, T, S: Storage = Heap, M: Mode = Polling> {
    producer: &'p mut Producer<T, S, M>,
    len: usize,
}

impl<T, S: Storage, M: Mode> WriteChunk<'_, T, S, M> {
    /// The number of free slots in the chunk.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the chunk has no slot (the queue was full).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk's slots as (up to) two slices, in queue order: the second is
    /// non-empty only when the chunk wraps around the end of the buffer.
    ///
    /// Not available under `--cfg loom`, whose cells are not contiguous.
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
    fn copy_from(&mut self, items: &[T])
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
pub struct ReadChunk<'c, T, S: Storage = Heap, M: Mode = Polling> {
    consumer: &'c mut Consumer<T, S, M>,
    len: usize,
}

impl<'c, T, S: Storage, M: Mode> ReadChunk<'c, T, S, M> {
    /// The number of items in the chunk.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the chunk holds no item (the queue was empty).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk's items as (up to) two slices, oldest first: the second is
    /// non-empty only when the chunk wraps around the end of the buffer.
    ///
    /// Not available under `--cfg loom`, whose cells are not contiguous.
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
    fn raw_parts(&self) -> (*mut T, usize, usize) {
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
    pub fn commit_all(self) {
        let n = self.len;
        self.commit(n);
    }

    /// Copies the chunk's items into `out` (exactly `len` of them).
    fn copy_to(&self, out: &mut [T])
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
pub struct ReadChunkIter<'c, T, S: Storage = Heap, M: Mode = Polling> {
    consumer: &'c mut Consumer<T, S, M>,
    /// The consumer's position before the chunk.
    head: usize,
    /// Slot index of the chunk's first item, and how many items lie before
    /// the end of the buffer.
    start: usize,
    first: usize,
    len: usize,
    taken: usize,
    /// Whether the consumer's head was already unpublished before the chunk
    /// (after an earlier leaked iterator): then the drop must not clear it
    /// without storing.
    was_unpublished: bool,
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

/// The blocking layer (`std` only): parking and waking.
///
/// A waiter holds `sleep` from setting its bit until the condition variable
/// releases it, so a waker (which takes `sleep` to notify) cannot slip its
/// notification in between the waiter's last check and its sleep ([SPSC-I5]).
#[cfg(feature = "std")]
impl Shared {
    /// Wakes whoever sleeps on `wakeup`.
    #[cold]
    fn notify(&self) {
        let _guard = self.sleep.lock().unwrap_or_else(|e| e.into_inner());
        self.wakeup.notify_all();
    }

    /// After publishing a position: wakes the other side if it is parked.
    #[inline]
    fn wake(&self, waiting: usize) {
        // ORDERING: [SPSC-O8] SeqCst fence — StoreLoad: our position store (before the
        // fence) and the waiter's bit (read after it) are ordered by the single total
        // order of SeqCst fences against the waiter's fence [SPSC-O9].
        fence(SeqCst);
        // ORDERING: [SPSC-O8] Relaxed — the fence above orders this load; it needs no ordering of its own.
        if self.state.load(Relaxed) & waiting != 0 {
            self.notify();
        }
    }

    /// Parks until `ready()` holds (true) or `deadline` passes (false).
    // SAFE-CODE: [SPSC-S7] no thread-local state anywhere in the queue: a waiter sleeps
    // on the ring's own mutex and condition variable, so every path (blocking ones
    // included) works from a thread-local destructor.
    fn park(
        &self,
        waiting: usize,
        deadline: Option<Instant>,
        mut ready: impl FnMut() -> bool,
    ) -> bool {
        let mut guard = self.sleep.lock().unwrap_or_else(|e| e.into_inner());
        let result = loop {
            // ORDERING: [SPSC-O9] Relaxed — the fence below orders this bit before our re-check.
            self.state.fetch_or(waiting, Relaxed);
            // ORDERING: [SPSC-O9] SeqCst fence — StoreLoad: our bit (before) and the other
            // side's position (re-read after) are ordered by the total order of SeqCst
            // fences against the waker's fence [SPSC-O8]: one of us sees the other.
            fence(SeqCst);
            if ready() {
                break true;
            }
            match deadline {
                None => guard = self.wakeup.wait(guard).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break false;
                    }
                    guard = match self.wakeup.wait_timeout(guard, deadline - now) {
                        Ok((guard, _)) => guard,
                        Err(e) => e.into_inner().0,
                    };
                }
            }
        };
        // ORDERING: [SPSC-O9] Relaxed — clearing the bit early only saves the waker a spurious notification.
        self.state.fetch_and(!waiting, Relaxed);
        drop(guard);
        result
    }
}

/// Bytes in, as a non-blocking writer: a write copies as many bytes as fit
/// and fails with [`WouldBlock`](std::io::ErrorKind::WouldBlock) when none
/// do, and with [`BrokenPipe`](std::io::ErrorKind::BrokenPipe) once the
/// consumer is gone (checked first: no byte is written for nobody). `flush`
/// has nothing to do: every write is published when it returns.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
///
/// let (mut producer, mut consumer) = acqrel::spsc::bounded::<u8>(8);
/// write!(producer, "{}-{}", 4, 2).unwrap();
/// let mut text = String::new();
/// drop(producer); // end of stream
/// consumer.read_to_string(&mut text).unwrap();
/// assert_eq!(text, "4-2");
/// ```
#[cfg(feature = "std")]
impl<S: Storage> std::io::Write for Producer<u8, S, Polling> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.is_abandoned() {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        match self.push_slice(buf) {
            0 if !buf.is_empty() => Err(std::io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes in, as a blocking writer: a write parks until at least one byte
/// fits, then copies as many as fit; it fails with
/// [`BrokenPipe`](std::io::ErrorKind::BrokenPipe) once the consumer is gone.
///
/// # Examples
///
/// ```
/// use std::io::{BufRead, BufReader, Write};
///
/// let (mut producer, consumer) = acqrel::spsc::bounded_blocking::<u8>(4);
/// let reader = std::thread::spawn(move || {
///     BufReader::new(consumer).lines().map(Result::unwrap).collect::<Vec<_>>()
/// });
/// writeln!(producer, "first line, longer than the queue").unwrap();
/// writeln!(producer, "second").unwrap();
/// drop(producer);
/// assert_eq!(reader.join().unwrap(), ["first line, longer than the queue", "second"]);
/// ```
#[cfg(feature = "std")]
impl<S: Storage> std::io::Write for Producer<u8, S, Blocking> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut chunk = self
            .write_chunk_blocking(buf.len())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        let n = chunk.len;
        chunk.copy_from(&buf[..n]);
        // SAFETY: [SPSC-I2] `copy_from` initialised all `n` slots of the chunk.
        unsafe { chunk.commit(n) };
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes out, as a non-blocking reader: a read copies as many bytes as are
/// queued and fit, returns `Ok(0)` (end of stream) once the queue is empty
/// and the producer gone, and fails with
/// [`WouldBlock`](std::io::ErrorKind::WouldBlock) when it is empty but the
/// producer may still write.
#[cfg(feature = "std")]
impl<S: Storage> std::io::Read for Consumer<u8, S, Polling> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.pop_slice(buf) {
            0 if !buf.is_empty() => {
                if !self.is_abandoned() {
                    return Err(std::io::ErrorKind::WouldBlock.into());
                }
                // Abandoned: every byte the producer wrote is visible now
                // ([SPSC-O6]); zero from here on is the end of the stream.
                Ok(self.pop_slice(buf))
            }
            n => Ok(n),
        }
    }
}

/// Bytes out, as a blocking reader: a read parks until at least one byte is
/// queued, then copies as many as fit; `Ok(0)` is the end of the stream
/// (empty, and the producer gone).
#[cfg(feature = "std")]
impl<S: Storage> std::io::Read for Consumer<u8, S, Blocking> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.read_chunk_blocking(buf.len()) {
            Ok(chunk) => {
                let n = chunk.len;
                chunk.copy_to(&mut buf[..n]);
                chunk.commit_all();
                Ok(n)
            }
            Err(PopError::Abandoned) => Ok(0),
            Err(PopError::Empty) => unreachable!("a wait without a deadline does not time out"),
        }
    }
}

/// A deadline `timeout` from now; none (wait without limit) if it is too far
/// to represent.
#[cfg(feature = "std")]
fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Blocking operations (`std`, [`Blocking`] mode: [`bounded_blocking`],
/// [`Queue::split_blocking`]).
///
/// A blocking call keeps polling for up to about 100 µs (spinning, then
/// yielding the processor) before it parks the thread on the ring's
/// condition variable, so that two threads streaming through the queue do
/// not put each other to sleep in turn.
/// It is woken by every call of the other handle that can end its wait —
/// each item published and each slot freed, by blocking and non-blocking
/// calls alike — and by the other handle's drop ([SPSC-I5], [SPSC-S9]).
#[cfg(feature = "std")]
impl<T, S: Storage> Producer<T, S, Blocking> {
    /// Pushes `item`, parking while the queue is full.
    ///
    /// # Errors
    ///
    /// [`PushError::Abandoned`] (with the item) if the consumer is gone —
    /// checked first, so an item is never pushed into a queue nobody reads.
    ///
    /// # Memory ordering
    ///
    /// As for [`push`](Producer::push).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::{self, PushError};
    /// use std::thread;
    ///
    /// let (mut producer, mut consumer) = spsc::bounded_blocking(2);
    /// let t = thread::spawn(move || {
    ///     for i in 0..100 {
    ///         producer.push_blocking(i).unwrap();
    ///     }
    ///     producer
    /// });
    /// let mut sum = 0;
    /// for _ in 0..100 {
    ///     sum += consumer.pop_blocking().unwrap();
    /// }
    /// assert_eq!(sum, 4950);
    /// let mut producer = t.join().unwrap();
    /// drop(consumer);
    /// assert_eq!(producer.push_blocking(100), Err(PushError::Abandoned(100)));
    /// ```
    pub fn push_blocking(&mut self, item: T) -> Result<(), PushError<T>> {
        self.push_blocking_until(item, None)
    }

    /// Pushes `item`, parking at most `timeout` while the queue is full.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] when the timeout passed, [`PushError::Abandoned`]
    /// if the consumer is gone; both hand the item back.
    pub fn push_blocking_timeout(
        &mut self,
        item: T,
        timeout: Duration,
    ) -> Result<(), PushError<T>> {
        self.push_blocking_until(item, deadline(timeout))
    }

    fn push_blocking_until(
        &mut self,
        item: T,
        deadline: Option<Instant>,
    ) -> Result<(), PushError<T>> {
        match self.wait_for_room(deadline) {
            Ok(()) => self.push(item),
            Err(PushError::Full(())) => Err(PushError::Full(item)),
            Err(PushError::Abandoned(())) => Err(PushError::Abandoned(item)),
        }
    }

    /// Up to `max` free slots, parking until at least one is free: the
    /// blocking form of [`write_chunk`](Producer::write_chunk). With `max == 0`
    /// returns an empty chunk at once.
    ///
    /// # Errors
    ///
    /// [`PushError::Abandoned`] if the consumer is gone (checked first).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc;
    /// use std::thread;
    ///
    /// let (mut producer, mut consumer) = spsc::bounded_blocking::<u32>(4);
    /// let t = thread::spawn(move || {
    ///     let mut next = 0..10;
    ///     while next.len() > 0 {
    ///         producer.write_chunk_blocking(3).unwrap().fill_from_iter(&mut next);
    ///     }
    /// });
    /// let mut got = Vec::new();
    /// while let Ok(chunk) = consumer.read_chunk_blocking(8) {
    ///     got.extend(chunk); // ends with `Err(Abandoned)` once the producer is gone
    /// }
    /// assert_eq!(got, (0..10).collect::<Vec<_>>());
    /// t.join().unwrap();
    /// ```
    pub fn write_chunk_blocking(
        &mut self,
        max: usize,
    ) -> Result<WriteChunk<'_, T, S, Blocking>, PushError<()>> {
        self.write_chunk_blocking_until(max, None)
    }

    /// Up to `max` free slots, parking at most `timeout` until at least one
    /// is free.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] when the timeout passed, [`PushError::Abandoned`]
    /// if the consumer is gone.
    pub fn write_chunk_blocking_timeout(
        &mut self,
        max: usize,
        timeout: Duration,
    ) -> Result<WriteChunk<'_, T, S, Blocking>, PushError<()>> {
        self.write_chunk_blocking_until(max, deadline(timeout))
    }

    fn write_chunk_blocking_until(
        &mut self,
        max: usize,
        deadline: Option<Instant>,
    ) -> Result<WriteChunk<'_, T, S, Blocking>, PushError<()>> {
        if max > 0 {
            self.wait_for_room(deadline)?;
        }
        Ok(self.write_chunk(max))
    }

    /// Returns once a slot is free (`Ok`), the consumer is gone, or
    /// `deadline` passed (`Full`).
    fn wait_for_room(&mut self, deadline: Option<Instant>) -> Result<(), PushError<()>> {
        let mut patience = Patience::new();
        loop {
            if self.is_abandoned() {
                return Err(PushError::Abandoned(()));
            }
            if self.cached_free() > 0 || self.refresh_free() > 0 {
                return Ok(());
            }
            if patience.poll_again() {
                continue;
            }
            let ring = self.ring;
            let woken = ring.shared().park(PRODUCER_WAITING, deadline, || {
                self.refresh_free() > 0 || self.is_abandoned()
            });
            if !woken {
                return Err(PushError::Full(()));
            }
        }
    }
}

/// Blocking operations (`std`, [`Blocking`] mode); see the notes on
/// [`Producer`]'s.
#[cfg(feature = "std")]
impl<T, S: Storage> Consumer<T, S, Blocking> {
    /// Pops an item, parking while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`PopError::Abandoned`] once the queue is empty and the producer gone.
    ///
    /// # Memory ordering
    ///
    /// As for [`pop`](Consumer::pop).
    pub fn pop_blocking(&mut self) -> Result<T, PopError> {
        self.pop_blocking_until(None)
    }

    /// Pops an item, parking at most `timeout` while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] when the timeout passed; [`PopError::Abandoned`]
    /// once the queue is empty and the producer gone.
    pub fn pop_blocking_timeout(&mut self, timeout: Duration) -> Result<T, PopError> {
        self.pop_blocking_until(deadline(timeout))
    }

    fn pop_blocking_until(&mut self, deadline: Option<Instant>) -> Result<T, PopError> {
        self.wait_for_items(deadline)?;
        self.pop()
    }

    /// Up to `max` items, parking until at least one is readable: the
    /// blocking form of [`read_chunk`](Consumer::read_chunk). With `max == 0`
    /// returns an empty chunk at once.
    ///
    /// # Errors
    ///
    /// [`PopError::Abandoned`] once the queue is empty and the producer gone.
    pub fn read_chunk_blocking(
        &mut self,
        max: usize,
    ) -> Result<ReadChunk<'_, T, S, Blocking>, PopError> {
        self.read_chunk_blocking_until(max, None)
    }

    /// Up to `max` items, parking at most `timeout` until at least one is
    /// readable.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] when the timeout passed; [`PopError::Abandoned`]
    /// once the queue is empty and the producer gone.
    pub fn read_chunk_blocking_timeout(
        &mut self,
        max: usize,
        timeout: Duration,
    ) -> Result<ReadChunk<'_, T, S, Blocking>, PopError> {
        self.read_chunk_blocking_until(max, deadline(timeout))
    }

    fn read_chunk_blocking_until(
        &mut self,
        max: usize,
        deadline: Option<Instant>,
    ) -> Result<ReadChunk<'_, T, S, Blocking>, PopError> {
        if max > 0 {
            self.wait_for_items(deadline)?;
        }
        Ok(self.read_chunk(max))
    }

    /// Returns once an item is readable (`Ok`), the queue is empty with the
    /// producer gone, or `deadline` passed (`Empty`).
    fn wait_for_items(&mut self, deadline: Option<Instant>) -> Result<(), PopError> {
        let mut patience = Patience::new();
        loop {
            match self.available(1) {
                Ok(_) => return Ok(()),
                Err(PopError::Abandoned) => return Err(PopError::Abandoned),
                Err(PopError::Empty) => {}
            }
            if patience.poll_again() {
                continue;
            }
            let ring = self.ring;
            let woken = ring
                .shared()
                .park(CONSUMER_WAITING, deadline, || self.refresh_len() > 0 || self.is_abandoned());
            if !woken {
                return Err(PopError::Empty);
            }
        }
    }
}

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
/// (SAFETY.md, [SPSC-I4]).
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
    shared: Shared,
    /// Set by the one [`split_static`](Queue::split_static) that succeeds.
    claimed: AtomicBool,
    slots: [Slot<T>; N],
}

impl<T, const N: usize> Queue<T, N> {
    /// Creates an empty queue; usable in a `const` or `static`.
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
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The two ends of the queue, borrowing it until both are gone.
    ///
    /// Items left queued by the previous pair of handles are still there,
    /// unless that pair's consumer was leaked (see the type's docs).
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
    fn split_static_in<M: Mode>(
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

    fn split_in<M: Mode>(
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
    fn settle(&mut self) -> (usize, usize) {
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
    fn ring(&self) -> Ring<T> {
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
