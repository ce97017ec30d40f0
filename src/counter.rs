//! [`Counter`]: a one-word lock-free counter with a stated synchronisation contract.
//!
//! # Progress
//!
//! `fetch_add`/`add`, `fetch_sub`/`sub`, `increment`, `swap`/`set`, `take`
//! and `get` are single atomic instructions: wait-free wherever the target
//! has a native atomic add/swap (x86-64 `lock xadd`/`xchg`; aarch64
//! `ldadd`/`swp` with LSE, or an exclusive-monitor loop without it, which is
//! lock-free). `fetch_max` and `fetch_min` are single instructions only where
//! the target has an atomic maximum and minimum (aarch64 `ldumax`/`ldumin`
//! with LSE); on x86-64, which has none, they are a compare-exchange loop,
//! and without LSE an exclusive-monitor loop: lock-free. The names follow
//! `std`'s atomics: the `fetch_` forms and `swap` return the previous value,
//! and so do the short forms `add`, `sub` and `set`, which are the same
//! operations. The checked and bounded additions are compare-exchange loops:
//! lock-free (a retry means another thread's update succeeded).
//!
//! # Arithmetic
//!
//! The counter is a `u64` that wraps on overflow and underflow, like
//! `u64::wrapping_add`. [`Counter::checked_add`], [`Counter::checked_sub`] and
//! [`Counter::add_bounded`] refuse instead of wrapping or passing a limit.
//!
//! # Memory ordering
//!
//! Every plain operation is `Relaxed` ([CTR-O1](crate::safety#CTR-O1), [CTR-O2](crate::safety#CTR-O2), [CTR-O3](crate::safety#CTR-O3) in
//! SAFETY.md): atomicity of a read-modify-write never depends on its ordering,
//! so no increment is ever lost, and every thread sees the counter's values in
//! one order (the modification order). What `Relaxed` does not give is
//! ordering with *other* memory: seeing the counter reach `n` says nothing
//! about what the threads that counted wrote elsewhere. For that completion
//! pattern use [`Counter::add_release`] after the work and
//! [`Counter::get_acquire`] before reading its results ([CTR-O4](crate::safety#CTR-O4), [CTR-O5](crate::safety#CTR-O5)).
//! No operation here needs `SeqCst`; SAFETY.md shows why, and the one shape
//! of code where it would matter (a store-then-load across two counters).

use crate::loom::atomic::AtomicU64;
use crate::loom::atomic::Ordering::{Acquire, Relaxed, Release};
use core::fmt;

/// A lock-free `u64` counter.
///
/// # Examples
///
/// ```
/// use acqrel::Counter;
/// use std::thread;
///
/// let hits = Counter::new(0);
/// thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             for _ in 0..1000 {
///                 hits.increment();
///             }
///         });
///     }
/// });
/// assert_eq!(hits.get(), 4000);
/// ```
#[derive(Default)]
pub struct Counter {
    // SAFE-CODE: [CTR-S1] one atomic word and no per-thread state: every method works the same
    // from a thread-local destructor.
    value: AtomicU64,
}

/// The error of [`Counter::checked_add`] and [`Counter::checked_sub`]: the
/// operation would have wrapped. The counter is left unchanged.
///
/// # Examples
///
/// ```
/// use acqrel::{Counter, CounterOverflow};
///
/// let c = Counter::new(2);
/// let err = c.checked_sub(5).unwrap_err();
/// assert_eq!(err, CounterOverflow { current: 2 });
/// assert_eq!(err.to_string(), "counter operation would wrap (current value 2)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterOverflow {
    /// The counter's value when the operation was refused.
    pub current: u64,
}

impl fmt::Display for CounterOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "counter operation would wrap (current value {})", self.current)
    }
}

impl core::error::Error for CounterOverflow {}

impl Counter {
    /// Creates a counter holding `value`.
    ///
    /// A `const fn`: a counter can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::Counter;
    ///
    /// static EVENTS: Counter = Counter::new(10);
    /// EVENTS.increment();
    /// assert_eq!(EVENTS.get(), 11);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(value: u64) -> Self {
        Self { value: AtomicU64::new(value) }
    }

    /// Creates a counter holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = acqrel::Counter::new(10);
    /// assert_eq!(c.get(), 10);
    /// ```
    #[cfg(loom)]
    pub fn new(value: u64) -> Self {
        Self { value: AtomicU64::new(value) }
    }

    /// Adds `n` (wrapping) and returns the previous value: std's name for
    /// [`add`](Counter::add).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([CTR-O1](crate::safety#CTR-O1)): no addition is ever lost and all threads see the
    /// counter's values in one order, but the call orders no other memory. To
    /// publish work with the count, use [`add_release`](Counter::add_release).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = acqrel::Counter::new(u64::MAX);
    /// assert_eq!(c.fetch_add(2), u64::MAX);
    /// assert_eq!(c.get(), 1); // wrapped
    /// ```
    #[inline]
    pub fn fetch_add(&self, n: u64) -> u64 {
        // ORDERING: [CTR-O1] Relaxed — the read-modify-write is atomic at any ordering; no other memory is published.
        self.value.fetch_add(n, Relaxed)
    }

    /// Adds `n` (wrapping) and returns the previous value; the same as
    /// [`fetch_add`](Counter::fetch_add).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([CTR-O1](crate::safety#CTR-O1)): orders nothing but the counter itself.
    ///
    /// # Examples
    ///
    /// ```
    /// let bytes = acqrel::Counter::new(0);
    /// assert_eq!(bytes.add(512), 0);
    /// assert_eq!(bytes.add(100), 512);
    /// assert_eq!(bytes.get(), 612);
    /// ```
    #[inline]
    pub fn add(&self, n: u64) -> u64 {
        self.fetch_add(n)
    }

    /// Adds one (wrapping) and returns the previous value: a unique ticket
    /// among all `increment`s until the counter wraps.
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([CTR-O1](crate::safety#CTR-O1)), like [`fetch_add`](Counter::fetch_add): a ticket
    /// orders no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let next_id = acqrel::Counter::new(1);
    /// assert_eq!(next_id.increment(), 1);
    /// assert_eq!(next_id.increment(), 2);
    /// assert_eq!(next_id.get(), 3);
    /// ```
    #[inline]
    pub fn increment(&self) -> u64 {
        self.fetch_add(1)
    }

    /// Subtracts `n` (wrapping) and returns the previous value: std's name
    /// for [`sub`](Counter::sub).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([CTR-O1](crate::safety#CTR-O1)): atomic on the counter, ordering no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let in_use = acqrel::Counter::new(3);
    /// assert_eq!(in_use.fetch_sub(1), 3);
    /// assert_eq!(in_use.fetch_sub(2), 2);
    /// assert_eq!(in_use.get(), 0);
    /// ```
    #[inline]
    pub fn fetch_sub(&self, n: u64) -> u64 {
        // ORDERING: [CTR-O1] Relaxed — atomic read-modify-write; publishes nothing else.
        self.value.fetch_sub(n, Relaxed)
    }

    /// Subtracts `n` (wrapping) and returns the previous value; the same as
    /// [`fetch_sub`](Counter::fetch_sub).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([CTR-O1](crate::safety#CTR-O1)): atomic on the counter, ordering no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let credits = acqrel::Counter::new(10);
    /// assert_eq!(credits.sub(4), 10);
    /// assert_eq!(credits.get(), 6);
    /// ```
    #[inline]
    pub fn sub(&self, n: u64) -> u64 {
        self.fetch_sub(n)
    }

    /// Reads the current value.
    ///
    /// Concurrent updates may land just before or after the read; the value
    /// is one the counter really held, never older than a value this thread
    /// already observed.
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([CTR-O2](crate::safety#CTR-O2)): the value is no older than any update that
    /// happens-before the call (for example one made by a thread that has
    /// been joined), but seeing a value says nothing about other memory the
    /// counting threads wrote; for that, [`get_acquire`](Counter::get_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::Counter;
    ///
    /// let c = Counter::new(0);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| c.add(3));
    /// });
    /// assert_eq!(c.get(), 3); // the scope joined the thread
    /// ```
    #[inline]
    pub fn get(&self) -> u64 {
        // ORDERING: [CTR-O2] Relaxed — coherence alone keeps reads of one location monotonic.
        self.value.load(Relaxed)
    }

    /// Stores `value` and returns the previous value, in one atomic step:
    /// std's name for [`set`](Counter::set).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([CTR-O1](crate::safety#CTR-O1)): every addition lands either in the returned
    /// value or after the new one, never in neither; no other memory is
    /// ordered.
    ///
    /// # Examples
    ///
    /// ```
    /// let epoch = acqrel::Counter::new(7);
    /// assert_eq!(epoch.swap(100), 7);
    /// assert_eq!(epoch.get(), 100);
    /// ```
    #[inline]
    pub fn swap(&self, value: u64) -> u64 {
        // ORDERING: [CTR-O1] Relaxed — an atomic swap; nothing else is published.
        self.value.swap(value, Relaxed)
    }

    /// Sets the value to `value` and returns the previous one; the same as
    /// [`swap`](Counter::swap).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([CTR-O1](crate::safety#CTR-O1)), like [`swap`](Counter::swap).
    ///
    /// # Examples
    ///
    /// ```
    /// let limit = acqrel::Counter::new(0);
    /// assert_eq!(limit.set(64), 0);
    /// assert_eq!(limit.get(), 64);
    /// ```
    #[inline]
    pub fn set(&self, value: u64) -> u64 {
        self.swap(value)
    }

    /// Reads the value and resets it to zero in one atomic step.
    ///
    /// Every `add` lands either in the value returned here or in the counter
    /// afterwards, never in neither and never in both: this is a swap, not a
    /// load followed by a store (which would lose the increments between the
    /// two).
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([CTR-O1](crate::safety#CTR-O1)), a swap: each addition is returned by exactly one
    /// `take` or stays in the counter, but the value returned orders no other
    /// memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::Counter;
    ///
    /// let requests = Counter::new(0);
    /// requests.add(5);
    /// assert_eq!(requests.take(), 5); // report this interval
    /// requests.add(2);
    /// assert_eq!(requests.take(), 2); // next interval starts from zero
    /// ```
    #[inline]
    pub fn take(&self) -> u64 {
        self.swap(0)
    }

    /// Raises the value to `value` if it is larger; returns the previous value.
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([CTR-O1](crate::safety#CTR-O1)): atomic on the counter, ordering no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let peak = acqrel::Counter::new(0);
    /// peak.fetch_max(12);
    /// assert_eq!(peak.fetch_max(5), 12); // 5 is lower: no change
    /// assert_eq!(peak.get(), 12);
    /// ```
    #[inline]
    pub fn fetch_max(&self, value: u64) -> u64 {
        // ORDERING: [CTR-O1] Relaxed — atomic read-modify-write on the counter only.
        self.value.fetch_max(value, Relaxed)
    }

    /// Lowers the value to `value` if it is smaller; returns the previous value.
    ///
    /// # Memory ordering
    ///
    /// `Relaxed` ([CTR-O1](crate::safety#CTR-O1)): atomic on the counter, ordering no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let lowest = acqrel::Counter::new(u64::MAX);
    /// lowest.fetch_min(40);
    /// assert_eq!(lowest.fetch_min(90), 40); // 90 is higher: no change
    /// assert_eq!(lowest.get(), 40);
    /// ```
    #[inline]
    pub fn fetch_min(&self, value: u64) -> u64 {
        // ORDERING: [CTR-O1] Relaxed — atomic read-modify-write on the counter only.
        self.value.fetch_min(value, Relaxed)
    }

    /// Adds `n` unless the result would exceed `limit`.
    ///
    /// # Errors
    ///
    /// Returns `Err(current)` and leaves the counter unchanged when
    /// `current + n` would be greater than `limit` (or would overflow).
    ///
    /// # Memory ordering
    ///
    /// A `Relaxed` compare-exchange loop ([CTR-O3](crate::safety#CTR-O3)): the check against
    /// `limit` and the addition apply to the same value, so concurrent calls
    /// never pass the limit together, but no other memory is ordered.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::Counter;
    ///
    /// let in_flight = Counter::new(0);
    /// assert_eq!(in_flight.add_bounded(3, 4), Ok(0));
    /// assert_eq!(in_flight.add_bounded(2, 4), Err(3)); // would reach 5 > 4
    /// assert_eq!(in_flight.get(), 3);
    /// ```
    pub fn add_bounded(&self, n: u64, limit: u64) -> Result<u64, u64> {
        self.update(|current| current.checked_add(n).filter(|&next| next <= limit))
    }

    /// Adds `n`, refusing instead of wrapping.
    ///
    /// # Errors
    ///
    /// [`CounterOverflow`] when `current + n` does not fit in a `u64`; the
    /// counter is unchanged.
    ///
    /// # Memory ordering
    ///
    /// A `Relaxed` compare-exchange loop ([CTR-O3](crate::safety#CTR-O3)): atomic on the counter,
    /// ordering no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = acqrel::Counter::new(u64::MAX - 1);
    /// assert_eq!(c.checked_add(1), Ok(u64::MAX - 1));
    /// assert!(c.checked_add(1).is_err()); // would wrap
    /// assert_eq!(c.get(), u64::MAX);
    /// ```
    pub fn checked_add(&self, n: u64) -> Result<u64, CounterOverflow> {
        self.update(|current| current.checked_add(n)).map_err(|current| CounterOverflow { current })
    }

    /// Subtracts `n`, refusing instead of wrapping below zero.
    ///
    /// # Errors
    ///
    /// [`CounterOverflow`] when `n` is greater than the current value; the
    /// counter is unchanged.
    ///
    /// # Memory ordering
    ///
    /// A `Relaxed` compare-exchange loop ([CTR-O3](crate::safety#CTR-O3)): atomic on the counter,
    /// ordering no other memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::{Counter, CounterOverflow};
    ///
    /// let stock = Counter::new(3);
    /// assert_eq!(stock.checked_sub(2), Ok(3));
    /// assert_eq!(stock.checked_sub(2), Err(CounterOverflow { current: 1 }));
    /// assert_eq!(stock.get(), 1);
    /// ```
    pub fn checked_sub(&self, n: u64) -> Result<u64, CounterOverflow> {
        self.update(|current| current.checked_sub(n)).map_err(|current| CounterOverflow { current })
    }

    /// The compare-exchange loop behind the refusing operations: `Ok(previous)`
    /// once `next(previous)` is stored, `Err(current)` when `next` refuses.
    fn update(&self, next: impl Fn(u64) -> Option<u64>) -> Result<u64, u64> {
        // SAFE-CODE: [CTR-S2] `next` checks the arithmetic (`checked_add`, `checked_sub`, the
        // limit); only the value it approved is stored, by the exchange against the value checked.
        // ORDERING: [CTR-O3] Relaxed — the starting guess; a stale one only costs a retry.
        let mut current = self.value.load(Relaxed);
        loop {
            let Some(new) = next(current) else { return Err(current) };
            // ORDERING: [CTR-O3] Relaxed/Relaxed — the exchange succeeds only against the latest value, at any ordering.
            match self.value.compare_exchange_weak(current, new, Relaxed, Relaxed) {
                Ok(previous) => return Ok(previous),
                Err(actual) => current = actual,
            }
        }
    }

    /// Adds `n` and publishes every write this thread made before the call to
    /// any thread that later reads a value including this addition with
    /// [`get_acquire`](Counter::get_acquire).
    ///
    /// Use it for completion counting: a worker finishes its piece of work,
    /// then calls `add_release(1)`; whoever sees the count reach `n` with
    /// `get_acquire` can read the results of all `n` pieces.
    ///
    /// # Memory ordering
    ///
    /// A `Release` read-modify-write ([CTR-O4](crate::safety#CTR-O4)), paired with
    /// [`get_acquire`](Counter::get_acquire) ([CTR-O5](crate::safety#CTR-O5)). Because every later
    /// read-modify-write on the counter (of any ordering) continues its
    /// release sequence, an acquiring read of a total that includes this
    /// addition synchronises with it even when other workers added after it.
    /// A plain [`get`](Counter::get) of that total synchronises with nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::Counter;
    /// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    /// use std::thread;
    ///
    /// let results: Vec<AtomicU64> = (0..4).map(|_| AtomicU64::new(0)).collect();
    /// let done = Counter::new(0);
    /// thread::scope(|s| {
    ///     for (i, slot) in results.iter().enumerate() {
    ///         let done = &done;
    ///         s.spawn(move || {
    ///             slot.store(i as u64 * 10, Relaxed); // the work
    ///             done.add_release(1);                // then count it
    ///         });
    ///     }
    ///     while done.get_acquire() < 4 {
    ///         std::hint::spin_loop();
    ///     }
    ///     // Every worker's result is visible here, even though it was stored Relaxed.
    ///     let sum: u64 = results.iter().map(|r| r.load(Relaxed)).sum();
    ///     assert_eq!(sum, 60);
    /// });
    /// ```
    #[inline]
    pub fn add_release(&self, n: u64) -> u64 {
        // ORDERING: [CTR-O4] Release — pairs with [CTR-O5]: the work before this add happens-before reads after the acquiring load.
        self.value.fetch_add(n, Release)
    }

    /// Reads the value, acquiring the writes published by every
    /// [`add_release`](Counter::add_release) that the value includes.
    ///
    /// # Memory ordering
    ///
    /// `Acquire` ([CTR-O5](crate::safety#CTR-O5)), paired with `add_release` ([CTR-O4](crate::safety#CTR-O4)): everything
    /// a thread did before an `add_release` that the value returned includes
    /// happens-before this call returns. Additions made with the `Relaxed`
    /// methods publish nothing, whatever this call reads.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::Counter;
    /// use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    ///
    /// let ready = AtomicBool::new(false);
    /// let published = Counter::new(0);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         ready.store(true, Relaxed);
    ///         published.add_release(1);
    ///     });
    ///     while published.get_acquire() == 0 {
    ///         std::hint::spin_loop();
    ///     }
    ///     assert!(ready.load(Relaxed)); // ordered by the release/acquire pair
    /// });
    /// ```
    #[inline]
    pub fn get_acquire(&self) -> u64 {
        // ORDERING: [CTR-O5] Acquire — pairs with [CTR-O4]: synchronises with every release add in the value's release sequence.
        self.value.load(Acquire)
    }

    /// Consumes the counter and returns its value.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = acqrel::Counter::new(5);
    /// c.add(2);
    /// assert_eq!(c.into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> u64 {
        self.value.into_inner()
    }
}

impl From<u64> for Counter {
    fn from(value: u64) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Counter").field(&self.get()).finish()
    }
}

/// With the `metrics` feature, a `Counter` can back a [`metrics::Counter`]:
/// `increment` is [`Counter::fetch_add`], and `absolute` ("at least this
/// much") is [`Counter::fetch_max`], so a late report of an older, smaller
/// total changes nothing.
///
/// # Memory ordering
///
/// Both are `Relaxed`, like the methods ([CTR-O1](crate::safety#CTR-O1)): a recorder that reads
/// the counter learns its value and nothing about other memory.
///
/// # Examples
///
/// ```
/// use acqrel::Counter;
/// use std::sync::Arc;
///
/// let requests = Arc::new(Counter::new(0));
/// let handle = metrics::Counter::from_arc(Arc::clone(&requests));
/// handle.increment(3);
/// handle.absolute(10);
/// handle.absolute(4); // older report: ignored
/// assert_eq!(requests.get(), 10);
/// ```
#[cfg(feature = "metrics")]
impl metrics::CounterFn for Counter {
    fn increment(&self, value: u64) {
        self.fetch_add(value);
    }

    fn absolute(&self, value: u64) {
        self.fetch_max(value);
    }
}
