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
//! each such commit costs one load of the waiting bits behind a fence —
//! on Linux a compiler fence only, the sleeper paying a process-wide barrier
//! instead ([FENCE-I1](crate::safety#FENCE-I1)); elsewhere a `SeqCst` fence — which
//! [`bounded`]'s [`Polling`] handles never pay. The mode is part of the handle types
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
//! instructions ([SPSC-I1](crate::safety#SPSC-I1)). The observers (`capacity`, `slots`, `len`,
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
//!    construction: there is one producer and one consumer ([SPSC-I1](crate::safety#SPSC-I1)), so
//!    positions are advanced by plain stores, not compare-exchanges.
//! 2. **Visibility** — the consumer sees the new tail but not the item. The
//!    producer writes the slot, then stores `tail` with `Release` ([SPSC-O1](crate::safety#SPSC-O1));
//!    the consumer loads `tail` with `Acquire` ([SPSC-O2](crate::safety#SPSC-O2)) before reading
//!    the slot. A popped item happens-after its push.
//! 3. **Overwrite while reading** — the producer reuses a slot the consumer is
//!    still reading. The consumer reads (moves out or drops) the item, then
//!    stores `head` with `Release` ([SPSC-O3](crate::safety#SPSC-O3)); the producer loads `head` with
//!    `Acquire` ([SPSC-O4](crate::safety#SPSC-O4)) before writing a slot it frees.
//!
//! Each side's own position needs no ordering at all: it is never loaded from
//! memory, only stored (its owner keeps the value, [SPSC-I2](crate::safety#SPSC-I2)). Abandonment
//! (a handle dropped) is a bit of the `state` word set with a `Release`
//! read-modify-write ([SPSC-O5](crate::safety#SPSC-O5)) and read with `Acquire` ([SPSC-O6](crate::safety#SPSC-O6)), so a
//! consumer that sees the producer gone also sees every item it pushed. The
//! ring's lifetime is a second bit per handle, set with an `AcqRel`
//! read-modify-write after the handle's last access to the ring
//! ([SPSC-O10](crate::safety#SPSC-O10)): the handle that finds the other's bit set is the last one,
//! and frees the ring ([SPSC-I3](crate::safety#SPSC-I3)).

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
use crate::loom::{asymmetric, atomic::Ordering::SeqCst};
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

#[cfg(feature = "std")]
mod blocking;
mod chunks;
mod handles;
#[cfg(feature = "std")]
mod io;
mod queue;
mod ring;

pub use chunks::{ReadChunk, ReadChunkIter, WriteChunk};
pub use handles::{Consumer, Producer};
pub use queue::Queue;
use ring::*;

mod sealed {
    pub trait Sealed {}
}

/// Where a ring's positions and slots live: [`Heap`] or [`Borrowed`].
///
/// The trait is sealed; it only selects what the last handle does when it
/// goes.
///
/// # Examples
///
/// Code written once for both kinds of handle:
///
/// ```
/// use acqrel::spsc::{self, Producer, Queue, Storage};
///
/// fn count_down<S: Storage>(producer: &mut Producer<u32, S>) -> usize {
///     producer.push_from_iter(&mut (1..=3).rev())
/// }
///
/// let (mut heap_producer, mut heap_consumer) = spsc::bounded(4);
/// assert_eq!(count_down(&mut heap_producer), 3);
/// let mut queue: Queue<u32, 4> = Queue::new();
/// let (mut producer, mut consumer) = queue.split();
/// assert_eq!(count_down(&mut producer), 3);
/// assert_eq!(heap_consumer.pop(), Ok(3));
/// assert_eq!(consumer.pop(), Ok(3));
/// ```
pub trait Storage: sealed::Sealed {
    /// Whether the last handle frees the ring (and drops the items still in it).
    #[doc(hidden)]
    const OWNED_BY_HANDLES: bool;
}

/// Storage allocated by [`bounded`] and freed, with any items still queued,
/// when both handles are gone.
///
/// It is the default storage parameter, so `Producer<T>` is
/// `Producer<T, Heap>`.
///
/// # Examples
///
/// ```
/// use acqrel::spsc::{self, Consumer, Heap, Producer};
/// use std::rc::Rc;
///
/// let item = Rc::new(());
/// let (mut producer, consumer): (Producer<Rc<()>, Heap>, Consumer<Rc<()>, Heap>) =
///     spsc::bounded(2);
/// producer.push(Rc::clone(&item)).unwrap();
/// assert_eq!(Rc::strong_count(&item), 2);
/// drop((producer, consumer)); // the last handle drops the queued item
/// assert_eq!(Rc::strong_count(&item), 1);
/// ```
#[derive(Debug)]
pub struct Heap(());

/// Storage borrowed from a [`Queue`] for `'a`: items left in it stay there
/// (for the next [`Queue::split`]) and are dropped with the `Queue`.
///
/// # Examples
///
/// ```
/// use acqrel::spsc::{Borrowed, Consumer, Producer, Queue};
///
/// let mut queue: Queue<char, 2> = Queue::new();
/// let (mut producer, consumer): (Producer<char, Borrowed<'_>>, Consumer<char, Borrowed<'_>>) =
///     queue.split();
/// producer.push('x').unwrap();
/// drop((producer, consumer)); // 'x' stays in the queue
/// assert_eq!(queue.split().1.pop(), Ok('x'));
/// ```
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
/// it ([SPSC-S9](crate::safety#SPSC-S9)). The trait is sealed.
///
/// # Examples
///
/// The non-blocking calls exist in both modes:
///
/// ```
/// use acqrel::spsc::{self, Consumer, Mode, Storage};
///
/// fn drain<S: Storage, M: Mode>(consumer: &mut Consumer<u8, S, M>) -> Vec<u8> {
///     consumer.pop_iter().collect()
/// }
///
/// let (mut polling, mut polling_rx) = spsc::bounded(4);
/// let (mut blocking, mut blocking_rx) = spsc::bounded_blocking(4);
/// polling.push_slice(b"ab");
/// blocking.push_slice(b"ab");
/// assert_eq!(drain(&mut polling_rx), drain(&mut blocking_rx));
/// ```
pub trait Mode: sealed::Sealed {
    /// Whether every position store checks for a parked peer.
    #[doc(hidden)]
    const WAKES: bool;
}

/// The mode of [`bounded`] and [`Queue::split`]: the handles never park
/// (no blocking calls), so no operation pays for waking one — `push` and
/// `pop` stay a few plain loads and stores.
///
/// It is the default mode parameter, so `Producer<T>` is
/// `Producer<T, Heap, Polling>`.
///
/// # Examples
///
/// ```
/// use acqrel::spsc::{self, Heap, Polling, PopError, Producer};
///
/// let (mut producer, mut consumer) = spsc::bounded(1);
/// let _: &Producer<u8, Heap, Polling> = &producer;
/// assert_eq!(consumer.pop(), Err(PopError::Empty)); // never waits
/// producer.push(1).unwrap();
/// assert_eq!(consumer.pop(), Ok(1));
/// ```
#[derive(Debug)]
pub struct Polling(());

/// The mode of [`bounded_blocking`] and [`Queue::split_blocking`] (`std`
/// only): the handles have blocking calls ([`Producer::push_blocking`],
/// [`Consumer::pop_blocking`], the blocking chunk calls), and *every*
/// operation that frees a slot or publishes an item — blocking or not,
/// single item or chunk — wakes the other side if it is parked. That check
/// costs a fence and a load per commit (a chunk pays it once); on Linux the
/// fence is a compiler fence, and a side about to park pays a process-wide
/// barrier (`membarrier`) instead ([FENCE-I1](crate::safety#FENCE-I1)).
///
/// # Memory ordering
///
/// A wake-up is never lost: after each position store a handle issues the
/// light half of a StoreLoad fence pair and checks the other side's waiting
/// bit ([SPSC-O8](crate::safety#SPSC-O8)), and a side about to park sets its bit, issues the heavy
/// half ([FENCE-I1](crate::safety#FENCE-I1)) and checks the position again ([SPSC-O9](crate::safety#SPSC-O9)), so either the sleeper sees the new position or
/// the other side sees the bit and wakes it ([SPSC-I5](crate::safety#SPSC-I5)); a handle's drop
/// wakes a parked peer too ([SPSC-O5](crate::safety#SPSC-O5)). The wake-up itself
/// publishes nothing: the woken call reloads the position with `Acquire`
/// ([SPSC-O2](crate::safety#SPSC-O2), [SPSC-O4](crate::safety#SPSC-O4)), and what it may rely on is what the non-blocking
/// calls give.
///
/// # Examples
///
/// ```
/// use acqrel::spsc::{self, Blocking, Consumer, Heap};
/// use std::thread;
///
/// let (mut producer, mut consumer) = spsc::bounded_blocking(1);
/// let _: &Consumer<u32, Heap, Blocking> = &consumer;
/// thread::scope(|s| {
///     s.spawn(|| assert_eq!(consumer.pop_blocking(), Ok(5))); // waits for the push
///     producer.push(5).unwrap(); // a non-blocking push wakes it
/// });
/// ```
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
/// a fence and a load per commit, which [`bounded`]'s handles do not pay.
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
///
/// (The item is `()` for the calls that push many at once:
/// [`Producer::push_exact`], [`Producer::write_chunk_blocking`].)
///
/// # Examples
///
/// ```
/// use acqrel::spsc::{self, PushError};
///
/// let (mut producer, consumer) = spsc::bounded(1);
/// producer.push(1).unwrap();
/// assert_eq!(producer.push(2), Err(PushError::Full(2)));
/// drop(consumer);
/// assert_eq!(producer.push(3), Err(PushError::Abandoned(3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PushError<T> {
    /// The queue is full.
    Full(T),
    /// The queue is full and the consumer is gone: it never will have room.
    Abandoned(T),
}

impl<T> PushError<T> {
    /// The item that was not pushed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, _consumer) = acqrel::spsc::bounded(1);
    /// producer.push(String::from("kept")).unwrap();
    /// let error = producer.push(String::from("back")).unwrap_err();
    /// assert_eq!(error.into_inner(), "back");
    /// ```
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
///
/// # Examples
///
/// ```
/// use acqrel::spsc::{self, PopError};
///
/// let (mut producer, mut consumer) = spsc::bounded(1);
/// assert_eq!(consumer.pop(), Err(PopError::Empty));
/// producer.push(1).unwrap();
/// drop(producer);
/// assert_eq!(consumer.pop(), Ok(1));
/// assert_eq!(consumer.pop(), Err(PopError::Abandoned));
/// ```
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
