//! The blocking layer (`std` only): parking, waking, and the blocking calls of `Blocking`-mode handles.

use super::*;

/// The blocking layer (`std` only): parking and waking.
///
/// A waiter holds `sleep` from setting its bit until the condition variable
/// releases it, so a waker (which takes `sleep` to notify) cannot slip its
/// notification in between the waiter's last check and its sleep ([SPSC-I5](crate::safety#SPSC-I5)).
#[cfg(feature = "std")]
impl Shared {
    /// Wakes whoever sleeps on `wakeup`.
    #[cold]
    pub(super) fn notify(&self) {
        let _guard = self.sleep.lock().unwrap_or_else(|e| e.into_inner());
        self.wakeup.notify_all();
    }

    /// After publishing a position: wakes the other side if it is parked.
    #[inline]
    pub(super) fn wake(&self, waiting: usize) {
        // ORDERING: [SPSC-O8] SeqCst fence (light half) — StoreLoad: our position store
        // (before it) and the waiter's bit (read after it) are ordered against the
        // waiter's heavy half [SPSC-O9]: a SeqCst fence pair, or a compiler fence
        // against the process-wide barrier ([FENCE-I1]).
        asymmetric::light(SeqCst);
        // ORDERING: [SPSC-O8] Relaxed — the fence above orders this load; it needs no ordering of its own.
        if self.state.load(Relaxed) & waiting != 0 {
            self.notify();
        }
    }

    /// Parks until `ready()` holds (true) or `deadline` passes (false).
    // SAFE-CODE: [SPSC-S7] no thread-local state anywhere in the queue: a waiter sleeps
    // on the ring's own mutex and condition variable, so every path (blocking ones
    // included) works from a thread-local destructor.
    pub(super) fn park(
        &self,
        waiting: usize,
        deadline: Option<Instant>,
        mut ready: impl FnMut() -> bool,
    ) -> bool {
        let mut guard = self.sleep.lock().unwrap_or_else(|e| e.into_inner());
        let result = loop {
            // ORDERING: [SPSC-O9] Relaxed — the fence below orders this bit before our re-check.
            self.state.fetch_or(waiting, Relaxed);
            // ORDERING: [SPSC-O9] SeqCst fence (heavy half) — StoreLoad: our bit (before)
            // and the other side's position (re-read after) are ordered against the
            // waker's light half [SPSC-O8] ([FENCE-I1]): one of us sees the other.
            asymmetric::heavy(SeqCst);
            if ready() {
                break true;
            }
            match deadline {
                None => guard = self.wakeup.wait(guard).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break false;
                    }
                    guard = match self.wakeup.wait_timeout(guard, deadline - now) {
                        Ok((guard, _)) => guard,
                        Err(e) => e.into_inner().0,
                    };
                }
            }
        };
        // ORDERING: [SPSC-O9] Relaxed — clearing the bit early only saves the waker a spurious notification.
        self.state.fetch_and(!waiting, Relaxed);
        drop(guard);
        result
    }
}

/// A blocking consumer that found at least this many items in its last
/// wait treats the producer as streaming: before it reloads the producer's
/// position again it slips behind it for [`SLIP_PAUSES`] spin hints.
#[cfg(feature = "std")]
const SLIP_BATCH: usize = 8;

/// How long a streaming blocking consumer slips (spin hints), so that the
/// producer fills whole cache lines of slots before the consumer takes them.
#[cfg(feature = "std")]
const SLIP_PAUSES: u32 = 16;

/// A deadline `timeout` from now; none (wait without limit) if it is too far
/// to represent.
#[cfg(feature = "std")]
pub(super) fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Blocking operations (`std`, [`Blocking`] mode: [`bounded_blocking`],
/// [`Queue::split_blocking`]).
///
/// A blocking call keeps polling for up to about 100 µs (spinning, then
/// yielding the processor) before it parks the thread on the ring's
/// condition variable, so that two threads streaming through the queue do
/// not put each other to sleep in turn. A consumer whose last wait found 8
/// items or more treats the producer as streaming and, once it has taken
/// them, lets the producer run ahead for 16 spin hints (well under a
/// microsecond) before it looks again: the producer then fills whole cache
/// lines of slots before the consumer takes them, instead of the two
/// trading one line back and forth per item.
/// It is woken by every call of the other handle that can end its wait —
/// each item published and each slot freed, by blocking and non-blocking
/// calls alike — and by the other handle's drop ([SPSC-I5](crate::safety#SPSC-I5), [SPSC-S9](crate::safety#SPSC-S9)).
#[cfg(feature = "std")]
impl<T, S: Storage> Producer<T, S, Blocking> {
    /// Pushes `item`, parking while the queue is full.
    ///
    /// # Errors
    ///
    /// [`PushError::Abandoned`] (with the item) if the consumer is gone —
    /// checked first, so an item is never pushed into a queue nobody reads.
    ///
    /// # Memory ordering
    ///
    /// As for [`push`](Producer::push) ([SPSC-O1](crate::safety#SPSC-O1), [SPSC-O4](crate::safety#SPSC-O4)). While it is
    /// parked, the consumer's next call that frees a slot, or its drop, wakes
    /// it, and no wake-up is lost ([SPSC-O8](crate::safety#SPSC-O8), [SPSC-O9](crate::safety#SPSC-O9)). An
    /// [`Abandoned`](PushError::Abandoned) error is seen as
    /// [`is_abandoned`](Producer::is_abandoned) sees it ([SPSC-O6](crate::safety#SPSC-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::{self, PushError};
    /// use std::thread;
    ///
    /// let (mut producer, mut consumer) = spsc::bounded_blocking(2);
    /// let t = thread::spawn(move || {
    ///     for i in 0..100 {
    ///         producer.push_blocking(i).unwrap();
    ///     }
    ///     producer
    /// });
    /// let mut sum = 0;
    /// for _ in 0..100 {
    ///     sum += consumer.pop_blocking().unwrap();
    /// }
    /// assert_eq!(sum, 4950);
    /// let mut producer = t.join().unwrap();
    /// drop(consumer);
    /// assert_eq!(producer.push_blocking(100), Err(PushError::Abandoned(100)));
    /// ```
    pub fn push_blocking(&mut self, item: T) -> Result<(), PushError<T>> {
        self.push_blocking_until(item, None)
    }

    /// Pushes `item`, parking at most `timeout` while the queue is full.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] when the timeout passed, [`PushError::Abandoned`]
    /// if the consumer is gone; both hand the item back.
    ///
    /// # Memory ordering
    ///
    /// As for [`push`](Producer::push) ([SPSC-O1](crate::safety#SPSC-O1), [SPSC-O4](crate::safety#SPSC-O4)). While it is
    /// parked, the consumer's next call that frees a slot, or its drop, wakes
    /// it, and no wake-up is lost ([SPSC-O8](crate::safety#SPSC-O8), [SPSC-O9](crate::safety#SPSC-O9)). An
    /// [`Abandoned`](PushError::Abandoned) error is seen as
    /// [`is_abandoned`](Producer::is_abandoned) sees it ([SPSC-O6](crate::safety#SPSC-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::{self, PushError};
    /// use std::{thread, time::Duration};
    ///
    /// let (mut producer, mut consumer) = spsc::bounded_blocking(1);
    /// producer.push(1).unwrap();
    /// // Full, and nobody pops: the call gives up when the time is out.
    /// let timeout = Duration::from_millis(1);
    /// assert_eq!(producer.push_blocking_timeout(2, timeout), Err(PushError::Full(2)));
    /// thread::scope(|s| {
    ///     s.spawn(|| assert_eq!(consumer.pop_blocking(), Ok(1)));
    ///     // Woken as soon as the slot is free, long before the minute is out.
    ///     assert_eq!(producer.push_blocking_timeout(2, Duration::from_secs(60)), Ok(()));
    /// });
    /// assert_eq!(consumer.pop(), Ok(2));
    /// ```
    pub fn push_blocking_timeout(
        &mut self,
        item: T,
        timeout: Duration,
    ) -> Result<(), PushError<T>> {
        self.push_blocking_until(item, deadline(timeout))
    }

    pub(super) fn push_blocking_until(
        &mut self,
        item: T,
        deadline: Option<Instant>,
    ) -> Result<(), PushError<T>> {
        match self.wait_for_room(deadline) {
            Ok(()) => self.push(item),
            Err(PushError::Full(())) => Err(PushError::Full(item)),
            Err(PushError::Abandoned(())) => Err(PushError::Abandoned(item)),
        }
    }

    /// Up to `max` free slots, parking until at least one is free: the
    /// blocking form of [`write_chunk`](Producer::write_chunk). With `max == 0`
    /// returns an empty chunk at once.
    ///
    /// # Errors
    ///
    /// [`PushError::Abandoned`] if the consumer is gone (checked first).
    ///
    /// # Memory ordering
    ///
    /// As for [`write_chunk`](Producer::write_chunk) ([SPSC-O4](crate::safety#SPSC-O4)), and for
    /// waking and abandonment as for [`push_blocking`](Producer::push_blocking)
    /// ([SPSC-O8](crate::safety#SPSC-O8), [SPSC-O9](crate::safety#SPSC-O9), [SPSC-O6](crate::safety#SPSC-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc;
    /// use std::thread;
    ///
    /// let (mut producer, mut consumer) = spsc::bounded_blocking::<u32>(4);
    /// let t = thread::spawn(move || {
    ///     let mut next = 0..10;
    ///     while next.len() > 0 {
    ///         producer.write_chunk_blocking(3).unwrap().fill_from_iter(&mut next);
    ///     }
    /// });
    /// let mut got = Vec::new();
    /// while let Ok(chunk) = consumer.read_chunk_blocking(8) {
    ///     got.extend(chunk); // ends with `Err(Abandoned)` once the producer is gone
    /// }
    /// assert_eq!(got, (0..10).collect::<Vec<_>>());
    /// t.join().unwrap();
    /// ```
    pub fn write_chunk_blocking(
        &mut self,
        max: usize,
    ) -> Result<WriteChunk<'_, T, S, Blocking>, PushError<()>> {
        self.write_chunk_blocking_until(max, None)
    }

    /// Up to `max` free slots, parking at most `timeout` until at least one
    /// is free.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] when the timeout passed, [`PushError::Abandoned`]
    /// if the consumer is gone.
    ///
    /// # Memory ordering
    ///
    /// As for [`write_chunk`](Producer::write_chunk) ([SPSC-O4](crate::safety#SPSC-O4)), and for
    /// waking and abandonment as for [`push_blocking`](Producer::push_blocking)
    /// ([SPSC-O8](crate::safety#SPSC-O8), [SPSC-O9](crate::safety#SPSC-O9), [SPSC-O6](crate::safety#SPSC-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::{self, PushError};
    /// use std::{thread, time::Duration};
    ///
    /// let (mut producer, mut consumer) = spsc::bounded_blocking::<u8>(2);
    /// producer.push_slice(b"ab");
    /// let timeout = Duration::from_millis(1);
    /// assert_eq!(producer.write_chunk_blocking_timeout(2, timeout).err(), Some(PushError::Full(())));
    /// thread::scope(|s| {
    ///     s.spawn(|| assert_eq!(consumer.pop_blocking(), Ok(b'a')));
    ///     let chunk = producer.write_chunk_blocking_timeout(2, Duration::from_secs(60)).unwrap();
    ///     assert_eq!(chunk.fill_from_iter(*b"cd"), 1); // the one slot the consumer freed
    /// });
    /// assert_eq!(consumer.pop_iter().collect::<Vec<_>>(), b"bc");
    /// ```
    pub fn write_chunk_blocking_timeout(
        &mut self,
        max: usize,
        timeout: Duration,
    ) -> Result<WriteChunk<'_, T, S, Blocking>, PushError<()>> {
        self.write_chunk_blocking_until(max, deadline(timeout))
    }

    pub(super) fn write_chunk_blocking_until(
        &mut self,
        max: usize,
        deadline: Option<Instant>,
    ) -> Result<WriteChunk<'_, T, S, Blocking>, PushError<()>> {
        if max > 0 {
            self.wait_for_room(deadline)?;
        }
        Ok(self.write_chunk(max))
    }

    /// Returns once a slot is free (`Ok`), the consumer is gone, or
    /// `deadline` passed (`Full`).
    pub(super) fn wait_for_room(&mut self, deadline: Option<Instant>) -> Result<(), PushError<()>> {
        let mut patience = Patience::new();
        loop {
            if self.is_abandoned() {
                return Err(PushError::Abandoned(()));
            }
            if self.cached_free() > 0 || self.refresh_free() > 0 {
                return Ok(());
            }
            if patience.poll_again() {
                continue;
            }
            let ring = self.ring;
            let woken = ring.shared().park(PRODUCER_WAITING, deadline, || {
                self.refresh_free() > 0 || self.is_abandoned()
            });
            if !woken {
                return Err(PushError::Full(()));
            }
        }
    }
}

/// Blocking operations (`std`, [`Blocking`] mode); see the notes on
/// [`Producer`]'s.
#[cfg(feature = "std")]
impl<T, S: Storage> Consumer<T, S, Blocking> {
    /// Pops an item, parking while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`PopError::Abandoned`] once the queue is empty and the producer gone.
    ///
    /// # Memory ordering
    ///
    /// As for [`pop`](Consumer::pop) ([SPSC-O2](crate::safety#SPSC-O2), [SPSC-O3](crate::safety#SPSC-O3)). While it is
    /// parked, the producer's next call that publishes an item, or its drop,
    /// wakes it, and no wake-up is lost ([SPSC-O8](crate::safety#SPSC-O8), [SPSC-O9](crate::safety#SPSC-O9)). An
    /// [`Abandoned`](PopError::Abandoned) error is final: every push the
    /// producer made happens-before it ([SPSC-O6](crate::safety#SPSC-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::{self, PopError};
    /// use std::thread;
    ///
    /// let (mut producer, mut consumer) = spsc::bounded_blocking(1);
    /// thread::scope(|s| {
    ///     // The producer goes with its thread, when the thread ends.
    ///     s.spawn(move || producer.push_blocking("hello").unwrap());
    ///     assert_eq!(consumer.pop_blocking(), Ok("hello"));
    ///     assert_eq!(consumer.pop_blocking(), Err(PopError::Abandoned));
    /// });
    /// ```
    pub fn pop_blocking(&mut self) -> Result<T, PopError> {
        self.pop_blocking_until(None)
    }

    /// Pops an item, parking at most `timeout` while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] when the timeout passed; [`PopError::Abandoned`]
    /// once the queue is empty and the producer gone.
    ///
    /// # Memory ordering
    ///
    /// As for [`pop`](Consumer::pop) ([SPSC-O2](crate::safety#SPSC-O2), [SPSC-O3](crate::safety#SPSC-O3)). While it is
    /// parked, the producer's next call that publishes an item, or its drop,
    /// wakes it, and no wake-up is lost ([SPSC-O8](crate::safety#SPSC-O8), [SPSC-O9](crate::safety#SPSC-O9)). An
    /// [`Abandoned`](PopError::Abandoned) error is final: every push the
    /// producer made happens-before it ([SPSC-O6](crate::safety#SPSC-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::{self, PopError};
    /// use std::{thread, time::Duration};
    ///
    /// let (mut producer, mut consumer) = spsc::bounded_blocking(1);
    /// // Nothing comes: the call gives up when the time is out.
    /// assert_eq!(consumer.pop_blocking_timeout(Duration::from_millis(1)), Err(PopError::Empty));
    /// thread::scope(|s| {
    ///     s.spawn(|| producer.push(7).unwrap());
    ///     // Woken by the push, long before the minute is out.
    ///     assert_eq!(consumer.pop_blocking_timeout(Duration::from_secs(60)), Ok(7));
    /// });
    /// ```
    pub fn pop_blocking_timeout(&mut self, timeout: Duration) -> Result<T, PopError> {
        self.pop_blocking_until(deadline(timeout))
    }

    pub(super) fn pop_blocking_until(&mut self, deadline: Option<Instant>) -> Result<T, PopError> {
        self.wait_for_items(deadline)?;
        self.pop()
    }

    /// Up to `max` items, parking until at least one is readable: the
    /// blocking form of [`read_chunk`](Consumer::read_chunk). With `max == 0`
    /// returns an empty chunk at once.
    ///
    /// # Errors
    ///
    /// [`PopError::Abandoned`] once the queue is empty and the producer gone.
    ///
    /// # Memory ordering
    ///
    /// As for [`read_chunk`](Consumer::read_chunk) ([SPSC-O2](crate::safety#SPSC-O2)), and for
    /// waking and abandonment as for [`pop_blocking`](Consumer::pop_blocking)
    /// ([SPSC-O8](crate::safety#SPSC-O8), [SPSC-O9](crate::safety#SPSC-O9), [SPSC-O6](crate::safety#SPSC-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc;
    /// use std::thread;
    ///
    /// let (mut producer, mut consumer) = spsc::bounded_blocking(4);
    /// thread::scope(|s| {
    ///     s.spawn(move || producer.push_slice(&[1, 2, 3]));
    ///     let mut sum = 0;
    ///     while let Ok(chunk) = consumer.read_chunk_blocking(4) {
    ///         sum += chunk.into_iter().sum::<i32>(); // `Err(Abandoned)` once drained
    ///     }
    ///     assert_eq!(sum, 6);
    /// });
    /// ```
    pub fn read_chunk_blocking(
        &mut self,
        max: usize,
    ) -> Result<ReadChunk<'_, T, S, Blocking>, PopError> {
        self.read_chunk_blocking_until(max, None)
    }

    /// Up to `max` items, parking at most `timeout` until at least one is
    /// readable.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] when the timeout passed; [`PopError::Abandoned`]
    /// once the queue is empty and the producer gone.
    ///
    /// # Memory ordering
    ///
    /// As for [`read_chunk`](Consumer::read_chunk) ([SPSC-O2](crate::safety#SPSC-O2)), and for
    /// waking and abandonment as for [`pop_blocking`](Consumer::pop_blocking)
    /// ([SPSC-O8](crate::safety#SPSC-O8), [SPSC-O9](crate::safety#SPSC-O9), [SPSC-O6](crate::safety#SPSC-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::spsc::{self, PopError};
    /// use std::{thread, time::Duration};
    ///
    /// let (mut producer, mut consumer) = spsc::bounded_blocking::<u8>(4);
    /// let timeout = Duration::from_millis(1);
    /// assert_eq!(consumer.read_chunk_blocking_timeout(4, timeout).err(), Some(PopError::Empty));
    /// thread::scope(|s| {
    ///     s.spawn(|| producer.push_slice(b"hi")); // one store publishes both
    ///     let chunk = consumer.read_chunk_blocking_timeout(4, Duration::from_secs(60)).unwrap();
    ///     assert_eq!(chunk.as_slices().0, b"hi");
    /// });
    /// ```
    pub fn read_chunk_blocking_timeout(
        &mut self,
        max: usize,
        timeout: Duration,
    ) -> Result<ReadChunk<'_, T, S, Blocking>, PopError> {
        self.read_chunk_blocking_until(max, deadline(timeout))
    }

    pub(super) fn read_chunk_blocking_until(
        &mut self,
        max: usize,
        deadline: Option<Instant>,
    ) -> Result<ReadChunk<'_, T, S, Blocking>, PopError> {
        if max > 0 {
            self.wait_for_items(deadline)?;
        }
        Ok(self.read_chunk(max))
    }

    /// Returns once an item is readable (`Ok`), the queue is empty with the
    /// producer gone, or `deadline` passed (`Empty`).
    pub(super) fn wait_for_items(&mut self, deadline: Option<Instant>) -> Result<(), PopError> {
        if self.cached_len() > 0 {
            return Ok(());
        }
        // Not under loom: each hint would be a scheduling point of the model.
        if !cfg!(loom) && self.last_batch >= SLIP_BATCH {
            for _ in 0..SLIP_PAUSES {
                crate::loom::spin_loop();
            }
        }
        let mut patience = Patience::new();
        loop {
            match self.available(1) {
                Ok(len) => {
                    self.last_batch = len;
                    return Ok(());
                }
                Err(PopError::Abandoned) => return Err(PopError::Abandoned),
                Err(PopError::Empty) => {}
            }
            if patience.poll_again() {
                continue;
            }
            let ring = self.ring;
            let woken = ring
                .shared()
                .park(CONSUMER_WAITING, deadline, || self.refresh_len() > 0 || self.is_abandoned());
            if !woken {
                return Err(PopError::Empty);
            }
        }
    }
}
