//! [`ShardedCounter`]: an increment-only counter whose increments scale with cores.
//!
//! # Design
//!
//! Every thread that counts owns a cache-padded cell (a `u64`) of each
//! counter it counts on. A cell has exactly one writer at a time, its owner
//! thread, so an increment needs no read-modify-write instruction: the owner
//! loads its cell and stores the sum back, both `Relaxed` — on x86-64 and
//! aarch64 an ordinary load and store, with no bus lock and no cache line
//! shared with another writer. A read walks every cell and adds them up.
//!
//! `take` (read-and-reset) never writes a cell — a cell write by anyone but
//! its owner would race with the owner's non-atomic update. Instead the
//! counter keeps a `taken` baseline: `take` sums the cells and moves the
//! baseline up to that sum with one compare-exchange, returning the
//! difference. The value of the counter is `sum(cells) + spill - taken`.
//! [`ShardedCounter::raise_to`] moves the same baseline down, with the same
//! compare-exchange, to raise the value to at least a given total.
//!
//! | state                | written by                                        | read by       |
//! |----------------------|---------------------------------------------------|---------------|
//! | cell *i*             | the thread holding index *i* only ([SHC-I1](crate::safety#SHC-I1))      | `sum`, `take` |
//! | bucket pointer *b*   | the first thread to count with an index in *b* (compare-exchange, [SHC-O5](crate::safety#SHC-O5)) | everyone |
//! | scan limit           | raised (`fetch_max`) before a bucket is published ([SHC-O8](crate::safety#SHC-O8)) | `sum`, `take`, `shards` |
//! | `spill`              | threads that have exited (`fetch_add`, [SHC-O6](crate::safety#SHC-O6))  | `sum`, `take` |
//! | `taken`              | `take` (raised), `raise_to` (lowered); compare-exchange ([SHC-O4](crate::safety#SHC-O4)) | `sum`, `take`, `raise_to` |
//! | `id`                 | installed once, on the first count (compare-exchange from `NO_ID`, [SHC-O9](crate::safety#SHC-O9)) | `inc`, `add` (the cache key) |
//!
//! # Thread indices
//!
//! Cells are found by a small index per thread, shared by all counters: a
//! process-wide pool (a mutex around a free list) hands out the lowest free
//! index when a thread first counts or first calls [`ShardedCounter::local`],
//! and takes it back after the thread has exited. A counter keeps its cells
//! in buckets: bucket *b* holds the `2^b` cells of indices `2^b - 1 ..=
//! 2^(b+1) - 2` and is allocated, zeroed, when the first of those indices
//! counts on the counter, then published with a compare-exchange. Cells never
//! move and are freed only when the counter is dropped.
//!
//! A thread's index is held by *leases*: one held by a per-thread guard (a
//! thread-local with a destructor) and one by each [`LocalCounter`] of the
//! thread. The index goes back to the pool when the last lease is dropped,
//! and the pool's mutex orders everything the old holder wrote to its cells
//! before everything the next holder does ([SHC-I1](crate::safety#SHC-I1)). A one-entry per-thread
//! cache (counter, cell) in front of the lookup makes `inc` one thread-local
//! read, a compare, a load and a store ([SHC-I2](crate::safety#SHC-I2)).
//!
//! # Threads coming and going
//!
//! When a thread exits, its guard's destructor empties the cache and drops
//! the guard's lease; once the thread's last `LocalCounter` is gone too, the
//! index is returned, and a later thread that receives it takes over its
//! cells, counts included, and keeps adding to them. Thread-local destructors
//! of the exiting thread that run after the guard's (those registered before
//! the thread first counted) may still count: `inc` and `add` then add to a
//! per-counter `spill` cell with an atomic `fetch_add`, and `local` hands out
//! a handle holding a lease on an index of its own. No increment is lost
//! ([SHC-S1](crate::safety#SHC-S1), [SHC-S2](crate::safety#SHC-S2)).
//!
//! Memory follows the thread indices, not the number of threads that ever
//! counted. Indices are handed out lowest first, so when index `m` is handed
//! out, at least `m + 1` indices are held at once; an index is held by a thread from
//! its first count to its exit, and after that for as long as one of its
//! `LocalCounter`s lives (forever if one is leaked with `mem::forget`). A
//! counter on which indices up to `m` have counted holds at most `2m + 1`
//! cells (every bucket up to `m`'s), fewer than twice the largest number of
//! indices held at the same time in the process — by threads counting on any
//! counter, not only this one. Each cell is a `CachePadded<u64>` (128 bytes
//! on x86-64 and aarch64); the counter itself is an array of `usize::BITS`
//! bucket pointers, a scan limit and two more padded cells (`spill`,
//! `taken`).
//! [`ShardedCounter::shards`] returns the number of cells.
//!
//! # Progress
//!
//! Increments are wait-free once the thread has an index and the counter a
//! bucket for it; before that, a thread's first count takes the pool's
//! mutex (once per thread, not per counter), and its first count on a
//! counter may allocate a bucket (lock-free publication). Increments from
//! thread-local destructors after the thread's guard was dropped are one
//! `fetch_add` each. `sum` is wait-free and linear in the number of cells;
//! `take` is lock-free: it retries only when another `take` moved the
//! baseline. Dropping a thread's last lease takes the pool's mutex.
//!
//! # Memory ordering
//!
//! Counting is `Relaxed` ([SHC-O1](crate::safety#SHC-O1), [SHC-O2](crate::safety#SHC-O2), [SHC-O6](crate::safety#SHC-O6)); the counter
//! publishes no other memory. The baseline is read with `Acquire` and moved
//! with a `Release` compare-exchange ([SHC-O3](crate::safety#SHC-O3), [SHC-O4](crate::safety#SHC-O4)) so that a reader
//! never sees a cell older than the one a `take` already accounted for —
//! without that a concurrent `sum` could go "below zero" and wrap. Buckets
//! are published `Release` and read `Acquire` ([SHC-O5](crate::safety#SHC-O5)); readers scan only
//! below a limit raised before each publication ([SHC-O8](crate::safety#SHC-O8)). The hand-over of
//! an index from one thread to the next goes through the pool's mutex. The
//! cache is keyed by the counter's id, which the counter's first count takes
//! from a process-wide source that never wraps ([SHC-O7](crate::safety#SHC-O7)) and installs with a
//! `Relaxed` compare-exchange ([SHC-O9](crate::safety#SHC-O9)): the id names the counter and
//! publishes nothing, so `new` is a `const fn` and a counter can be a
//! `static`.
//!
//! Requires the `std` feature (thread-locals and a mutex).

use crate::loom::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::loom::atomic::{AtomicPtr, AtomicU64, AtomicUsize};
use core::fmt;
use core::ptr;
use crossbeam_utils::CachePadded;
use std::rc::Rc;

/// A cell: one thread index's share of a counter.
type Cell = CachePadded<AtomicU64>;

/// Bucket `b` holds the `2^b` cells of thread indices `2^b - 1 ..= 2^(b+1) - 2`:
/// enough buckets for every index a `usize` can hold.
const BUCKETS: usize = usize::BITS as usize;

/// The bucket of thread index `index`, and the cell's position in it.
#[inline]
fn locate(index: usize) -> (usize, usize) {
    // `index + 1` cannot overflow: the pool hands out index `m` only while
    // indices `0..m` are all held, each by a lease (an allocation, live or
    // leaked), so `m` is below the number of allocations that fit in memory.
    let bucket = (index + 1).ilog2() as usize;
    (bucket, index + 1 - (1 << bucket))
}

/// An increment-only `u64` counter with one cache-padded cell per thread.
///
/// Increments from different threads touch different cache lines, so they
/// scale with cores; reads sum the cells. See the [module
/// docs](crate::sharded_counter) for how threads find their cells and what
/// happens when they exit.
///
/// # Memory ordering
///
/// Counting is `Relaxed` ([SHC-O1](crate::safety#SHC-O1)) and publishes no other memory: a
/// [`sum`](ShardedCounter::sum) includes every increment that happens-before
/// it, but reaching a value says nothing about what the counting threads
/// wrote elsewhere. Unlike [`Counter`](crate::Counter) there is no
/// release/acquire pair for completion counting; use a `Counter` for that.
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
    /// Bucket `b`: null, or `2^b` cells ([SHC-I3](crate::safety#SHC-I3)).
    buckets: [AtomicPtr<Cell>; BUCKETS],
    /// One more than the highest bucket allocated (or being allocated):
    /// `sum`, `take` and `shards` look at the buckets below it only ([SHC-O8](crate::safety#SHC-O8)).
    scan_limit: AtomicUsize,
    /// Process-unique, never reused: the key of the per-thread cache
    /// ([SHC-I2](crate::safety#SHC-I2)). `NO_ID` until the counter's first count installs one
    /// ([SHC-O9](crate::safety#SHC-O9)), so that `new` can be a `const fn`.
    id: AtomicU64,
    /// What threads added at exit, after their guard was dropped ([SHC-S1](crate::safety#SHC-S1)).
    spill: CachePadded<AtomicU64>,
    /// The part of `sum(cells) + spill` already handed out by [`ShardedCounter::take`].
    taken: CachePadded<AtomicU64>,
}

impl ShardedCounter {
    /// Creates a counter at zero. No cell is allocated until a thread counts.
    ///
    /// A `const fn`: a counter can be a `static`. Nothing is set up until the
    /// first count, which also gives the counter its process-unique id.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::ShardedCounter;
    ///
    /// static REQUESTS: ShardedCounter = ShardedCounter::new();
    ///
    /// std::thread::scope(|s| {
    ///     for _ in 0..2 {
    ///         s.spawn(|| REQUESTS.inc());
    ///     }
    /// });
    /// assert_eq!(REQUESTS.sum(), 2);
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            buckets: [const { AtomicPtr::new(ptr::null_mut()) }; BUCKETS],
            scan_limit: AtomicUsize::new(0),
            id: AtomicU64::new(registry::NO_ID),
            spill: CachePadded::new(AtomicU64::new(0)),
            taken: CachePadded::new(AtomicU64::new(0)),
        }
    }

    /// Creates a counter at zero (loom's atomics cannot be made in a `const fn`).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = acqrel::ShardedCounter::new();
    /// assert_eq!(c.sum(), 0);
    /// ```
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            buckets: core::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            scan_limit: AtomicUsize::new(0),
            id: AtomicU64::new(registry::NO_ID),
            spill: CachePadded::new(AtomicU64::new(0)),
            taken: CachePadded::new(AtomicU64::new(0)),
        }
    }

    /// The counter's id, installed by the first thread to ask; `None` only if
    /// the process has used up every id, and then the counter is never cached.
    #[cold]
    fn id(&self) -> Option<u64> {
        // ORDERING: [SHC-O9] Relaxed — the id names the counter and publishes no memory.
        let id = self.id.load(Relaxed);
        if id != registry::NO_ID {
            return Some(id);
        }
        let fresh = registry::new_id()?;
        // SAFE-CODE: [SHC-S4] the id is installed once: a thread that loses the race takes the
        // winner's, and its own fresh id is never used by anyone.
        // ORDERING: [SHC-O9] Relaxed/Relaxed — only one exchange from `NO_ID` can succeed, at any ordering; the id publishes no memory.
        match self.id.compare_exchange(registry::NO_ID, fresh, Relaxed, Relaxed) {
            Ok(_) => Some(fresh),
            Err(winner) => Some(winner),
        }
    }

    /// Adds one.
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([SHC-O1](crate::safety#SHC-O1); at thread exit [SHC-O6](crate::safety#SHC-O6)): the increment is never
    /// lost, but it orders no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let hits = acqrel::ShardedCounter::new();
    /// hits.inc();
    /// assert_eq!(hits.sum(), 1);
    /// ```
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n` (wrapping at `u64::MAX`).
    ///
    /// Called at thread exit from a thread-local destructor that runs after
    /// this crate's own per-thread state was dropped (one registered before
    /// the thread first counted), it adds to the counter's shared `spill`
    /// cell with an atomic `fetch_add` instead of to the thread's cell: the
    /// thread's index may already be another thread's. The increment counts
    /// all the same.
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([SHC-O1](crate::safety#SHC-O1); at thread exit [SHC-O6](crate::safety#SHC-O6)): the addition is never
    /// lost, but it orders no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let bytes = acqrel::ShardedCounter::new();
    /// bytes.add(1500);
    /// bytes.add(40);
    /// assert_eq!(bytes.sum(), 1540);
    /// ```
    #[inline]
    pub fn add(&self, n: u64) {
        // ORDERING: [SHC-O9] Relaxed — the id names the counter and publishes no memory; `NO_ID` never hits.
        match registry::cached(self.id.load(Relaxed)) {
            // SAFETY: [SHC-I2] a cache hit is this counter's cell of the index this thread holds; `&self` keeps it alive.
            Some(cell) => add_to_own_cell(unsafe { &*cell }, n),
            None => self.add_slow(n),
        }
    }

    /// `add` without a cache hit: find (and cache) the thread's cell, or spill.
    #[cold]
    #[inline(never)]
    fn add_slow(&self, n: u64) {
        let owned = registry::with_index(|index| {
            let cell = self.cell(index);
            if let Some(id) = self.id() {
                registry::cache(id, cell);
            }
            add_to_own_cell(cell, n);
        });
        if owned.is_none() {
            // SAFE-CODE: [SHC-S1] the thread's guard is gone (thread exit): its index may already be
            // another thread's, so count where many writers may add.
            // ORDERING: [SHC-O6] Relaxed — an atomic read-modify-write loses nothing at any ordering; nothing else is published.
            self.spill.fetch_add(n, Relaxed);
        }
    }

    /// A handle to the calling thread's cell: the fastest way to count many
    /// times from one thread (no per-increment thread-local lookup).
    ///
    /// The handle holds a lease on the thread's index: the index, and with it
    /// the cell, is not handed to another thread while the handle lives, even
    /// if the thread exits first (a handle kept in a thread-local and used
    /// from its destructor). Leaking the handle with `mem::forget` leaks the
    /// index: the cell is never reused, and nothing is lost. Called at thread
    /// exit, after this crate's own per-thread state was dropped (from a
    /// thread-local destructor), it leases a fresh index for the handle
    /// alone, returned when the handle is dropped.
    ///
    /// The handle is neither `Send` nor `Sync`, because the cell's
    /// single-writer rule ([SHC-I1](crate::safety#SHC-I1)) ties it to this thread:
    ///
    /// ```compile_fail
    /// let counter = acqrel::ShardedCounter::new();
    /// let local = counter.local();
    /// std::thread::scope(|s| {
    ///     s.spawn(move || drop(local)); // error: `LocalCounter` is not `Send`
    /// });
    /// ```
    ///
    /// # Examples
    ///
    /// ```
    /// let bytes = acqrel::ShardedCounter::new();
    /// let local = bytes.local();
    /// for chunk in [512, 512, 100] {
    ///     local.add(chunk);
    /// }
    /// assert_eq!(bytes.sum(), 1124);
    /// ```
    pub fn local(&self) -> LocalCounter<'_> {
        let lease = registry::lease();
        LocalCounter { cell: self.cell(lease.index()), lease }
    }

    /// Reads the value: the sum of the cells (and of `spill`, what threads
    /// added at exit) minus what `take` handed out.
    ///
    /// Every increment that happens-before this call is included; an
    /// increment running concurrently may or may not be. The result is not a
    /// snapshot of one instant (cells are read one after another), but it
    /// never counts an increment twice, never includes one that a completed
    /// `take` already returned, and never goes below zero.
    ///
    /// # Memory ordering
    ///
    /// The cells are read `Relaxed` ([SHC-O2](crate::safety#SHC-O2)), so every increment that
    /// happens-before the call is seen (for example those of a joined
    /// thread), and the value read says nothing about other memory the
    /// counting threads wrote. The `take` baseline is read `Acquire`
    /// ([SHC-O3](crate::safety#SHC-O3), paired with [SHC-O4](crate::safety#SHC-O4)) only so that the cells read after it
    /// are no older than those the `take` counted: that is what keeps the
    /// result from going below zero. It is the counter's own bookkeeping, not
    /// a way to publish data.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::ShardedCounter;
    /// use std::thread;
    ///
    /// let c = ShardedCounter::new();
    /// thread::scope(|s| {
    ///     s.spawn(|| c.add(2));
    ///     s.spawn(|| c.add(3));
    /// });
    /// assert_eq!(c.sum(), 5); // both threads were joined
    /// ```
    pub fn sum(&self) -> u64 {
        // ORDERING: [SHC-O3] Acquire — pairs with [SHC-O4]: the cell reads behind this baseline happen-before our cell reads.
        let taken = self.taken.load(Acquire);
        self.sum_cells().wrapping_sub(taken)
    }

    /// Reads the value and resets it to zero, losing no increment: each
    /// increment is returned by exactly one `take`, or is still in the counter.
    ///
    /// # Memory ordering
    ///
    /// Like [`sum`](ShardedCounter::sum), it sees every increment that
    /// happens-before it and orders no other memory. The baseline moves with
    /// a `Release`/`Acquire` compare-exchange ([SHC-O4](crate::safety#SHC-O4)) read back `Acquire`
    /// by later calls ([SHC-O3](crate::safety#SHC-O3)), so that racing `take`s hand out each
    /// increment exactly once and a later `sum` never goes below zero.
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

    /// Raises the value to at least `value` and returns how much it added:
    /// leaves it (and returns 0) if it is already that high, and otherwise
    /// adds the difference, in one atomic step against
    /// concurrent `take`s and `raise_to`s (both only ever move the baseline
    /// with a compare-exchange). Increments running concurrently land on top.
    ///
    /// This is how a counter follows an external total that only grows and
    /// that several threads report, possibly out of order: a report older
    /// than the value already reached changes nothing. It is what the
    /// `metrics` feature's `CounterFn::absolute` does.
    ///
    /// Like `sum`, it compares `value` with a sum of cells read one after
    /// another: an increment running concurrently may or may not count
    /// towards `value`; either way the value afterwards is at least `value`,
    /// and no increment is lost.
    ///
    /// # Memory ordering
    ///
    /// As for [`take`](ShardedCounter::take): the baseline moves with the same
    /// `Release`/`Acquire` compare-exchange ([SHC-O3](crate::safety#SHC-O3), [SHC-O4](crate::safety#SHC-O4)), so a `sum`
    /// that reads the lowered baseline also sees the cells the raise counted,
    /// and never reports a value the counter did not hold. No other memory is
    /// ordered.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::ShardedCounter;
    ///
    /// let bytes = ShardedCounter::new();
    /// assert_eq!(bytes.raise_to(100), 100); // the external total was 100
    /// assert_eq!(bytes.raise_to(80), 0);    // a late, older report: no change
    /// assert_eq!(bytes.sum(), 100);
    /// bytes.add(5);
    /// assert_eq!(bytes.take(), 105);
    /// ```
    pub fn raise_to(&self, value: u64) -> u64 {
        // ORDERING: [SHC-O3] Acquire — pairs with [SHC-O4]: the cell reads behind this baseline happen-before our cell reads.
        let mut taken = self.taken.load(Acquire);
        loop {
            let total = self.sum_cells();
            let current = total.wrapping_sub(taken);
            if current >= value {
                return 0;
            }
            // The baseline moves down, so that `total - baseline == value`.
            // ORDERING: [SHC-O4] Release on success — pairs with [SHC-O3]: publishes the cell reads behind `total`;
            // Acquire on failure — the value read becomes our baseline, so its cell reads must happen-before ours.
            match self.taken.compare_exchange(taken, total.wrapping_sub(value), Release, Acquire) {
                Ok(_) => return value - current,
                Err(actual) => taken = actual,
            }
        }
    }

    /// How many cells the counter has allocated: every cell of every bucket
    /// in which a thread found its cell (by counting or by [`local`]), used
    /// or not.
    ///
    /// [`local`]: ShardedCounter::local
    ///
    /// It follows the largest thread index that has counted on this counter
    /// (at most `2m + 1` cells for index `m`), not the number of threads that
    /// counted; the [module docs](crate::sharded_counter) bound it by the
    /// number of indices held at once. The shared `spill` cell is not
    /// included.
    ///
    /// # Memory ordering
    ///
    /// A snapshot ([SHC-O8](crate::safety#SHC-O8), [SHC-O5](crate::safety#SHC-O5)): buckets allocated by calls that
    /// happen-before this one are counted, one being allocated concurrently
    /// may not be; it orders no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = acqrel::ShardedCounter::new();
    /// assert_eq!(c.shards(), 0); // nothing allocated before the first count
    /// c.inc();
    /// assert!(c.shards() >= 1);
    /// ```
    pub fn shards(&self) -> usize {
        // ORDERING: [SHC-O8] Relaxed — an upper bound of the buckets to look at; no memory is read through it.
        let scan_limit = self.scan_limit.load(Relaxed);
        self.buckets
            .iter()
            .enumerate()
            .take(scan_limit)
            .filter(|(_, cells)| {
                // ORDERING: [SHC-O5] Relaxed — only tests for null; the cells are not read.
                !cells.load(Relaxed).is_null()
            })
            .map(|(bucket, _)| 1usize << bucket)
            .sum()
    }

    /// This counter's cell for thread index `index`, allocating its bucket if
    /// no thread has counted with an index of that bucket yet.
    #[inline]
    fn cell(&self, index: usize) -> &AtomicU64 {
        let (bucket, at) = locate(index);
        // ORDERING: [SHC-O5] Acquire — pairs with the publishing Release: the bucket's zeroed cells are visible.
        let mut cells = self.buckets[bucket].load(Acquire);
        if cells.is_null() {
            cells = self.allocate(bucket);
        }
        // SAFETY: [SHC-I3] a published bucket `b` is `2^b` initialised cells that live as long as
        // `self`, and `at < 2^b` (`locate`).
        unsafe { &*cells.add(at) }
    }

    /// Allocates bucket `bucket` and publishes it, or returns the bucket
    /// another thread published first.
    #[cold]
    #[inline(never)]
    fn allocate(&self, bucket: usize) -> *mut Cell {
        let fresh: Box<[Cell]> =
            (0..1usize << bucket).map(|_| CachePadded::new(AtomicU64::new(0))).collect();
        let fresh = Box::into_raw(fresh).cast::<Cell>();
        // Raise the scan limit before publishing: whoever finds the bucket (and
        // whatever happens after that) then finds the limit raised too.
        // ORDERING: [SHC-O8] Relaxed — ordered before the publishing Release below, which carries it to every finder.
        self.scan_limit.fetch_max(bucket + 1, Relaxed);
        // ORDERING: [SHC-O5] Release on success — publishes the zeroed cells to every Acquire load of the pointer;
        // Acquire on failure — pairs with the winner's Release: its cells are initialised before we use them.
        match self.buckets[bucket].compare_exchange(ptr::null_mut(), fresh, Release, Acquire) {
            Ok(_) => fresh,
            Err(winner) => {
                // SAFETY: [SHC-I3] `fresh` is the `2^bucket`-cell box made above, never published.
                drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, 1 << bucket)) });
                winner
            }
        }
    }

    /// The sum of every allocated cell and of `spill` (wrapping).
    fn sum_cells(&self) -> u64 {
        // ORDERING: [SHC-O2] Relaxed — read for its value only; coherence keeps reads of it monotonic.
        let mut sum = self.spill.load(Relaxed);
        // ORDERING: [SHC-O8] Relaxed — raised before each bucket is published ([SHC-O5]), so every bucket
        // published before this call (happens-before) is below the value read.
        let scan_limit = self.scan_limit.load(Relaxed);
        for (bucket, cells) in self.buckets.iter().take(scan_limit).enumerate() {
            // ORDERING: [SHC-O5] Acquire — pairs with the publishing Release: the bucket's zeroed cells are visible.
            let cells = cells.load(Acquire);
            if cells.is_null() {
                continue;
            }
            // SAFETY: [SHC-I3] a published bucket `b` is `2^b` initialised cells that live as long as `self`.
            let cells = unsafe { core::slice::from_raw_parts(cells, 1 << bucket) };
            for cell in cells {
                // ORDERING: [SHC-O2] Relaxed — a cell is read for its value only; coherence keeps each cell's reads monotonic.
                sum = sum.wrapping_add(cell.load(Relaxed));
            }
        }
        sum
    }
}

/// The owner's update of its cell: a plain load and store, no read-modify-write.
#[inline(always)]
fn add_to_own_cell(cell: &AtomicU64, n: u64) {
    // ORDERING: [SHC-O1] Relaxed — the owner is the cell's only writer ([SHC-I1]), so it reads its own last store.
    let current = cell.load(Relaxed);
    // SAFE-CODE: [SHC-S5] any `n`: the cell wraps, as documented.
    // ORDERING: [SHC-O1] Relaxed — readers need the value only; nothing else is published.
    cell.store(current.wrapping_add(n), Relaxed);
}

impl Drop for ShardedCounter {
    fn drop(&mut self) {
        for (bucket, cells) in self.buckets.iter_mut().enumerate() {
            let cells = cells.with_mut(|cells| *cells);
            if !cells.is_null() {
                // SAFETY: [SHC-I3] a published bucket is a `2^bucket`-cell box owned by the counter;
                // `&mut self` excludes every other access, and it is freed once, here.
                drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(cells, 1 << bucket)) });
            }
        }
    }
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

/// With the `metrics` feature, a `ShardedCounter` can back a
/// [`metrics::Counter`]: `increment` is [`ShardedCounter::add`], and
/// `absolute` ("at least this much") is [`ShardedCounter::raise_to`], so a
/// late report of an older, smaller total changes nothing.
///
/// # Memory ordering
///
/// As for those two methods: `increment` is `Relaxed` ([SHC-O1](crate::safety#SHC-O1)), and
/// neither orders any memory but the counter's own.
///
/// # Examples
///
/// ```
/// use acqrel::ShardedCounter;
/// use std::sync::Arc;
///
/// let bytes = Arc::new(ShardedCounter::new());
/// let handle = metrics::Counter::from_arc(Arc::clone(&bytes));
/// handle.increment(512);
/// handle.absolute(2048);
/// handle.absolute(1024); // older report: ignored
/// assert_eq!(bytes.sum(), 2048);
/// ```
#[cfg(feature = "metrics")]
impl metrics::CounterFn for ShardedCounter {
    fn increment(&self, value: u64) {
        self.add(value);
    }

    fn absolute(&self, value: u64) {
        let _added = self.raise_to(value);
    }
}

/// The calling thread's cell of a [`ShardedCounter`], from
/// [`ShardedCounter::local`].
///
/// Increments through the handle are a load and a store on a cache line no
/// other thread writes. The handle cannot leave its thread, and while it
/// lives no other thread receives its cell.
///
/// # Memory ordering
///
/// Increments are `Relaxed` ([SHC-O1](crate::safety#SHC-O1)), as through the counter: a `sum`
/// includes those that happen-before it and learns nothing about other
/// memory.
///
/// # Examples
///
/// ```
/// use acqrel::{LocalCounter, ShardedCounter};
///
/// fn count_words(text: &str, words: &LocalCounter<'_>) {
///     words.add(text.split_whitespace().count() as u64);
/// }
///
/// let words = ShardedCounter::new();
/// let local = words.local();
/// count_words("one two three", &local);
/// local.inc();
/// assert_eq!(words.sum(), 4);
/// ```
pub struct LocalCounter<'a> {
    cell: &'a AtomicU64,
    /// The lease on the index whose cell `cell` is ([SHC-I1](crate::safety#SHC-I1)). `Rc` makes the
    /// handle `!Send + !Sync`: only the index's holder may write the cell.
    // SAFE-CODE: [SHC-S3] a leaked handle leaks this lease: its index is never handed out again.
    lease: Rc<registry::Lease>,
}

impl LocalCounter<'_> {
    /// Adds one.
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([SHC-O1](crate::safety#SHC-O1)): a load and a store of this thread's own cell,
    /// ordering no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = acqrel::ShardedCounter::new();
    /// let local = c.local();
    /// local.inc();
    /// local.inc();
    /// assert_eq!(c.sum(), 2);
    /// ```
    #[inline(always)]
    pub fn inc(&self) {
        add_to_own_cell(self.cell, 1);
    }

    /// Adds `n` (wrapping).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([SHC-O1](crate::safety#SHC-O1)), like [`inc`](LocalCounter::inc).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = acqrel::ShardedCounter::new();
    /// let local = c.local();
    /// local.add(40);
    /// assert_eq!(c.sum(), 40);
    /// ```
    #[inline(always)]
    pub fn add(&self, n: u64) {
        add_to_own_cell(self.cell, n);
    }
}

impl fmt::Debug for LocalCounter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalCounter")
            .field("thread_index", &self.lease.index())
            .finish_non_exhaustive()
    }
}

/// Thread indices: the process-wide pool, each thread's guard and leases,
/// and the one-entry per-thread cache.
mod registry {
    #![allow(clippy::disallowed_types)] // the switch module's (loom-checked) Mutex

    use crate::loom::atomic::AtomicU64;
    use crate::loom::atomic::Ordering::Relaxed;
    use crate::loom::sync::Mutex;
    use crate::loom::{Global, global, thread_local};
    use core::cell::Cell;
    use core::cmp::Reverse;
    use std::collections::BinaryHeap;
    use std::rc::Rc;
    use std::sync::PoisonError;

    /// The free thread indices: everything from `next` up, and `free`.
    struct IndexPool {
        next: usize,
        /// Returned indices, lowest first.
        free: BinaryHeap<Reverse<usize>>,
    }

    impl IndexPool {
        /// The lowest free index. Indices below `next` that are not in `free`
        /// are held, so `next` grows only when every lower index is held.
        fn take(&mut self) -> usize {
            match self.free.pop() {
                Some(Reverse(index)) => index,
                None => {
                    self.next += 1;
                    self.next - 1
                }
            }
        }

        fn give_back(&mut self, index: usize) {
            self.free.push(Reverse(index));
        }
    }

    global! {
        /// The process-wide pool. Its mutex orders an index's holders ([SHC-I1](crate::safety#SHC-I1)).
        fn pool() -> Mutex<IndexPool> = Mutex::new(IndexPool { next: 0, free: BinaryHeap::new() });
    }

    /// A claim on one thread index. While it lives, the pool hands the index
    /// to no one else; dropping it returns the index. Shared through `Rc`
    /// by the thread's guard and its `LocalCounter`s, so it never leaves the
    /// thread that took it.
    pub(super) struct Lease {
        index: usize,
        /// The pool to return the index to: a `&'static` normally; under loom
        /// an `Arc`, which keeps the pool alive for destructors that run
        /// after loom dropped its statics.
        pool: Global<Mutex<IndexPool>>,
    }

    impl Lease {
        /// Takes the lowest free index.
        fn new() -> Self {
            let pool = pool();
            // Nothing that can panic runs under the lock, so a poisoned pool
            // (impossible today) would still be consistent.
            let index = pool.lock().unwrap_or_else(PoisonError::into_inner).take();
            Self { index, pool }
        }

        pub(super) fn index(&self) -> usize {
            self.index
        }
    }

    impl Drop for Lease {
        fn drop(&mut self) {
            // SAFE-CODE: [SHC-S2] the last lease is gone: no handle or cache of this thread reaches
            // the index's cells any more, so the next holder may have them ([SHC-I1]).
            self.pool.lock().unwrap_or_else(PoisonError::into_inner).give_back(self.index);
        }
    }

    /// The thread's own lease, dropped with the thread's other thread-locals.
    struct Guard {
        lease: Rc<Lease>,
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            // SAFE-CODE: [SHC-S1] empty the cache before the guard's lease goes (the field drops
            // after this body): from now on this thread's `add` misses and finds no guard.
            let _ = LAST.try_with(|last| last.set(EMPTY));
        }
    }

    /// The id of a counter that has not counted yet. It never matches a
    /// cache entry: entries hold a handed-out id or [`EMPTY`]'s.
    pub(super) const NO_ID: u64 = 0;

    /// An empty cache entry. Its id, `u64::MAX`, is never handed out.
    const EMPTY: (u64, *const AtomicU64) = (u64::MAX, core::ptr::null());

    global! {
        /// The next counter id to hand out ([SHC-O7](crate::safety#SHC-O7)).
        fn counter_ids() -> AtomicU64 = AtomicU64::new(NO_ID + 1);
    }

    /// A counter id no other counter has had or will have: `1 ..= u64::MAX - 1`,
    /// each at most once; `None` once all of them are used up.
    pub(super) fn new_id() -> Option<u64> {
        #[allow(clippy::needless_borrow)] // under loom `counter_ids()` is an `Arc`
        next_id(&counter_ids())
    }

    /// Takes the next id from `ids`, which never wraps back to `NO_ID`: it
    /// stops at `EMPTY`'s id.
    pub(super) fn next_id(ids: &AtomicU64) -> Option<u64> {
        // ORDERING: [SHC-O7] Relaxed — the starting guess; a stale one only costs a retry.
        let mut next = ids.load(Relaxed);
        loop {
            if next == EMPTY.0 {
                return None;
            }
            // SAFE-CODE: [SHC-S4] the id is taken by the exchange against the value checked, so no
            // two callers get the same id and the source never wraps.
            // ORDERING: [SHC-O7] Relaxed/Relaxed — only the latest value can be exchanged, at any ordering; no memory is published.
            match ids.compare_exchange_weak(next, next + 1, Relaxed, Relaxed) {
                Ok(_) => return Some(next),
                Err(actual) => next = actual,
            }
        }
    }

    thread_local! {
        /// Made on the thread's first count or `local()`, dropped at thread exit.
        static GUARD: Guard = Guard { lease: Rc::new(Lease::new()) };

        /// The counter this thread counted on last (its id) and the thread's
        /// cell of it. No destructor, so it stays readable while other
        /// thread-locals are dropped.
        static LAST: Cell<(u64, *const AtomicU64)> = const { Cell::new(EMPTY) };
    }

    /// The cell cached for counter `counter`, if it is the last one this
    /// thread counted on ([SHC-I2](crate::safety#SHC-I2)).
    #[inline(always)]
    pub(super) fn cached(counter: u64) -> Option<*const AtomicU64> {
        LAST.try_with(|last| {
            let (id, cell) = last.get();
            (id == counter).then_some(cell)
        })
        .ok()
        .flatten()
    }

    /// Runs `f` with the thread's index while its guard holds it (taking an
    /// index on the thread's first use); `None` once the guard has been
    /// dropped (a thread-local destructor at thread exit). Where std keeps
    /// thread-locals in OS keys a dropped guard may be made again: it then
    /// takes a new lease, and `f` runs under that one ([SHC-I1](crate::safety#SHC-I1)).
    pub(super) fn with_index<R>(f: impl FnOnce(usize) -> R) -> Option<R> {
        GUARD.try_with(|guard| f(guard.lease.index)).ok()
    }

    /// Caches `cell` as this thread's cell of counter `counter`. Called only
    /// inside [`with_index`], with the guard alive: its destructor empties
    /// the cache again ([SHC-I2](crate::safety#SHC-I2)).
    pub(super) fn cache(counter: u64, cell: &AtomicU64) {
        let _ = LAST.try_with(|last| last.set((counter, cell)));
    }

    /// A lease on the thread's index; after the thread's guard was dropped,
    /// a lease on a fresh index.
    pub(super) fn lease() -> Rc<Lease> {
        GUARD.try_with(|guard| Rc::clone(&guard.lease)).unwrap_or_else(|_| {
            // SAFE-CODE: [SHC-S2] at thread exit the guard's index may already be another
            // thread's: a handle made now gets an index of its own.
            Rc::new(Lease::new())
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::registry::{NO_ID, next_id};
    use crate::loom::atomic::AtomicU64;

    /// The id source hands out its last ids, then refuses for good: it never
    /// wraps to `NO_ID` or to ids handed out before ([SHC-O7](crate::safety#SHC-O7)).
    #[test]
    fn ids_stop_before_they_wrap() {
        let ids = AtomicU64::new(u64::MAX - 2);
        assert_eq!(next_id(&ids), Some(u64::MAX - 2));
        assert_eq!(next_id(&ids), Some(u64::MAX - 1));
        for _ in 0..3 {
            assert_eq!(next_id(&ids), None);
        }
        assert_eq!(ids.into_inner(), u64::MAX);

        let fresh = AtomicU64::new(NO_ID + 1);
        assert_eq!(next_id(&fresh), Some(1));
        assert_eq!(next_id(&fresh), Some(2));
    }
}
