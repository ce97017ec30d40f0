//! [`EventPoller`]: a pull-style consumer driven by the caller's own thread.

use super::Cursor;
use super::barrier::SequenceBarrier;
use super::sequence::Sequence;
use super::shared::Shared;
use super::wait_strategy::{Timeout, WaitStrategy};
use crate::loom::sync::Arc;
use core::fmt;

/// What one [`EventPoller::poll`] found.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, BusySpin, Polled};
///
/// let (builder, mut poller) = Builder::single_producer(8, || 0u32, BusySpin).poller();
/// let (mut producer, consumers) = builder.build();
/// assert_eq!(poller.poll(|_, _, _| {}), Polled::Idle);
/// producer.publish(|e| *e = 1).unwrap();
/// assert_eq!(poller.poll(|_, _, _| {}), Polled::Events(1));
/// drop(producer);
/// assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
/// consumers.join().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polled {
    /// This many events were handed to the callback.
    Events(u64),
    /// Nothing available yet.
    Idle,
    /// [`EventPoller::poll_timeout`] waited the whole timeout and nothing came.
    Timeout,
    /// Every producer is gone and every event was polled: nothing will come.
    Shutdown,
    /// A handler panicked and the Disruptor halted.
    Halted,
}

/// A consumer that does not own a thread: the caller polls it.
///
/// It sits in the consumer graph like a handler (made by
/// [`Builder::poller`](super::Builder::poller)): it sees every event, later
/// stages wait for it, and producers wait for it when it is in the last
/// stage. Dropping it before it has seen every event it will get — before
/// the Disruptor shut down, or after but before it polled
/// [`Polled::Shutdown`] — halts the Disruptor (its sequence would otherwise
/// stop the producers, or the later stages, forever). A poller that polled
/// everything drops without effect. A leaked poller (`mem::forget`) keeps
/// gating like one that is never polled again: the producers stop once the
/// ring is full, and later stages never pass it.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, BusySpin, Polled};
///
/// let (builder, mut poller) = Builder::single_producer(8, || 0u32, BusySpin).poller();
/// let (mut producer, consumers) = builder.build();
/// producer.publish(|e| *e = 1).unwrap();
/// producer.publish(|e| *e = 2).unwrap();
/// let mut sum = 0;
/// while sum < 3 {
///     poller.poll(|e, _, _| sum += e);
/// }
/// drop(producer);
/// assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
/// assert_eq!(sum, 3);
/// consumers.join().unwrap();
/// ```
///
/// `W` is the Disruptor's default strategy; `V` is the strategy
/// [`poll_timeout`](EventPoller::poll_timeout) waits with: `W` for a poller
/// from [`Builder::poller`](super::Builder::poller), its own for one from
/// [`Builder::poller_with_wait`](super::Builder::poller_with_wait).
pub struct EventPoller<E, C, W: WaitStrategy, V: WaitStrategy = W> {
    shared: Arc<Shared<E, C, W>>,
    barrier: SequenceBarrier<C>,
    sequence: Arc<Sequence>,
    /// The poller's own strategy; `None`: the Disruptor's default.
    wait: Option<Arc<V>>,
    // SAFE-CODE: [DSR-S4] a leaked poller keeps `shared` alive and its `sequence` gating, like a poller never polled again; nothing else depends on its drop.
}

impl<E, C: Cursor, W: WaitStrategy, V: WaitStrategy> EventPoller<E, C, W, V> {
    pub(crate) fn new(
        shared: Arc<Shared<E, C, W>>,
        barrier: SequenceBarrier<C>,
        sequence: Arc<Sequence>,
        wait: Option<Arc<V>>,
    ) -> Self {
        Self { shared, barrier, sequence, wait }
    }

    /// Hands every available event to `handler(event, sequence,
    /// end_of_batch)`, marking each consumed once `handler` returns from
    /// it. Never waits.
    ///
    /// # Panics
    ///
    /// If `handler` panics. The events it returned from stay consumed; the
    /// one it panicked in, and those after it, are offered again by the
    /// next poll (or drop the poller, which halts the Disruptor).
    ///
    /// # Memory ordering
    ///
    /// The publish of each event handed to `handler` happens-before the call
    /// ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)), and so does whatever the
    /// stages this poller follows did while handling it. What `handler` did
    /// with an event happens-before the next stage's handling of it and the
    /// producer's overwrite of its slot (the poller's sequence is a `Release`
    /// store, [DSR-O1](crate::safety#DSR-O1)).
    ///
    /// # Examples
    ///
    /// A poller on its own thread, fed by the producer's:
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, Polled, Yielding};
    /// use std::thread;
    ///
    /// let (builder, mut poller) = Builder::single_producer(8, || 0u64, Yielding).poller();
    /// let (mut producer, consumers) = builder.build();
    /// let feeder = thread::spawn(move || {
    ///     for i in 1..=100 {
    ///         producer.publish(|e| *e = i).unwrap();
    ///     }
    /// }); // the producer drops when the thread ends
    /// let mut sum = 0;
    /// while poller.poll(|e, _, _| sum += e) != Polled::Shutdown {
    ///     std::hint::spin_loop();
    /// }
    /// assert_eq!(sum, 5050);
    /// feeder.join().unwrap();
    /// consumers.join().unwrap();
    /// ```
    pub fn poll(&mut self, handler: impl FnMut(&E, i64, bool)) -> Polled {
        self.poll_at_most(usize::MAX, handler)
    }

    /// Like [`poll`](EventPoller::poll), but hands over at most `max` events
    /// (the oldest available); the rest wait for the next poll. `end_of_batch`
    /// is true for the last event handed over. With `max == 0` nothing is
    /// handed over and the result says only whether the Disruptor shut down
    /// or halted.
    ///
    /// # Panics
    ///
    /// If `handler` panics, as for [`poll`](EventPoller::poll).
    ///
    /// # Memory ordering
    ///
    /// As for [`poll`](EventPoller::poll), for the events handed over.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, Polled};
    ///
    /// let (builder, mut poller) = Builder::single_producer(8, || 0u32, BusySpin).poller();
    /// let (mut producer, consumers) = builder.build();
    /// for i in 0..5 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// let mut seen = Vec::new();
    /// assert_eq!(poller.poll_at_most(2, |e, _, _| seen.push(*e)), Polled::Events(2));
    /// assert!(poller.has_available());
    /// assert_eq!(poller.poll(|e, _, _| seen.push(*e)), Polled::Events(3));
    /// assert_eq!(seen, [0, 1, 2, 3, 4]);
    /// assert!(!poller.has_available());
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn poll_at_most(&mut self, max: usize, mut handler: impl FnMut(&E, i64, bool)) -> Polled {
        let next = self.sequence.get() + 1;
        let limit = next.saturating_add(i64::try_from(max).unwrap_or(i64::MAX)) - 1;
        let hi = self.barrier.available(next).min(limit);
        if hi >= next {
            // SAFE-CODE: [DSR-S2] a panicking handler: the guard commits the events it returned from, and only those.
            let mut commit = Commit {
                shared: &self.shared,
                sequence: &self.sequence,
                before: next - 1,
                handled: next - 1,
            };
            for s in next..=hi {
                // SAFETY: [DSR-I1] `s <= hi` is published (or passed by every stage we depend on) and our sequence stays below `s` until `handler` returned from it.
                let event = unsafe { commit.shared.ring.get(s) };
                handler(event, s, s == hi);
                commit.handled = s;
            }
            drop(commit);
            return Polled::Events((hi - next + 1) as u64);
        }
        if self.shared.control.is_halted() {
            return Polled::Halted;
        }
        if next > self.shared.control.end() {
            return Polled::Shutdown;
        }
        Polled::Idle
    }

    /// Whether at least one event is available to this poller now: the next
    /// [`poll`](EventPoller::poll) would hand over something. A snapshot: more
    /// may be published at any moment, never fewer (only this poller consumes
    /// them).
    ///
    /// # Memory ordering
    ///
    /// A `true` answer was read with `Acquire` ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)), but
    /// nothing is handed over: what the caller may rely on comes with the
    /// events of the next [`poll`](EventPoller::poll).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    ///
    /// let (builder, mut poller) = Builder::single_producer(8, || 0u32, BusySpin).poller();
    /// let (mut producer, consumers) = builder.build();
    /// assert!(!poller.has_available());
    /// producer.publish(|e| *e = 1).unwrap();
    /// assert!(poller.has_available());
    /// poller.poll(|_, _, _| {});
    /// assert!(!poller.has_available());
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn has_available(&self) -> bool {
        let next = self.sequence.get() + 1;
        self.barrier.available(next) >= next
    }

    /// Like [`poll`](EventPoller::poll), but when nothing is available waits
    /// up to `timeout` for an event, with the poller's strategy (its own, or
    /// the Disruptor's default): a `Blocking` one sleeps, a spinning one
    /// spins.
    ///
    /// Returns [`Polled::Timeout`] if the timeout passed with nothing to
    /// hand over. A timeout too long to add to [`Instant::now`](std::time::Instant::now)
    /// (such as [`Duration::MAX`](std::time::Duration::MAX)) waits without a deadline.
    ///
    /// # Panics
    ///
    /// If `handler` panics, as for [`poll`](EventPoller::poll), or if the
    /// poller's strategy panics (nothing is consumed then).
    ///
    /// # Memory ordering
    ///
    /// As for [`poll`](EventPoller::poll), for the events handed over.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Builder, Polled};
    /// use std::time::Duration;
    ///
    /// let (builder, mut poller) = Builder::single_producer(8, || 0u32, Blocking::new()).poller();
    /// let (mut producer, consumers) = builder.build();
    /// assert_eq!(poller.poll_timeout(Duration::from_millis(1), |_, _, _| {}), Polled::Timeout);
    /// producer.publish(|e| *e = 5).unwrap();
    /// let mut got = 0;
    /// assert_eq!(poller.poll_timeout(Duration::from_secs(60), |e, _, _| got = *e), Polled::Events(1));
    /// assert_eq!(got, 5);
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn poll_timeout(
        &mut self,
        timeout: std::time::Duration,
        handler: impl FnMut(&E, i64, bool),
    ) -> Polled {
        let next = self.sequence.get() + 1;
        let control = &self.shared.control;
        let waited = match &self.wait {
            Some(own) => self.barrier.wait_at_most(next, &**own, || control.alerted(), timeout),
            None => {
                self.barrier.wait_at_most(next, &self.shared.wait, || control.alerted(), timeout)
            }
        };
        match waited {
            Ok(_) => self.poll(handler),
            Err(Timeout) => Polled::Timeout,
        }
    }
}

/// Publishes a poll's progress: the last event the handler returned from,
/// also when it panics in a later one.
struct Commit<'a, E, C, W: WaitStrategy> {
    shared: &'a Shared<E, C, W>,
    sequence: &'a Sequence,
    /// The poller's sequence when the poll began.
    before: i64,
    /// The last sequence the handler returned from.
    handled: i64,
}

impl<E, C, W: WaitStrategy> Drop for Commit<'_, E, C, W> {
    fn drop(&mut self) {
        if self.handled > self.before {
            // [DSR-O1] Release: our reads happen-before the overwrite and later stages.
            self.sequence.set(self.handled);
            // [DSR-I8] a later stage or a producer may sleep on our sequence.
            self.shared.signal_from_drop();
        }
    }
}

// Unwind safety: a poll callback that panics has every event before the one
// it panicked in marked handled and that one left to be seen again
// ([DSR-S2]); the poller's sequence is consistent after any panic, and
// `&EventPoller` only reads sequences.
impl<E, C, W: WaitStrategy, V: WaitStrategy> std::panic::UnwindSafe for EventPoller<E, C, W, V> {}
impl<E, C, W: WaitStrategy, V: WaitStrategy> std::panic::RefUnwindSafe for EventPoller<E, C, W, V> {}

impl<E, C, W: WaitStrategy, V: WaitStrategy> Drop for EventPoller<E, C, W, V> {
    fn drop(&mut self) {
        let control = &self.shared.control;
        // SAFE-CODE: [DSR-S5] not drained: events up to `end` (every event, while producers exist) would wait for this poller forever, and so would the producers and later stages; halt instead. A drained poller (sequence at `end`) has nothing left to hold up.
        if self.sequence.get() < control.end() {
            control.halt();
            self.shared.signal_from_drop();
        }
    }
}

impl<E, C, W: WaitStrategy, V: WaitStrategy> fmt::Debug for EventPoller<E, C, W, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventPoller").field("sequence", &self.sequence).finish_non_exhaustive()
    }
}
