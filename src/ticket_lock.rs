//! [`TicketLock`]: a FIFO-fair spin lock that keeps working when threads
//! outnumber cores.
//!
//! # What it is for
//!
//! The same short critical sections as [`SpinLock`](crate::SpinLock), when
//! *bounded waiting* matters more than peak throughput: every thread is
//! served in the order it arrived, so none can be starved by a neighbour that
//! keeps releasing and re-taking the lock. A waiter with `k` threads ahead of
//! it waits for exactly `k` critical sections.
//!
//! Choose [`SpinLock`](crate::SpinLock) for throughput (it lets a running
//! thread re-take the lock, which keeps the data in its cache) and this lock
//! when fairness is a requirement — a latency bound per thread, or threads
//! that would otherwise starve. Everything the spin lock's docs say about
//! when spinning is the wrong tool (long sections, preempted holders,
//! priority inversion) holds here, with one more hazard: fairness means the
//! lock is handed to a specific thread, and if *that* thread is not running,
//! nobody can take the lock until it runs again. The waiting strategy below
//! copes with the lock's own threads outnumbering the cores, but on a machine
//! kept busy by *other* processes the next thread in line is often
//! descheduled, and throughput can fall by orders of magnitude (measured
//! from 122 down to 0.2 million sections per second with four threads on two
//! loaded cores); there, prefer [`SpinLock`](crate::SpinLock) or a parking
//! mutex.
//!
//! # Algorithm
//!
//! Mellor-Crummey and Scott's ticket lock ("Algorithms for scalable
//! synchronization on shared-memory multiprocessors", 1991), with waiting
//! adapted to a machine where threads can outnumber cores:
//!
//! | field | meaning |
//! |---|---|
//! | `next_ticket` | the ticket the next arriving thread draws |
//! | `now_serving` | the ticket whose owner holds the lock (or may take it) |
//!
//! The lock is free when the two are equal. `lock` draws a ticket with a
//! `fetch_add` on `next_ticket` and waits until `now_serving` reaches it;
//! `unlock` advances `now_serving` by one, handing the lock to the next
//! ticket. Both counters wrap; comparisons use wrapping differences, so the
//! lock is correct as long as fewer than 2³² threads wait at once.
//!
//! A plain ticket lock collapses when oversubscribed: if the thread next in
//! line is preempted, every other waiter spins through its whole time slice
//! waiting for a thread that is not running (`spin::TicketMutex` falls to a
//! fraction of a million operations per second with four threads on two
//! cores). Here a waiter looks at its *distance* from the head,
//! `ticket - now_serving`:
//!
//! - distance 1 (next in line): spin with exponential backoff, then yield;
//! - distance > 1: yield the CPU at once on every poll (with `std`; without
//!   it, spin for a time proportional to the distance), so a preempted
//!   waiter ahead gets a core back quickly.
//!
//! # Poisoning
//!
//! None, as with [`SpinLock`](crate::SpinLock): a panic in a critical section
//! releases the lock during unwinding and leaves the data as it was.
//!
//! # Invariants
//!
//! - [TICKET-I1] Tickets are unique, and only the thread whose ticket equals
//!   `now_serving` holds the lock. Only the holder writes `now_serving`, once
//!   per release. Data is accessed only through a guard or `&mut self`.
//!
//! # Memory ordering
//!
//! A waiter's `Acquire` load of `now_serving` ([TICKET-O1]) reads the
//! `Release` store of the previous holder's `unlock` ([TICKET-O2]), so each
//! critical section happens-before the next. Drawing a ticket and the
//! holder's own read of `now_serving` are `Relaxed` ([TICKET-O3],
//! [TICKET-O4]): a read-modify-write hands out unique tickets at any
//! ordering, and the holder is the only writer of the value it reads.

use crate::loom::Backoff;
use crate::loom::UnsafeCell;
use crate::loom::atomic::AtomicU32;
use crate::loom::atomic::Ordering::{Acquire, Relaxed, Release};
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

/// The ticket lock without data.
///
/// Use it through [`TicketLock`], or through
/// `lock_api::Mutex<RawTicketLock, T>` (feature `lock_api`).
///
/// # Examples
///
/// ```
/// use acqrel::RawTicketLock;
///
/// let raw = RawTicketLock::new();
/// raw.lock();
/// assert!(!raw.try_lock());
/// // SAFETY: this thread took the lock just above.
/// unsafe { raw.unlock() };
/// assert!(raw.try_lock());
/// // SAFETY: taken by the successful `try_lock`.
/// unsafe { raw.unlock() };
/// ```
pub struct RawTicketLock {
    /// The ticket the next arriving thread draws.
    next_ticket: AtomicU32,
    /// The ticket whose owner holds the lock; equal to `next_ticket` when free.
    now_serving: AtomicU32,
}

impl RawTicketLock {
    /// Creates an unlocked lock.
    #[cfg(not(loom))]
    #[must_use]
    pub const fn new() -> Self {
        Self { next_ticket: AtomicU32::new(0), now_serving: AtomicU32::new(0) }
    }

    /// Creates an unlocked lock.
    #[cfg(loom)]
    #[must_use]
    pub fn new() -> Self {
        Self { next_ticket: AtomicU32::new(0), now_serving: AtomicU32::new(0) }
    }

    /// Takes the lock after every thread that called `lock` before this call
    /// drew its ticket; a second `lock` from the holder deadlocks.
    ///
    /// # Memory ordering
    ///
    /// `Acquire`: everything the previous holder did before its `unlock`
    /// happens-before this call returns.
    #[inline]
    pub fn lock(&self) {
        // ORDERING: [TICKET-O3] Relaxed — a read-modify-write draws a unique ticket at any ordering; the Acquire below synchronises.
        let ticket = self.next_ticket.fetch_add(1, Relaxed);
        // ORDERING: [TICKET-O1] Acquire — pairs with [TICKET-O2]: the previous holder's critical section happens-before ours.
        if self.now_serving.load(Acquire) != ticket {
            self.wait_for(ticket);
        }
    }

    /// Waits until `now_serving` reaches `ticket`.
    #[cold]
    fn wait_for(&self, ticket: u32) {
        let backoff = Backoff::new();
        loop {
            // ORDERING: [TICKET-O1] Acquire — pairs with [TICKET-O2]: the load that sees our ticket synchronises with the unlock that stored it.
            let serving = self.now_serving.load(Acquire);
            if serving == ticket {
                return;
            }
            let distance = ticket.wrapping_sub(serving);
            if distance > 1 {
                wait_behind(distance);
            } else {
                backoff.snooze();
            }
        }
    }

    /// Takes the lock if it is free right now (no thread holds it or waits
    /// for it). Returns whether it did; never fails spuriously.
    ///
    /// # Memory ordering
    ///
    /// On success, as [`lock`](Self::lock).
    #[inline]
    #[must_use = "if it returns true the lock is held and must be released"]
    pub fn try_lock(&self) -> bool {
        // ORDERING: [TICKET-O1] Acquire — pairs with [TICKET-O2]: if the exchange below succeeds, this read the unlock that freed the lock.
        let serving = self.now_serving.load(Acquire);
        // ORDERING: [TICKET-O3] Relaxed/Relaxed — succeeds only if ticket `serving` was never drawn; the Acquire above synchronised.
        self.next_ticket
            .compare_exchange(serving, serving.wrapping_add(1), Relaxed, Relaxed)
            .is_ok()
    }

    /// Releases the lock to the next ticket.
    ///
    /// # Safety
    ///
    /// The lock must be held, and the caller must be the one that took it
    /// (through [`lock`](Self::lock) or a successful
    /// [`try_lock`](Self::try_lock)), releasing it once.
    ///
    /// # Memory ordering
    ///
    /// `Release`: everything this thread did before the call happens-before
    /// the next holder's acquisition returns.
    #[inline]
    pub unsafe fn unlock(&self) {
        // ORDERING: [TICKET-O4] Relaxed — only the holder writes `now_serving` ([TICKET-I1]); it reads its own ticket.
        let serving = self.now_serving.load(Relaxed);
        // ORDERING: [TICKET-O2] Release — pairs with [TICKET-O1]: our critical section happens-before the next holder's.
        self.now_serving.store(serving.wrapping_add(1), Release);
    }

    /// Whether the lock is held right now (a snapshot that may be stale by
    /// the time it is read; for diagnostics only).
    #[inline]
    #[must_use]
    pub fn is_locked(&self) -> bool {
        self.queue_len() != 0
    }

    /// How many threads hold or wait for the lock: 0 when free, 1 when held
    /// with nobody waiting, `1 + waiters` otherwise (a snapshot, for
    /// diagnostics only).
    #[must_use]
    pub fn queue_len(&self) -> u32 {
        // ORDERING: [TICKET-O4] Relaxed — a snapshot of two counters; nothing is read on its say-so.
        let serving = self.now_serving.load(Relaxed);
        // ORDERING: [TICKET-O4] Relaxed — may be older than `serving`; a negative difference is clamped to 0.
        let next = self.next_ticket.load(Relaxed);
        let len = next.wrapping_sub(serving);
        if len > u32::MAX / 2 { 0 } else { len }
    }
}

/// How a waiter with `distance - 1` threads ahead of it waits between polls:
/// it gives up the CPU, because the thread that must run next is not it.
#[inline]
fn wait_behind(distance: u32) {
    #[cfg(feature = "std")]
    {
        let _ = distance;
        crate::loom::yield_now();
    }
    #[cfg(not(feature = "std"))]
    for _ in 0..distance.min(64) * 64 {
        crate::loom::spin_loop();
    }
}

impl Default for RawTicketLock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RawTicketLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawTicketLock").field("queue_len", &self.queue_len()).finish()
    }
}

// SAFETY: [TICKET-I1] `RawTicketLock` grants exclusion as its inherent methods
// document ([TICKET-O1]/[TICKET-O2]); `unlock`'s contract is lock_api's.
#[cfg(all(feature = "lock_api", not(loom)))]
unsafe impl lock_api::RawMutex for RawTicketLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = Self::new();
    type GuardMarker = lock_api::GuardNoSend;

    #[inline]
    fn lock(&self) {
        RawTicketLock::lock(self);
    }

    #[inline]
    fn try_lock(&self) -> bool {
        RawTicketLock::try_lock(self)
    }

    #[inline]
    unsafe fn unlock(&self) {
        // SAFETY: [TICKET-I1] lock_api's contract for `unlock` is ours: held, by the caller.
        unsafe { RawTicketLock::unlock(self) }
    }

    #[inline]
    fn is_locked(&self) -> bool {
        RawTicketLock::is_locked(self)
    }
}

/// A FIFO-fair mutual-exclusion lock that waits by spinning and yielding.
///
/// Threads take the lock in the order they called [`lock`](Self::lock). The
/// [module docs](self) compare it with [`SpinLock`](crate::SpinLock). No
/// poisoning.
///
/// `Sync` exactly when `T: Send`, like [`SpinLock`](crate::SpinLock):
///
/// ```compile_fail,E0277
/// use acqrel::TicketLock;
/// use std::rc::Rc;
///
/// fn assert_sync<T: Sync>() {}
/// assert_sync::<TicketLock<Rc<u32>>>();
/// ```
///
/// # Examples
///
/// ```
/// use acqrel::TicketLock;
/// use std::thread;
///
/// let log = TicketLock::new(Vec::new());
/// thread::scope(|s| {
///     for t in 0..4 {
///         let log = &log;
///         s.spawn(move || {
///             for i in 0..100 {
///                 log.lock().push((t, i));
///             }
///         });
///     }
/// });
/// assert_eq!(log.into_inner().len(), 400);
/// ```
pub struct TicketLock<T: ?Sized> {
    raw: RawTicketLock,
    data: UnsafeCell<T>,
}

// SAFETY: [TICKET-I1] the lock hands `&mut T` to one thread at a time: `T: Send`
// is needed and enough, as for `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Sync for TicketLock<T> {}

impl<T> TicketLock<T> {
    /// Creates an unlocked lock holding `value`.
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Self { raw: RawTicketLock::new(), data: UnsafeCell::new(value) }
    }

    /// Creates an unlocked lock holding `value`.
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Self { raw: RawTicketLock::new(), data: UnsafeCell::new(value) }
    }

    /// Consumes the lock and returns the value.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> TicketLock<T> {
    /// Takes the lock in arrival order and returns a guard that releases it
    /// when dropped (also during unwinding).
    ///
    /// # Memory ordering
    ///
    /// Everything a previous holder did while it held the lock
    /// happens-before this call returns.
    #[inline]
    pub fn lock(&self) -> TicketLockGuard<'_, T> {
        self.raw.lock();
        TicketLockGuard { lock: self, _not_send: PhantomData }
    }

    /// Takes the lock if nobody holds it or waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TicketLock;
    ///
    /// let lock = TicketLock::new(0);
    /// let guard = lock.lock();
    /// assert!(lock.try_lock().is_none());
    /// drop(guard);
    /// assert!(lock.try_lock().is_some());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<TicketLockGuard<'_, T>> {
        if self.raw.try_lock() {
            Some(TicketLockGuard { lock: self, _not_send: PhantomData })
        } else {
            None
        }
    }

    /// Whether the lock is held right now (a snapshot; for diagnostics only).
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// How many threads hold or wait for the lock (a snapshot; see
    /// [`RawTicketLock::queue_len`]).
    #[inline]
    pub fn queue_len(&self) -> u32 {
        self.raw.queue_len()
    }

    /// Mutable access without locking: `&mut self` proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: [TICKET-I1] `&mut self` excludes every guard and every other access.
        self.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: Default> Default for TicketLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for TicketLock<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

/// Never blocks (and never joins the queue): when the lock is held or
/// waited for, prints `<locked>` instead of the data.
impl<T: ?Sized + fmt::Debug> fmt::Debug for TicketLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TicketLock");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

/// Access to the data of a locked [`TicketLock`]; releases the lock to the
/// next ticket when dropped.
///
/// Not `Send`; `Sync` only when `T: Sync`.
///
/// ```compile_fail,E0277
/// use acqrel::TicketLock;
///
/// fn assert_send<T: Send>(_: &T) {}
/// let lock = TicketLock::new(0);
/// let guard = lock.lock();
/// assert_send(&guard);
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct TicketLockGuard<'a, T: ?Sized> {
    lock: &'a TicketLock<T>,
    /// Makes the guard `!Send` (and `!Sync`, restored below for `T: Sync`).
    _not_send: PhantomData<*const ()>,
}

// SAFETY: [TICKET-I1] `&guard` gives only `&T`: shareable exactly when `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for TicketLockGuard<'_, T> {}

impl<T: ?Sized> Deref for TicketLockGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: [TICKET-I1] the guard holds the lock; [TICKET-O1] orders earlier holders' writes before this read.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized> DerefMut for TicketLockGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: [TICKET-I1] the guard holds the lock and `&mut self` excludes other
        // borrows through it; [TICKET-O1] orders earlier holders' accesses before ours.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: ?Sized> Drop for TicketLockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: [TICKET-I1] the guard was created by a successful acquisition and
        // is dropped once: we hold the lock and release it once.
        unsafe { self.lock.raw.unlock() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for TicketLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for TicketLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Wrap-around of the ticket counters, which a public test could reach only
/// after 2³² acquisitions: these start the counters just below `u32::MAX`.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn starting_at(ticket: u32) -> RawTicketLock {
        RawTicketLock { next_ticket: AtomicU32::new(ticket), now_serving: AtomicU32::new(ticket) }
    }

    #[test]
    fn tickets_wrap_around_u32_max() {
        let raw = starting_at(u32::MAX - 2);
        for _ in 0..5 {
            assert_eq!(raw.queue_len(), 0);
            raw.lock();
            assert_eq!(raw.queue_len(), 1);
            assert!(!raw.try_lock());
            // SAFETY: [TICKET-I1] taken just above by this thread.
            unsafe { raw.unlock() };
            assert!(raw.try_lock());
            // SAFETY: [TICKET-I1] taken by the successful `try_lock`.
            unsafe { raw.unlock() };
        }
        let mut raw = raw;
        let serving = raw.now_serving.with_mut(|serving| *serving);
        assert_eq!(serving, 7, "ten acquisitions from u32::MAX - 2");
    }

    #[test]
    fn waiters_queue_across_the_wrap() {
        let lock = TicketLock { raw: starting_at(u32::MAX - 1), data: UnsafeCell::new(0u64) };
        let per_thread = if cfg!(miri) { 50 } else { 20_000 };
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..per_thread {
                        *lock.lock() += 1;
                    }
                });
            }
        });
        assert_eq!(lock.into_inner(), 3 * per_thread);
    }
}
