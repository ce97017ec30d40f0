//! [`MsQueue`]: the Michael–Scott lock-free FIFO queue, with nodes reclaimed
//! by [crossbeam-epoch](https://docs.rs/crossbeam-epoch).
//!
//! # Progress
//!
//! `push` and `pop` are lock-free: every retry means another thread's
//! exchange on the same pointer succeeded. `is_empty` is two loads under a
//! pin; `len` walks the list once under a pin, up to the node `tail` pointed
//! at when it began, and never retries.
//!
//! # Algorithm
//!
//! M. M. Michael and M. L. Scott, *Simple, Fast, and Practical Non-Blocking
//! and Blocking Concurrent Queue Algorithms*, PODC '96, pp. 267–275
//! (doi:10.1145/248052.248106), the non-blocking queue of its Figure 1.
//!
//! The queue is a singly-linked list that always starts with a *sentinel*
//! node holding no value; `head` points at the sentinel and `tail` at the
//! last node or the one before it.
//!
//! - **push** allocates a node and links it after the last node with a
//!   compare-exchange on that node's `next` (null → node); then it swings
//!   `tail` to the new node.
//! - **pop** reads the sentinel's `next`. If null, the queue is empty.
//!   Otherwise the successor holds the first value: an exchange swings `head`
//!   from the sentinel to it, and it becomes the new sentinel once its value
//!   is moved out. The old sentinel is retired.
//!
//! **Tail lag and helping.** Linking a node and swinging `tail` are two
//! separate exchanges, so `tail` may lag one node behind the last node (a
//! pusher was preempted between them). Nobody waits for the lagging pusher:
//! a push that finds `tail.next` non-null swings `tail` forward itself and
//! retries, and a pop that finds `head == tail` with a successor swings
//! `tail` before moving `head` — otherwise `head` could pass `tail` and the
//! retired sentinel would still be the `tail` new pushes link onto. Hence
//! `tail` is never behind `head` ([MSQ-I2](crate::safety#MSQ-I2)).
//!
//! The paper's re-check `head == Head` after reading `next` is there to
//! catch a node freed and reused in between; here nodes cannot be freed
//! while the reader is pinned ([MSQ-I1](crate::safety#MSQ-I1)), and a node's `next`, once set, is
//! never changed, so the snapshot needs no re-check.
//!
//! # Reclamation
//!
//! Every operation runs pinned (`crossbeam_epoch::pin`, or the caller's
//! guard in `push_with`/`pop_with`). A retired sentinel goes to
//! [`Guard::defer_destroy`], which frees it only after every thread pinned
//! at the time has unpinned ([MSQ-I1](crate::safety#MSQ-I1)); the value it once carried was moved
//! out when it became the sentinel ([MSQ-I3](crate::safety#MSQ-I3)). Once its grace period has
//! passed, a retired node's memory goes to a small cache of the thread that
//! runs the deferred function, and that thread's next push reuses it
//! ([RCY-I1](crate::safety#RCY-I1)). Garbage is bounded only by
//! collection progress: a thread that stays pinned holds back every node
//! retired meanwhile; [`Guard::flush`] hands this thread's deferred nodes to
//! the global queue and collects.
//! Under one guard for many operations, repin and flush it every hundred
//! or so operations: collection otherwise runs only from `pin` (once per
//! 128 pins, at most 8 bags of 64 nodes), so such a loop retires nodes
//! faster than anything frees them.
//!
//! # Memory ordering
//!
//! The link exchange is `Release` ([MSQ-O1](crate::safety#MSQ-O1)) and the loads of `next` are
//! `Acquire` ([MSQ-O2](crate::safety#MSQ-O2)): a popped value's construction, and what the pushing
//! thread did before `push`, happens-before `pop` returns it. `tail` and
//! `head` are swung with `Release` exchanges ([MSQ-O4](crate::safety#MSQ-O4), [MSQ-O6](crate::safety#MSQ-O6)) and
//! loaded with `Acquire` ([MSQ-O3](crate::safety#MSQ-O3), [MSQ-O5](crate::safety#MSQ-O5)) where the node they point at
//! is dereferenced, so a node is always initialised before a thread that
//! reaches it through `tail` or `head` reads it. `pop`'s load of `tail` is
//! only compared ([MSQ-O7](crate::safety#MSQ-O7)). `len` walks with `pop`'s loads of `head` and
//! `next` and compares with a `Relaxed` load of `tail` like `pop`'s; it
//! promises the caller no more than `is_empty` does. The tags name entries
//! in SAFETY.md.
//!
//! # Examples
//!
//! ```
//! use acqrel::MsQueue;
//!
//! let queue: MsQueue<u32> = (1..=3).collect();
//! queue.push(4);
//! assert_eq!(queue.len(), 4);
//! assert_eq!(queue.pop(), Some(1));
//! let rest: Vec<u32> = queue.into_iter().collect();
//! assert_eq!(rest, [2, 3, 4]);
//! ```

use crate::epoch::{Handle, check_guard};
use crate::loom::Backoff;
use crate::loom::UnsafeCell;
use crate::loom::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::loom::atomic::site;
use crate::recycle;
use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr;
use crossbeam_epoch::{self as epoch, Atomic, Guard, Owned, Shared};
use crossbeam_utils::CachePadded;

/// A lock-free multi-producer multi-consumer FIFO queue (Michael–Scott).
///
/// Unbounded: every `push` allocates one node.
///
/// # Examples
///
/// ```
/// use acqrel::MsQueue;
/// use std::thread;
///
/// let queue = MsQueue::new();
/// thread::scope(|s| {
///     s.spawn(|| {
///         for i in 0..100 {
///             queue.push(i);
///         }
///     });
///     let mut next = 0;
///     while next < 100 {
///         if let Some(v) = queue.pop() {
///             assert_eq!(v, next); // one producer: its order is kept
///             next += 1;
///         }
///     }
/// });
/// assert!(queue.is_empty());
/// ```
///
/// `Send` and `Sync` exactly when `T: Send`:
///
/// ```compile_fail
/// fn shared<T: Sync>(_: &T) {}
/// shared(&acqrel::MsQueue::<std::rc::Rc<u8>>::new());
/// ```
pub struct MsQueue<T> {
    /// The sentinel: the node whose successor holds the first value.
    head: CachePadded<Atomic<Node<T>>>,
    /// The last node, or the one before it while a push is in progress.
    tail: CachePadded<Atomic<Node<T>>>,
    _owns: PhantomData<T>,
}

/// A queue node. The sentinel's `value` is uninitialised (either never
/// written, or already moved out).
struct Node<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    /// Null while the node is last; set once, by the push that links its successor.
    next: Atomic<Node<T>>,
}

impl<T> Node<T> {
    fn new(value: MaybeUninit<T>) -> Owned<Self> {
        recycle::owned(Node { value: UnsafeCell::new(value), next: Atomic::null() })
    }

    /// Model-checking aid, a no-op outside loom: reads the node's value cell
    /// so that loom checks this dereference happens-after the node's
    /// construction (the cell's creation counts as a write). Without it,
    /// loom could not see a missing edge on the paths through `tail` and
    /// `head`, where only the atomic `next` is read.
    #[inline(always)]
    fn reached(&self) {
        #[cfg(loom)]
        self.value.with(|_| ());
    }

    /// The successor, acquired: its value (if it still holds one) and its
    /// `next` are visible to the caller.
    #[inline(always)]
    fn acquire_next<'g>(&self, guard: &'g Guard) -> Shared<'g, Node<T>> {
        // ORDERING: [MSQ-O2] Acquire — pairs with [MSQ-O1]: the successor's value and
        // `next` are visible (in `pop`, the first value).
        self.next.load(site::load(Acquire), guard)
    }

    /// Moves the value out.
    ///
    /// # Safety
    ///
    /// The value is initialised, the caller is its single owner ([MSQ-I3](crate::safety#MSQ-I3)),
    /// and its write happens-before this call.
    unsafe fn take_value(&self) -> T {
        // SAFETY: [MSQ-I3] initialised, owned by the caller, and visible.
        self.value.with(|p| unsafe { (*p).assume_init_read() })
    }
}

// SAFETY: [MSQ-I4] values are moved from one thread to another, never
// shared, so `T: Send` suffices for sending and sharing the queue.
unsafe impl<T: Send> Send for MsQueue<T> {}
// SAFETY: [MSQ-I4] no operation gives out a `&T`.
unsafe impl<T: Send> Sync for MsQueue<T> {}
// Unwind safety: a push links one node with one compare-exchange and a pop
// unlinks one with another, so a panic (an item's `Drop`, the iterator given
// to `extend`) never leaves the queue half-changed, and no `&T` into the
// queue is ever handed out.
impl<T> core::panic::UnwindSafe for MsQueue<T> {}
impl<T> core::panic::RefUnwindSafe for MsQueue<T> {}

impl<T> Default for MsQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Shows the length ([`len`](MsQueue::len)), never the values: another
/// thread may be moving a value out while it would be formatted, so `T` need
/// not be `Debug`.
impl<T> fmt::Debug for MsQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MsQueue").field("len", &self.len()).finish_non_exhaustive()
    }
}

impl<T> MsQueue<T> {
    /// Creates an empty queue (allocates its sentinel node).
    ///
    /// Not a `const fn`, unlike [`TreiberStack::new`](crate::TreiberStack::new):
    /// the queue always starts with a sentinel node on the heap, and a
    /// `const` context cannot allocate. A sentinel installed on first use
    /// would need one more compare-exchange, and its proof, in every
    /// operation. For a queue in a `static`, make it on first use with
    /// [`LazyLock`](std::sync::LazyLock).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    /// use std::sync::LazyLock;
    ///
    /// static EVENTS: LazyLock<MsQueue<u32>> = LazyLock::new(MsQueue::new);
    ///
    /// EVENTS.push(1);
    /// EVENTS.push(2);
    /// assert_eq!(EVENTS.pop(), Some(1));
    /// assert_eq!(EVENTS.len(), 1);
    /// ```
    pub fn new() -> Self {
        // SAFETY: [MSQ-I5] the sentinel is not shared yet; the guard is only
        // needed to name it twice.
        let sentinel =
            Node::new(MaybeUninit::uninit()).into_shared(unsafe { epoch::unprotected() });
        Self {
            head: CachePadded::new(Atomic::from(sentinel)),
            tail: CachePadded::new(Atomic::from(sentinel)),
            _owns: PhantomData,
        }
    }

    /// Appends `value` at the back of the queue.
    ///
    /// # Memory ordering
    ///
    /// Everything this thread did before `push` happens-before the `pop`
    /// that returns `value` ([MSQ-O1](crate::safety#MSQ-O1), read by [MSQ-O2](crate::safety#MSQ-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    /// use std::thread;
    ///
    /// let queue = MsQueue::new();
    /// thread::scope(|s| {
    ///     s.spawn(|| queue.push(vec![1, 2, 3]));
    ///     s.spawn(|| loop {
    ///         // The vector was filled before its push: a pop sees all of it.
    ///         if let Some(v) = queue.pop() {
    ///             assert_eq!(v, [1, 2, 3]);
    ///             break;
    ///         }
    ///         std::hint::spin_loop();
    ///     });
    /// });
    /// assert!(queue.is_empty());
    /// ```
    pub fn push(&self, value: T) {
        let guard = epoch::pin();
        self.push_pinned(value, &guard);
    }

    /// A handle for a hot loop on this queue: its `push` and `pop` share
    /// one pinned guard, repinned every
    /// [`REPIN_EVERY`](Handle::REPIN_EVERY) operations, instead of pinning
    /// for each call (see [`Handle`] for what holding it costs others).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    ///
    /// let queue = MsQueue::new();
    /// let mut handle = queue.handle();
    /// for i in 0..1000 {
    ///     handle.push(i);
    /// }
    /// assert_eq!(handle.pop(), Some(0)); // first in, first out
    /// drop(handle); // unpins: nodes retired by the pops can be freed
    /// ```
    pub fn handle(&self) -> Handle<'_, Self> {
        Handle::new(self)
    }

    /// [`push`](Self::push) under the caller's pin, so that one pin covers
    /// many operations (pinning costs a full fence).
    ///
    /// # Panics
    ///
    /// If `guard` does not come from [`acqrel::epoch::pin`](crate::epoch::pin) (the default
    /// collector).
    ///
    /// # Memory ordering
    ///
    /// As [`push`](Self::push) ([MSQ-O1](crate::safety#MSQ-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    ///
    /// let queue = MsQueue::new();
    /// let guard = acqrel::epoch::pin();
    /// for i in 0..10 {
    ///     queue.push_with(i, &guard);
    /// }
    /// assert_eq!(queue.pop_with(&guard), Some(0));
    /// ```
    pub fn push_with(&self, value: T, guard: &Guard) {
        check_guard(guard, "queue");
        self.push_pinned(value, guard);
    }

    fn push_pinned(&self, value: T, guard: &Guard) {
        let node = Node::new(MaybeUninit::new(value)).into_shared(guard);
        let backoff = Backoff::new();
        loop {
            // ORDERING: [MSQ-O3] Acquire — pairs with [MSQ-O4]: the tail node is initialised.
            let tail = self.tail.load(site::load(Acquire), guard);
            // SAFETY: [MSQ-I1] loaded while pinned, so not freed before `guard`
            // drops; [MSQ-I2] `tail` is never a retired node.
            let last = unsafe { tail.deref() };
            last.reached();
            // ORDERING: [MSQ-O2] Acquire — pairs with [MSQ-O1]: a successor we help
            // onto `tail` must be initialised for whoever acquires `tail` next.
            let next = last.next.load(site::load(Acquire), guard);
            if !next.is_null() {
                // The tail lags behind a linked node: help it forward, then retry.
                // ORDERING: [MSQ-O4] Release/Relaxed — publishes `next` (acquired above)
                // to [MSQ-O3]; failure means another thread moved `tail` already.
                let _ = self.tail.compare_exchange(
                    tail,
                    next,
                    site::cas_success(Release),
                    site::cas_failure(Relaxed),
                    guard,
                );
                continue;
            }
            // ORDERING: [MSQ-O1] Release/Relaxed — success publishes the node to [MSQ-O2];
            // failure (another node was linked first) reads nothing we use: we retry.
            let linked = last.next.compare_exchange(
                Shared::null(),
                node,
                site::cas_success(Release),
                site::cas_failure(Relaxed),
                guard,
            );
            if linked.is_ok() {
                // ORDERING: [MSQ-O4] Release/Relaxed — publishes our node to [MSQ-O3];
                // failure means a helper already swung `tail` past `last`.
                let _ = self.tail.compare_exchange(
                    tail,
                    node,
                    site::cas_success(Release),
                    site::cas_failure(Relaxed),
                    guard,
                );
                return;
            }
            // Another node was linked first: let its pusher finish before retrying.
            backoff.spin();
        }
    }

    /// Removes the value at the front of the queue, or returns `None` if the
    /// queue is empty.
    ///
    /// # Memory ordering
    ///
    /// The value's `push` (and what its thread did before it) happens-before
    /// this `pop` returns it ([MSQ-O2](crate::safety#MSQ-O2), pairing with [MSQ-O1](crate::safety#MSQ-O1)). `None` orders
    /// nothing. Values pushed by one thread are popped in the order that
    /// thread pushed them.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    ///
    /// let queue = MsQueue::new();
    /// queue.push('a');
    /// queue.push('b');
    /// assert_eq!(queue.pop(), Some('a')); // first in, first out
    /// assert_eq!(queue.pop(), Some('b'));
    /// assert_eq!(queue.pop(), None);
    /// ```
    pub fn pop(&self) -> Option<T> {
        // SAFE-CODE: [MSQ-S4] `pin` works in a thread-local destructor too: once this
        // thread's handle is gone, crossbeam-epoch pins through a fresh one.
        let guard = epoch::pin();
        self.pop_pinned(&guard)
    }

    /// [`pop`](Self::pop) under the caller's pin.
    ///
    /// # Panics
    ///
    /// If `guard` does not come from [`acqrel::epoch::pin`](crate::epoch::pin) (the default
    /// collector).
    ///
    /// # Memory ordering
    ///
    /// As [`pop`](Self::pop) ([MSQ-O2](crate::safety#MSQ-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    ///
    /// let queue: MsQueue<u32> = (1..=4).collect();
    /// let guard = acqrel::epoch::pin();
    /// let mut order = Vec::new();
    /// while let Some(v) = queue.pop_with(&guard) {
    ///     order.push(v);
    /// }
    /// assert_eq!(order, [1, 2, 3, 4]);
    /// ```
    pub fn pop_with(&self, guard: &Guard) -> Option<T> {
        check_guard(guard, "queue");
        self.pop_pinned(guard)
    }

    fn pop_pinned(&self, guard: &Guard) -> Option<T> {
        let backoff = Backoff::new();
        loop {
            // ORDERING: [MSQ-O5] Acquire — pairs with [MSQ-O6]: the sentinel is initialised.
            let head = self.head.load(site::load(Acquire), guard);
            // SAFETY: [MSQ-I1] loaded while pinned; the sentinel is never null.
            let sentinel = unsafe { head.deref() };
            sentinel.reached();
            let next = sentinel.acquire_next(guard);
            // SAFETY: [MSQ-I1] loaded while pinned.
            let first = unsafe { next.as_ref() }?;
            // ORDERING: [MSQ-O7] Relaxed — only compared with `head`; see [MSQ-I2].
            let tail = self.tail.load(site::load(Relaxed), guard);
            if tail == head {
                // The tail lags at the sentinel: move it past before `head` passes it.
                // ORDERING: [MSQ-O4] Release/Relaxed — publishes `next` (acquired
                // above) to [MSQ-O3]; failure: `tail` has moved on already.
                let _ = self.tail.compare_exchange(
                    tail,
                    next,
                    site::cas_success(Release),
                    site::cas_failure(Relaxed),
                    guard,
                );
            }
            // ORDERING: [MSQ-O6] Release/Relaxed — publishes the new sentinel (acquired
            // by [MSQ-O2]) to [MSQ-O5]; failure: another pop won, retry.
            let unlinked = self.head.compare_exchange(
                head,
                next,
                site::cas_success(Release),
                site::cas_failure(Relaxed),
                guard,
            );
            if unlinked.is_ok() {
                // SAFE-CODE: [MSQ-S2] the value leaves the queue whole: its `Drop` runs
                // in the caller, with the queue consistent, and may use the queue.
                // SAFETY: [MSQ-I3] our exchange made `first` the sentinel, so its value
                // is ours; [MSQ-I1] the old sentinel is retired once, after `tail`
                // moved past it ([MSQ-I2]), and its memory is reused or freed only after
                // every pinned thread unpins ([RCY-I1]).
                unsafe {
                    let value = first.take_value();
                    recycle::retire(head, guard);
                    return Some(value);
                }
            }
            // Another pop won the head: let it finish before retrying.
            backoff.spin();
        }
    }

    /// Whether the queue was empty at the moment of the call. Concurrent
    /// operations may change the answer immediately.
    ///
    /// # Memory ordering
    ///
    /// None: `false` makes no value visible (`pop` does); the load of the
    /// sentinel's link is `Relaxed` ([MSQ-O8](crate::safety#MSQ-O8)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    ///
    /// let queue = MsQueue::new();
    /// assert!(queue.is_empty());
    /// queue.push(1);
    /// assert!(!queue.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        let guard = epoch::pin();
        let sentinel = self.sentinel(&guard);
        // ORDERING: [MSQ-O8] Relaxed — only compared with null; nothing is read through it.
        sentinel.next.load(site::load(Relaxed), &guard).is_null()
    }

    /// The number of values in the queue, counted by walking it.
    ///
    /// Takes time in proportion to the length (O(n)) and pins while it
    /// walks. When no push or pop runs at the same time (on one thread, or
    /// after joining the others) the count is exact. Otherwise it is
    /// approximate: the walk goes from the front as it was when the walk
    /// began to the back as it was a moment later, so a value popped while
    /// it walks may still be counted and a value pushed while it walks may
    /// be missed. It stops at that back node, so pushers that keep the queue
    /// growing cannot keep it walking.
    ///
    /// # Memory ordering
    ///
    /// None for the caller: a count makes no value's contents visible (`pop`
    /// does). The walk reads the front and the links with `pop`'s `Acquire`
    /// loads ([MSQ-O5](crate::safety#MSQ-O5), [MSQ-O2](crate::safety#MSQ-O2)) only so that it may follow them, and the
    /// back with a `Relaxed` load it only compares ([MSQ-O7](crate::safety#MSQ-O7)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    ///
    /// let mut queue = MsQueue::new();
    /// assert_eq!(queue.len(), 0);
    /// queue.extend(["a", "b", "c"]);
    /// assert_eq!(queue.len(), 3);
    /// queue.pop();
    /// assert_eq!(queue.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        let guard = epoch::pin();
        let mut node = self.sentinel(&guard);
        // ORDERING: [MSQ-O7] Relaxed — only compared with the nodes walked, never
        // dereferenced; read after the sentinel, so at or after it ([MSQ-I2]).
        let last = self.tail.load(site::load(Relaxed), &guard);
        let mut count = 0;
        while !ptr::eq(node, last.as_raw()) {
            let next = node.acquire_next(&guard);
            // SAFETY: [MSQ-I1] every node after the sentinel loaded while pinned was
            // still linked then, so it is not freed before `guard` is dropped.
            let Some(next) = (unsafe { next.as_ref() }) else { break };
            count += 1;
            node = next;
        }
        count
    }

    /// The sentinel, acquired: its `next` is readable.
    #[inline(always)]
    fn sentinel<'g>(&self, guard: &'g Guard) -> &'g Node<T> {
        // ORDERING: [MSQ-O5] Acquire — pairs with [MSQ-O6]: the sentinel is initialised.
        let head = self.head.load(site::load(Acquire), guard);
        // SAFETY: [MSQ-I1] loaded while pinned; the sentinel is never null.
        let sentinel = unsafe { head.deref() };
        sentinel.reached();
        sentinel
    }
}

/// Pushes each value in turn, as [`push`](MsQueue::push) does. If the
/// iterator panics, the values it yielded before stay in the queue.
impl<T> Extend<T> for MsQueue<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        // SAFE-CODE: [MSQ-S6] each value is pushed whole as the iterator yields it,
        // with no pin held across the iterator's code.
        for value in values {
            self.push(value);
        }
    }
}

/// A queue of the values in the iterator's order.
impl<T> FromIterator<T> for MsQueue<T> {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Self {
        let mut queue = Self::new();
        queue.extend(values);
        queue
    }
}

/// Yields every value, front first (the order of `pop`): see [`IntoIter`].
impl<T> IntoIterator for MsQueue<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { queue: self }
    }
}

/// An owning iterator over an [`MsQueue`]'s values, front first (the order
/// of `pop`), made by `into_iter`.
///
/// It owns the queue and pops from it; dropping the iterator drops the queue
/// with the values not yet returned, each once, even if one of their `Drop`s
/// panics. Leaking it (`mem::forget`) leaks the queue and its values, and
/// nothing else.
///
/// It is `Send` and `Sync` exactly when `T: Send`, like the queue: it moves
/// values to the thread that iterates or drops it, and `&IntoIter` gives
/// access to nothing.
///
/// # Examples
///
/// ```
/// use acqrel::MsQueue;
///
/// let queue: MsQueue<_> = ["a", "b", "c"].into_iter().collect();
/// let mut values = queue.into_iter();
/// assert_eq!(values.next(), Some("a"));
/// assert_eq!(values.collect::<Vec<_>>(), ["b", "c"]);
/// ```
///
/// A queue of `Rc` gives an iterator that stays on its thread:
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// send(acqrel::MsQueue::<std::rc::Rc<u8>>::new().into_iter());
/// ```
// SAFE-CODE: [MSQ-S7] no lifetime and no shared state: the iterator owns the queue,
// so leaking it leaks that queue and nothing else.
pub struct IntoIter<T> {
    /// The queue, owned: no other thread pushes or pops. `Send` and `Sync`
    /// follow from it ([MSQ-I4](crate::safety#MSQ-I4)).
    queue: MsQueue<T>,
}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter").finish_non_exhaustive()
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.queue.pop()
    }
}

/// Once empty, the owned queue stays empty: no other thread can push to it.
impl<T> FusedIterator for IntoIter<T> {}

// SAFE-CODE: [MSQ-S5] `&mut self`: borrowck rules out a drop while any thread
// still uses the queue; nodes retired earlier hold no value and outlive it safely.
impl<T> Drop for MsQueue<T> {
    fn drop(&mut self) {
        // SAFETY: [MSQ-I5] `&mut self`: no operation is running and no thread
        // holds a pointer into the nodes still linked.
        let guard = unsafe { epoch::unprotected() };
        // ORDERING: [MSQ-O8] Relaxed — exclusive access.
        let sentinel = self.head.load(site::load(Relaxed), guard);
        // SAFETY: [MSQ-I5] the sentinel is never null and is owned by the queue
        // alone; its value is uninitialised, so freeing it drops nothing.
        let sentinel = unsafe { sentinel.into_owned() };
        // ORDERING: [MSQ-O8] Relaxed — exclusive access.
        let first = sentinel.next.load(site::load(Relaxed), guard);
        drop(sentinel);
        // SAFE-CODE: [MSQ-S1] `free_values` keeps dropping if one value's `Drop` panics.
        free_values(first.as_raw());
    }
}

/// Frees the nodes from `node` on, every one of which holds a value, and
/// drops the values. Only for nodes owned by the caller alone ([MSQ-I5](crate::safety#MSQ-I5)).
///
/// A value's `Drop` may panic: its node is freed first, and the rest are
/// then freed (and their values dropped) while the panic unwinds, as `Vec`
/// does; a second panic during that unwinding aborts, as anywhere in Rust.
fn free_values<T>(mut node: *const Node<T>) {
    // SAFETY: [MSQ-I5] the nodes are the caller's alone; the guard only names them.
    let guard = unsafe { epoch::unprotected() };
    while !node.is_null() {
        // SAFETY: [MSQ-I5] owned by the caller alone; each node is freed once.
        let owned = unsafe { Shared::from(node).into_owned() };
        // ORDERING: [MSQ-O8] Relaxed — exclusive access.
        node = owned.next.load(site::load(Relaxed), guard).as_raw();
        // SAFETY: [MSQ-I3] a node after the sentinel holds an initialised value,
        // taken here once, just before the node is freed.
        let value = unsafe { owned.take_value() };
        drop(owned);
        // SAFE-CODE: [MSQ-S1] if this value's `Drop` panics, `rest` frees the remaining nodes and drops their values.
        let rest = FreeOnUnwind { node };
        drop(value);
        core::mem::forget(rest);
    }
}

/// The rest of a chain being freed with its values, freed by `Drop` only if
/// a value's `Drop` panics (otherwise it is forgotten).
struct FreeOnUnwind<T> {
    node: *const Node<T>,
}

impl<T> Drop for FreeOnUnwind<T> {
    fn drop(&mut self) {
        free_values(self.node);
    }
}

impl<T> Handle<'_, MsQueue<T>> {
    /// [`MsQueue::push`] under the handle's guard.
    ///
    /// # Memory ordering
    ///
    /// As [`MsQueue::push`]: everything this thread did before it
    /// happens-before the pop that returns `value` ([MSQ-O1](crate::safety#MSQ-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    ///
    /// let queue = MsQueue::new();
    /// queue.handle().push(5);
    /// assert_eq!(queue.pop(), Some(5));
    /// ```
    #[inline]
    pub fn push(&mut self, value: T) {
        self.container().push_with(value, self.guard());
        self.tick();
    }

    /// [`MsQueue::pop`] under the handle's guard.
    ///
    /// # Memory ordering
    ///
    /// As [`MsQueue::pop`]: the push of the value returned happens-before
    /// this returns ([MSQ-O2](crate::safety#MSQ-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    ///
    /// let queue = MsQueue::new();
    /// queue.push(5);
    /// let mut handle = queue.handle();
    /// assert_eq!(handle.pop(), Some(5));
    /// assert_eq!(handle.pop(), None);
    /// ```
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let value = self.container().pop_with(self.guard());
        self.tick();
        value
    }
}
