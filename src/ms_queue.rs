//! [`MsQueue`]: the Michael–Scott lock-free FIFO queue, with nodes reclaimed
//! by [crossbeam-epoch](https://docs.rs/crossbeam-epoch).
//!
//! # Progress
//!
//! `push`, `pop`, `push_all` and `pop_many` are lock-free: every retry means
//! another thread's exchange on the same pointer succeeded. `push_all` builds
//! its chain before it pins and then retries like one `push`; `pop_many`
//! retries like one `pop` but walks up to `max` nodes in each attempt.
//! `is_empty` is two loads under a pin; `len` walks the list once under a
//! pin, up to the node `tail` pointed at when it began, and never retries.
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
//! - **push_all** links its values into a private chain, then links the
//!   chain's first node exactly as push links its node (one compare-exchange
//!   for the whole batch) and swings `tail` to the chain's last node. No
//!   other push can link a node inside the chain, so its values come out
//!   contiguously, in iteration order.
//! - **pop_many** reads the sentinel and walks its successors, up to `max`
//!   nodes but never past the node `tail` pointed at, then swings `head` to
//!   the last node walked with one exchange: that node becomes the new
//!   sentinel (its value is moved out at once) and the nodes before it, with
//!   their values, belong to the returned iterator.
//!
//! **Tail lag and helping.** Linking a node and swinging `tail` are two
//! separate exchanges, so `tail` may lag behind the last node (a pusher was
//! preempted between them): one node behind after a `push`, up to a whole
//! chain behind after a `push_all`. Nobody waits for the lagging pusher:
//! a push that finds `tail.next` non-null swings `tail` forward itself and
//! retries, and a pop that finds `head == tail` with a successor swings
//! `tail` before moving `head` — otherwise `head` could pass `tail` and the
//! retired sentinel would still be the `tail` new pushes link onto. Helpers
//! move `tail` one node at a time, so behind a lagging chain they walk it
//! one node per retry until they reach its end (or its pusher swings `tail`
//! there in one step). `pop_many` moves `head` several nodes at once, but
//! only as far as the node it read in `tail`, and when `tail` lags at the
//! sentinel it helps first and takes one value, as `pop` does. Hence `tail`
//! is never behind `head` ([MSQ-I2](crate::safety#MSQ-I2), [MSQ-I6](crate::safety#MSQ-I6)).
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
//! out when it became the sentinel ([MSQ-I3](crate::safety#MSQ-I3)). The nodes a `pop_many` detaches
//! are retired together when its iterator finishes or is dropped. A thread
//! hands its retired sentinels to the collector in batches of 64, and once
//! a node's grace period has passed its memory goes to a small cache of the
//! thread that runs the deferred function, whose next push reuses it
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
//! only compared ([MSQ-O7](crate::safety#MSQ-O7)). The batches reuse these operations (`pop_many`
//! shares `pop`'s reads of the front and its exchange of `head`, and walks
//! with its `Acquire` loads of `next`); the only accesses of their own are
//! `Relaxed`: `push_all` links its chain while it is private, and the chain
//! is published by the link exchange, and a `pop_many` iterator rereads
//! links its walk has already acquired ([MSQ-O9](crate::safety#MSQ-O9)). `len` walks with `pop`'s loads of `head` and
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
// Unwind safety: a push links one node (or `push_all` one private chain)
// with one compare-exchange and a pop (or `pop_many`) unlinks with another,
// so a panic (an item's `Drop`, the iterator given to `extend` or
// `push_all`) never leaves the queue half-changed, and no `&T` into the
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
        let node = Node::new(MaybeUninit::new(value)).into_shared(&guard);
        self.push_pinned(node, node, &guard);
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
        let node = Node::new(MaybeUninit::new(value)).into_shared(guard);
        self.push_pinned(node, node, guard);
    }

    /// Links the chain `node ..= chain_end` after the last node and swings
    /// `tail` to `chain_end` (for one value, `node == chain_end`).
    ///
    /// `chain_end` must be reachable from `node` through `next` links, its
    /// own `next` must be null, and no other thread may reach any node of
    /// the chain yet.
    fn push_pinned<'g>(
        &self,
        node: Shared<'g, Node<T>>,
        chain_end: Shared<'g, Node<T>>,
        guard: &'g Guard,
    ) {
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
            // ORDERING: [MSQ-O1] Release/Relaxed — success publishes the node (or chain) to
            // [MSQ-O2]; failure (another node was linked first) reads nothing we use.
            let linked = last.next.compare_exchange(
                Shared::null(),
                node,
                site::cas_success(Release),
                site::cas_failure(Relaxed),
                guard,
            );
            if linked.is_ok() {
                // ORDERING: [MSQ-O4] Release/Relaxed — publishes our chain's last node to
                // [MSQ-O3]; failure: a helper moved `tail` past `last` (helpers walk the rest).
                let _ = self.tail.compare_exchange(
                    tail,
                    chain_end,
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

    /// Appends every value of `values` at the back, in iteration order, with
    /// one compare-exchange on the shared list: the values come out of the
    /// queue in that order and contiguously, with no value of another push
    /// between them.
    ///
    /// The nodes are linked into a private chain first, so a panic in the
    /// iterator (in `next` or in its `Drop`) leaves the queue unchanged and
    /// drops the values produced so far, each once. The iterator's
    /// `size_hint` is not used, and the iterator may itself use the queue:
    /// the chain stays private until it is done. An empty iterator changes
    /// nothing and does not pin.
    ///
    /// The whole chain is linked at once, but `tail` then lags behind it
    /// until this call swings `tail` to the chain's last node; a thread that
    /// meets the lag meanwhile moves `tail` along the chain one node per
    /// retry (see the module docs).
    ///
    /// # Memory ordering
    ///
    /// As [`push`](Self::push), for every value: everything this thread did
    /// before `push_all` happens-before the `pop` (or [`pop_many`](Self::pop_many))
    /// that returns any of them ([MSQ-O1](crate::safety#MSQ-O1), read by [MSQ-O2](crate::safety#MSQ-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    ///
    /// let queue = MsQueue::new();
    /// queue.push(0);
    /// queue.push_all(1..=3);
    /// queue.push(4);
    /// let order: Vec<i32> = std::iter::from_fn(|| queue.pop()).collect();
    /// assert_eq!(order, [0, 1, 2, 3, 4]);
    /// ```
    pub fn push_all<I: IntoIterator<Item = T>>(&self, values: I) {
        let mut chain = Chain { first: ptr::null_mut(), last: ptr::null_mut() };
        for value in values {
            let node = Box::into_raw(Node::new(MaybeUninit::new(value)).into_box());
            if chain.last.is_null() {
                chain.first = node;
            } else {
                // SAFETY: [MSQ-I5] `chain.last` is a node of our private chain, alive
                // until the chain is published or dropped.
                let last = unsafe { &*chain.last };
                // ORDERING: [MSQ-O9] Relaxed — the chain is private; [MSQ-O1]'s Release
                // exchange publishes it with every link.
                last.next.store(Shared::from(node.cast_const()), site::store(Relaxed));
            }
            chain.last = node;
        }
        if chain.first.is_null() {
            return;
        }
        let guard = epoch::pin();
        let first = Shared::from(chain.first.cast_const());
        let last = Shared::from(chain.last.cast_const());
        // From here on the chain belongs to the queue. Until here a panic in
        // the user's iterator (its `next` or its `Drop`) drops `chain`, which
        // frees the private nodes and drops their values.
        // SAFE-CODE: [MSQ-S9] nothing of the chain is published before the iterator is done and dropped.
        core::mem::forget(chain);
        self.push_pinned(first, last, &guard);
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

    #[inline(always)]
    fn pop_pinned(&self, guard: &Guard) -> Option<T> {
        let backoff = Backoff::new();
        loop {
            let front = self.front(guard)?;
            if self.unlink(front.head, front.first, guard) {
                // SAFE-CODE: [MSQ-S2] the value leaves the queue whole: its `Drop` runs
                // in the caller, with the queue consistent, and may use the queue.
                // SAFETY: [MSQ-I3] our exchange made `first` the sentinel, so its value
                // is ours; [MSQ-I1] the old sentinel is retired once, after `tail`
                // moved past it ([MSQ-I2]), and its memory is reused or freed only after
                // every pinned thread unpins ([RCY-I1]).
                unsafe {
                    let value = front.first.deref().take_value();
                    recycle::retire(front.head, guard);
                    return Some(value);
                }
            }
            // Another pop won the head: let it finish before retrying.
            backoff.spin();
        }
    }

    /// The sentinel and its successor, with `tail` moved past the sentinel
    /// if it lagged there, or `None` if the queue is empty. Shared by `pop`
    /// and `pop_many`, so that both read the front, and help, alike.
    #[inline(always)]
    fn front<'g>(&self, guard: &'g Guard) -> Option<Front<'g, T>> {
        // ORDERING: [MSQ-O5] Acquire — pairs with [MSQ-O6]: the sentinel is initialised.
        let head = self.head.load(site::load(Acquire), guard);
        // SAFETY: [MSQ-I1] loaded while pinned; the sentinel is never null.
        let sentinel = unsafe { head.deref() };
        sentinel.reached();
        let next = sentinel.acquire_next(guard);
        if next.is_null() {
            return None;
        }
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
        Some(Front { head, first: next, tail })
    }

    /// Swings `head` from the sentinel `head` to `new` (its successor, or a
    /// node further on but not past `tail`, [MSQ-I6](crate::safety#MSQ-I6)); whether it did.
    #[inline(always)]
    fn unlink<'g>(
        &self,
        head: Shared<'g, Node<T>>,
        new: Shared<'g, Node<T>>,
        guard: &'g Guard,
    ) -> bool {
        // ORDERING: [MSQ-O6] Release/Relaxed — publishes the new sentinel (acquired
        // by [MSQ-O2]) to [MSQ-O5]; failure: another pop won, retry.
        let swung = self.head.compare_exchange(
            head,
            new,
            site::cas_success(Release),
            site::cas_failure(Relaxed),
            guard,
        );
        swung.is_ok()
    }

    /// Removes up to `max` values from the front with one compare-exchange
    /// and returns an iterator over them, front first.
    ///
    /// The batch stops short of `max` when the queue holds fewer values, and
    /// also at the node `tail` pointed at when the batch was read: a push
    /// still under way behind it is left for a later call. If `tail` lags at
    /// the front, the batch is a single value (this call first moves `tail`
    /// on, as `pop` does). `max == 0` returns an empty iterator without
    /// touching the queue. An empty iterator means the queue was empty (or
    /// `max` was 0).
    ///
    /// Only the last value of the batch is moved out at once; the others are
    /// moved out as the iterator advances, and the detached nodes are handed
    /// to the collector when it is dropped. Dropping it early drops the
    /// values not yet taken, each once.
    ///
    /// Under contention the walk is repeated whenever another pop moves the
    /// front first, so a large `max` costs a retrying caller more than a
    /// small one.
    ///
    /// # Memory ordering
    ///
    /// As [`pop`](Self::pop), for every value returned: its `push` (and what
    /// its thread did before it) happens-before the iterator returns it
    /// ([MSQ-O2](crate::safety#MSQ-O2), pairing with [MSQ-O1](crate::safety#MSQ-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    ///
    /// let queue: MsQueue<u32> = (1..=5).collect();
    /// let batch: Vec<u32> = queue.pop_many(3).collect();
    /// assert_eq!(batch, [1, 2, 3]);
    /// assert_eq!(queue.pop_many(10).collect::<Vec<_>>(), [4, 5]);
    /// assert_eq!(queue.pop_many(10).next(), None);
    /// ```
    pub fn pop_many(&self, max: usize) -> PopMany<T> {
        if max == 0 {
            return PopMany::empty();
        }
        let guard = epoch::pin();
        let backoff = Backoff::new();
        loop {
            let Some(front) = self.front(&guard) else { return PopMany::empty() };
            let mut last = front.first;
            let mut count = 1;
            // If `tail` was at the sentinel, `front` moved it to the first node
            // only: take that one. Otherwise walk up to the node `tail` pointed
            // at, never past it ([MSQ-I6]).
            if front.tail != front.head {
                while count < max && last != front.tail {
                    // SAFETY: [MSQ-I1] linked after the sentinel when it was loaded
                    // while pinned, so not freed before `guard` is dropped.
                    let node = unsafe { last.deref() };
                    let next = node.acquire_next(&guard);
                    if next.is_null() {
                        break;
                    }
                    last = next;
                    count += 1;
                }
            }
            if self.unlink(front.head, last, &guard) {
                // SAFE-CODE: [MSQ-S9] the exchange alone detaches the batch: the iterator's
                // `Drop` only drops its own values and retires its own nodes.
                // SAFETY: [MSQ-I3] our exchange made `last` the sentinel, so its value is
                // ours, moved out now: a later pop may retire `last` once we unpin.
                // [MSQ-I6] the old sentinel and the nodes before `last` are ours to retire.
                let value = unsafe { last.deref().take_value() };
                return PopMany {
                    retired: front.head.as_raw().cast_mut(),
                    nodes: count,
                    cursor: front.first.as_raw().cast_mut(),
                    left: count - 1,
                    last: Some(value),
                };
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

/// What [`MsQueue::front`] read: the sentinel, its successor, and the `tail`
/// it compared with the sentinel (before helping it on, if equal).
struct Front<'g, T> {
    head: Shared<'g, Node<T>>,
    first: Shared<'g, Node<T>>,
    tail: Shared<'g, Node<T>>,
}

/// A privately built chain (`push_all`): freed with its values if dropped
/// before it is published, e.g. when the caller's iterator panics.
struct Chain<T> {
    first: *mut Node<T>,
    last: *mut Node<T>,
}

impl<T> Drop for Chain<T> {
    fn drop(&mut self) {
        // SAFE-CODE: [MSQ-S1] every node of the chain holds a value; `free_values` keeps
        // dropping if one value's `Drop` panics.
        free_values(self.first.cast_const());
    }
}

/// The values detached by [`MsQueue::pop_many`], front first.
///
/// # Examples
///
/// ```
/// use acqrel::MsQueue;
///
/// let queue: MsQueue<u32> = (1..=4).collect();
/// let mut batch = queue.pop_many(3);
/// queue.push(5); // goes to the queue, not to the batch
/// assert_eq!(batch.len(), 3);
/// assert_eq!(batch.next(), Some(1));
/// drop(batch); // drops 2 and 3
/// assert_eq!(queue.pop_many(usize::MAX).collect::<Vec<_>>(), [4, 5]);
/// ```
///
/// Each call to `next` moves one value out. Dropping the iterator drops the
/// values not yet taken and hands the detached nodes to the collector in one
/// batch (a concurrent `pop` that loaded the old front may still read a
/// node's link until it unpins). If a value's `Drop` panics, the other
/// values are still dropped and the nodes still retired before the panic
/// continues.
///
/// The iterator owns its values and holds no pin and no borrow of the
/// queue: it may outlive the queue, and be sent to and dropped on another
/// thread. It is `Send` and `Sync` exactly when `T: Send`, like the queue.
///
/// Leaking it (`mem::forget`) leaks the values not yet taken and the
/// detached nodes, nothing else: the queue no longer links them, so they are
/// never popped or dropped by anyone, and the queue stays usable.
///
/// A queue of `Rc` gives a batch that stays on its thread:
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// send(acqrel::MsQueue::<std::rc::Rc<u8>>::new().pop_many(1));
/// ```
///
/// ```compile_fail
/// fn shared<T: Sync>(_: &T) {}
/// shared(&acqrel::MsQueue::<std::rc::Rc<u8>>::new().pop_many(1));
/// ```
// SAFE-CODE: [MSQ-S9] no lifetime: the iterator owns its nodes and values outright,
// so it may outlive the queue and be dropped (or leaked) on any thread.
pub struct PopMany<T> {
    /// The old sentinel, first of the `nodes` detached nodes to retire
    /// (null once retired, or if nothing was detached).
    retired: *mut Node<T>,
    /// How many nodes to retire from `retired` on: the old sentinel and the
    /// nodes whose values the iterator owns, not the new sentinel.
    nodes: usize,
    /// The next node whose value has not been taken (meaningful while `left > 0`).
    cursor: *mut Node<T>,
    /// Values left in the nodes from `cursor` on.
    left: usize,
    /// The value of the batch's last node (the new sentinel), moved out at once.
    last: Option<T>,
}

// SAFETY: [MSQ-I4] the iterator owns the detached values; sending it sends them.
unsafe impl<T: Send> Send for PopMany<T> {}
// SAFETY: [MSQ-I4] `&PopMany` gives access to nothing (every method takes `&mut self`).
unsafe impl<T: Send> Sync for PopMany<T> {}
// Unwind safety: the iterator owns its values, as a `vec::IntoIter` does.
impl<T: core::panic::UnwindSafe> core::panic::UnwindSafe for PopMany<T> {}
impl<T: core::panic::RefUnwindSafe> core::panic::RefUnwindSafe for PopMany<T> {}

impl<T> fmt::Debug for PopMany<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PopMany").field("len", &self.len()).finish_non_exhaustive()
    }
}

impl<T> PopMany<T> {
    fn empty() -> Self {
        PopMany { retired: ptr::null_mut(), nodes: 0, cursor: ptr::null_mut(), left: 0, last: None }
    }

    /// Drops the values not taken yet, then retires the detached nodes.
    fn finish(&mut self) {
        // SAFE-CODE: [MSQ-S10] each value is moved out before its `Drop` runs, and the
        // nodes are no longer linked to the queue: a `Drop` that uses the same queue
        // meets only the queue's own nodes.
        while let Some(value) = self.next() {
            // SAFE-CODE: [MSQ-S10] if this value's `Drop` panics, `rest` drops the others and retires the nodes.
            let rest = FinishOnUnwind(self);
            drop(value);
            core::mem::forget(rest);
        }
        self.retire();
    }

    /// Hands the detached nodes (values already gone) to the collector.
    fn retire(&mut self) {
        let first = core::mem::replace(&mut self.retired, ptr::null_mut());
        if first.is_null() {
            return;
        }
        let retired = Retired { first, nodes: self.nodes };
        let guard = epoch::pin();
        // SAFETY: [MSQ-I6] the nodes were detached by `pop_many`'s exchange, so no
        // thread pinned from now on can reach them; they are freed after every
        // thread pinned before has unpinned ([MSQ-I1]), and their values are gone.
        unsafe {
            guard.defer_unchecked(move || retired.free());
        }
    }
}

impl<T> Iterator for PopMany<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.left == 0 {
            return self.last.take();
        }
        // SAFETY: [MSQ-I6] the nodes before the new sentinel stay allocated until
        // this iterator retires them, and their values belong to it alone;
        // `pop_many`'s walk acquired them ([MSQ-O2]).
        unsafe {
            let node = &*self.cursor;
            // ORDERING: [MSQ-O9] Relaxed — a link the walk already acquired; set once, never changed.
            self.cursor =
                node.next.load(site::load(Relaxed), epoch::unprotected()).as_raw().cast_mut();
            self.left -= 1;
            Some(node.take_value())
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.left + usize::from(self.last.is_some());
        (len, Some(len))
    }
}

impl<T> ExactSizeIterator for PopMany<T> {}

impl<T> FusedIterator for PopMany<T> {}

impl<T> Drop for PopMany<T> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Finishes a [`PopMany`] whose drop was interrupted by a panicking value.
struct FinishOnUnwind<'a, T>(&'a mut PopMany<T>);

impl<T> Drop for FinishOnUnwind<'_, T> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// Detached nodes waiting for the collector: the old sentinel and the nodes
/// whose values a [`PopMany`] took. Releasing them (to this thread's node
/// cache, or the allocator) touches no value.
struct Retired<T> {
    first: *mut Node<T>,
    nodes: usize,
}

impl<T> Retired<T> {
    fn free(self) {
        // SAFETY: [MSQ-I5] by the time the collector runs this, no thread can reach
        // the nodes; the guard only names them.
        let guard = unsafe { epoch::unprotected() };
        let mut node = self.first;
        for _ in 0..self.nodes {
            // SAFETY: [MSQ-I5] no other thread can reach the node any more.
            let link = unsafe { &(*node).next };
            // ORDERING: [MSQ-O8] Relaxed — exclusive access.
            let next = link.load(site::load(Relaxed), guard);
            // SAFETY: [RCY-I1] the grace period has passed and each node is released
            // once; its value is uninitialised or moved out ([MSQ-I3]), so this drops nothing.
            unsafe { recycle::release(node) };
            node = next.as_raw().cast_mut();
        }
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
