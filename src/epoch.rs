//! The epoch-based reclamation behind [`TreiberStack`](crate::TreiberStack)
//! and [`MsQueue`](crate::MsQueue) (`std` only).
//!
//! Both containers free a node only once every thread that could still be
//! reading it has unpinned ([crossbeam-epoch]'s default collector). Their
//! plain methods pin for each call; `push_with` and `pop_with` take a
//! [`Guard`] you pinned yourself, so a loop of operations pins once. The
//! items here are crossbeam-epoch's own, re-exported: a guard from
//! [`pin`] is exactly what those methods accept, with no crossbeam-epoch
//! dependency (or version to match) in your `Cargo.toml`.
//!
//! # Memory ordering
//!
//! A guard from [`pin`] orders none of your memory. What it gives is
//! reclamation safety: a node that a container loaded while the guard lives
//! is not freed until the guard is dropped ([TRB-I1](crate::safety#TRB-I1), [MSQ-I1](crate::safety#MSQ-I1)). The
//! happens-before edge from a `push` to the `pop` that returns its value is
//! the container's own ([TRB-O1](crate::safety#TRB-O1) with [TRB-O2](crate::safety#TRB-O2); [MSQ-O1](crate::safety#MSQ-O1) with [MSQ-O2](crate::safety#MSQ-O2)), and
//! `push_with`/`pop_with` give exactly the edges of `push`/`pop`, whether
//! the guard is fresh or has been held across many calls. [`is_pinned`]
//! only reports whether this thread holds a guard.
//!
//! # Examples
//!
//! ```
//! use acqrel::{epoch, TreiberStack};
//!
//! let stack = TreiberStack::new();
//! let guard = epoch::pin();
//! for i in 0..100 {
//!     stack.push_with(i, &guard);
//! }
//! assert_eq!(stack.pop_with(&guard), Some(99));
//! assert!(epoch::is_pinned());
//! drop(guard);
//! assert!(!epoch::is_pinned());
//! ```
//!
//! [crossbeam-epoch]: https://docs.rs/crossbeam-epoch

pub use crossbeam_epoch::{Guard, is_pinned, pin};

/// Panics unless `guard` pins the default collector, the one every other
/// operation on the container pins; `container` names it in the message.
#[inline]
#[track_caller]
pub(crate) fn check_guard(guard: &Guard, container: &str) {
    // SAFE-CODE: [TRB-S5] [MSQ-S3] a guard of another collector (or `unprotected()`)
    // would not hold back the default collector's frees: refuse it before any load.
    assert!(
        guard.collector() == Some(crossbeam_epoch::default_collector()),
        "the guard must come from acqrel::epoch::pin() (crossbeam_epoch::pin(), the default \
         collector); a guard of another collector, or `unprotected()`, does not protect the \
         {container}'s nodes"
    );
}

/// A pinned handle on one container for a hot loop: its `push` and `pop`
/// reuse one [`Guard`] instead of pinning for every call, and repin (and
/// hand this thread's retired nodes to the collector) every
/// [`REPIN_EVERY`](Handle::REPIN_EVERY) operations, so memory is still
/// reclaimed while the loop runs.
///
/// Made by [`TreiberStack::handle`](crate::TreiberStack::handle) and
/// [`MsQueue::handle`](crate::MsQueue::handle). It is neither `Send` nor
/// `Sync` (a pin belongs to its thread). While it lives, this thread stays
/// pinned between repins, which holds back the freeing of every node any
/// thread retires: drop the handle when the loop goes idle, not at the end
/// of the program. A plain method (`push`, `pop`) on the same container
/// from the same thread while a handle lives is fine; it nests in the pin.
///
/// # Memory ordering
///
/// Exactly the container's own: a handle's `push` happens-before the `pop`
/// (through any handle or method) that returns its value, as for the plain
/// methods ([TRB-O1](crate::safety#TRB-O1) with [TRB-O2](crate::safety#TRB-O2); [MSQ-O1](crate::safety#MSQ-O1) with [MSQ-O2](crate::safety#MSQ-O2)). Holding the
/// guard longer only delays frees ([TRB-I1](crate::safety#TRB-I1), [MSQ-I1](crate::safety#MSQ-I1)).
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
///     assert_eq!(handle.pop(), Some(i));
/// }
/// assert_eq!(handle.pop(), None);
/// ```
///
/// A handle stays on its thread:
///
/// ```compile_fail
/// let stack = acqrel::TreiberStack::<u32>::new();
/// let handle = stack.handle();
/// std::thread::scope(|s| {
///     s.spawn(move || drop(handle));
/// });
/// ```
pub struct Handle<'a, C> {
    container: &'a C,
    guard: Guard,
    ops: u32,
}

impl<'a, C> Handle<'a, C> {
    /// Operations between two repins of a handle's guard. Measured on an
    /// x86-64 VM, one thread, a push and a pop per step: 24–26 ns per pair
    /// with a pin for every call, 21–22 ns through a handle (repin and flush
    /// included). Fewer would pay more often for the repin's fence and the
    /// flush; many more would let this thread's retired nodes wait longer
    /// for a collection.
    pub const REPIN_EVERY: u32 = 128;

    pub(crate) fn new(container: &'a C) -> Self {
        // SAFE-CODE: [TRB-S8] [MSQ-S8] a leaked handle leaves this pin in place for good: later retired nodes are never freed (they hold no value), nothing else changes.
        Self { container, guard: pin(), ops: 0 }
    }

    /// The container this handle works on.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::MsQueue;
    ///
    /// let queue: MsQueue<u32> = MsQueue::new();
    /// let handle = queue.handle();
    /// assert!(std::ptr::eq(handle.container(), &queue));
    /// ```
    pub fn container(&self) -> &'a C {
        self.container
    }

    /// The guard the handle holds.
    pub(crate) fn guard(&self) -> &Guard {
        &self.guard
    }

    /// Counts one operation; every `REPIN_EVERY`, lets the epoch move on
    /// (`repin`) and pushes this thread's bag of retired nodes to the
    /// collector, which frees what no pin can still reach (`flush`).
    #[inline]
    pub(crate) fn tick(&mut self) {
        self.ops += 1;
        if self.ops == Self::REPIN_EVERY {
            self.ops = 0;
            self.guard.repin();
            self.guard.flush();
        }
    }
}

impl<C> core::fmt::Debug for Handle<'_, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Handle").field("ops_since_repin", &self.ops).finish_non_exhaustive()
    }
}
