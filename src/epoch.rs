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
//! is not freed until the guard is dropped ([TRB-I1], [MSQ-I1]). The
//! happens-before edge from a `push` to the `pop` that returns its value is
//! the container's own ([TRB-O1] with [TRB-O2]; [MSQ-O1] with [MSQ-O2]), and
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
