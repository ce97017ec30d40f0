//! [`MsQueue`]: the Michael–Scott lock-free FIFO queue, with nodes reclaimed
//! by [crossbeam-epoch](https://docs.rs/crossbeam-epoch).
//!
//! # Progress
//!
//! `push` and `pop` are lock-free: every retry means another thread's
//! exchange on the same pointer succeeded. `is_empty` is two loads under a
//! pin.
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
//! `tail` is never behind `head` ([MSQ-I2]).
//!
//! The paper's re-check `head == Head` after reading `next` is there to
//! catch a node freed and reused in between; here nodes cannot be freed
//! while the reader is pinned ([MSQ-I1]), and a node's `next`, once set, is
//! never changed, so the snapshot needs no re-check.
//!
//! # Reclamation
//!
//! Every operation runs pinned (`crossbeam_epoch::pin`, or the caller's
//! guard in `push_with`/`pop_with`). A retired sentinel goes to
//! [`Guard::defer_destroy`], which frees it only after every thread pinned
//! at the time has unpinned ([MSQ-I1]); the value it once carried was moved
//! out when it became the sentinel ([MSQ-I3]). Garbage is bounded only by
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
//! The link exchange is `Release` ([MSQ-O1]) and the loads of `next` are
//! `Acquire` ([MSQ-O2]): a popped value's construction, and what the pushing
//! thread did before `push`, happens-before `pop` returns it. `tail` and
//! `head` are swung with `Release` exchanges ([MSQ-O4], [MSQ-O6]) and
//! loaded with `Acquire` ([MSQ-O3], [MSQ-O5]) where the node they point at
//! is dereferenced, so a node is always initialised before a thread that
//! reaches it through `tail` or `head` reads it. `pop`'s load of `tail` is
//! only compared ([MSQ-O7]). The tags name entries in SAFETY.md.

use crate::epoch::check_guard;
use crate::loom::Backoff;
use crate::loom::UnsafeCell;
use crate::loom::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::loom::atomic::site;
use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
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
        Owned::new(Node { value: UnsafeCell::new(value), next: Atomic::null() })
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

    /// Moves the value out.
    ///
    /// # Safety
    ///
    /// The value is initialised, the caller is its single owner ([MSQ-I3]),
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

impl<T> Default for MsQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for MsQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MsQueue").field("is_empty", &self.is_empty()).finish_non_exhaustive()
    }
}

impl<T> MsQueue<T> {
    /// Creates an empty queue (allocates its sentinel node).
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
    /// that returns `value`.
    pub fn push(&self, value: T) {
        let guard = epoch::pin();
        self.push_pinned(value, &guard);
    }

    /// [`push`](Self::push) under the caller's pin, so that one pin covers
    /// many operations (pinning costs a full fence).
    ///
    /// # Panics
    ///
    /// If `guard` does not come from [`acqrel::epoch::pin`](crate::epoch::pin) (the default
    /// collector).
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
    /// this `pop` returns it. Values pushed by one thread are popped in the
    /// order that thread pushed them.
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
            // ORDERING: [MSQ-O2] Acquire — pairs with [MSQ-O1]: the first value is visible.
            let next = sentinel.next.load(site::load(Acquire), guard);
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
                // moved past it ([MSQ-I2]), and freed after every pinned thread unpins.
                unsafe {
                    let value = first.take_value();
                    guard.defer_destroy(head);
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
    /// None: `false` makes no value visible (`pop` does).
    pub fn is_empty(&self) -> bool {
        let guard = epoch::pin();
        // ORDERING: [MSQ-O5] Acquire — pairs with [MSQ-O6]: the sentinel is initialised.
        let head = self.head.load(site::load(Acquire), &guard);
        // SAFETY: [MSQ-I1] loaded while pinned; the sentinel is never null.
        let sentinel = unsafe { head.deref() };
        sentinel.reached();
        // ORDERING: [MSQ-O8] Relaxed — only compared with null; nothing is read through it.
        sentinel.next.load(site::load(Relaxed), &guard).is_null()
    }
}

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
/// drops the values. Only for nodes owned by the caller alone ([MSQ-I5]).
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
