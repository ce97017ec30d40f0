//! Lock-free concurrency primitives whose every atomic ordering is proven.
//!
//! | primitive | progress | producers / consumers | bounded | allocates | `no_std` |
//! |---|---|---|---|---|---|
//! | [`Counter`] | wait-free add/swap (lock-free checked add) | any / any | — | no | yes |
//! | [`ShardedCounter`] | wait-free increment, lock-free `take` | any / any | cells ≤ live threads | one cell per thread | no (`std`) |
//! | [`MsQueue`] | lock-free push/pop (Michael–Scott); epoch reclamation | any / any | no | one node per value, freed by crossbeam-epoch | no (`std`) |
//! | [`TreiberStack`] | lock-free push/pop/`take_all`; epoch reclamation | any / any | no | one node per value, freed by crossbeam-epoch | no (`std`) |
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
//!   uses `alloc`; the table above says which primitives remain.
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_debug_implementations)]

#[cfg(not(feature = "std"))]
extern crate alloc;

mod loom;
#[cfg(acqrel_mutate)]
mod mutate;

pub mod counter;
#[cfg(feature = "std")]
pub mod ms_queue;
#[cfg(feature = "std")]
pub mod sharded_counter;
#[cfg(feature = "std")]
pub mod treiber_stack;

pub use counter::{Counter, CounterOverflow};
#[cfg(feature = "std")]
pub use ms_queue::MsQueue;
#[cfg(feature = "std")]
pub use sharded_counter::{LocalCounter, ShardedCounter};
#[cfg(feature = "std")]
pub use treiber_stack::TreiberStack;

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
