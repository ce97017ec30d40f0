//! [`TicketLock`]: a FIFO-fair spin lock that keeps working when threads
//! outnumber cores.
//!
//! # What it is for
//!
//! The same short critical sections as [`SpinLock`](crate::SpinLock), when
//! *bounded waiting* matters more than peak throughput: threads are served
//! in the order they arrived, so none can be starved by a neighbour that
//! keeps releasing and re-taking the lock. A waiter with `k` threads ahead of
//! it waits for `k` critical sections — as long as it is running when its
//! turn comes (the exact contract is under *Fairness* below).
//!
//! Choose [`SpinLock`](crate::SpinLock) for throughput (it lets a running
//! thread re-take the lock, which keeps the data in its cache) and this lock
//! when fairness is a requirement — a latency bound per thread, or threads
//! that would otherwise starve. Everything the spin lock's docs say about
//! when spinning is the wrong tool (long sections, preempted holders,
//! priority inversion) holds here. A plain ticket lock has one more hazard:
//! it hands the lock to a specific thread, and if *that* thread is not
//! running, nobody can take the lock until it runs again. This lock does not
//! wait for it: an offer that is not taken within a few microseconds is
//! withdrawn and the thread goes to the back of the queue, so a descheduled
//! waiter costs one such window instead of a time slice.
//!
//! # Algorithm
//!
//! A ticket lock (Mellor-Crummey and Scott, "Algorithms for scalable
//! synchronization on shared-memory multiprocessors", 1991) made tolerant of
//! preempted waiters by a handshake, after Kontothanassis, Wisniewski and
//! Scott ("Scheduler-conscious synchronization", 1997) and He, Scherer and
//! Scott ("Preemption adaptivity in time-published queue-based spin locks",
//! 2005):
//!
//! | field | meaning |
//! |---|---|
//! | `next_ticket` | the ticket the next arriving thread draws (tickets are even; they step by 2) |
//! | `grant` | the ticket the lock is offered to, plus bit 0: `0` = *offered*, `1` = *taken* |
//! | `skips` | how many offers were withdrawn from a waiter that did not take them (diagnostics) |
//!
//! The lock is free when `grant` is `t` (offered) and no thread holds ticket
//! `t` (`next_ticket == t`).
//!
//! - `lock` draws a ticket `t` (`fetch_add` on `next_ticket`) and *claims*
//!   the lock with a compare-exchange of `grant` from `t` (offered to `t`)
//!   to `t | 1` (taken).
//! - `unlock` stores `t + 2`: the lock is offered to the next ticket.
//! - A waiter that watches an offer to another ticket stay unclaimed for a
//!   patience window (a count of its own polls, a few microseconds) concludes
//!   that the owner of that ticket is not running, and *withdraws* the offer
//!   with a compare-exchange from `u` to `u + 2`: the lock is offered to the
//!   ticket after it. Claim and withdrawal are exchanges on the same word, so
//!   exactly one of them wins.
//! - A waiter that finds `grant` past its ticket was skipped: it draws a new
//!   ticket, at the back of the queue.
//!
//! A plain ticket lock hands the lock to the next ticket whether or not its
//! owner is running; with more threads than cores that owner is often
//! descheduled, and every handoff then waits for a context switch
//! (`spin::TicketMutex` falls to a fraction of a million sections per second
//! with four threads on two cores). Here a descheduled waiter costs one
//! patience window and drops out of the queue until it runs again; the
//! threads that are running keep passing the lock among themselves in FIFO
//! order.
//!
//! Waiting: a waiter polls `grant` with one spin hint per poll, so a normal
//! handoff never enters the scheduler. When the lock stays *taken* by the
//! same holder for a long budget of polls, the holder is probably preempted
//! (or its section is long), and the waiter yields the CPU on every further
//! poll (with `std`; without it, it keeps spinning).
//!
//! The algorithm lives in [`RawTicketLock`], which holds no data;
//! [`TicketLock`] adds the protected value and an RAII guard. With the
//! `lock_api` feature `RawTicketLock` implements `lock_api::RawMutex`,
//! `lock_api::RawMutexFair` — every unlock is fair (it offers the lock to the
//! next ticket), so `unlock_fair` is `unlock`, and `bump` hands the lock on
//! and queues behind every waiter — and, with `std` as well,
//! `lock_api::RawMutexTimed`. A drawn ticket cannot be given back (the lock
//! will be offered to it), so `try_lock_for`/`try_lock_until` never draw one:
//! they retry [`try_lock`](RawTicketLock::try_lock) until the deadline, and
//! succeed only at a moment when nobody holds the lock *or waits for it*.
//! Under steady contention they may time out while the lock changes hands:
//! a timed attempt does not queue and is not served in FIFO order.
//! `acqrel::lock_api::TicketMutex<T>` names lock_api's mutex over it.
//!
//! # Fairness: what is guaranteed, exactly
//!
//! - Tickets are offered in the order they were drawn, each at most once.
//! - A waiter is passed over only when its ticket was offered and the offer
//!   stayed unclaimed while another waiter polled it, unchanged, for the
//!   patience window — that is, only when it did not run its own poll loop
//!   for that long (preempted, or delayed by an interrupt). It then draws a
//!   new ticket and waits at the back of the queue. [`skips`](RawTicketLock::skips)
//!   counts these events.
//! - Hence among waiters that are not passed over, service is FIFO, and a
//!   waiter with `k` tickets ahead of it waits for at most `k` critical
//!   sections and `k` patience windows. A thread that keeps missing its turn
//!   (descheduled every time its ticket comes up) can wait without bound:
//!   no user-space lock can serve a thread the scheduler does not run.
//!
//! # Counter range: the precondition of the order
//!
//! Tickets are `u32`s that step by 2 and wrap around, so there are 2³¹
//! ticket numbers, and a waiter tells "not my turn yet" from "passed over"
//! by the wrapping difference between its ticket and the offered one, read
//! as a signed number. That reading is right as long as
//!
//! 1. fewer than 2³⁰ threads are inside `lock`/`try_lock` at once (each
//!    holds at most one ticket between the offer and the last drawn one; no
//!    operating system runs that many threads — Linux caps thread ids below
//!    2²²), and
//! 2. no thread stops running inside `lock`/`try_lock` while 2³⁰ offers go
//!    by (each a handoff or a withdrawal: at the fastest handoff rate
//!    measured, over ten seconds without being scheduled once).
//!
//! Exclusion and memory safety do not depend on either: at most one thread
//! holds the lock whatever the counters say, because only a successful
//! compare-exchange on `grant` enters, and nothing but the holder's unlock
//! leaves the *taken* state. If (2) is broken, what suffers is order and
//! `try_lock`'s progress: the late thread may misread a passed-over ticket
//! as still queued, then take an offer meant for a thread that drew the same
//! number a lap later (that thread re-queues), or withdraw offers to
//! tickets nobody has drawn yet, so that `grant` runs ahead of
//! `next_ticket`. While it is ahead, callers of `lock` draw again until they
//! catch up (a few extra ticket draws each), but [`try_lock`](RawTicketLock::try_lock)
//! fails (and [`is_locked`](RawTicketLock::is_locked) reports the lock taken)
//! although nobody holds it, until the next `lock` call catches up.
//! Likewise a `try_lock` that stops between its two steps while 2³¹ tickets
//! are drawn may
//! draw a ticket it can no longer claim and give up, leaving an offer nobody
//! takes: the next waiter withdraws it after one patience window, and until
//! a `lock` call comes, `try_lock` fails.
//!
//! # Poisoning, panics and leaked guards
//!
//! No poisoning, as with [`SpinLock`](crate::SpinLock): a panic in a
//! critical section releases the lock (to the next ticket) during unwinding.
//! The data is then in whatever state the panicking section left it —
//! possibly half-updated — and the next holder gets it in that state with no
//! sign that a panic happened; code that must not observe a half-done update
//! has to restore it itself.
//!
//! Leaking a guard (`mem::forget`) leaves the lock held for good, as with
//! `std::sync::MutexGuard`: [`lock`](TicketLock::lock) waits forever (every
//! later caller queues behind the leaked holder), [`try_lock`](TicketLock::try_lock)
//! fails, and nothing unsound follows: [`get_mut`](TicketLock::get_mut) and
//! [`into_inner`](TicketLock::into_inner) still reach the data, since a
//! leaked guard no longer borrows the lock. Through `lock_api`,
//! `Mutex::force_unlock` releases a leaked guard's lock.
//!
//! # Invariants
//!
//! - [TICKET-I1](crate::safety#TICKET-I1) Exclusion: `grant` moves from *offered* to *taken* only by
//!   a successful claim exchange, and out of *taken* only by the `unlock` of
//!   the thread whose claim succeeded; withdrawals act only on *offered*
//!   values. So at most one thread holds the lock. Data is accessed only
//!   through a guard or `&mut self`.
//! - [TICKET-I2](crate::safety#TICKET-I2) Order: `grant` only moves forward, one ticket at a time
//!   (by `unlock` or by a withdrawal), so tickets are offered in drawing
//!   order, each once; a withdrawal happens only after a waiter saw the same
//!   offer for the patience window. This, and the classification of a
//!   ticket as queued or passed over, rests on the counter range above.
//!
//! # Memory ordering
//!
//! The claim exchange is `Acquire` ([TICKET-O1](crate::safety#TICKET-O1)) and reads either the
//! `Release` store of the previous holder's `unlock` ([TICKET-O2](crate::safety#TICKET-O2)) or a
//! withdrawal exchange that follows it; withdrawals are read-modify-writes,
//! which continue the release sequence of that store ([TICKET-O5](crate::safety#TICKET-O5)), so each
//! critical section happens-before the next. Drawing a ticket, polling,
//! withdrawing and the holder's own read of `grant` are `Relaxed`
//! ([TICKET-O3](crate::safety#TICKET-O3), [TICKET-O4](crate::safety#TICKET-O4), [TICKET-O5](crate::safety#TICKET-O5)).

use crate::loom::UnsafeCell;
use crate::loom::atomic::AtomicU32;
use crate::loom::atomic::Ordering::{Acquire, Relaxed, Release};
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

/// Bit 0 of `grant`: the offered ticket has been claimed.
const TAKEN: u32 = 1;

/// Tickets are even, so that bit 0 of `grant` is free for [`TAKEN`].
const STEP: u32 = 2;

/// How many consecutive polls of the same unclaimed offer a waiter makes
/// before it withdraws the offer. A running waiter claims an offer within a
/// poll or two (one cache-line transfer, a fraction of a microsecond); 64
/// polls, each with a spin hint, take one to a few microseconds, far below a
/// scheduler time slice. (512 measured no better with four threads on two
/// cores: each preempted waiter then costs a longer window.) Under loom one
/// poll, so that models reach a withdrawal.
#[cfg(not(loom))]
const PATIENCE: u32 = 1 << 6;
#[cfg(loom)]
const PATIENCE: u32 = 1;

/// How many consecutive polls of the same *taken* grant a waiter spins
/// through before it starts yielding: several times a short critical
/// section plus a handoff (a few polls), so that a normal handoff never
/// enters the scheduler, yet short enough that a preempted holder gets a
/// core back within microseconds. (Measured with four threads on two cores:
/// 128 polls beat both 32 and 1024.)
const SPINS_BEFORE_YIELD: u32 = 1 << 7;

/// The ticket lock without data.
///
/// Use it through [`TicketLock`], or through lock_api's `Mutex` (feature
/// `lock_api`: `acqrel::lock_api::TicketMutex<T>`; the [module docs](self)
/// list the lock_api traits).
///
/// # Memory ordering
///
/// A successful [`lock`](RawTicketLock::lock) or
/// [`try_lock`](RawTicketLock::try_lock) claims the lock with an `Acquire`
/// exchange ([TICKET-O1](crate::safety#TICKET-O1)) and [`unlock`](RawTicketLock::unlock) offers it
/// on with a `Release` store ([TICKET-O2](crate::safety#TICKET-O2)); withdrawn offers keep that
/// store's release sequence going ([TICKET-O5](crate::safety#TICKET-O5)). So everything a holder did
/// before its `unlock` happens-before the next holder's acquisition returns.
/// [`is_locked`](RawTicketLock::is_locked),
/// [`queue_len`](RawTicketLock::queue_len) and
/// [`skips`](RawTicketLock::skips) synchronise with nothing ([TICKET-O4](crate::safety#TICKET-O4)).
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
    /// The ticket the next arriving thread draws (even; steps by [`STEP`]).
    next_ticket: AtomicU32,
    /// The ticket the lock is offered to, `| TAKEN` once its owner claimed it.
    grant: AtomicU32,
    /// Offers withdrawn from waiters that did not take them in time.
    skips: AtomicU32,
}

impl RawTicketLock {
    /// Creates an unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::RawTicketLock;
    ///
    /// static LOCK: RawTicketLock = RawTicketLock::new();
    /// assert_eq!(LOCK.queue_len(), 0);
    /// ```
    #[cfg(not(loom))]
    #[must_use]
    pub const fn new() -> Self {
        Self { next_ticket: AtomicU32::new(0), grant: AtomicU32::new(0), skips: AtomicU32::new(0) }
    }

    /// Creates an unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawTicketLock::new();
    /// assert!(!lock.is_locked());
    /// ```
    #[cfg(loom)]
    #[must_use]
    pub fn new() -> Self {
        Self { next_ticket: AtomicU32::new(0), grant: AtomicU32::new(0), skips: AtomicU32::new(0) }
    }

    /// Takes the lock after every thread that drew its ticket before this
    /// call, except those passed over for not taking their turn (see the
    /// [module docs](self)); a second `lock` from the holder deadlocks.
    ///
    /// # Memory ordering
    ///
    /// `Acquire` ([TICKET-O1](crate::safety#TICKET-O1), paired with [TICKET-O2](crate::safety#TICKET-O2) through the release
    /// sequence of [TICKET-O5](crate::safety#TICKET-O5)): everything the previous holder did before
    /// its `unlock` happens-before this call returns. Drawing the ticket is
    /// `Relaxed` ([TICKET-O3](crate::safety#TICKET-O3)) and orders nothing by itself.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawTicketLock::new();
    /// lock.lock();
    /// assert!(lock.is_locked());
    /// assert_eq!(lock.queue_len(), 1); // the holder, nobody waiting
    /// ```
    #[inline]
    pub fn lock(&self) {
        // ORDERING: [TICKET-O3] Relaxed — a read-modify-write draws a unique ticket at any ordering; the claim below synchronises.
        let ticket = self.next_ticket.fetch_add(STEP, Relaxed);
        if !self.claim(ticket) {
            self.wait_for(ticket);
        }
    }

    /// Claims the lock if it is offered to `ticket` right now.
    #[inline]
    fn claim(&self, ticket: u32) -> bool {
        // ORDERING: [TICKET-O1] Acquire on success — pairs with [TICKET-O2] (through [TICKET-O5]'s release sequence): the previous holder's section happens-before ours.
        // Relaxed on failure — the lock is not ours and nothing is read.
        self.grant.compare_exchange(ticket, ticket | TAKEN, Acquire, Relaxed).is_ok()
    }

    /// Waits until the lock is offered to `ticket` and claims it; withdraws
    /// offers that stay unclaimed, and draws a new ticket if passed over.
    #[cold]
    fn wait_for(&self, mut ticket: u32) {
        // ORDERING: [TICKET-O5] Relaxed — a poll decides only what to try next; the claim acquires.
        let mut seen = self.grant.load(Relaxed);
        let mut polls = 0u32;
        loop {
            let offered = seen & !TAKEN;
            // SAFE-CODE: [TICKET-S7] a wrong reading past the counter range misorders
            // tickets only: entry is still by `claim`'s exchange alone ([TICKET-I1]).
            let ahead = ticket.wrapping_sub(offered) as i32;
            if ahead < 0 {
                // Passed over: our ticket was offered and withdrawn.
                // ORDERING: [TICKET-O3] Relaxed — a fresh unique ticket, as in `lock`.
                ticket = self.next_ticket.fetch_add(STEP, Relaxed);
            } else if seen & TAKEN == 0 {
                if ahead == 0 {
                    if self.claim(ticket) {
                        return;
                    }
                } else if polls >= PATIENCE {
                    self.withdraw(seen);
                } else {
                    crate::loom::spin_loop();
                }
            } else if polls < SPINS_BEFORE_YIELD {
                crate::loom::spin_loop();
            } else {
                wait_for_preempted_holder();
            }
            // ORDERING: [TICKET-O5] Relaxed — a poll, as above.
            let now = self.grant.load(Relaxed);
            if now == seen {
                polls = polls.saturating_add(1);
            } else {
                seen = now;
                polls = 0;
            }
        }
    }

    /// Withdraws the offer `offered` (unclaimed for the patience window) and
    /// offers the lock to the next ticket instead.
    #[cold]
    fn withdraw(&self, offered: u32) {
        // ORDERING: [TICKET-O5] Relaxed/Relaxed — a read-modify-write continues the release sequence of the unlock that made the offer; it publishes nothing of its own.
        let withdrawn =
            self.grant.compare_exchange(offered, offered.wrapping_add(STEP), Relaxed, Relaxed);
        if withdrawn.is_ok() {
            // ORDERING: [TICKET-O4] Relaxed — a diagnostic count; nothing is read on its say-so.
            self.skips.fetch_add(1, Relaxed);
        }
    }

    /// Takes the lock if it is free right now (no thread holds it or waits
    /// for it). Returns whether it did.
    ///
    /// # Memory ordering
    ///
    /// On success, as [`lock`](Self::lock) ([TICKET-O1](crate::safety#TICKET-O1)). On failure,
    /// nothing is synchronised ([TICKET-O3](crate::safety#TICKET-O3), [TICKET-O4](crate::safety#TICKET-O4)).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawTicketLock::new();
    /// assert!(lock.try_lock());
    /// assert!(!lock.try_lock()); // already held
    /// ```
    #[inline]
    #[must_use = "if it returns true the lock is held and must be released"]
    pub fn try_lock(&self) -> bool {
        // ORDERING: [TICKET-O4] Relaxed — only picks the ticket to try for; the claim acquires.
        let offered = self.grant.load(Relaxed);
        if offered & TAKEN != 0 {
            return false;
        }
        // ORDERING: [TICKET-O3] Relaxed/Relaxed — draws ticket `offered` only if nobody drew it yet; the claim synchronises.
        let after = offered.wrapping_add(STEP);
        let drawn = self.next_ticket.compare_exchange(offered, after, Relaxed, Relaxed);
        // A drawn ticket whose claim fails was withdrawn meanwhile (within
        // the counter range of the module docs): it is already behind
        // `grant` and needs no clean-up. Past that range, the claim may fail
        // on an offer that has not reached the ticket yet; the ticket is then
        // left unclaimed and a waiter withdraws it after its patience window.
        drawn.is_ok() && self.claim(offered)
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
    /// `Release` ([TICKET-O2](crate::safety#TICKET-O2), paired with [TICKET-O1](crate::safety#TICKET-O1)): everything this
    /// thread did before the call happens-before the next holder's
    /// acquisition returns, even when the offer is withdrawn from a waiter
    /// and passed on ([TICKET-O5](crate::safety#TICKET-O5)).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawTicketLock::new();
    /// lock.lock();
    /// // SAFETY: this thread took the lock just above and releases it once.
    /// unsafe { lock.unlock() };
    /// assert!(!lock.is_locked());
    /// ```
    #[inline]
    pub unsafe fn unlock(&self) {
        // ORDERING: [TICKET-O4] Relaxed — while the lock is taken only the holder writes `grant` ([TICKET-I1]); it reads its own claim.
        let held = self.grant.load(Relaxed);
        // ORDERING: [TICKET-O2] Release — pairs with [TICKET-O1]: our critical section happens-before the next holder's.
        self.grant.store((held & !TAKEN).wrapping_add(STEP), Release);
    }

    /// Whether the lock was held, or offered to a thread that has drawn a
    /// ticket for it, when the counters were read — the states in which
    /// [`try_lock`](Self::try_lock) fails.
    ///
    /// A snapshot: other threads may take or release the lock before this
    /// returns (and the two counters are read one after the other), so the
    /// answer may already be stale. Use it for diagnostics and heuristics,
    /// never to decide that data is safe to read (it synchronises with
    /// nothing).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([TICKET-O4](crate::safety#TICKET-O4)): `false` does not make the last holder's
    /// writes visible; only taking the lock does.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawTicketLock::new();
    /// assert!(!lock.is_locked());
    /// lock.lock();
    /// assert!(lock.is_locked());
    /// ```
    #[inline]
    #[must_use]
    pub fn is_locked(&self) -> bool {
        // ORDERING: [TICKET-O4] Relaxed — a snapshot; nothing is read on its say-so.
        let grant = self.grant.load(Relaxed);
        if grant & TAKEN != 0 {
            return true;
        }
        // ORDERING: [TICKET-O4] Relaxed — a snapshot, as above.
        self.next_ticket.load(Relaxed) != grant
    }

    /// How many tickets are drawn and not yet served or passed over: 0 when
    /// free, 1 when held with nobody waiting, `1 + waiters` otherwise.
    ///
    /// A snapshot for diagnostics only: it may be stale before it returns,
    /// its two counters are read one after the other (a difference that
    /// would be negative reads 0), and an offer withdrawn from a waiter that
    /// has not noticed yet still counts until that waiter draws again.
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([TICKET-O4](crate::safety#TICKET-O4)): it synchronises with nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawTicketLock::new();
    /// assert_eq!(lock.queue_len(), 0);
    /// lock.lock();
    /// assert_eq!(lock.queue_len(), 1);
    /// ```
    #[must_use]
    pub fn queue_len(&self) -> u32 {
        // ORDERING: [TICKET-O4] Relaxed — a snapshot of two counters; nothing is read on its say-so.
        let offered = self.grant.load(Relaxed) & !TAKEN;
        // ORDERING: [TICKET-O4] Relaxed — may be older than `offered`; a negative difference is clamped to 0.
        let next = self.next_ticket.load(Relaxed);
        let len = next.wrapping_sub(offered) / STEP;
        if len > u32::MAX / 4 { 0 } else { len }
    }

    /// How many times a waiter was passed over since the lock was created:
    /// its ticket was offered and not claimed within the patience window
    /// (the waiter was not running), so it re-queued at the back. A
    /// diagnostic snapshot that wraps around and may be stale before it
    /// returns; 0 means service so far was strictly FIFO.
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([TICKET-O4](crate::safety#TICKET-O4)): a diagnostic count that synchronises with
    /// nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::RawTicketLock::new();
    /// lock.lock();
    /// // SAFETY: taken just above by this thread.
    /// unsafe { lock.unlock() };
    /// assert_eq!(lock.skips(), 0); // nobody was passed over
    /// ```
    #[must_use]
    pub fn skips(&self) -> u32 {
        // ORDERING: [TICKET-O4] Relaxed — a diagnostic count; nothing is read on its say-so.
        self.skips.load(Relaxed)
    }
}

/// Waiting while the holder has kept the lock for the whole spin budget: it
/// is probably preempted, so give it the CPU (with `std`; without an
/// operating system, keep spinning).
#[cold]
fn wait_for_preempted_holder() {
    // SAFE-CODE: [TICKET-S4] no per-thread state anywhere: waiting only yields or spins,
    // which works from a thread-local destructor as anywhere else.
    #[cfg(feature = "std")]
    crate::loom::yield_now();
    #[cfg(not(feature = "std"))]
    crate::loom::spin_loop();
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

// `INIT` is an unlocked lock (each use of the constant is a fresh one).
// Guards are not `Send`, like ours. `is_locked` is the inherent snapshot;
// lock_api only reports it.
// SAFETY: [TICKET-I1] lock_api's contract is exclusion ("a lock can't be
// acquired while the mutex is already locked"), which `RawTicketLock` grants
// as its inherent methods document ([TICKET-O1]/[TICKET-O2]), for any values
// of the counters; `unlock`'s contract is lock_api's.
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

// Every unlock of a ticket lock is fair: it offers the lock to the next
// ticket in drawing order (the passing-over rule of the module docs applies
// as to any handoff), so `unlock_fair` is `unlock`. `bump` is the trait's
// default, `unlock_fair` then `lock`: the lock goes to the next waiter and
// the bumping thread draws a new ticket, behind every thread that waited;
// with nobody waiting it takes the lock straight back.
// SAFETY: [TICKET-I1] `unlock_fair`'s contract is `unlock`'s (held, by the
// caller), and `unlock` grants the exclusion lock_api relies on, as for
// `RawMutex` above.
#[cfg(all(feature = "lock_api", not(loom)))]
unsafe impl lock_api::RawMutexFair for RawTicketLock {
    #[inline]
    unsafe fn unlock_fair(&self) {
        // SAFETY: [TICKET-I1] lock_api's contract for `unlock_fair` is `unlock`'s: held, by the caller.
        unsafe { RawTicketLock::unlock(self) }
    }
}

// A ticket, once drawn, cannot be given back: the lock will be offered to it,
// and an owner that has left leaves an offer nobody claims, which costs the
// next waiter a patience window and makes `try_lock` fail until the next
// `lock` call. So a timed acquisition never draws one ([TICKET-S8]): it
// repeats `try_lock`, which takes the lock only when nobody holds it or
// waits for it, backing off (spin hints, then yields) until the deadline.
// Under steady contention it may therefore time out although the lock
// changes hands: it does not queue and is not served in FIFO order. A
// timeout too long to represent as an `Instant` is no deadline at all, and
// then the thread queues as `lock` does (a ticket it never abandons).
// SAFETY: [TICKET-I1] the lock is taken only by `try_lock` or `lock`, which
// grant exclusion as for `RawMutex` above; nothing else is added.
#[cfg(all(feature = "lock_api", feature = "std", not(loom)))]
unsafe impl lock_api::RawMutexTimed for RawTicketLock {
    type Duration = std::time::Duration;
    type Instant = std::time::Instant;

    fn try_lock_for(&self, timeout: Self::Duration) -> bool {
        match Self::Instant::now().checked_add(timeout) {
            Some(deadline) => self.try_lock_until(deadline),
            // SAFE-CODE: [TICKET-S8] no deadline, so a ticket that is never abandoned: queue as `lock`.
            None => {
                self.lock();
                true
            }
        }
    }

    fn try_lock_until(&self, deadline: Self::Instant) -> bool {
        let backoff = crate::loom::Backoff::new();
        loop {
            // `is_locked` reads the states in which `try_lock` fails, with
            // loads only, so a poll does not take the counters' cache line
            // away from the threads that hand the lock on.
            // SAFE-CODE: [TICKET-S8] `try_lock` draws a ticket only to claim it at once: giving up leaves none.
            if !self.is_locked() && self.try_lock() {
                return true;
            }
            if Self::Instant::now() >= deadline {
                return false;
            }
            backoff.snooze();
        }
    }
}

/// A FIFO-fair mutual-exclusion lock that waits by spinning and yielding.
///
/// Threads take the lock in the order they called [`lock`](Self::lock),
/// except that a thread not running when its turn comes is passed over and
/// re-queued ([`skips`](Self::skips) counts it; the [module docs](self) give
/// the exact contract and compare the lock with
/// [`SpinLock`](crate::SpinLock)). No poisoning: after a panic in a critical
/// section, the next holder gets the data as the panic left it, possibly
/// half-updated.
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
/// # Memory ordering
///
/// Taking the lock acquires ([TICKET-O1](crate::safety#TICKET-O1)) and dropping the guard releases
/// ([TICKET-O2](crate::safety#TICKET-O2)): everything a holder did in its critical section
/// happens-before everything the next holder does in its own.
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
    ///
    /// A `const fn`: the lock can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TicketLock;
    ///
    /// static QUEUE: TicketLock<Vec<u32>> = TicketLock::new(Vec::new());
    /// QUEUE.lock().push(1);
    /// assert_eq!(*QUEUE.lock(), [1]);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Self { raw: RawTicketLock::new(), data: UnsafeCell::new(value) }
    }

    /// Creates an unlocked lock holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::TicketLock::new(7);
    /// assert_eq!(*lock.lock(), 7);
    /// ```
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Self { raw: RawTicketLock::new(), data: UnsafeCell::new(value) }
    }

    /// Consumes the lock and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::TicketLock::new(vec![1]);
    /// lock.lock().push(2);
    /// assert_eq!(lock.into_inner(), [1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> TicketLock<T> {
    /// Takes the lock in arrival order (a thread passed over for not taking
    /// its turn re-queues at the back) and returns a guard that releases it
    /// when dropped (also during unwinding).
    ///
    /// Locking again from the thread that holds the guard deadlocks (it
    /// queues behind itself).
    ///
    /// # Memory ordering
    ///
    /// Everything a previous holder did while it held the lock
    /// happens-before this call returns ([TICKET-O1](crate::safety#TICKET-O1), paired with the guard's
    /// release, [TICKET-O2](crate::safety#TICKET-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::TicketLock;
    ///
    /// let lock = TicketLock::new(vec![1, 2]);
    /// lock.lock().push(3);
    /// assert_eq!(*lock.lock(), [1, 2, 3]);
    /// ```
    #[inline]
    pub fn lock(&self) -> TicketLockGuard<'_, T> {
        // SAFE-CODE: [TICKET-S6] a second `lock` by the holder queues behind itself and
        // waits forever; it never succeeds, so it cannot make a second guard.
        self.raw.lock();
        TicketLockGuard { lock: self, _not_send: PhantomData }
    }

    /// Takes the lock if nobody holds it or waits for it.
    ///
    /// It never queues, so it cannot jump ahead of a waiting thread; returns
    /// `None` when the lock is held (by any thread, this one included) or
    /// waited for.
    ///
    /// # Memory ordering
    ///
    /// On success, as [`lock`](TicketLock::lock) ([TICKET-O1](crate::safety#TICKET-O1)); `None`
    /// synchronises with nothing ([TICKET-O4](crate::safety#TICKET-O4)).
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

    /// Whether the lock was held, or offered to a queued thread, when it was
    /// read: a snapshot that may be stale before it returns, for diagnostics
    /// only (see [`RawTicketLock::is_locked`]).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([TICKET-O4](crate::safety#TICKET-O4)): it synchronises with nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::TicketLock::new(());
    /// let guard = lock.lock();
    /// assert!(lock.is_locked());
    /// drop(guard);
    /// assert!(!lock.is_locked());
    /// ```
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// How many threads hold or wait for the lock (a snapshot that may be
    /// stale before it returns; see [`RawTicketLock::queue_len`]).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([TICKET-O4](crate::safety#TICKET-O4)): it synchronises with nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::TicketLock::new(());
    /// assert_eq!(lock.queue_len(), 0);
    /// let guard = lock.lock();
    /// assert_eq!(lock.queue_len(), 1);
    /// drop(guard);
    /// assert_eq!(lock.queue_len(), 0);
    /// ```
    #[inline]
    pub fn queue_len(&self) -> u32 {
        self.raw.queue_len()
    }

    /// How many times a waiter was passed over because it did not take its
    /// turn in time (a snapshot; see [`RawTicketLock::skips`]); 0 means
    /// service so far was strictly FIFO.
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([TICKET-O4](crate::safety#TICKET-O4)): a diagnostic count that synchronises with
    /// nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = acqrel::TicketLock::new(0);
    /// *lock.lock() += 1;
    /// assert_eq!(lock.skips(), 0); // nobody was passed over
    /// ```
    #[inline]
    pub fn skips(&self) -> u32 {
        self.raw.skips()
    }

    /// Mutable access without locking: `&mut self` proves no guard exists.
    ///
    /// Works even when a leaked guard left the lock held (the lock stays
    /// held).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = acqrel::TicketLock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(*lock.lock(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFE-CODE: [TICKET-S1] a leaked guard no longer borrows the lock, so this
        // is reachable with the lock still taken; `&mut self` alone is the proof.
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
///
/// `T`'s `Debug` runs while the lock is held; if it panics, the lock is
/// released, and if it formats this same lock, that prints `<locked>`.
impl<T: ?Sized + fmt::Debug> fmt::Debug for TicketLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TicketLock");
        // SAFE-CODE: [TICKET-S3] `try_lock`, never `lock`: user code that formats the
        // lock from inside its own `Debug` finds it held instead of deadlocking.
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

/// Access to the data of a locked [`TicketLock`]; releases the lock to the
/// next ticket when dropped (also when a panic unwinds through the critical
/// section).
///
/// Leaking the guard (`mem::forget`) keeps the lock held for good, as with
/// `std::sync::MutexGuard`; see the [module docs](self). The guard borrows
/// the lock, so the lock cannot be moved or dropped while a guard exists:
///
/// ```compile_fail,E0505
/// use acqrel::TicketLock;
///
/// let lock = TicketLock::new(0);
/// let guard = lock.lock();
/// drop(lock);
/// drop(guard);
/// ```
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
///
/// # Memory ordering
///
/// Dropping the guard offers the lock to the next ticket with a `Release`
/// store ([TICKET-O2](crate::safety#TICKET-O2)): everything done through the guard happens-before the
/// next holder's claim returns ([TICKET-O1](crate::safety#TICKET-O1)).
///
/// # Examples
///
/// ```
/// use acqrel::{TicketLock, TicketLockGuard};
///
/// fn append(mut log: TicketLockGuard<'_, String>, line: &str) {
///     log.push_str(line);
/// } // released here
///
/// let lock = TicketLock::new(String::new());
/// append(lock.lock(), "started");
/// assert!(!lock.is_locked());
/// assert_eq!(*lock.lock(), "started");
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct TicketLockGuard<'a, T: ?Sized> {
    // SAFE-CODE: [TICKET-S5] the borrow keeps the lock alive and in place while the guard exists.
    lock: &'a TicketLock<T>,
    // SAFE-CODE: [TICKET-S5] the guard stays on the thread that locked, so that thread releases it.
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
        // SAFE-CODE: [TICKET-S2] runs during unwinding too: a panicking section releases the lock.
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
        RawTicketLock {
            next_ticket: AtomicU32::new(ticket),
            grant: AtomicU32::new(ticket),
            skips: AtomicU32::new(0),
        }
    }

    #[test]
    fn tickets_wrap_around_u32_max() {
        let raw = starting_at(u32::MAX - 3);
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
        let offered = raw.grant.with_mut(|grant| *grant);
        assert_eq!(offered, 16, "ten acquisitions of two ticket numbers each from u32::MAX - 3");
    }

    /// Draws a ticket that nobody claims, as a thread does that stops
    /// running right after drawing it (exclusive access: no atomic operation).
    fn draw_by_hand(raw: &mut RawTicketLock) -> u32 {
        raw.next_ticket.with_mut(|next| {
            let ticket = *next;
            *next = ticket.wrapping_add(STEP);
            ticket
        })
    }

    /// A thread that drew a ticket and never runs again (here: a ticket
    /// drawn by hand and never claimed) does not block the lock: the next
    /// waiter withdraws the offer after the patience window.
    #[test]
    fn an_offer_nobody_claims_is_withdrawn() {
        let mut raw = RawTicketLock::new();
        let ghost = draw_by_hand(&mut raw);
        assert_eq!((ghost, raw.queue_len()), (0, 1));
        assert!(raw.is_locked(), "offered to a drawn ticket");
        assert!(!raw.try_lock(), "try_lock never jumps a drawn ticket, even one nobody claims");
        raw.lock();
        assert_eq!(raw.skips(), 1);
        assert_eq!(raw.queue_len(), 1, "the ghost's ticket is behind the grant");
        // SAFETY: [TICKET-I1] taken just above by this thread.
        unsafe { raw.unlock() };
        assert!(!raw.is_locked());
    }

    /// The owner of a withdrawn ticket, when it runs again, finds its ticket
    /// passed, draws a new one and is served after the current holder.
    #[test]
    fn a_passed_over_waiter_requeues_and_gets_the_lock() {
        let mut lock = TicketLock::new(Vec::new());
        let late = draw_by_hand(&mut lock.raw);
        let guard = lock.lock(); // withdraws `late`'s offer
        assert_eq!(lock.skips(), 1);
        std::thread::scope(|s| {
            s.spawn(|| {
                // The late thread resumes waiting for its old ticket.
                lock.raw.wait_for(late);
                TicketLockGuard { lock: &lock, _not_send: PhantomData }.push(9);
            });
            while lock.queue_len() < 2 {
                crate::loom::yield_now();
            }
            let mut guard = guard;
            guard.push(0);
        });
        lock.lock().push(1);
        assert_eq!(lock.into_inner(), [0, 9, 1]);
    }

    /// Past the counter range (module docs): a thread that slept inside
    /// `lock` while 2³¹ − 2 ticket numbers went by finds the grant just
    /// below its old, long passed-over ticket and takes itself for queued.
    /// Simulated here by a waiter whose ticket nobody has drawn yet, on an
    /// idle lock. It withdraws the two offers before its ticket (to tickets
    /// nobody drew, so `grant` runs ahead of `next_ticket`) and claims; the
    /// lock stays exclusive, `try_lock` fails until a `lock` call catches the
    /// counters up, and after that everything is back to normal.
    #[test]
    fn a_waiter_late_by_a_whole_lap_keeps_exclusion_and_lock_recovers() {
        let start = 100;
        let raw = starting_at(start);
        raw.wait_for(start + 2 * STEP);
        assert_eq!(raw.skips(), 2, "two offers to undrawn tickets withdrawn");
        assert!(raw.is_locked());
        assert!(!raw.try_lock(), "exclusion holds whatever the counters say");
        // SAFETY: [TICKET-I1] the late waiter's claim succeeded just above.
        unsafe { raw.unlock() };
        // `grant` is ahead of `next_ticket`: free, yet reported held.
        assert!(raw.is_locked() && !raw.try_lock(), "the documented degraded state");
        raw.lock(); // draws three tickets behind the grant, then the offered one
        // SAFETY: [TICKET-I1] taken just above by this thread.
        unsafe { raw.unlock() };
        assert!(!raw.is_locked());
        assert!(raw.try_lock(), "counters caught up: try_lock works again");
        // SAFETY: [TICKET-I1] taken by the successful `try_lock`.
        unsafe { raw.unlock() };
        assert_eq!(raw.queue_len(), 0);
    }

    /// Past the counter range two threads can hold the same ticket number
    /// (one drew it a lap earlier and slept). Both try to claim the one
    /// offer: exactly one enters, the other is then passed over, draws a
    /// fresh ticket and enters after it. Miri checks the plain counter for
    /// a data race, which two holders at once would be.
    #[test]
    fn two_holders_of_one_ticket_number_still_exclude() {
        let mut lock = TicketLock { raw: starting_at(40), data: UnsafeCell::new(0u64) };
        let shared = draw_by_hand(&mut lock.raw);
        let rounds = if cfg!(miri) { 3 } else { 1000 };
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    lock.raw.wait_for(shared);
                    let mut guard = TicketLockGuard { lock: &lock, _not_send: PhantomData };
                    *guard += 1;
                    drop(guard);
                    for _ in 0..rounds {
                        *lock.lock() += 1;
                    }
                });
            }
        });
        assert_eq!(lock.into_inner(), 2 + 2 * rounds);
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
