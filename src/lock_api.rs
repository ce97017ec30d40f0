//! [`lock_api`](https://docs.rs/lock_api/0.4) mutexes over this crate's raw
//! locks: ready type aliases, and the lock_api version they are built on
//! (feature `lock_api`).
//!
//! lock_api is the interface crate `parking_lot` and `spin` build their
//! mutexes on: a raw lock implements its [`RawMutex`] trait, and
//! [`Mutex<R, T>`](Mutex) adds the data, the guards (mapped guards, `bump`,
//! `unlock_fair`, timed locking) and `force_unlock`. The aliases here are
//! those mutexes over [`RawSpinLock`] and [`RawTicketLock`]:
//!
//! | alias | is |
//! |---|---|
//! | [`SpinMutex<T>`](SpinMutex) | `Mutex<RawSpinLock, T>` |
//! | [`SpinMutexGuard<'a, T>`](SpinMutexGuard) | `MutexGuard<'a, RawSpinLock, T>` |
//! | [`MappedSpinMutexGuard<'a, T>`](MappedSpinMutexGuard) | `MappedMutexGuard<'a, RawSpinLock, T>` |
//! | [`TicketMutex<T>`](TicketMutex) | `Mutex<RawTicketLock, T>` |
//! | [`TicketMutexGuard<'a, T>`](TicketMutexGuard) | `MutexGuard<'a, RawTicketLock, T>` |
//! | [`MappedTicketMutexGuard<'a, T>`](MappedTicketMutexGuard) | `MappedMutexGuard<'a, RawTicketLock, T>` |
//!
//! # Why the re-export
//!
//! acqrel implements the traits of lock_api **0.4**. A crate that depends on
//! lock_api itself may get another major version (`cargo add lock_api` picks
//! the newest), and then `lock_api::Mutex<RawSpinLock, T>` fails with "the
//! trait bound `RawSpinLock: RawMutex` is not satisfied" — an error that
//! does not say two versions of lock_api are involved. Everything lock_api
//! exports is re-exported here (`pub use lock_api::*`), so naming the types
//! and traits through `acqrel::lock_api` always gets the version acqrel
//! implements:
//!
//! ```
//! use acqrel::RawSpinLock;
//! use acqrel::lock_api::{Mutex, RawMutex, SpinMutex};
//!
//! // The alias and the spelled-out type are one type.
//! let mutex: Mutex<RawSpinLock, u32> = SpinMutex::new(1);
//! fn takes_a_raw_mutex<R: RawMutex>(_: &R) {}
//! takes_a_raw_mutex(&RawSpinLock::new());
//! assert_eq!(*mutex.lock(), 1);
//! ```
//!
//! # Which traits each lock implements
//!
//! | trait | [`RawSpinLock`] | [`RawTicketLock`] |
//! |---|---|---|
//! | [`RawMutex`] | yes | yes |
//! | [`RawMutexFair`] | no: it keeps no queue, so there is no fair unlock to give | yes: every unlock hands the lock on in drawing order, so `unlock_fair` is `unlock`; `bump` re-queues behind every waiter |
//! | [`RawMutexTimed`] (also needs `std`, for `std::time::Instant`) | yes: `lock`'s loop with a deadline | yes, but without queueing: it only retries `try_lock` |
//!
//! A ticket, once drawn, cannot be given back — the lock will be offered to
//! it — so `try_lock_for`/`try_lock_until` on the ticket lock never draw one.
//! They succeed only at a moment when nobody holds the lock *or waits for
//! it*, and under steady contention may time out although the lock changes
//! hands many times: a timed attempt does not queue and is not served in
//! FIFO order. (A timeout too long to represent as an `Instant` is no
//! deadline, and queues as `lock` does.) On both locks a deadline already
//! past still gets one attempt, and a timed wait burns CPU as `lock` does
//! (it yields, but never sleeps).
//!
//! lock_api's `arc_lock` guards (`ArcMutexGuard`) need lock_api's
//! `arc_lock` feature, which acqrel does not enable; a crate that enables it
//! on lock_api 0.4 gets them for these locks too.

#[doc(no_inline)]
pub use lock_api::*;

use crate::{RawSpinLock, RawTicketLock};

/// A [`Mutex`] over [`RawSpinLock`]: the unfair spin lock, with lock_api's
/// guards and (with `std`) timed locking.
///
/// [`SpinLock`](crate::SpinLock) is the same lock with this crate's own
/// guard; use this alias for what lock_api adds (mapped guards,
/// `try_lock_for`, `force_unlock`, code generic over `RawMutex`). The
/// [`spin_lock`](crate::spin_lock) module docs say when a spin lock is the
/// wrong tool.
///
/// # Memory ordering
///
/// As for [`SpinLock`](crate::SpinLock): every successful acquisition
/// (`lock`, `try_lock`, the timed ones) acquires ([SPIN-O1](crate::safety#SPIN-O1)) and every
/// unlock, a guard's drop included, releases ([SPIN-O2](crate::safety#SPIN-O2)), so everything a
/// holder did in its critical section happens-before the next holder's
/// acquisition returns. `is_locked` synchronises with nothing ([SPIN-O3](crate::safety#SPIN-O3)).
///
/// # Examples
///
/// ```
/// use acqrel::lock_api::SpinMutex;
/// use std::thread;
/// use std::time::Duration;
///
/// static TOTAL: SpinMutex<u64> = SpinMutex::new(0);
///
/// thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             for _ in 0..1000 {
///                 *TOTAL.lock() += 1;
///             }
///         });
///     }
/// });
/// assert_eq!(*TOTAL.lock(), 4000);
///
/// // Timed locking (with `std`): a held lock times out, a free one does not.
/// let guard = TOTAL.lock();
/// assert!(TOTAL.try_lock_for(Duration::from_millis(1)).is_none());
/// drop(guard);
/// assert!(TOTAL.try_lock_for(Duration::from_millis(1)).is_some());
/// ```
pub type SpinMutex<T> = Mutex<RawSpinLock, T>;

/// The guard of a [`SpinMutex`]: access to the data, and the lock released
/// when it is dropped.
///
/// Not `Send`, like [`SpinLockGuard`](crate::SpinLockGuard): the thread that
/// took the lock releases it. There is no `unlock_fair` or `bump`: the spin
/// lock keeps no queue to be fair to ([`RawSpinLock`] does not implement
/// [`RawMutexFair`]; use a [`TicketMutex`] for that).
///
/// ```compile_fail,E0599
/// use acqrel::lock_api::{SpinMutex, SpinMutexGuard};
///
/// let mutex = SpinMutex::new(0);
/// SpinMutexGuard::unlock_fair(mutex.lock());
/// ```
///
/// # Examples
///
/// A function that hands out the locked data names the guard type:
///
/// ```
/// use acqrel::lock_api::{SpinMutex, SpinMutexGuard};
///
/// struct Registry {
///     names: SpinMutex<Vec<String>>,
/// }
///
/// impl Registry {
///     fn names(&self) -> SpinMutexGuard<'_, Vec<String>> {
///         self.names.lock()
///     }
/// }
///
/// let registry = Registry { names: SpinMutex::new(Vec::new()) };
/// registry.names().push("a".to_owned());
/// let names = registry.names();
/// assert_eq!(*names, ["a"]);
/// assert!(registry.names.is_locked());
/// drop(names);
/// assert!(!registry.names.is_locked());
/// ```
pub type SpinMutexGuard<'a, T> = MutexGuard<'a, RawSpinLock, T>;

/// A [`SpinMutexGuard`] narrowed to a part of the data with
/// [`MutexGuard::map`]; the whole lock stays held until it is dropped.
///
/// # Examples
///
/// ```
/// use acqrel::lock_api::{MappedSpinMutexGuard, SpinMutex, SpinMutexGuard};
///
/// struct Stats {
///     hits: u64,
///     misses: u64,
/// }
///
/// fn hits(stats: &SpinMutex<Stats>) -> MappedSpinMutexGuard<'_, u64> {
///     SpinMutexGuard::map(stats.lock(), |s| &mut s.hits)
/// }
///
/// let stats = SpinMutex::new(Stats { hits: 0, misses: 0 });
/// *hits(&stats) += 2;
/// let h = hits(&stats);
/// assert!(stats.try_lock().is_none(), "the whole lock is held");
/// drop(h);
/// let s = stats.lock();
/// assert_eq!((s.hits, s.misses), (2, 0));
/// ```
pub type MappedSpinMutexGuard<'a, T> = MappedMutexGuard<'a, RawSpinLock, T>;

/// A [`Mutex`] over [`RawTicketLock`]: the FIFO-fair ticket lock, with
/// lock_api's guards, fair unlocking and (with `std`) timed locking.
///
/// [`TicketLock`](crate::TicketLock) is the same lock with this crate's own
/// guard. Timed locking on this lock never queues: it succeeds only when
/// nobody holds the lock or waits for it (the [module docs](self) say why).
///
/// # Memory ordering
///
/// As for [`TicketLock`](crate::TicketLock): every successful acquisition
/// (`lock`, `try_lock`, the timed ones) claims the lock with an `Acquire`
/// exchange ([TICKET-O1](crate::safety#TICKET-O1)) and every unlock (`unlock_fair` and `bump`
/// included, and a guard's drop) offers it on with a `Release` store
/// ([TICKET-O2](crate::safety#TICKET-O2)), so everything a holder did in its critical section
/// happens-before the next holder's acquisition returns. `is_locked`
/// synchronises with nothing ([TICKET-O4](crate::safety#TICKET-O4)).
///
/// # Examples
///
/// ```
/// use acqrel::lock_api::TicketMutex;
/// use std::thread;
/// use std::time::Duration;
///
/// let log = TicketMutex::new(Vec::new());
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
/// assert_eq!(log.lock().len(), 400);
///
/// let guard = log.lock();
/// assert!(log.try_lock_for(Duration::from_millis(1)).is_none());
/// drop(guard);
/// assert!(log.try_lock_for(Duration::from_millis(1)).is_some());
/// ```
pub type TicketMutex<T> = Mutex<RawTicketLock, T>;

/// The guard of a [`TicketMutex`]. Besides access to the data, it can
/// release the lock fairly ([`MutexGuard::unlock_fair`], here the same as
/// dropping it) and let every waiter go first ([`MutexGuard::bump`]).
///
/// # Examples
///
/// A long job that holds the lock lets queued threads through now and then:
/// `bump` hands the lock to the next waiter and queues behind all of them.
///
/// ```
/// use acqrel::lock_api::{TicketMutex, TicketMutexGuard};
/// use std::thread;
///
/// fn long_job(mut queue: TicketMutexGuard<'_, Vec<u32>>) {
///     for i in 0..100 {
///         queue.push(i);
///         if i % 10 == 9 {
///             TicketMutexGuard::bump(&mut queue);
///         }
///     }
///     TicketMutexGuard::unlock_fair(queue);
/// }
///
/// let queue = TicketMutex::new(Vec::new());
/// thread::scope(|s| {
///     s.spawn(|| long_job(queue.lock()));
///     s.spawn(|| queue.lock().push(1000));
/// });
/// assert_eq!(queue.lock().len(), 101);
/// ```
pub type TicketMutexGuard<'a, T> = MutexGuard<'a, RawTicketLock, T>;

/// A [`TicketMutexGuard`] narrowed to a part of the data with
/// [`MutexGuard::map`]; the whole lock stays held until it is dropped.
///
/// # Examples
///
/// ```
/// use acqrel::lock_api::{MappedTicketMutexGuard, TicketMutex, TicketMutexGuard};
///
/// let pair = TicketMutex::new((String::new(), 0u32));
/// let mut name: MappedTicketMutexGuard<'_, String> =
///     TicketMutexGuard::map(pair.lock(), |p| &mut p.0);
/// name.push_str("acqrel");
/// assert!(pair.is_locked());
/// MappedTicketMutexGuard::unlock_fair(name);
/// assert_eq!(pair.lock().0, "acqrel");
/// ```
pub type MappedTicketMutexGuard<'a, T> = MappedMutexGuard<'a, RawTicketLock, T>;
