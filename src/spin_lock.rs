//! [`SpinLock`]: a test-and-test-and-set spin lock with backoff that yields.
//!
//! # What it is for
//!
//! Very short critical sections — a few loads and stores, tens of
//! nanoseconds — that are taken often and rarely contended: a small shared
//! histogram, a free list, a pair of fields that must change together. There
//! a spin lock costs one uncontended compare-exchange to take and one plain
//! store to release, with no system call on either path.
//!
//! # When it is the wrong tool
//!
//! A spin lock is a bet that the holder is running and will finish soon.
//! The operating system does not know the lock exists, so the bet loses when:
//!
//! - **the critical section is long** (I/O, allocation-heavy work, anything
//!   that may block): waiters burn CPU the holder could have used. Use
//!   `std::sync::Mutex` or `parking_lot::Mutex`, which park waiters.
//! - **the holder is preempted.** Waiters cannot hand their time slice to
//!   it. This lock limits the damage — with `std` a waiter calls
//!   `yield_now` whenever it finds the lock held — but every waiter still
//!   wakes up and checks, so with many more threads than cores a parking
//!   mutex wins.
//! - **priorities differ** (real-time threads, interrupt handlers): a
//!   high-priority waiter spinning on a core where a low-priority holder is
//!   preempted can wait forever (priority inversion). Never take a spin lock
//!   that an interrupt handler on the same core can also take.
//!
//! This is the argument of "spinlocks considered harmful" (Linus Torvalds on
//! user-space spin locks, and Malte Skarupke's measurements of them): in
//! user space, prefer a parking mutex unless you have measured that the
//! sections are short and the threads no more numerous than the cores. This
//! type is for the cases where you have.
//!
//! Waiting here is unfair: a thread that releases the lock and takes it again
//! at once usually beats the waiters (they are yielding). When every
//! waiter must get its turn in arrival order, use
//! [`TicketLock`](crate::TicketLock).
//!
//! # Algorithm
//!
//! Test-and-test-and-set (Rudolph and Segall, 1984; Anderson, "The performance
//! of spin lock alternatives for shared-memory multiprocessors", 1990) on one
//! `AtomicBool`, `true` while held:
//!
//! 1. `lock` first tries a compare-exchange `false → true`. Uncontended,
//!    that is all it does.
//! 2. Otherwise it waits with plain loads until the flag reads `false` — the
//!    cache line stays shared among the waiters instead of bouncing between
//!    their exclusive requests — and only then retries the exchange.
//! 3. With `std`, every poll that finds the lock held is followed by
//!    `yield_now` (the policy of `spin::Mutex<_, Yield>`): a running holder
//!    keeps the cache line and re-takes the lock for consecutive sections
//!    while the waiter is in the scheduler, and a preempted holder gets a
//!    core back at once. Spinning before the first yield was measured to be
//!    no faster with two threads and up to twice as slow with four threads
//!    on two cores. Without `std` there is no scheduler to yield to: the
//!    waiter backs off exponentially with spin hints
//!    (`crossbeam_utils::Backoff`, 1, 2, 4 … 64 per poll).
//! 4. `unlock` stores `false`.
//!
//! The algorithm lives in [`RawSpinLock`], which holds no data; [`SpinLock`]
//! adds the protected value and an RAII guard. With the `lock_api` feature
//! `RawSpinLock` implements `lock_api::RawMutex` and, with `std` as well,
//! `lock_api::RawMutexTimed` (`try_lock_for`/`try_lock_until`: the loop of
//! `lock` with a deadline, yielding between polls). It does not implement
//! `RawMutexFair`: it keeps no queue, so there is no fair unlock to give.
//! `acqrel::lock_api::SpinMutex<T>` names lock_api's mutex over it.
//!
//! # Poisoning, panics and leaked guards
//!
//! There is no poisoning, as in `spin` and `parking_lot`. A panic while the
//! guard is alive unlocks the lock as the guard is dropped during unwinding.
//! The data is then in whatever state the panicking section left it —
//! possibly half-updated (one field changed, the next not) — and the next
//! holder gets it in that state with no sign that a panic happened. Code
//! that must not observe a half-done update has to restore it itself (for
//! example by catching the panic, or by updating a copy and writing it back
//! last).
//!
//! Leaking a guard (`mem::forget`) leaves the lock held for good, as with
//! `std::sync::MutexGuard`: [`lock`](SpinLock::lock) then waits forever and
//! [`try_lock`](SpinLock::try_lock) fails, but nothing unsound follows —
//! [`get_mut`](SpinLock::get_mut) and [`into_inner`](SpinLock::into_inner)
//! still reach the data, since they need the lock exclusively and a leaked
//! guard no longer borrows it. Through `lock_api`, `Mutex::force_unlock`
//! releases a leaked guard's lock.
//!
//! # Invariants
//!
//! - [SPIN-I1](crate::safety#SPIN-I1) The data is accessed only through a guard, or through
//!   `&mut self`. A guard exists only between a successful acquisition of the
//!   flag and the matching release, so at most one guard exists at a time.
//!
//! # Memory ordering
//!
//! Acquiring the lock is an `Acquire` compare-exchange ([SPIN-O1](crate::safety#SPIN-O1)); releasing
//! it a `Release` store ([SPIN-O2](crate::safety#SPIN-O2)). The compare-exchange reads the store that
//! released the lock, so everything the previous holder did inside its
//! critical section happens-before everything the next holder does in its
//! own. The polling load and the failure side of the exchange are `Relaxed`
//! ([SPIN-O3](crate::safety#SPIN-O3)): they only decide whether to try again, and no data is read on
//! their say-so. SAFETY.md shows each edge and what breaks without it.

use crate::loom::Backoff;
use crate::loom::UnsafeCell;
use crate::loom::atomic::AtomicBool;
use crate::loom::atomic::Ordering::{Acquire, Relaxed, Release};
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

/// The lock without data: a flag, the acquisition and release algorithm,
/// and nothing else.
///
/// Use it to guard something that is not a single Rust value, or through
/// lock_api's `Mutex` (feature `lock_api`: `acqrel::lock_api::SpinMutex<T>`;
/// the [module docs](self) list the lock_api traits). [`SpinLock`] is built
/// on it.
///
/// # Memory ordering
///
/// A successful [`lock`](RawSpinLock::lock) or
/// [`try_lock`](RawSpinLock::try_lock) acquires ([SPIN-O1](crate::safety#SPIN-O1)) and
/// [`unlock`](RawSpinLock::unlock) releases ([SPIN-O2](crate::safety#SPIN-O2)): everything a holder
/// did before its `unlock` happens-before the next holder's acquisition
/// returns. [`is_locked`](RawSpinLock::is_locked) synchronises with nothing
/// ([SPIN-O3](crate::safety#SPIN-O3)).
///
/// # Examples
///
/// ```
/// use acqrel::RawSpinLock;
///
/// let raw = RawSpinLock::new();
/// raw.lock();
/// assert!(raw.is_locked());
/// assert!(!raw.try_lock());
/// // SAFETY: this thread took the lock just above.
/// unsafe { raw.unlock() };
/// assert!(!raw.is_locked());
/// ```
pub struct RawSpinLock {
    /// `true` while the lock is held.
    locked: AtomicBool,
}

impl RawSpinLock {
    /// Creates an unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::RawSpinLock;
    ///
    /// static LOCK: RawSpinLock = RawSpinLock::new();
    /// assert!(!LOCK.is_locked());
    /// ```
    #[cfg(not(loom))]
    #[must_use]
    pub const fn new() -> Self {
        Self { locked: AtomicBool::new(false) }
    }

    /// Creates an unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawSpinLock::new();
    /// assert!(!lock.is_locked());
    /// ```
    #[cfg(loom)]
    #[must_use]
    pub fn new() -> Self {
        Self { locked: AtomicBool::new(false) }
    }

    /// Takes the lock, waiting (spinning, then yielding) while another thread
    /// holds it.
    ///
    /// Never returns while the lock is held by this same thread: a second
    /// `lock` from the holder deadlocks.
    ///
    /// # Memory ordering
    ///
    /// `Acquire` ([SPIN-O1](crate::safety#SPIN-O1), paired with [SPIN-O2](crate::safety#SPIN-O2)): everything the previous
    /// holder did before its `unlock` happens-before this call returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawSpinLock::new();
    /// lock.lock();
    /// assert!(lock.is_locked());
    /// assert!(!lock.try_lock()); // held, even by this thread
    /// ```
    #[inline]
    pub fn lock(&self) {
        if !self.try_acquire() {
            self.lock_contended();
        }
    }

    /// One attempt to take the lock with a weak exchange (it may fail
    /// spuriously, which only costs the loop in `lock` another round).
    #[inline]
    fn try_acquire(&self) -> bool {
        // ORDERING: [SPIN-O1] Acquire on success — pairs with [SPIN-O2]: the previous holder's critical section happens-before ours.
        // [SPIN-O3] Relaxed on failure — the lock is not ours and no data is read.
        self.locked.compare_exchange_weak(false, true, Acquire, Relaxed).is_ok()
    }

    /// The waiting half of [`lock`](Self::lock): poll with loads until the
    /// lock looks free, then race for it again.
    #[cold]
    fn lock_contended(&self) {
        let backoff = Backoff::new();
        loop {
            // ORDERING: [SPIN-O3] Relaxed — only a hint that an exchange may succeed; nothing is read on its say-so.
            while self.locked.load(Relaxed) {
                relax(&backoff);
            }
            if self.try_acquire() {
                return;
            }
            relax(&backoff);
        }
    }

    /// Takes the lock if it is free, without waiting. Returns whether it did.
    ///
    /// Fails only when the lock is held — by another thread, or by this one
    /// (a strong exchange: no spurious failure, so [`SpinLock`]'s `Debug`
    /// never reports a free lock as locked).
    ///
    /// # Memory ordering
    ///
    /// On success, as [`lock`](Self::lock) ([SPIN-O1](crate::safety#SPIN-O1)). On failure, nothing
    /// is synchronised ([SPIN-O3](crate::safety#SPIN-O3)).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawSpinLock::new();
    /// assert!(lock.try_lock());
    /// assert!(!lock.try_lock()); // already held
    /// ```
    #[inline]
    #[must_use = "if it returns true the lock is held and must be released"]
    pub fn try_lock(&self) -> bool {
        // ORDERING: [SPIN-O1] Acquire on success — pairs with [SPIN-O2]: the previous holder's critical section happens-before ours.
        // [SPIN-O3] Relaxed on failure — the lock is not ours and no data is read.
        self.locked.compare_exchange(false, true, Acquire, Relaxed).is_ok()
    }

    /// Releases the lock.
    ///
    /// # Safety
    ///
    /// The lock must be held, and the caller must be the one that took it
    /// (through [`lock`](Self::lock) or a successful
    /// [`try_lock`](Self::try_lock)), releasing it once.
    ///
    /// # Memory ordering
    ///
    /// `Release` ([SPIN-O2](crate::safety#SPIN-O2), paired with [SPIN-O1](crate::safety#SPIN-O1)): everything this thread
    /// did before the call happens-before the next acquisition returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawSpinLock::new();
    /// lock.lock();
    /// // SAFETY: this thread took the lock just above and releases it once.
    /// unsafe { lock.unlock() };
    /// assert!(!lock.is_locked());
    /// ```
    #[inline]
    pub unsafe fn unlock(&self) {
        // ORDERING: [SPIN-O2] Release — pairs with [SPIN-O1]: our critical section happens-before the next holder's.
        self.locked.store(false, Release);
    }

    /// Whether the lock was held when the flag was read.
    ///
    /// A snapshot: another thread may take or release the lock before this
    /// returns, so the answer may already be stale. Use it for diagnostics
    /// and heuristics, never to decide that data is safe to read (it
    /// synchronises with nothing).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([SPIN-O3](crate::safety#SPIN-O3)): `false` does not make the last holder's writes
    /// visible; only taking the lock does.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawSpinLock::new();
    /// assert!(!lock.is_locked());
    /// lock.lock();
    /// assert!(lock.is_locked());
    /// ```
    #[inline]
    #[must_use]
    pub fn is_locked(&self) -> bool {
        // ORDERING: [SPIN-O3] Relaxed — a snapshot; no data is read on its say-so.
        self.locked.load(Relaxed)
    }
}

/// How a waiter waits between polls of a held lock.
///
/// With `std`: `yield_now` on every failed poll. A holder that releases
/// and re-takes the lock keeps the cache line and runs section after section
/// while the waiter is in the scheduler (throughput, at the cost of fairness),
/// a preempted holder gets a core back at once, and spinning waiters never
/// steal the line from a running holder. Measured against spinning first
/// (exponential backoff of 1 to 8 or 1 to 64 spin hints before the first
/// yield): equal or slower with two threads, and up to twice as slow with
/// four threads on two cores. Without `std` there is no scheduler: the
/// waiter backs off exponentially with spin hints (`Backoff::snooze`).
#[inline]
fn relax(backoff: &Backoff) {
    // SAFE-CODE: [SPIN-S4] no per-thread state anywhere: waiting only yields or spins,
    // which works from a thread-local destructor as anywhere else.
    #[cfg(feature = "std")]
    {
        let _ = backoff;
        crate::loom::yield_now();
    }
    #[cfg(not(feature = "std"))]
    backoff.snooze();
}

impl Default for RawSpinLock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RawSpinLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSpinLock").field("locked", &self.is_locked()).finish()
    }
}

// `INIT` is an unlocked lock (each use of the constant is a fresh one).
// Guards are not `Send`, like ours (releasing from another thread would be
// sound for this flag, but `GuardNoSend` keeps the two APIs alike).
// `is_locked` is the inherent snapshot; lock_api only reports it.
// SAFETY: [SPIN-I1] lock_api's contract is exclusion ("a lock can't be
// acquired while the mutex is already locked"), which `RawSpinLock` grants as
// its inherent methods document: `lock`/`try_lock` take the flag with an
// Acquire exchange ([SPIN-O1]), `unlock` releases it with a Release store
// ([SPIN-O2]), and `unlock`'s contract is lock_api's.
#[cfg(all(feature = "lock_api", not(loom)))]
unsafe impl lock_api::RawMutex for RawSpinLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = Self::new();
    type GuardMarker = lock_api::GuardNoSend;

    #[inline]
    fn lock(&self) {
        RawSpinLock::lock(self);
    }

    #[inline]
    fn try_lock(&self) -> bool {
        RawSpinLock::try_lock(self)
    }

    #[inline]
    unsafe fn unlock(&self) {
        // SAFETY: [SPIN-I1] lock_api's contract for `unlock` is ours: held, by the caller.
        unsafe { RawSpinLock::unlock(self) }
    }

    #[inline]
    fn is_locked(&self) -> bool {
        RawSpinLock::is_locked(self)
    }
}

// Waiting with a deadline is `lock`'s test-and-test-and-set loop with a clock
// check: poll the flag with loads, exchange when it reads free, and between
// polls wait as `lock` does (`relax`: yield), until the deadline. A deadline
// already past still gets one attempt. A timeout too long to represent as an
// `Instant` is no deadline at all, and then this is `lock`.
// No `RawMutexFair`: the lock keeps no queue, so it has no fair unlock to give.
// SAFETY: [SPIN-I1] the lock is taken only by `try_lock` or `lock`, which
// grant exclusion as for `RawMutex` above; nothing else is added.
#[cfg(all(feature = "lock_api", feature = "std", not(loom)))]
unsafe impl lock_api::RawMutexTimed for RawSpinLock {
    type Duration = std::time::Duration;
    type Instant = std::time::Instant;

    fn try_lock_for(&self, timeout: Self::Duration) -> bool {
        match Self::Instant::now().checked_add(timeout) {
            Some(deadline) => self.try_lock_until(deadline),
            // SAFE-CODE: [SPIN-S7] no representable deadline: wait as `lock` does, never overflow.
            None => {
                self.lock();
                true
            }
        }
    }

    fn try_lock_until(&self, deadline: Self::Instant) -> bool {
        let backoff = Backoff::new();
        loop {
            // SAFE-CODE: [SPIN-S7] an attempt before every clock check: a past deadline still tries once.
            if !self.is_locked() && self.try_lock() {
                return true;
            }
            if Self::Instant::now() >= deadline {
                return false;
            }
            relax(&backoff);
        }
    }
}

/// A mutual-exclusion lock that waits by spinning, then yielding.
///
/// For short critical sections; the [module docs](self) say when to use a
/// parking mutex instead. No poisoning: a panic in a critical section
/// unlocks the lock, and the next holder gets the data as the panic left it,
/// possibly half-updated (see the module docs).
///
/// `SpinLock<T>` is `Sync` when `T: Send` (the lock hands `&mut T` to one
/// thread at a time, as `std::sync::Mutex` does), so `T` need not be `Sync`:
///
/// ```
/// use acqrel::SpinLock;
/// use std::cell::Cell;
///
/// fn assert_sync<T: Sync>() {}
/// assert_sync::<SpinLock<Cell<u32>>>();
/// ```
///
/// but a value that must not leave its thread cannot be shared through it:
///
/// ```compile_fail,E0277
/// use acqrel::SpinLock;
/// use std::rc::Rc;
///
/// fn assert_sync<T: Sync>() {}
/// assert_sync::<SpinLock<Rc<u32>>>();
/// ```
///
/// # Memory ordering
///
/// Taking the lock acquires ([SPIN-O1](crate::safety#SPIN-O1)) and dropping the guard releases
/// ([SPIN-O2](crate::safety#SPIN-O2)): everything a holder did in its critical section
/// happens-before everything the next holder does in its own.
///
/// # Examples
///
/// ```
/// use acqrel::SpinLock;
/// use std::thread;
///
/// static HITS: SpinLock<[u64; 4]> = SpinLock::new([0; 4]);
///
/// thread::scope(|s| {
///     for t in 0..4 {
///         s.spawn(move || {
///             for i in 0..1000 {
///                 HITS.lock()[(t + i) % 4] += 1;
///             }
///         });
///     }
/// });
/// assert_eq!(HITS.lock().iter().sum::<u64>(), 4000);
/// ```
pub struct SpinLock<T: ?Sized> {
    raw: RawSpinLock,
    data: UnsafeCell<T>,
}

// SAFETY: [SPIN-I1] shared access to the lock gives one thread at a time
// `&mut T`, which moves the value's use between threads: `T: Send` is needed,
// `T: Sync` is not (the same bound as `std::sync::Mutex`).
unsafe impl<T: ?Sized + Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// Creates an unlocked lock holding `value`.
    ///
    /// A `const fn`: the lock can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::SpinLock;
    ///
    /// static NAMES: SpinLock<Vec<&str>> = SpinLock::new(Vec::new());
    /// NAMES.lock().push("a");
    /// assert_eq!(*NAMES.lock(), ["a"]);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Self { raw: RawSpinLock::new(), data: UnsafeCell::new(value) }
    }

    /// Creates an unlocked lock holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::SpinLock::new(7);
    /// assert_eq!(*lock.lock(), 7);
    /// ```
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Self { raw: RawSpinLock::new(), data: UnsafeCell::new(value) }
    }

    /// Consumes the lock and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::SpinLock::new(String::from("ab"));
    /// lock.lock().push('c');
    /// assert_eq!(lock.into_inner(), "abc");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> SpinLock<T> {
    /// Takes the lock, waiting while another thread holds it, and returns a
    /// guard that releases it when dropped (also during unwinding).
    ///
    /// Locking again from the thread that holds the guard deadlocks.
    ///
    /// # Memory ordering
    ///
    /// Everything a previous holder did while it held the lock
    /// happens-before this call returns ([SPIN-O1](crate::safety#SPIN-O1), paired with the guard's
    /// release, [SPIN-O2](crate::safety#SPIN-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::SpinLock;
    ///
    /// let lock = SpinLock::new(vec![1, 2]);
    /// lock.lock().push(3);
    /// assert_eq!(*lock.lock(), [1, 2, 3]);
    /// ```
    #[inline]
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        // SAFE-CODE: [SPIN-S6] a second `lock` by the holder waits forever (documented
        // above); it never succeeds, so it cannot make a second guard.
        self.raw.lock();
        SpinLockGuard { lock: self, _not_send: PhantomData }
    }

    /// Takes the lock if it is free right now.
    ///
    /// Returns `None` only when the lock is held — by another thread, or by
    /// this one through a guard it still has.
    ///
    /// # Memory ordering
    ///
    /// On success, as [`lock`](SpinLock::lock) ([SPIN-O1](crate::safety#SPIN-O1)); `None`
    /// synchronises with nothing ([SPIN-O3](crate::safety#SPIN-O3)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::SpinLock;
    ///
    /// let lock = SpinLock::new(0);
    /// let guard = lock.lock();
    /// assert!(lock.try_lock().is_none());
    /// drop(guard);
    /// assert!(lock.try_lock().is_some());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        if self.raw.try_lock() {
            Some(SpinLockGuard { lock: self, _not_send: PhantomData })
        } else {
            None
        }
    }

    /// Whether the lock was held when its flag was read: a snapshot that
    /// may be stale before it returns, for diagnostics only (see
    /// [`RawSpinLock::is_locked`]).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([SPIN-O3](crate::safety#SPIN-O3)): it synchronises with nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::SpinLock::new(());
    /// let guard = lock.lock();
    /// assert!(lock.is_locked());
    /// drop(guard);
    /// assert!(!lock.is_locked());
    /// ```
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Mutable access without locking: `&mut self` proves no guard exists.
    ///
    /// Works even when a leaked guard left the lock held (the lock stays
    /// held).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = acqrel::SpinLock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(*lock.lock(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFE-CODE: [SPIN-S1] a leaked guard no longer borrows the lock, so this
        // is reachable with the flag still set; `&mut self` alone is the proof.
        // SAFETY: [SPIN-I1] `&mut self` excludes every guard and every other access.
        self.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: Default> Default for SpinLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for SpinLock<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

/// Never blocks: when the lock is held, prints `<locked>` instead of the data.
///
/// `T`'s `Debug` runs while the lock is held; if it panics, the lock is
/// released, and if it formats this same lock, that prints `<locked>`.
impl<T: ?Sized + fmt::Debug> fmt::Debug for SpinLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SpinLock");
        // SAFE-CODE: [SPIN-S3] `try_lock`, never `lock`: user code that formats the
        // lock from inside its own `Debug` finds it held instead of deadlocking.
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

/// Access to the data of a locked [`SpinLock`]; releases the lock when dropped
/// (also when a panic unwinds through the critical section).
///
/// Leaking the guard (`mem::forget`) keeps the lock held for good, as with
/// `std::sync::MutexGuard`; see the [module docs](self).
///
/// The guard borrows the lock, so the lock cannot be moved or dropped while
/// a guard exists:
///
/// ```compile_fail,E0505
/// use acqrel::SpinLock;
///
/// let lock = SpinLock::new(0);
/// let guard = lock.lock();
/// drop(lock);
/// drop(guard);
/// ```
///
/// Not `Send`, like `std::sync::MutexGuard`: the thread that took the lock
/// releases it.
///
/// ```compile_fail,E0277
/// use acqrel::SpinLock;
///
/// fn assert_send<T: Send>(_: &T) {}
/// let lock = SpinLock::new(0);
/// let guard = lock.lock();
/// assert_send(&guard);
/// ```
///
/// `Sync` only when `T: Sync`, since `&guard` hands out `&T`:
///
/// ```compile_fail,E0277
/// use acqrel::SpinLock;
/// use std::cell::Cell;
///
/// fn assert_sync<T: Sync>(_: &T) {}
/// let lock = SpinLock::new(Cell::new(0));
/// let guard = lock.lock();
/// assert_sync(&guard);
/// ```
///
/// # Memory ordering
///
/// Dropping the guard releases the lock with a `Release` store ([SPIN-O2](crate::safety#SPIN-O2)):
/// everything done through the guard happens-before the next holder's
/// acquisition returns ([SPIN-O1](crate::safety#SPIN-O1)).
///
/// # Examples
///
/// ```
/// use acqrel::{SpinLock, SpinLockGuard};
///
/// fn bump(mut count: SpinLockGuard<'_, u32>) {
///     *count += 1;
/// } // released here
///
/// let lock = SpinLock::new(0);
/// bump(lock.lock());
/// assert!(!lock.is_locked());
/// assert_eq!(*lock.lock(), 1);
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct SpinLockGuard<'a, T: ?Sized> {
    // SAFE-CODE: [SPIN-S5] the borrow keeps the lock alive and in place while the guard exists.
    lock: &'a SpinLock<T>,
    // SAFE-CODE: [SPIN-S5] the guard stays on the thread that locked, so that thread releases it.
    /// Makes the guard `!Send` (and `!Sync`, restored below for `T: Sync`).
    _not_send: PhantomData<*const ()>,
}

// SAFETY: [SPIN-I1] a shared reference to the guard gives only `&T`, so
// sharing it is sharing `&T`: sound exactly when `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for SpinLockGuard<'_, T> {}

impl<T: ?Sized> Deref for SpinLockGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: [SPIN-I1] the guard holds the lock, so no other access exists;
        // [SPIN-O1] orders the previous holder's writes before this read.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized> DerefMut for SpinLockGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: [SPIN-I1] the guard holds the lock and `&mut self` excludes
        // other borrows through it; [SPIN-O1] orders earlier holders' accesses before ours.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: ?Sized> Drop for SpinLockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFE-CODE: [SPIN-S2] runs during unwinding too: a panicking section releases the lock.
        // SAFETY: [SPIN-I1] this guard was created by a successful acquisition
        // and is dropped once, so the lock is held by us and released once.
        unsafe { self.lock.raw.unlock() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for SpinLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for SpinLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
