//! The ring: its shared positions and state word, the slot buffer, and how a handle leaves it.

use super::*;

pub(super) type Slot<T> = UnsafeCell<MaybeUninit<T>>;

/// `state` bit: the producer has been dropped (abandonment, [SPSC-O5](crate::safety#SPSC-O5)).
pub(super) const PRODUCER_GONE: usize = 1;
/// `state` bit: the consumer has been dropped (abandonment, [SPSC-O5](crate::safety#SPSC-O5)).
pub(super) const CONSUMER_GONE: usize = 2;
/// `state` bit: the consumer is (about to be) parked in a blocking pop.
#[cfg(feature = "std")]
pub(super) const CONSUMER_WAITING: usize = 4;
/// `state` bit: the producer is (about to be) parked in a blocking push.
#[cfg(feature = "std")]
pub(super) const PRODUCER_WAITING: usize = 8;
/// `state` bit: the producer's drop has made its last access to the ring
/// (lifetime, [SPSC-I3](crate::safety#SPSC-I3)); set after `PRODUCER_GONE`.
pub(super) const PRODUCER_DONE: usize = 16;
/// `state` bit: the consumer's drop has made its last access to the ring
/// (lifetime, [SPSC-I3](crate::safety#SPSC-I3)); set after `CONSUMER_GONE`. In a [`Queue`] it also
/// tells that the shared `head` is the consumer's real position ([SPSC-I4](crate::safety#SPSC-I4)).
pub(super) const CONSUMER_DONE: usize = 32;

/// `state` of a [`Queue`] without handles: as if a pair had been dropped, so
/// that the first [`Queue::split`] trusts the (initial) positions.
pub(super) const NO_HANDLES: usize = PRODUCER_GONE | CONSUMER_GONE | PRODUCER_DONE | CONSUMER_DONE;

/// What both sides share apart from the slots.
#[allow(clippy::disallowed_types)] // `Mutex`/`Condvar` from `crate::loom::sync`
pub(super) struct Shared {
    /// The consumer's position: written by the consumer only ([SPSC-I2](crate::safety#SPSC-I2)).
    pub(super) head: CachePadded<AtomicUsize>,
    /// The producer's position: written by the producer only ([SPSC-I2](crate::safety#SPSC-I2)).
    pub(super) tail: CachePadded<AtomicUsize>,
    /// `*_GONE | *_WAITING | *_DONE`; touched only on slow paths, by the
    /// blocking layer, and on drop.
    ///
    /// | bit | set by | cleared by | meaning |
    /// |---|---|---|---|
    /// | `PRODUCER_GONE`, `CONSUMER_GONE` | that handle's drop, first RMW | `Queue::split` | abandonment: the other side's calls report it |
    /// | `CONSUMER_WAITING`, `PRODUCER_WAITING` | `park` | `park` | that side sleeps, or is about to |
    /// | `PRODUCER_DONE`, `CONSUMER_DONE` | that handle's drop, second RMW | `Queue::split` | lifetime: that handle will not touch the ring again |
    pub(super) state: CachePadded<AtomicUsize>,
    /// Held by a blocking waiter from setting its `*_WAITING` bit until it
    /// sleeps, and by a waker around its notification ([SPSC-I5](crate::safety#SPSC-I5)).
    #[cfg(feature = "std")]
    pub(super) sleep: Mutex<()>,
    /// Where blocked handles sleep (at most one per side).
    #[cfg(feature = "std")]
    pub(super) wakeup: Condvar,
}

#[allow(clippy::disallowed_types)] // `Mutex`/`Condvar` from `crate::loom::sync`
impl Shared {
    #[cfg(not(loom))]
    pub(super) const fn new(state: usize) -> Self {
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
    pub(super) fn new(state: usize) -> Self {
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
pub(super) struct Ring<T> {
    pub(super) shared: NonNull<Shared>,
    pub(super) slots: NonNull<Slot<T>>,
    pub(super) capacity: usize,
}

impl<T> Clone for Ring<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Ring<T> {}

impl<T> Ring<T> {
    #[inline(always)]
    pub(super) fn shared(&self) -> &Shared {
        // SAFETY: [SPSC-I3] the positions outlive every handle holding this view.
        unsafe { self.shared.as_ref() }
    }

    /// The slot at position `pos` (`pos < 2 * capacity`).
    #[inline(always)]
    pub(super) fn slot(&self, pos: usize) -> &Slot<T> {
        debug_assert!(pos < 2 * self.capacity);
        self.slot_at(self.index(pos))
    }

    /// The slot index of position `pos`.
    #[inline(always)]
    pub(super) fn index(&self, pos: usize) -> usize {
        if pos < self.capacity { pos } else { pos - self.capacity }
    }

    /// The slot with index `index` (`index < capacity`).
    #[inline(always)]
    pub(super) fn slot_at(&self, index: usize) -> &Slot<T> {
        debug_assert!(index < self.capacity);
        // SAFETY: [SPSC-I3] `index < capacity` and the slots outlive every handle.
        unsafe { &*self.slots.as_ptr().add(index) }
    }

    /// `pos` moved on by `n <= capacity`, wrapping at `2 * capacity`.
    #[inline(always)]
    pub(super) fn advance(&self, pos: usize, n: usize) -> usize {
        let wrap = 2 * self.capacity - n;
        if pos < wrap { pos + n } else { pos - wrap }
    }

    /// Items in `head .. tail`.
    #[inline(always)]
    pub(super) fn distance(&self, head: usize, tail: usize) -> usize {
        if tail >= head { tail - head } else { tail + (2 * self.capacity - head) }
    }

    /// The slot index of `pos` and how many slots follow it before the end of
    /// the buffer.
    #[cfg(not(loom))]
    #[inline(always)]
    pub(super) fn contiguous(&self, pos: usize) -> (usize, usize) {
        let index = if pos < self.capacity { pos } else { pos - self.capacity };
        (index, self.capacity - index)
    }

    /// Drops the items at positions `head .. tail`.
    ///
    /// # Safety
    ///
    /// The caller has exclusive access to those slots and they hold initialised
    /// items that nobody else will drop ([SPSC-I4](crate::safety#SPSC-I4)).
    pub(super) unsafe fn drop_items(&self, head: usize, tail: usize) {
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

/// The heap allocation behind [`bounded`]: freed by the last handle.
/// `repr(C)` puts `shared` at offset 0, so a `Ring`'s positions pointer is
/// also a pointer to the whole allocation ([SPSC-I3](crate::safety#SPSC-I3)).
#[repr(C)]
pub(super) struct HeapRing<T> {
    pub(super) shared: Shared,
    pub(super) slots: Box<[Slot<T>]>,
}

/// Which handle is leaving: its `GONE` and `DONE` bits, and the other
/// side's `WAITING` and `DONE` bits.
#[derive(Clone, Copy)]
pub(super) struct Side {
    pub(super) gone: usize,
    pub(super) done: usize,
    #[cfg(feature = "std")]
    pub(super) other_waiting: usize,
    pub(super) other_done: usize,
}

impl Side {
    pub(super) const PRODUCER: Side = Side {
        gone: PRODUCER_GONE,
        done: PRODUCER_DONE,
        #[cfg(feature = "std")]
        other_waiting: CONSUMER_WAITING,
        other_done: CONSUMER_DONE,
    };
    pub(super) const CONSUMER: Side = Side {
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
pub(super) fn leave<T, S: Storage>(ring: Ring<T>, side: Side) {
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
