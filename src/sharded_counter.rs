//! [`ShardedCounter`]: an increment-only counter whose increments scale with cores.
//!
//! # Design
//!
//! Every thread that counts gets its own cache-padded cell (a `u64`), found
//! through per-object thread-local storage (the `thread_local` crate). A cell
//! has exactly one writer at a time, its owner thread, so an increment needs
//! no read-modify-write instruction: the owner loads its cell and stores the
//! sum back, both `Relaxed` — on x86-64 and aarch64 an ordinary load and
//! store, with no bus lock and no cache line shared with another writer. A
//! read walks every cell and adds them up.
//!
//! `take` (read-and-reset) never writes a cell — a cell write by anyone but
//! its owner would race with the owner's non-atomic update. Instead the
//! counter keeps a `taken` baseline: `take` sums the cells and moves the
//! baseline up to that sum with one compare-exchange, returning the
//! difference. The value of the counter is `sum(cells) - taken`.
//!
//! | state        | written by                   | read by              |
//! |--------------|------------------------------|----------------------|
//! | cell *i*     | its owner thread only ([SHC-I1]) | `sum`, `take`     |
//! | `taken`      | `take` (compare-exchange)    | `sum`, `take`        |
//!
//! # Threads coming and going
//!
//! `thread_local` recycles the index of an exited thread for the next thread
//! it sees, and a cell belongs to an index: the cell outlives its thread
//! (its count stays counted) and passes to a later thread, which continues
//! adding to it. Memory is therefore bounded by the largest number of threads
//! that counted *at the same time*, not by how many ever did. Cells are freed
//! when the counter is dropped.
//!
//! # Progress
//!
//! Increments are wait-free (after a thread's first increment on a counter,
//! which allocates its cell). `sum` is wait-free and linear in the number of
//! cells. `take` is lock-free: it retries only when another `take` moved the
//! baseline.
//!
//! # Memory ordering
//!
//! Counting is `Relaxed` ([SHC-O1], [SHC-O2]); the counter publishes no other
//! memory. The baseline is read with `Acquire` and moved with a `Release`
//! compare-exchange ([SHC-O3], [SHC-O4]) so that a reader never sees a cell
//! older than the one a `take` already accounted for — without that a
//! concurrent `sum` could go "below zero" and wrap.
//!
//! Requires the `std` feature (thread identity comes from the OS).

use crate::loom::ThreadLocal;
use crate::loom::atomic::AtomicU64;
use crate::loom::atomic::Ordering::{Acquire, Relaxed, Release};
use core::fmt;
use core::marker::PhantomData;
use crossbeam_utils::CachePadded;

/// An increment-only `u64` counter with one cache-padded cell per thread.
///
/// Increments from different threads touch different cache lines, so they
/// scale with cores; reads sum the cells.
///
/// # Examples
///
/// ```
/// use acqrel::ShardedCounter;
/// use std::thread;
///
/// let packets = ShardedCounter::new();
/// thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             // The fastest path: a handle to this thread's own cell.
///             let local = packets.local();
///             for _ in 0..1000 {
///                 local.inc();
///             }
///         });
///     }
/// });
/// assert_eq!(packets.sum(), 4000);
/// ```
pub struct ShardedCounter {
    /// One cell per thread that has counted (recycled across exited threads).
    cells: ThreadLocal<CachePadded<AtomicU64>>,
    /// The part of `sum(cells)` already handed out by [`ShardedCounter::take`].
    taken: CachePadded<AtomicU64>,
}

impl ShardedCounter {
    /// Creates a counter at zero. No cell is allocated until a thread counts.
    pub fn new() -> Self {
        Self { cells: ThreadLocal::new(), taken: CachePadded::new(AtomicU64::new(0)) }
    }

    /// The calling thread's cell, allocated on its first use.
    #[inline]
    fn cell(&self) -> &AtomicU64 {
        self.cells.get_or(|| CachePadded::new(AtomicU64::new(0)))
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n` (wrapping at `u64::MAX`).
    #[inline]
    pub fn add(&self, n: u64) {
        add_to_own_cell(self.cell(), n);
    }

    /// A handle to the calling thread's cell: the fastest way to count many
    /// times from one thread (no per-increment thread-local lookup).
    ///
    /// The handle is neither `Send` nor `Sync`, because the cell's
    /// single-writer rule ([SHC-I1]) ties it to this thread:
    ///
    /// ```compile_fail
    /// let counter = acqrel::ShardedCounter::new();
    /// let local = counter.local();
    /// std::thread::scope(|s| {
    ///     s.spawn(move || drop(local)); // error: `LocalCounter` is not `Send`
    /// });
    /// ```
    pub fn local(&self) -> LocalCounter<'_> {
        LocalCounter { cell: self.cell(), _not_send: PhantomData }
    }

    /// Reads the value: the sum of the cells minus what `take` handed out.
    ///
    /// Every increment that happens-before this call is included; an
    /// increment running concurrently may or may not be. The result is not a
    /// snapshot of one instant (cells are read one after another), but it
    /// never counts an increment twice, never includes one that a completed
    /// `take` already returned, and never goes below zero.
    pub fn sum(&self) -> u64 {
        // ORDERING: [SHC-O3] Acquire — pairs with [SHC-O4]: the cell reads behind this baseline happen-before our cell reads.
        let taken = self.taken.load(Acquire);
        self.sum_cells().wrapping_sub(taken)
    }

    /// Reads the value and resets it to zero, losing no increment: each
    /// increment is returned by exactly one `take`, or is still in the counter.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::ShardedCounter;
    ///
    /// let c = ShardedCounter::new();
    /// c.add(7);
    /// assert_eq!(c.take(), 7);
    /// c.inc();
    /// assert_eq!(c.take(), 1);
    /// assert_eq!(c.sum(), 0);
    /// ```
    pub fn take(&self) -> u64 {
        // ORDERING: [SHC-O3] Acquire — pairs with [SHC-O4]: the cell reads behind this baseline happen-before our cell reads.
        let mut taken = self.taken.load(Acquire);
        loop {
            let total = self.sum_cells();
            // ORDERING: [SHC-O4] Release on success — pairs with [SHC-O3]: publishes the cell reads behind `total`;
            // Acquire on failure — the value read becomes our baseline, so its cell reads must happen-before ours.
            match self.taken.compare_exchange(taken, total, Release, Acquire) {
                Ok(_) => return total.wrapping_sub(taken),
                Err(actual) => taken = actual,
            }
        }
    }

    /// How many cells the counter holds: the largest number of threads that
    /// have counted on it at the same time (cells of exited threads are reused).
    pub fn shards(&self) -> usize {
        self.cells.iter().count()
    }

    fn sum_cells(&self) -> u64 {
        self.cells.iter().fold(0u64, |sum, cell| {
            // ORDERING: [SHC-O2] Relaxed — a cell is read for its value only; coherence keeps each cell's reads monotonic.
            sum.wrapping_add(cell.load(Relaxed))
        })
    }
}

/// The owner's update of its cell: a plain load and store, no read-modify-write.
#[inline(always)]
fn add_to_own_cell(cell: &AtomicU64, n: u64) {
    // ORDERING: [SHC-O1] Relaxed — the owner is the cell's only writer ([SHC-I1]), so it reads its own last store.
    let current = cell.load(Relaxed);
    // ORDERING: [SHC-O1] Relaxed — readers need the value only; nothing else is published.
    cell.store(current.wrapping_add(n), Relaxed);
}

impl Default for ShardedCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ShardedCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardedCounter")
            .field("sum", &self.sum())
            .field("shards", &self.shards())
            .finish()
    }
}

/// The calling thread's cell of a [`ShardedCounter`], from
/// [`ShardedCounter::local`].
///
/// Increments through the handle are a load and a store on a cache line no
/// other thread writes. The handle cannot leave its thread.
pub struct LocalCounter<'a> {
    cell: &'a AtomicU64,
    /// `*const ()` makes the handle `!Send + !Sync`: only the owner may write the cell.
    _not_send: PhantomData<*const ()>,
}

impl LocalCounter<'_> {
    /// Adds one.
    #[inline(always)]
    pub fn inc(&self) {
        add_to_own_cell(self.cell, 1);
    }

    /// Adds `n` (wrapping).
    #[inline(always)]
    pub fn add(&self, n: u64) {
        add_to_own_cell(self.cell, n);
    }
}

impl fmt::Debug for LocalCounter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalCounter").finish_non_exhaustive()
    }
}
