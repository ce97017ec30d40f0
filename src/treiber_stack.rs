//! [`TreiberStack`]: a lock-free LIFO stack whose nodes are reclaimed by
//! [crossbeam-epoch](https://docs.rs/crossbeam-epoch).
//!
//! # Progress
//!
//! `push`, `pop`, `push_all` and `take_all` are lock-free: each is a loop
//! around one compare-exchange (or a single swap for `take_all`), and a retry
//! means another thread's operation on the head succeeded. Elimination (see
//! below) keeps this: a push waits in an exchange slot for a bounded number
//! of looks (a few dozen spin hints in all), never for another thread, and a
//! pop only glances at the slots. `is_empty` is one
//! load; `len` walks the list once, in time proportional to the length it
//! finds, and never retries. Pinning (the first thing every operation except
//! `is_empty` does) is wait-free; `pop`, and `push` now and then, also run a
//! bounded share of deferred destructors for the collector.
//!
//! # Algorithm
//!
//! R. K. Treiber, *Systems Programming: Coping with Parallelism*, IBM Almaden
//! Research Report RJ 5118, 1986. The stack is a singly-linked list of heap
//! nodes; `head` points at the top node or is null.
//!
//! - **push** allocates a node, points its `next` at the current head and
//!   swings `head` to the node with a compare-exchange, retrying from the new
//!   head when another thread got there first.
//! - **pop** reads the head node's `next` and swings `head` from the node to
//!   `next`; the thread whose exchange succeeds owns the node's value.
//! - **push_all** links a whole chain privately and publishes it with the
//!   same single compare-exchange; **take_all** detaches the whole list with
//!   one swap to null.
//!
//! **Elimination** (D. Hendler, N. Shavit, L. Yerushalmi, *A Scalable
//! Lock-free Stack Algorithm*, SPAA 2004): a push and a pop that run at the
//! same time cancel out, so under contention they may hand the value over
//! without touching `head` at all. The stack keeps two exchange slots, each
//! on a cache line of its own. Only a lost compare-exchange on `head` leads
//! there, so an uncontended push or pop runs exactly as in Treiber's
//! algorithm:
//!
//! - a **push** of a single node (`push`, `push_with`, a handle's `push`, a
//!   `push_all` of one value) that lost its exchange puts the node in a free
//!   slot, looks at the slot a few times with growing pauses, and then takes
//!   it back; if the node is gone when it looks, or its taking back fails, a
//!   pop took it and the push is done. Otherwise (taken back, or no slot was
//!   free) it returns to the exchange on `head`. A chain of several nodes is
//!   never offered: one pop cannot take it.
//! - a **pop** that lost its exchange looks at the slots and takes the first
//!   node it finds offered there with a compare-exchange to null; the node's
//!   value is then its own, and the node is retired as a popped node is.
//!
//! An eliminated pair takes effect at the pop's taking exchange, as the push
//! immediately followed by the pop: both calls are in progress then, and
//! the stack below is the same before and after, so the order of values is
//! still last in, first out. A value waiting in a slot is not in the stack
//! yet (it belongs to a push that has not returned): `len`, `is_empty` and
//! `take_all` do not see it, and `Drop` never finds one (no push can be in
//! progress then).
//!
//! # Reclamation
//!
//! A popped node cannot be freed at once: another popper may have loaded the
//! same head a moment earlier and still be about to read its `next`. Every
//! operation runs *pinned* (`crossbeam_epoch::pin`), and an unlinked node is
//! handed to the epoch collector (as [`Guard::defer_destroy`] would), which
//! frees or recycles it only after every thread pinned at the time of
//! unlinking has unpinned ([TRB-I1](crate::safety#TRB-I1)). The same
//! invariant rules out ABA: a node this thread loaded cannot be freed and its
//! address reused while the thread is pinned, and a node, once unlinked, is
//! never linked again.
//!
//! The exchange slots rest on the same invariant ([TRB-I6](crate::safety#TRB-I6)): a push
//! recognises its offered node by its address alone, and that address
//! cannot come back as another push's node while the push is pinned, since
//! a taken node is retired, not freed.
//!
//! The value is moved out of the node by the thread that unlinked it (a
//! `ptr::read` of a `ManuallyDrop<T>`), and the node is later freed by the
//! collector without dropping the value again ([TRB-I2](crate::safety#TRB-I2)).
//!
//! Two refinements keep the collector's cost per node low. A thread hands
//! its popped nodes to the collector in batches of 64 (one deferred
//! function per batch; a batch not yet full is handed over when the thread
//! exits), and once a node's grace period has passed, the thread that runs
//! the batch's deferred function keeps the node's memory in a small
//! per-thread cache (at most 64 KiB per node layout, freed when the thread
//! exits), which that thread's next push reuses instead of allocating
//! ([RCY-I1](crate::safety#RCY-I1)). Deferring later only lengthens the
//! grace period, and reuse waits for the same grace period a free waits
//! for, so neither allows an ABA that a free would not.
//!
//! Cost in memory: popped nodes (not values — those leave with `pop`) wait
//! in crossbeam-epoch's per-thread bags of 64 and its global queue until the
//! global epoch has advanced twice. Garbage is bounded only by collection
//! progress: a thread that stays pinned (holding a [`Guard`] across a long
//! computation) stops every node retired after it pinned from being freed.
//! Keep guards short; [`Guard::flush`] moves this thread's bag to the global
//! queue and tries to collect, which helps when a thread retires a burst of
//! nodes and then goes idle.
//!
//! When one guard covers many operations ([`push_with`](TreiberStack::push_with),
//! [`pop_with`](TreiberStack::pop_with)), call [`Guard::repin`] *and*
//! [`Guard::flush`] every hundred or so operations. Collection otherwise
//! runs only from `pin` (once per 128 pins, freeing at most 8 bags of 64),
//! so a loop under one guard retires nodes faster than anything frees them:
//! garbage grows without bound and every later `pin` in the process pays
//! for the backlog (measured: pairs under a guard repinned every 128
//! operations without a flush slowed later benchmarks of the same process
//! from about 50 ns to over 200 ns per pair).
//!
//! # Invariants
//!
//! 1. Every store to `head` after construction is a read-modify-write
//!    (push's and pop's compare-exchange, `take_all`'s swap), so every
//!    `Acquire` read of `head` synchronises with every `Release` push before
//!    it in `head`'s modification order, not only with the last writer.
//! 2. A node's `next` and value are written before the node is published and
//!    never written again.
//! 3. A node is unlinked at most once and never relinked ([TRB-I1](crate::safety#TRB-I1)).
//! 4. A node is in at most one place at a time: linked below `head`, in one
//!    exchange slot, or private to one thread. Only the push that owns a
//!    node puts it in a slot or takes it back, and only after a lost exchange
//!    and before its next one; a pop that takes it from the slot owns it
//!    ([TRB-I6](crate::safety#TRB-I6)).
//!
//! # Memory ordering
//!
//! push's exchange is `Release` ([TRB-O1](crate::safety#TRB-O1)) and pop's loads of the head are
//! `Acquire` ([TRB-O2](crate::safety#TRB-O2)), so a popped value's construction, and everything the
//! pushing thread did before `push`, happens-before `pop` returns it. pop's
//! successful exchange is `Relaxed` ([TRB-O3](crate::safety#TRB-O3)): by then the value has been
//! acquired, and the exchange only has to be atomic. `take_all`'s swap is
//! `Acquire` ([TRB-O4](crate::safety#TRB-O4)). An eliminated pair gives the same edge through its
//! slot: the offer is `Release` and the pop's look at the slot `Acquire`
//! ([TRB-O7](crate::safety#TRB-O7)), so the value's construction, and everything the pushing
//! thread did before `push`, happens-before that `pop` returns it too; and
//! the pop's taking exchange is `Release`, read by the pusher's `Acquire`
//! look, so what the popping thread did before its `pop` happens-before the
//! eliminated `push` returns, as an exchange on `head` would have given
//! ([TRB-O8](crate::safety#TRB-O8)). `is_empty` is a `Relaxed` snapshot ([TRB-O5](crate::safety#TRB-O5));
//! `len` reads the head with pop's `Acquire` load ([TRB-O2](crate::safety#TRB-O2)) so that it may
//! walk the links below, and promises the caller no more than `is_empty`
//! does. The tags name entries in SAFETY.md.
//!
//! # Examples
//!
//! ```
//! use acqrel::TreiberStack;
//!
//! let stack: TreiberStack<u32> = (1..=3).collect();
//! assert_eq!(stack.len(), 3);
//! assert_eq!(stack.pop(), Some(3));
//! let rest: Vec<u32> = stack.into_iter().collect();
//! assert_eq!(rest, [2, 1]);
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
use core::mem::ManuallyDrop;
use core::ptr;
use crossbeam_epoch::{self as epoch, Atomic, Guard, Owned, Shared};
use crossbeam_utils::CachePadded;

/// How many exchange slots a stack has for elimination. Two: enough for the
/// pairs a few contending threads form at once, without making every stack
/// much larger (each slot fills a cache line of its own).
const SLOTS: usize = 2;

/// How many times an offering push looks at its slot before it withdraws
/// the offer. The looks are spaced by `Backoff::spin` (1, 2, 4, … spin
/// hints), so the whole wait is a few dozen spin hints: about as long as a
/// contended exchange on `head` takes, and bounded. One under loom, where
/// every look is a scheduling point and a single look already lets the
/// model reach every outcome of the offer (taken before it, taken after
/// it, withdrawn).
const OFFER_LOOKS: u32 = if cfg!(loom) { 1 } else { 6 };

/// The slot an offer of the node at `node` tries first. A hash of the
/// address (Fibonacci hashing: the product's high half depends on every bit
/// of it), so that pushes from different threads, whose nodes come from
/// different allocations, tend to spread over the slots. Always the first
/// slot under loom: a model must run the same way every time it replays a
/// schedule, and addresses differ between runs.
fn slot_index<T>(node: *const T) -> usize {
    if cfg!(loom) {
        return 0;
    }
    let hash = node.addr().wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize);
    (hash >> (usize::BITS / 2)) % SLOTS
}

/// How an offer in an exchange slot ended.
enum Offer {
    /// A pop took the node and its value: the push is done.
    Taken,
    /// No pop came in time and the push withdrew the node: it is private
    /// again and goes back to the exchange on `head`.
    Withdrawn,
    /// Every slot was busy with another offer: nothing was offered.
    NoSlot,
}

/// A lock-free LIFO stack (Treiber's algorithm) with epoch-based reclamation.
///
/// Any number of threads may push and pop through `&TreiberStack`.
///
/// # Examples
///
/// ```
/// use acqrel::TreiberStack;
/// use std::thread;
///
/// let stack = TreiberStack::new();
/// thread::scope(|s| {
///     for t in 0..4 {
///         let stack = &stack;
///         s.spawn(move || {
///             for i in 0..100 {
///                 stack.push(t * 100 + i);
///             }
///         });
///     }
/// });
/// let mut all: Vec<i32> = stack.take_all().collect();
/// all.sort_unstable();
/// assert_eq!(all, (0..400).collect::<Vec<_>>());
/// assert!(stack.is_empty());
/// ```
///
/// The stack is `Send` and `Sync` exactly when `T: Send` (values move
/// between threads but are never shared), so a stack of `Rc` does not cross
/// threads:
///
/// ```compile_fail
/// fn shared<T: Sync>(_: &T) {}
/// shared(&acqrel::TreiberStack::<std::rc::Rc<u8>>::new());
/// ```
///
/// while a `!Sync` but `Send` value type is fine:
///
/// ```
/// fn shared<T: Send + Sync>(_: &T) {}
/// shared(&acqrel::TreiberStack::<std::cell::Cell<u8>>::new());
/// ```
pub struct TreiberStack<T> {
    /// The top node, or null when the stack is empty.
    head: Atomic<Node<T>>,
    /// Exchange slots for elimination: each is null, or holds a single node
    /// offered by a push that lost an exchange on `head`, until a pop that
    /// also lost one takes it or the push withdraws it ([TRB-I6](crate::safety#TRB-I6)). Each
    /// on a cache line of its own, apart from `head`.
    slots: [CachePadded<Atomic<Node<T>>>; SLOTS],
    /// The stack owns `T` values (for drop check and variance).
    _owns: PhantomData<T>,
}

/// One element. `value` is taken exactly once, by whoever unlinks the node,
/// takes it from an exchange slot, or frees the stack (`Drop`); the node
/// itself is freed afterwards without dropping it.
struct Node<T> {
    /// Written once before the node is published; read once by its owner.
    value: UnsafeCell<ManuallyDrop<T>>,
    /// The node below, fixed before publication.
    next: Atomic<Node<T>>,
}

impl<T> Node<T> {
    fn new(value: T) -> Owned<Self> {
        recycle::owned(Node {
            value: UnsafeCell::new(ManuallyDrop::new(value)),
            next: Atomic::null(),
        })
    }

    /// Moves the value out.
    ///
    /// # Safety
    ///
    /// The caller owns the value ([TRB-I2](crate::safety#TRB-I2)): it unlinked the node (or holds
    /// the whole detached chain) and no one else reads the value, and the
    /// value's write happens-before this call.
    unsafe fn take_value(&self) -> T {
        // SAFETY: [TRB-I2] the caller is the value's single owner, and its write is visible.
        self.value.with(|p| unsafe { ManuallyDrop::into_inner(ptr::read(p)) })
    }
}

// SAFETY: [TRB-I3] values are moved between threads, never shared: a `T` is
// written by the pushing thread and read (moved out) by exactly one other
// thread, so `T: Send` suffices for sending and sharing the stack.
unsafe impl<T: Send> Send for TreiberStack<T> {}
// SAFETY: [TRB-I3] through `&TreiberStack` a thread can only move values in
// and out, never obtain a `&T`, so `T: Sync` is not needed.
unsafe impl<T: Send> Sync for TreiberStack<T> {}
// Unwind safety: every operation changes the stack with one compare-exchange
// (or swap), so a panic (an item's `Drop`, the iterator given to `push_all`)
// never leaves it half-changed, and no `&T` into the stack is ever handed
// out, so a value cannot be seen half-updated through it either.
impl<T> core::panic::UnwindSafe for TreiberStack<T> {}
impl<T> core::panic::RefUnwindSafe for TreiberStack<T> {}

impl<T> Default for TreiberStack<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Shows the length ([`len`](TreiberStack::len)), never the values: another
/// thread may be moving a value out while it would be formatted, so `T` need
/// not be `Debug`.
impl<T> fmt::Debug for TreiberStack<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreiberStack").field("len", &self.len()).finish_non_exhaustive()
    }
}

impl<T> TreiberStack<T> {
    /// Creates an empty stack. Allocates nothing, and is a `const fn`, so a
    /// stack can live in a plain `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    ///
    /// static JOBS: TreiberStack<u32> = TreiberStack::new();
    ///
    /// JOBS.push(7);
    /// assert_eq!(JOBS.pop(), Some(7));
    /// assert!(JOBS.is_empty());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            head: Atomic::null(),
            slots: [const { CachePadded::new(Atomic::null()) }; SLOTS],
            _owns: PhantomData,
        }
    }

    /// Creates an empty stack. Allocates nothing.
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            head: Atomic::null(),
            slots: core::array::from_fn(|_| CachePadded::new(Atomic::null())),
            _owns: PhantomData,
        }
    }

    /// Pushes `value` on top of the stack.
    ///
    /// # Memory ordering
    ///
    /// Everything this thread did before `push` happens-before the `pop` (or
    /// `take_all`) that returns `value` ([TRB-O1](crate::safety#TRB-O1), read by [TRB-O2](crate::safety#TRB-O2) or
    /// [TRB-O4](crate::safety#TRB-O4); or, when the value is handed to a `pop` in an exchange
    /// slot, [TRB-O7](crate::safety#TRB-O7)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    /// use std::thread;
    ///
    /// let stack = TreiberStack::new();
    /// thread::scope(|s| {
    ///     s.spawn(|| stack.push(vec![1, 2, 3]));
    ///     s.spawn(|| loop {
    ///         // The vector was filled before its push: a pop sees all of it.
    ///         if let Some(v) = stack.pop() {
    ///             assert_eq!(v, [1, 2, 3]);
    ///             break;
    ///         }
    ///         std::hint::spin_loop();
    ///     });
    /// });
    /// assert!(stack.is_empty());
    /// ```
    pub fn push(&self, value: T) {
        let guard = epoch::pin();
        let node = Node::new(value).into_shared(&guard);
        self.publish(node, node, &guard);
    }

    /// A handle for a hot loop on this stack: its `push` and `pop` share
    /// one pinned guard, repinned every
    /// [`REPIN_EVERY`](Handle::REPIN_EVERY) operations, instead of pinning
    /// for each call (see [`Handle`] for what holding it costs others).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    ///
    /// let stack = TreiberStack::new();
    /// let mut handle = stack.handle();
    /// for i in 0..1000 {
    ///     handle.push(i);
    /// }
    /// assert_eq!(handle.pop(), Some(999)); // last in, first out
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
    /// collector), for example a guard of a custom `Collector` or
    /// `crossbeam_epoch::unprotected()`.
    ///
    /// # Memory ordering
    ///
    /// As [`push`](Self::push) ([TRB-O1](crate::safety#TRB-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    ///
    /// let stack = TreiberStack::new();
    /// let mut guard = acqrel::epoch::pin();
    /// for i in 0..1000 {
    ///     stack.push_with(i, &guard);
    ///     if i % 128 == 127 {
    ///         // Let the epoch advance and hand retired nodes to the collector.
    ///         guard.repin();
    ///         guard.flush();
    ///     }
    /// }
    /// assert_eq!(stack.pop_with(&guard), Some(999));
    /// ```
    pub fn push_with(&self, value: T, guard: &Guard) {
        check_guard(guard, "stack");
        let node = Node::new(value).into_shared(guard);
        self.publish(node, node, guard);
    }

    /// Pushes every value of `values` as if by `push` one after another (the
    /// last value ends on top), publishing them all with one compare-exchange:
    /// other threads see none of them or all of them.
    ///
    /// The chain is built before anything is published, so a panic in the
    /// iterator (in `next` or in its `Drop`) leaves the stack unchanged: the
    /// values produced so far are dropped, each once. The iterator's
    /// `size_hint` is not used, and the iterator may itself use the stack
    /// (push, pop, `take_all`): its chain stays private until it is done.
    ///
    /// # Memory ordering
    ///
    /// As [`push`](Self::push), for every value: everything this thread did
    /// before `push_all` happens-before the `pop` (or `take_all`) that
    /// returns any of them ([TRB-O1](crate::safety#TRB-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    ///
    /// let stack = TreiberStack::new();
    /// stack.push_all([1, 2, 3]);
    /// assert_eq!(stack.pop(), Some(3));
    /// ```
    pub fn push_all<I: IntoIterator<Item = T>>(&self, values: I) {
        let mut chain = Chain { top: ptr::null_mut(), bottom: ptr::null_mut() };
        for value in values {
            let node = Node::new(value);
            // ORDERING: [TRB-O6] Relaxed — the chain is private until `publish`'s Release exchange.
            node.next.store(Shared::from(chain.top.cast_const()), site::store(Relaxed));
            let node = Box::into_raw(node.into_box());
            if chain.bottom.is_null() {
                chain.bottom = node;
            }
            chain.top = node;
        }
        if chain.top.is_null() {
            return;
        }
        let guard = epoch::pin();
        let top = Shared::from(chain.top.cast_const());
        let bottom = Shared::from(chain.bottom.cast_const());
        // From here on the chain belongs to the stack. Until here a panic in
        // the user's iterator (its `next` or its `Drop`) drops `chain`, which
        // frees the private nodes and drops their values.
        // SAFE-CODE: [TRB-S2] nothing of the chain is published before the iterator is done and dropped.
        core::mem::forget(chain);
        self.publish(top, bottom, &guard);
    }

    /// Links the private chain `top ..= bottom` on top of the stack.
    ///
    /// `bottom` must be reachable from `top` through `next` links, and no
    /// other thread may be able to reach any node of the chain.
    fn publish(&self, top: Shared<'_, Node<T>>, bottom: Shared<'_, Node<T>>, guard: &Guard) {
        let single = top == bottom;
        // SAFETY: [TRB-I2] `bottom` belongs to the caller's private chain, not yet published.
        let bottom = unsafe { bottom.deref() };
        // ORDERING: [TRB-O6] Relaxed — only a guess for the exchange below; the
        // head is never dereferenced here.
        let mut head = self.head.load(site::load(Relaxed), guard);
        let backoff = Backoff::new();
        loop {
            // ORDERING: [TRB-O6] Relaxed — the chain is private; [TRB-O1]'s Release publishes it.
            bottom.next.store(head, site::store(Relaxed));
            // ORDERING: [TRB-O1] Release/Relaxed — success publishes the chain to [TRB-O2]'s
            // Acquire loads; a failure's head is only the next guess, never dereferenced.
            match self.head.compare_exchange_weak(
                head,
                top,
                site::cas_success(Release),
                site::cas_failure(Relaxed),
                guard,
            ) {
                Ok(_) => return,
                Err(e) => {
                    head = e.current;
                    // Another thread won the head. A single node is offered
                    // to a pop in an exchange slot meanwhile; a chain, or a
                    // node no slot had room for, backs off before retrying.
                    if !single {
                        backoff.spin();
                        continue;
                    }
                    match self.offer(top, guard) {
                        Offer::Taken => return,
                        Offer::Withdrawn => {
                            // The wait made the old guess stale.
                            // ORDERING: [TRB-O6] Relaxed — only a guess for the exchange, never dereferenced.
                            head = self.head.load(site::load(Relaxed), guard);
                        }
                        Offer::NoSlot => backoff.spin(),
                    }
                }
            }
        }
    }

    /// Offers `node`, a single node whose push lost an exchange on `head`,
    /// to a pop in an exchange slot ([TRB-I6](crate::safety#TRB-I6)), and waits a bounded
    /// time for one to take it.
    ///
    /// `node` must be private to the caller (its value written, no other
    /// thread able to reach it). On [`Offer::Taken`] the node and its value
    /// belong to the pop that took them; otherwise the node is private again.
    #[cold]
    fn offer(&self, node: Shared<'_, Node<T>>, guard: &Guard) -> Offer {
        let start = slot_index(node.as_raw());
        for i in 0..SLOTS {
            let slot = &*self.slots[(start + i) % SLOTS];
            // ORDERING: [TRB-O7] Release/Relaxed — success publishes the node's value to the
            // pop whose Acquire load sees the offer; a failure (slot busy) reads nothing.
            let placed = slot.compare_exchange(
                Shared::null(),
                node,
                site::cas_success(Release),
                site::cas_failure(Relaxed),
                guard,
            );
            if placed.is_err() {
                continue;
            }
            let wait = Backoff::new();
            for _ in 0..OFFER_LOOKS {
                wait.spin();
                // ORDERING: [TRB-O8] Acquire — pairs with the taker's Release exchange: once our
                // node is gone, the taker's history happens-before our push returns.
                if slot.load(site::load(Acquire), guard) != node {
                    return Offer::Taken;
                }
            }
            // ORDERING: [TRB-O8] Relaxed/Acquire — success takes back our own node; a failure
            // means a pop took it: Acquire pairs with its Release exchange, as a look does.
            return match slot.compare_exchange(
                node,
                Shared::null(),
                site::cas_success(Relaxed),
                site::cas_failure(Acquire),
                guard,
            ) {
                Ok(_) => Offer::Withdrawn,
                Err(_) => Offer::Taken,
            };
        }
        Offer::NoSlot
    }

    /// Takes a node offered in an exchange slot, if there is one, and moves
    /// its value out ([TRB-I6](crate::safety#TRB-I6)). Called by a pop that lost an
    /// exchange on `head`.
    #[cold]
    fn take_offer(&self, guard: &Guard) -> Option<T> {
        for slot in &self.slots {
            // ORDERING: [TRB-O7] Acquire — pairs with the offer's Release: the node's value was
            // written before it was offered.
            let offered = slot.load(site::load(Acquire), guard);
            if offered.is_null() {
                continue;
            }
            // ORDERING: [TRB-O8] Release/Relaxed — success hands our history to the pusher's
            // Acquire look (the load above already acquired the offer); a failure reads nothing.
            let taken = slot.compare_exchange(
                offered,
                Shared::null(),
                site::cas_success(Release),
                site::cas_failure(Relaxed),
                guard,
            );
            if taken.is_ok() {
                // SAFETY: [TRB-I6] our exchange took the node out of the slot, so its value is
                // ours, and [TRB-O7] made it visible; the pusher (and any other taker) may
                // still compare the slot with the node's address, so it is retired, and its
                // memory reused or freed only after the grace period ([RCY-I1]).
                unsafe {
                    let value = offered.deref().take_value();
                    recycle::retire(offered, guard);
                    return Some(value);
                }
            }
        }
        None
    }

    /// Pops the top value, or returns `None` if the stack is empty.
    ///
    /// # Memory ordering
    ///
    /// The value's `push` (and what its thread did before it) happens-before
    /// this `pop` returns it ([TRB-O2](crate::safety#TRB-O2), pairing with [TRB-O1](crate::safety#TRB-O1); or [TRB-O7](crate::safety#TRB-O7)
    /// when the value comes from an exchange slot). `None` orders nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    ///
    /// let stack = TreiberStack::new();
    /// stack.push('a');
    /// stack.push('b');
    /// assert_eq!(stack.pop(), Some('b')); // last in, first out
    /// assert_eq!(stack.pop(), Some('a'));
    /// assert_eq!(stack.pop(), None);
    /// ```
    pub fn pop(&self) -> Option<T> {
        // SAFE-CODE: [TRB-S6] `pin` works in a thread-local destructor too: once this
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
    /// As [`pop`](Self::pop) ([TRB-O2](crate::safety#TRB-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    ///
    /// let stack: TreiberStack<u32> = (0..10).collect();
    /// let guard = acqrel::epoch::pin();
    /// let mut sum = 0;
    /// while let Some(v) = stack.pop_with(&guard) {
    ///     sum += v;
    /// }
    /// assert_eq!(sum, 45);
    /// ```
    pub fn pop_with(&self, guard: &Guard) -> Option<T> {
        check_guard(guard, "stack");
        self.pop_pinned(guard)
    }

    /// The top node, acquired: its value and `next`, and those of every node
    /// below it, are visible to the caller (invariant 1: the read
    /// synchronises with the push of every node still linked below).
    #[inline(always)]
    fn acquire_head<'g>(&self, guard: &'g Guard) -> Shared<'g, Node<T>> {
        // ORDERING: [TRB-O2] Acquire — pairs with [TRB-O1]: the node's value and
        // `next` were written before it was published.
        self.head.load(site::load(Acquire), guard)
    }

    fn pop_pinned(&self, guard: &Guard) -> Option<T> {
        let mut head = self.acquire_head(guard);
        let backoff = Backoff::new();
        loop {
            // SAFETY: [TRB-I1] `head` was loaded while pinned, so it is not freed
            // before `guard` is dropped; [TRB-O2] makes its fields visible.
            let node = unsafe { head.as_ref() }?;
            // ORDERING: [TRB-O6] Relaxed — `next` is fixed before publication, made visible by [TRB-O2].
            let next = node.next.load(site::load(Relaxed), guard);
            // ORDERING: [TRB-O3] Relaxed on success — [TRB-O2] already acquired the node.
            // [TRB-O2] Acquire on failure — pairs with [TRB-O1]: we dereference the new head.
            match self.head.compare_exchange_weak(
                head,
                next,
                site::cas_success(Relaxed),
                site::cas_failure(Acquire),
                guard,
            ) {
                Ok(_) => {
                    // SAFE-CODE: [TRB-S4] the value leaves the stack whole: its `Drop`
                    // runs in the caller, with no node half-unlinked, and may use the stack.
                    // SAFETY: [TRB-I2] our exchange unlinked the node, so we own its
                    // value; [TRB-I1] it is retired once, and its memory is reused or freed
                    // only after every thread pinned now has unpinned ([RCY-I1]), without
                    // dropping the value.
                    unsafe {
                        let value = node.take_value();
                        recycle::retire(head, guard);
                        return Some(value);
                    }
                }
                Err(e) => {
                    head = e.current;
                    // Contention: a push may be offering its value in an
                    // exchange slot; take it rather than wait for `head`.
                    if let Some(value) = self.take_offer(guard) {
                        return Some(value);
                    }
                    backoff.spin();
                }
            }
        }
    }

    /// Whether the stack was empty at the moment of the call.
    ///
    /// Concurrent pushes and pops may change the answer immediately. A value
    /// a push is offering in an exchange slot is not in the stack yet (that
    /// push has not returned), so it does not count. Does not pin.
    ///
    /// # Memory ordering
    ///
    /// None: `false` does not make any value's contents visible (pop does);
    /// the load is `Relaxed` ([TRB-O5](crate::safety#TRB-O5)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    ///
    /// let stack = TreiberStack::new();
    /// assert!(stack.is_empty());
    /// stack.push(1);
    /// assert!(!stack.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        // SAFETY: [TRB-I1] the pointer is only compared with null, never
        // dereferenced, so no pin is needed to read it.
        let guard = unsafe { epoch::unprotected() };
        // ORDERING: [TRB-O5] Relaxed — a snapshot of the pointer; nothing is read through it.
        self.head.load(site::load(Relaxed), guard).is_null()
    }

    /// The number of values in the stack at one moment during the call.
    ///
    /// Counts by walking the list from the top, so it takes time in
    /// proportion to the length (O(n)) and pins while it walks. The count is
    /// exact for that moment: the top is read once, and the nodes below a
    /// node never change, so the walk sees exactly the stack as it was when
    /// the top was read. With no other thread pushing or popping, that is
    /// the stack's length; otherwise it may be out of date by the time it is
    /// returned, like [`is_empty`](Self::is_empty). Values that pushes in
    /// progress offer in the exchange slots are not counted: they are not in
    /// the stack yet.
    ///
    /// # Memory ordering
    ///
    /// None for the caller: a count makes no value's contents visible (`pop`
    /// does). The read of the top is `Acquire` ([TRB-O2](crate::safety#TRB-O2)) only so that the
    /// walk may read the nodes' links.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    ///
    /// let stack = TreiberStack::new();
    /// assert_eq!(stack.len(), 0);
    /// stack.push_all(["a", "b", "c"]);
    /// assert_eq!(stack.len(), 3);
    /// stack.pop();
    /// assert_eq!(stack.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        let guard = epoch::pin();
        let mut node = self.acquire_head(&guard);
        let mut count = 0;
        // SAFETY: [TRB-I1] the top was loaded while pinned and every node below
        // it was still linked then, so none is freed before `guard` is dropped.
        while let Some(n) = unsafe { node.as_ref() } {
            count += 1;
            // ORDERING: [TRB-O6] Relaxed — `next` was fixed before publication and made
            // visible by [TRB-O2]'s read of the top (invariant 1 reaches every node below).
            node = n.next.load(site::load(Relaxed), &guard);
        }
        count
    }

    /// Detaches every node with one swap and returns an iterator that owns
    /// them, top first. Pushes after the swap go to the (now empty) stack; so
    /// do the values of pushes in progress that were waiting in an exchange
    /// slot (or to a pop that takes them there).
    ///
    /// The values are moved out as the iterator advances; the nodes are
    /// handed to the collector in one batch when the iterator is dropped
    /// (concurrent poppers may still be reading them until then).
    ///
    /// # Memory ordering
    ///
    /// Like `pop`, for every value taken: each value's `push` happens-before
    /// the iterator returns it ([TRB-O4](crate::safety#TRB-O4), pairing with [TRB-O1](crate::safety#TRB-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    ///
    /// let stack = TreiberStack::new();
    /// stack.push_all(["a", "b"]);
    /// let batch: Vec<_> = stack.take_all().collect();
    /// assert_eq!(batch, ["b", "a"]);
    /// assert!(stack.is_empty());
    /// ```
    pub fn take_all(&self) -> TakeAll<T> {
        let guard = epoch::pin();
        // SAFE-CODE: [TRB-S1] the swap alone detaches the chain: nothing the
        // stack relies on waits for the iterator's `Drop`, so leaking the
        // iterator leaks its values and nodes and nothing else.
        // ORDERING: [TRB-O4] Acquire — pairs with [TRB-O1]: every detached
        // node's value and `next` are visible to the iterator.
        let first = self.head.swap(Shared::null(), site::rmw(Acquire), &guard);
        let first = first.as_raw().cast_mut();
        TakeAll { first, cursor: first, _owns: PhantomData }
    }
}

impl<T> Extend<T> for TreiberStack<T> {
    /// [`push_all`](TreiberStack::push_all).
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        self.push_all(values);
    }
}

impl<T> FromIterator<T> for TreiberStack<T> {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Self {
        let stack = Self::new();
        stack.push_all(values);
        stack
    }
}

/// Yields every value, top first (the order of `pop`): see [`IntoIter`].
impl<T> IntoIterator for TreiberStack<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        // SAFE-CODE: [TRB-S1] the iterator is a `TakeAll` of the whole list: leaking it
        // leaks the values not yet returned and their nodes, nothing else.
        IntoIter { chain: self.take_all() }
    }
}

impl<T> Drop for TreiberStack<T> {
    fn drop(&mut self) {
        // SAFETY: [TRB-I4] `&mut self`: no operation is running, and no thread
        // holds a pointer into the remaining nodes.
        let guard = unsafe { epoch::unprotected() };
        // ORDERING: [TRB-O6] Relaxed — exclusive access; earlier operations happen-before `drop`.
        let top = self.head.load(site::load(Relaxed), guard);
        // No push is in progress, so no offer is left in an exchange slot ([TRB-I6]).
        #[cfg(debug_assertions)]
        for slot in &self.slots {
            // ORDERING: [TRB-O6] Relaxed — exclusive access, as above.
            debug_assert!(
                slot.load(site::load(Relaxed), guard).is_null(),
                "an offer outlived its push"
            );
        }
        // Every node still linked is owned by the stack alone ([TRB-I4]):
        // free it now, with its value, exactly once.
        // SAFE-CODE: [TRB-S3] `free_chain` keeps dropping if one value's `Drop` panics.
        free_chain(top.as_raw().cast_mut());
    }
}

/// A privately built chain (`push_all`): freed with its values if dropped
/// before it is published, e.g. when the caller's iterator panics.
struct Chain<T> {
    top: *mut Node<T>,
    bottom: *mut Node<T>,
}

impl<T> Drop for Chain<T> {
    fn drop(&mut self) {
        free_chain(self.top);
    }
}

/// Releases every node from `node` down to this thread's node cache (or the
/// allocator), touching no value: run by the collector once no thread can
/// reach the chain.
fn release_chain<T>(mut node: *mut Node<T>) {
    // SAFETY: [TRB-I4] only called on chains no other thread can reach.
    let guard = unsafe { epoch::unprotected() };
    while !node.is_null() {
        // SAFETY: [TRB-I4] the chain is the caller's alone.
        let link = unsafe { &(*node).next };
        // ORDERING: [TRB-O6] Relaxed — the chain is no longer reachable by other threads.
        let next = link.load(site::load(Relaxed), guard).as_raw().cast_mut();
        // SAFETY: [RCY-I1] the grace period has passed; each node is released once,
        // and its value was moved out ([TRB-I5]), so this drops nothing.
        unsafe { recycle::release(node) };
        node = next;
    }
}

/// Frees every node from `node` down and drops their values.
///
/// A value's `Drop` may panic: the node is freed before the value is
/// dropped, and the rest of the chain is then freed (and its values dropped)
/// while the panic unwinds, as `Vec` does; a second panic during that
/// unwinding aborts the process, as anywhere in Rust.
fn free_chain<T>(mut node: *mut Node<T>) {
    // SAFETY: [TRB-I4] only called on chains no other thread can reach.
    let guard = unsafe { epoch::unprotected() };
    while !node.is_null() {
        // SAFETY: [TRB-I4] the chain is owned by the caller alone; each node is freed once.
        let owned = unsafe { Shared::from(node.cast_const()).into_owned() };
        // ORDERING: [TRB-O6] Relaxed — the chain is no longer reachable by other threads.
        node = owned.next.load(site::load(Relaxed), guard).as_raw().cast_mut();
        // SAFETY: [TRB-I2] the chain's values belong to its owner, and each
        // node's value is taken here once, just before the node is freed.
        let value = unsafe { owned.take_value() };
        drop(owned);
        // SAFE-CODE: [TRB-S3] if this value's `Drop` panics, `rest` frees the remaining nodes and drops their values.
        let rest = FreeOnUnwind { node };
        drop(value);
        core::mem::forget(rest);
    }
}

/// The rest of a chain being freed with its values, freed by `Drop` only if
/// a value's `Drop` panics (otherwise it is forgotten).
struct FreeOnUnwind<T> {
    node: *mut Node<T>,
}

impl<T> Drop for FreeOnUnwind<T> {
    fn drop(&mut self) {
        free_chain(self.node);
    }
}

/// The nodes detached by [`TreiberStack::take_all`], top first.
///
/// # Examples
///
/// ```
/// use acqrel::TreiberStack;
///
/// let stack = TreiberStack::new();
/// stack.push_all([1, 2, 3]);
/// let mut batch = stack.take_all();
/// stack.push(4); // goes to the stack, not to the batch
/// assert_eq!(batch.next(), Some(3));
/// drop(batch); // drops 2 and 1
/// assert_eq!(stack.pop(), Some(4));
/// assert!(stack.is_empty());
/// ```
///
/// Each call to `next` moves one value out. Dropping the iterator drops the
/// values not yet taken and hands the detached nodes to the collector in one
/// batch (a concurrent `pop` that loaded the old head may still read a node's
/// link until it unpins). If a value's `Drop` panics, the other values are
/// still dropped and the nodes still retired before the panic continues.
///
/// The iterator owns the detached values and does not borrow the stack: it
/// may outlive it, and be sent to and dropped on another thread.
///
/// Leaking it (`mem::forget`) leaks the values not yet taken and the
/// detached nodes, nothing else: the stack no longer links them, so they are
/// never popped, taken or dropped by anyone, and the stack stays usable.
// SAFE-CODE: [TRB-S7] no lifetime: the iterator owns its chain outright, so
// it may outlive the stack and be dropped on any thread.
pub struct TakeAll<T> {
    /// The detached chain's top node, for the batch retirement.
    first: *mut Node<T>,
    /// The next node whose value has not been taken.
    cursor: *mut Node<T>,
    _owns: PhantomData<T>,
}

// SAFETY: [TRB-I3] the iterator owns the detached values; sending it sends them.
unsafe impl<T: Send> Send for TakeAll<T> {}
// SAFETY: [TRB-I3] `&TakeAll` gives access to nothing (every method takes `&mut self`).
unsafe impl<T: Send> Sync for TakeAll<T> {}
// Unwind safety: the iterator owns its values, as a `vec::IntoIter` does.
impl<T: core::panic::UnwindSafe> core::panic::UnwindSafe for TakeAll<T> {}
impl<T: core::panic::RefUnwindSafe> core::panic::RefUnwindSafe for TakeAll<T> {}

impl<T> fmt::Debug for TakeAll<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TakeAll").finish_non_exhaustive()
    }
}

impl<T> Iterator for TakeAll<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.cursor.is_null() {
            return None;
        }
        // SAFETY: [TRB-I5] the detached nodes stay allocated until this
        // iterator retires them, and their values belong to it alone;
        // [TRB-O4] made them visible.
        unsafe {
            let node = &*self.cursor;
            // ORDERING: [TRB-O6] Relaxed — `next` was fixed before publication and made visible by [TRB-O4].
            self.cursor =
                node.next.load(site::load(Relaxed), epoch::unprotected()).as_raw().cast_mut();
            Some(node.take_value())
        }
    }
}

impl<T> FusedIterator for TakeAll<T> {}

impl<T> TakeAll<T> {
    /// Drops the values not taken yet, then retires the detached nodes.
    fn finish(&mut self) {
        // SAFE-CODE: [TRB-S4] each value is moved out before its `Drop` runs, and the
        // chain is no longer linked to the stack: a `Drop` that pushes, pops or takes
        // from the same stack meets only the stack's own nodes.
        while let Some(value) = self.next() {
            // SAFE-CODE: [TRB-S3] if this value's `Drop` panics, `rest` drops the others and retires the chain.
            let rest = FinishOnUnwind(self);
            drop(value);
            core::mem::forget(rest);
        }
        self.retire();
    }

    /// Hands the detached nodes (values already gone) to the collector.
    fn retire(&mut self) {
        let first = core::mem::replace(&mut self.first, ptr::null_mut());
        if first.is_null() {
            return;
        }
        let retired = Retired(first);
        let guard = epoch::pin();
        // SAFETY: [TRB-I5] the chain was detached by `take_all`, so no thread
        // pinned from now on can reach it; the nodes are released after every
        // thread pinned before has unpinned ([RCY-I1]), and their values are gone.
        unsafe {
            guard.defer_unchecked(move || release_chain(retired.into_inner()));
        }
    }
}

impl<T> Drop for TakeAll<T> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// An owning iterator over a [`TreiberStack`]'s values, top first (the order
/// of `pop`), made by `into_iter`.
///
/// The stack's list is detached with one swap when the iterator is made,
/// exactly as [`take_all`](TreiberStack::take_all) does, and the iterator
/// owns it. Dropping the iterator drops the values not yet returned, each
/// once, even if one of their `Drop`s panics. Leaking it (`mem::forget`)
/// leaks those values and nothing else.
///
/// It is `Send` and `Sync` exactly when `T: Send`, like the stack: it moves
/// values to the thread that iterates or drops it, and `&IntoIter` gives
/// access to nothing.
///
/// # Examples
///
/// ```
/// use acqrel::TreiberStack;
///
/// let stack: TreiberStack<_> = ["a", "b", "c"].into_iter().collect();
/// let mut values = stack.into_iter();
/// assert_eq!(values.next(), Some("c"));
/// assert_eq!(values.collect::<Vec<_>>(), ["b", "a"]);
/// ```
///
/// A stack of `Rc` gives an iterator that stays on its thread:
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// send(acqrel::TreiberStack::<std::rc::Rc<u8>>::new().into_iter());
/// ```
// SAFE-CODE: [TRB-S7] no lifetime, like `TakeAll`: it owns its chain.
pub struct IntoIter<T> {
    /// The detached list; `Send` and `Sync` follow from it ([TRB-I3](crate::safety#TRB-I3)).
    chain: TakeAll<T>,
}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter").finish_non_exhaustive()
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.chain.next()
    }
}

impl<T> FusedIterator for IntoIter<T> {}

/// Finishes a [`TakeAll`] whose drop was interrupted by a panicking value.
struct FinishOnUnwind<'a, T>(&'a mut TakeAll<T>);

impl<T> Drop for FinishOnUnwind<'_, T> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// A detached chain waiting for the collector; freeing it touches no value.
struct Retired<T>(*mut Node<T>);

impl<T> Retired<T> {
    fn into_inner(self) -> *mut Node<T> {
        self.0
    }
}

impl<T> Handle<'_, TreiberStack<T>> {
    /// [`TreiberStack::push`] under the handle's guard.
    ///
    /// # Memory ordering
    ///
    /// As [`TreiberStack::push`]: everything this thread did before it
    /// happens-before the pop that returns `value` ([TRB-O1](crate::safety#TRB-O1)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    ///
    /// let stack = TreiberStack::new();
    /// stack.handle().push(5);
    /// assert_eq!(stack.pop(), Some(5));
    /// ```
    #[inline]
    pub fn push(&mut self, value: T) {
        self.container().push_with(value, self.guard());
        self.tick();
    }

    /// [`TreiberStack::pop`] under the handle's guard.
    ///
    /// # Memory ordering
    ///
    /// As [`TreiberStack::pop`]: the push of the value returned happens-before
    /// this returns ([TRB-O2](crate::safety#TRB-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TreiberStack;
    ///
    /// let stack = TreiberStack::new();
    /// stack.push(5);
    /// let mut handle = stack.handle();
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
