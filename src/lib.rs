//! Lock-free concurrency primitives whose every atomic ordering is proven.
//!
//! | primitive | progress | producers / consumers | bounded | allocates | `no_std` |
//! |---|---|---|---|---|---|
//! | [`Counter`] | wait-free add/swap (lock-free checked add) | any / any | — | no | yes |
//! | [`ShardedCounter`] | wait-free increment, lock-free `take` | any / any | cells < 2 × thread indices held at once | one cell per thread index | no (`std`) |
//! | [`spsc`] (`bounded`, `Queue`) | wait-free push/pop and batches; optional blocking | one / one | yes, any capacity ≥ 1 | one ring (`bounded`) or none (`Queue`) | yes |
//! | [`disruptor`] | waits only for a full/empty ring; lock-free claim; `Blocking` sleeps | one or many / stages (multicast, chains, work pools, pollers) | power-of-two ring | events made once, none per event | sequencers and ring yes; threads and waiting `std` |
//! | [`SpinLock`] | blocking (yields while held; spins without `std`); unfair | any / any | — | no | yes |
//! | [`TicketLock`] | blocking (spins, yields if the holder stalls); FIFO among running waiters, a descheduled one is passed over | any / any | — (FIFO needs < 2³⁰ threads in `lock` and none unscheduled there for 2³⁰ handoffs) | no | yes |
//! | [`MsQueue`] | lock-free push/pop (Michael–Scott), batch `push_all`/`pop_many`; epoch reclamation | any / any | no | one node per value, freed by crossbeam-epoch | no (`std`) |
//! | [`TreiberStack`] | lock-free push/pop/`take_all`; epoch reclamation | any / any | no | one node per value, freed by crossbeam-epoch | no (`std`) |
//!
//! # Examples
//!
//! A [`Counter`] that counts and a [`SpinLock`] that guards the data the
//! counting threads share:
//!
//! ```
//! use acqrel::{Counter, SpinLock};
//! use std::thread;
//!
//! let requests = Counter::new(0);
//! let slowest = SpinLock::new((0u64, "none"));
//! thread::scope(|s| {
//!     for (name, micros) in [("a", 120), ("b", 340), ("c", 90)] {
//!         let (requests, slowest) = (&requests, &slowest);
//!         s.spawn(move || {
//!             requests.increment(); // Relaxed: a statistic, it orders nothing
//!             let mut worst = slowest.lock(); // the lock orders the pair
//!             if micros > worst.0 {
//!                 *worst = (micros, name);
//!             }
//!         });
//!     }
//! });
//! assert_eq!(requests.get(), 3);
//! assert_eq!(slowest.into_inner(), (340, "b"));
//! ```
//!
//! # Memory model
//!
//! Each atomic operation in this crate carries an `// ORDERING: [TAG]` comment,
//! and each tag is an entry in `SAFETY.md`: the operation, its ordering, the
//! operation it pairs with, the happens-before edge that creates, a concrete
//! interleaving that goes wrong with the next weaker ordering, and the tests
//! (loom models among them) that fail when it is weakened. Every `unsafe`
//! block carries a `// SAFETY: [TAG]` comment pointing at an invariant in the
//! same file. A test (`tests/safety_refs.rs`) keeps the code and the ledger in
//! agreement.
//!
//! Where a type's users may rely on synchronisation (for example "a value
//! popped happens-after its push"), its docs have a `# Memory ordering`
//! section saying exactly what is and is not synchronised.
//!
//! # Features
//!
//! - `std` (default): everything. Without it the crate is `#![no_std]` and
//!   uses `alloc`; the table above says which primitives remain. The spin
//!   locks stay, but their waiters can no longer yield to a scheduler and
//!   only spin.
//! - `lock_api`: [`RawSpinLock`] and [`RawTicketLock`] implement traits of
//!   [lock_api](https://docs.rs/lock_api/0.4) 0.4, so its `Mutex` and guards
//!   work over them. The module `acqrel::lock_api` re-exports that lock_api
//!   with ready aliases (`SpinMutex<T>`, `TicketMutex<T>`, their guards and
//!   mapped guards): types named through it are always of the version acqrel
//!   implements, whichever lock_api the rest of your dependencies pull in.
//!   The traits each lock implements:
//!
//!   | trait | [`RawSpinLock`] | [`RawTicketLock`] |
//!   |---|---|---|
//!   | `RawMutex` | yes | yes |
//!   | `RawMutexFair` | no (no queue: nothing to be fair with) | yes (every unlock is fair) |
//!   | `RawMutexTimed` (with `std`) | yes | yes, without queueing (it retries `try_lock`) |
//! - `metrics` (implies `std`): [`Counter`] and [`ShardedCounter`] implement
//!   `CounterFn` of [metrics](https://docs.rs/metrics/0.24) 0.24, so either
//!   can back a `metrics::Counter` (`metrics::Counter::from_arc`) that a
//!   recorder hands out. `increment` adds; `absolute` raises the value to at
//!   least the one given (`Counter::fetch_max`, `ShardedCounter::raise_to`).
//!   `acqrel::metrics` re-exports the metrics version those impls are for, so
//!   a recorder written against it always matches.
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_debug_implementations)]

#[cfg(not(feature = "std"))]
extern crate alloc;

mod loom;
#[cfg(acqrel_mutate)]
mod mutate;
#[cfg(feature = "std")]
mod patience;

pub mod counter;
pub mod disruptor;
#[cfg(feature = "std")]
pub mod epoch;
#[cfg(all(feature = "lock_api", not(loom)))]
pub mod lock_api;
#[cfg(feature = "std")]
pub mod ms_queue;
#[cfg(feature = "std")]
mod recycle;
#[cfg(feature = "std")]
pub mod sharded_counter;
pub mod spin_lock;
pub mod spsc;
pub mod ticket_lock;
#[cfg(feature = "std")]
pub mod treiber_stack;

/// The [metrics](https://docs.rs/metrics/0.24) crate, in the version whose
/// `CounterFn` [`Counter`] and [`ShardedCounter`] implement (feature
/// `metrics`): use it instead of a `metrics` dependency of your own when its
/// major version might differ.
///
/// # Examples
///
/// ```
/// use acqrel::metrics::{Counter as MetricsCounter, CounterFn};
/// use std::sync::Arc;
///
/// let hits = Arc::new(acqrel::Counter::new(0));
/// let counter = MetricsCounter::from_arc(Arc::clone(&hits));
/// counter.increment(3);
/// hits.increment(1); // the same count, through the trait
/// assert_eq!(hits.get(), 4);
/// ```
#[cfg(feature = "metrics")]
pub use metrics;

// The proof ledger, SAFETY.md, as a page of the generated docs, so the tags
// the docs cite (`[SPSC-O1]` and the like) link to their entries. Docs only:
// its code blocks are not doc tests.
#[cfg(doc)]
#[doc = include_str!("../SAFETY.md")]
pub mod safety {}

pub use counter::{Counter, CounterOverflow};
#[cfg(feature = "std")]
pub use ms_queue::MsQueue;
#[cfg(feature = "std")]
pub use sharded_counter::{LocalCounter, ShardedCounter};
pub use spin_lock::{RawSpinLock, SpinLock, SpinLockGuard};
pub use ticket_lock::{RawTicketLock, TicketLock, TicketLockGuard};
#[cfg(feature = "std")]
pub use treiber_stack::TreiberStack;

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
