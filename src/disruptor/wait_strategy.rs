//! How a consumer waits for the next sequence: [`BusySpin`], [`Yielding`],
//! [`Sleeping`] and [`Blocking`].
//!
//! A strategy trades latency for CPU: `BusySpin` reacts in nanoseconds and
//! burns a core; `Blocking` sleeps on a condition variable and costs whoever
//! wakes it a fence and a load per publish (plus a lock and a notify only
//! while someone sleeps; on Linux the fence is a compiler fence, the sleeper
//! paying a process-wide barrier as it falls asleep).
//!
//! # Who waits with which strategy
//!
//! The strategy given to the builder is the Disruptor's default: every
//! consumer added without one of its own waits with it. Each handler, work
//! pool, poller or producer may instead get its own
//! ([`Builder::handle_events_with_wait`](super::Builder::handle_events_with_wait),
//! [`Builder::work_pool_with_wait`](super::Builder::work_pool_with_wait),
//! [`Builder::poller_with_wait`](super::Builder::poller_with_wait),
//! [`Builder::producer_wait`](super::Builder::producer_wait)): a consumer's
//! strategy is a type parameter of its own loop, so a `BusySpin` consumer
//! waits with static dispatch even when its neighbour blocks.
//!
//! # Who signals whom
//!
//! A strategy that can sleep ([`WaitStrategy::sleeps`]) must be woken by
//! whoever advances what it waits for. When the graph is built, the builder
//! collects every sleeping strategy other than the default into one list,
//! and every party — producers after a publish, consumers after a batch,
//! shutdown and halt — calls `signal` on the default strategy (a no-op
//! unless it sleeps) and on each strategy of that list ([DSR-I8](crate::safety#DSR-I8)). With no
//! sleeping strategy in the graph the list is empty and a publish pays one
//! well-predicted branch; each sleeping strategy costs every signal one
//! fence and one load while nobody sleeps, and a lock and a notify
//! only while someone does ([DSR-O7](crate::safety#DSR-O7)). A `BusySpin` consumer beside a
//! `Blocking` one therefore makes a publish cost what a publish into an
//! all-`Blocking` Disruptor costs, not more.
//!
//! # Timeouts
//!
//! [`WaitStrategy::wait_for_until`] waits until a deadline and returns
//! [`Timeout`] when it passes first. A consumer whose strategy has a
//! [`timeout`](WaitStrategy::timeout) (wrap it in [`Timed`]) calls its
//! handler's [`on_timeout`](super::EventHandler::on_timeout) whenever a wait
//! times out, and [`EventPoller::poll_timeout`](super::EventPoller::poll_timeout)
//! waits for events for a bounded time.

use crate::loom::asymmetric;
use crate::loom::atomic::AtomicUsize;
use crate::loom::atomic::Ordering::{Relaxed, SeqCst};
#[allow(clippy::disallowed_types)] // the switch module's (loom-checked) Mutex and Condvar
use crate::loom::sync::{Arc, Condvar, Mutex};
use crate::patience::Patience;
use core::fmt;
use std::boxed::Box;
use std::time::{Duration, Instant};
use std::vec::Vec;

/// A way for a consumer (or a producer facing a full ring) to wait until a
/// sequence becomes available.
///
/// Implementors should return as soon as `available()` reaches `sequence` or
/// `alerted()` is true (checking both at least once), and `signal` must wake
/// every waiter that could otherwise miss an update made before the call.
/// A strategy whose `signal` does nothing should say so with
/// [`sleeps`](WaitStrategy::sleeps), so that nobody calls it.
///
/// # What the Disruptor trusts of a strategy
///
/// Nothing that decides which memory is touched. The trait is safe to
/// implement, so its answers are advice: the Disruptor hands the strategy an
/// `available` closure that records every value it reads, and after the wait
/// it goes by its own last reading, not by the value the strategy returns
/// (SAFETY.md, [DSR-S1](crate::safety#DSR-S1)). A strategy that returns too much, too little, or
/// without calling `available`, that panics, or that says it does not sleep
/// and then sleeps, can only slow down or stop its own waiter: a consumer
/// then handles no event it has not seen published (a consumer that never
/// wakes holds up the producers behind it, as a handler that never returns
/// would), a producer never overwrites an event a consumer has not
/// finished. A consumer's strategy that panics halts the Disruptor like a
/// panicking handler; a producer's strategy that panics propagates out of
/// the publishing call, which has then claimed nothing.
///
/// # Memory ordering
///
/// A strategy orders no memory for its waiter: what a consumer may read,
/// and when a producer may overwrite, is ordered by the sequences the
/// `available` closure reads with `Acquire` ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)). Waking
/// is a separate matter: [`Blocking`]'s fence pair makes sure
/// a sleeper either sees the store it waits for or is woken by the
/// `signal` that follows it ([DSR-O7](crate::safety#DSR-O7)).
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Blocking, Sequence, Timeout, WaitStrategy};
/// use std::sync::Arc;
/// use std::time::{Duration, Instant};
///
/// let cursor = Arc::new(Sequence::new());
/// let wait = Arc::new(Blocking::new());
/// let (c, w) = (Arc::clone(&cursor), Arc::clone(&wait));
/// let consumer = std::thread::spawn(move || w.wait_for(0, || c.get(), || false));
/// cursor.set(0); // publish sequence 0 ...
/// wait.signal(); // ... and wake whoever sleeps on it
/// assert_eq!(consumer.join().unwrap(), 0);
///
/// // Nothing will publish 1: a bounded wait gives up.
/// let deadline = Instant::now() + Duration::from_millis(1);
/// assert_eq!(wait.wait_for_until(1, || cursor.get(), || false, deadline), Err(Timeout));
/// ```
pub trait WaitStrategy: Send + Sync + 'static {
    /// Waits until `available() >= sequence` or `alerted()`, and returns the
    /// last value of `available()` it saw (which may exceed `sequence`:
    /// natural batching, or fall short of it when alerted).
    ///
    /// The Disruptor's own waits ignore the value returned and use the last
    /// value `available()` returned to the strategy (see the trait docs).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Sequence, WaitStrategy, Yielding};
    /// use std::sync::Arc;
    /// use std::thread;
    ///
    /// let cursor = Arc::new(Sequence::new());
    /// let c = Arc::clone(&cursor);
    /// let publisher = thread::spawn(move || c.set(3));
    /// assert_eq!(Yielding.wait_for(3, || cursor.get(), || false), 3);
    /// publisher.join().unwrap();
    /// // Alerted: gives up with what it saw.
    /// assert_eq!(Yielding.wait_for(10, || cursor.get(), || true), 3);
    /// ```
    fn wait_for<A, H>(&self, sequence: i64, available: A, alerted: H) -> i64
    where
        A: Fn() -> i64,
        H: Fn() -> bool;

    /// Like [`wait_for`](WaitStrategy::wait_for), but gives up at `deadline`.
    ///
    /// The provided implementation polls, yielding between polls; `Sleeping`
    /// naps at most until the deadline and `Blocking` sleeps with a timed
    /// condition-variable wait.
    ///
    /// # Errors
    ///
    /// [`Timeout`] if `deadline` passed while `available() < sequence` and
    /// not `alerted()` (both are checked once more after the deadline).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{BusySpin, Timeout, WaitStrategy};
    /// use std::time::{Duration, Instant};
    ///
    /// let soon = Instant::now() + Duration::from_millis(1);
    /// assert_eq!(BusySpin.wait_for_until(5, || 7, || false, soon), Ok(7));
    /// assert_eq!(BusySpin.wait_for_until(5, || 4, || false, soon), Err(Timeout));
    /// ```
    fn wait_for_until<A, H>(
        &self,
        sequence: i64,
        available: A,
        alerted: H,
        deadline: Instant,
    ) -> Result<i64, Timeout>
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        let mut spins = 0u32;
        loop {
            let seen = available();
            if seen >= sequence || alerted() {
                return Ok(seen);
            }
            if Instant::now() >= deadline {
                return Err(Timeout);
            }
            if spins < YIELDING_SPINS {
                spins += 1;
                crate::loom::spin_loop();
            } else {
                #[allow(clippy::disallowed_methods)] // the switch module's yield
                crate::loom::thread::yield_now();
            }
        }
    }

    /// Called by a producer after it published, by a consumer after it
    /// advanced, and by shutdown and halt: wakes the waiters that sleep.
    ///
    /// A panic here does not keep the Disruptor's other strategies from
    /// being signalled: each is signalled, then the panic continues (inside
    /// a drop that runs while the thread unwinds, it is dropped instead).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Sequence, WaitStrategy};
    /// use std::sync::Arc;
    /// use std::thread;
    ///
    /// let (cursor, wait) = (Arc::new(Sequence::new()), Arc::new(Blocking::new()));
    /// let (c, w) = (Arc::clone(&cursor), Arc::clone(&wait));
    /// let sleeper = thread::spawn(move || w.wait_for(0, || c.get(), || false));
    /// cursor.set(0);
    /// wait.signal(); // after the store: a sleeper that missed it wakes
    /// assert_eq!(sleeper.join().unwrap(), 0);
    /// ```
    fn signal(&self);

    /// Whether a waiter of this strategy may sleep until `signal` wakes it.
    /// `false` promises that `signal` does nothing, so the Disruptor never
    /// calls it (the spinning strategies return `false`). The default is
    /// `true`: a strategy that does not say is signalled.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, BusySpin, Sleeping, WaitStrategy, Yielding};
    ///
    /// assert!(Blocking::new().sleeps());
    /// assert!(!BusySpin.sleeps() && !Yielding.sleeps());
    /// assert!(!Sleeping::default().sleeps()); // naps, but never needs a signal
    /// ```
    #[inline]
    fn sleeps(&self) -> bool {
        true
    }

    /// How long a consumer waits before its handler's
    /// [`on_timeout`](super::EventHandler::on_timeout) runs; `None` (the
    /// default) waits without limit. Set it with [`Timed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{BusySpin, Timed, WaitStrategy};
    /// use std::time::Duration;
    ///
    /// assert_eq!(BusySpin.timeout(), None);
    /// let timed = Timed::new(BusySpin, Duration::from_millis(5));
    /// assert_eq!(timed.timeout(), Some(Duration::from_millis(5)));
    /// assert!(!timed.sleeps()); // spinning: producers never signal it
    /// ```
    #[inline]
    fn timeout(&self) -> Option<Duration> {
        None
    }
}

/// A wait gave up: its deadline passed before the sequence was available.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Timeout, WaitStrategy, Yielding};
/// use std::time::Instant;
///
/// // A deadline already passed, nothing available: the wait gives up at once.
/// assert_eq!(Yielding.wait_for_until(0, || -1, || false, Instant::now()), Err(Timeout));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout;

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the wait timed out before the sequence was available")
    }
}

impl std::error::Error for Timeout {}

/// A shared strategy as the Disruptor's parties see it: something to wake.
pub(crate) trait Signal: Send + Sync {
    fn signal(&self);
    fn clone_box(&self) -> Box<dyn Signal>;
}

impl<W: WaitStrategy> Signal for Arc<W> {
    #[inline]
    fn signal(&self) {
        WaitStrategy::signal(&**self)
    }

    fn clone_box(&self) -> Box<dyn Signal> {
        Box::new(Arc::clone(self))
    }
}

/// The sleeping strategies of one Disruptor other than its default, each
/// signalled after every store that could end a wait ([DSR-I8](crate::safety#DSR-I8)).
#[derive(Default)]
pub(crate) struct Signals {
    sleepers: Box<[Box<dyn Signal>]>,
}

impl Clone for Signals {
    fn clone(&self) -> Self {
        Self { sleepers: self.sleepers.iter().map(|s| s.clone_box()).collect() }
    }
}

impl Signals {
    pub(crate) fn new(sleepers: Vec<Box<dyn Signal>>) -> Self {
        Self { sleepers: sleepers.into_boxed_slice() }
    }

    /// Signals `default` (statically dispatched; a no-op unless it sleeps)
    /// and every sleeping strategy of the graph.
    #[inline]
    pub(crate) fn signal<W: WaitStrategy>(&self, default: &W) {
        if self.sleepers.is_empty() {
            default.signal();
        } else {
            self.signal_each(default);
        }
    }

    /// Every strategy, even when one of them panics: the first panic
    /// continues once all were signalled.
    #[cold]
    fn signal_each<W: WaitStrategy>(&self, default: &W) {
        // SAFE-CODE: [DSR-S2] a strategy whose `signal` panics must not cost the others their wake-up ([DSR-I8]).
        let mut first = catching(|| default.signal());
        for s in self.sleepers.iter() {
            let panicked = catching(|| s.signal());
            first = first.or(panicked);
        }
        resume(first);
    }

    /// [`signal`](Signals::signal) from a `Drop` impl or a guard: a panic of
    /// a strategy is resumed only if the thread is not already unwinding.
    pub(crate) fn signal_from_drop<W: WaitStrategy>(&self, default: &W) {
        resume(catching(|| self.signal(default)));
    }
}

/// Runs user code for a caller that must finish its own bookkeeping
/// whatever the user code does: a panic is caught and returned, for
/// [`resume`] once the bookkeeping is done.
pub(crate) fn catching(f: impl FnOnce()) -> Option<super::PanicPayload> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).err()
}

/// Continues a panic [`catching`] caught, unless the thread is already
/// unwinding: a second panic escaping a `Drop` impl then would abort the
/// process, so that one is dropped (its message was printed when it began).
pub(crate) fn resume(panic: Option<super::PanicPayload>) {
    if let Some(payload) = panic {
        if !std::thread::panicking() {
            std::panic::resume_unwind(payload);
        }
    }
}

/// A strategy whose consumers time out: `inner` waits, at most `timeout` at
/// a time, and after each timeout the consumer's handler gets
/// [`on_timeout`](super::EventHandler::on_timeout) (LMAX's `onTimeout`).
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Blocking, Builder, EventHandler, Timed};
/// use std::sync::mpsc;
/// use std::time::Duration;
///
/// struct Flusher(mpsc::Sender<i64>);
/// impl EventHandler<u64> for Flusher {
///     fn on_event(&mut self, _: &u64, _: i64, _: bool) {}
///     fn on_timeout(&mut self, sequence: i64) {
///         let _ = self.0.send(sequence); // idle: flush what was handled up to `sequence`
///     }
/// }
///
/// let (tx, rx) = mpsc::channel();
/// let timed = Timed::new(Blocking::new(), Duration::from_millis(1));
/// let (producer, consumers) = Builder::single_producer(8, || 0u64, Blocking::new())
///     .handle_events_with_handler_and_wait(Flusher(tx), timed)
///     .build();
/// assert_eq!(rx.recv().unwrap(), -1); // nothing handled yet, and nothing came
/// drop(producer);
/// consumers.join().unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Timed<W> {
    inner: W,
    timeout: Duration,
}

impl<W: WaitStrategy> Timed<W> {
    /// `inner`, giving up after `timeout` each time.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Timed, WaitStrategy};
    /// use std::time::Duration;
    ///
    /// let timed = Timed::new(Blocking::new(), Duration::from_millis(250));
    /// assert_eq!(timed.timeout(), Some(Duration::from_millis(250)));
    /// assert!(timed.sleeps()); // as its inner strategy
    /// ```
    pub fn new(inner: W, timeout: Duration) -> Self {
        Self { inner, timeout }
    }
}

impl<W: WaitStrategy> WaitStrategy for Timed<W> {
    #[inline]
    fn wait_for<A, H>(&self, sequence: i64, available: A, alerted: H) -> i64
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        self.inner.wait_for(sequence, available, alerted)
    }

    #[inline]
    fn wait_for_until<A, H>(
        &self,
        sequence: i64,
        available: A,
        alerted: H,
        deadline: Instant,
    ) -> Result<i64, Timeout>
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        self.inner.wait_for_until(sequence, available, alerted, deadline)
    }

    #[inline]
    fn signal(&self) {
        self.inner.signal()
    }

    #[inline]
    fn sleeps(&self) -> bool {
        self.inner.sleeps()
    }

    #[inline]
    fn timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }
}

/// Spins on the sequence: lowest latency, one busy core per consumer.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, BusySpin};
///
/// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
///     .handle_events_with(|e, _, _| assert_eq!(*e, 1))
///     .build();
/// producer.publish(|e| *e = 1).unwrap();
/// drop(producer);
/// consumers.join().unwrap();
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct BusySpin;

impl WaitStrategy for BusySpin {
    #[inline]
    fn wait_for<A, H>(&self, sequence: i64, available: A, alerted: H) -> i64
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        loop {
            let seen = available();
            if seen >= sequence || alerted() {
                return seen;
            }
            crate::loom::spin_loop();
        }
    }

    #[inline]
    fn signal(&self) {}

    #[inline]
    fn sleeps(&self) -> bool {
        false
    }
}

/// Spins a little, then yields the CPU between checks: good when consumers
/// share cores with other threads.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Sequence, WaitStrategy, Yielding};
///
/// let cursor = Sequence::with_value(4);
/// assert_eq!(Yielding.wait_for(2, || cursor.get(), || false), 4);
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Yielding;

/// Checks `Yielding` makes, a spin hint apart, before it starts yielding:
/// a few hundred nanoseconds on current x86-64 parts, where one hint can
/// take 30-40 ns. Longer spinning only burns the time slice another thread
/// of the pipeline needs when threads outnumber cores (1P -> 2 stages on two
/// cores: 87 M events/s with 100 checks, 160-180 with 10).
const YIELDING_SPINS: u32 = 10;

impl WaitStrategy for Yielding {
    #[inline]
    fn wait_for<A, H>(&self, sequence: i64, available: A, alerted: H) -> i64
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        let mut spins = 0u32;
        loop {
            let seen = available();
            if seen >= sequence || alerted() {
                return seen;
            }
            if spins < YIELDING_SPINS {
                spins += 1;
                crate::loom::spin_loop();
            } else {
                #[allow(clippy::disallowed_methods)] // the switch module's yield
                crate::loom::thread::yield_now();
            }
        }
    }

    #[inline]
    fn signal(&self) {}

    #[inline]
    fn sleeps(&self) -> bool {
        false
    }
}

/// Spins, then yields, then sleeps in short naps: little CPU when idle,
/// sleep-sized latency after an idle period, and nothing on the producer's
/// path.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, Sleeping};
/// use std::time::Duration;
///
/// let nap = Sleeping::new(Duration::from_micros(50));
/// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, nap)
///     .handle_events_with(|e, _, _| assert!(*e < 8))
///     .build();
/// for i in 0..8 {
///     producer.publish(|e| *e = i).unwrap();
/// }
/// drop(producer);
/// consumers.join().unwrap();
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Sleeping {
    #[cfg_attr(loom, allow(dead_code))]
    nap: std::time::Duration,
}

impl Sleeping {
    /// Naps of `nap` once spinning and yielding gave nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Sequence, Sleeping, WaitStrategy};
    /// use std::time::Duration;
    ///
    /// let wait = Sleeping::new(Duration::from_millis(1));
    /// let cursor = Sequence::with_value(0);
    /// assert_eq!(wait.wait_for(0, || cursor.get(), || false), 0);
    /// ```
    pub fn new(nap: std::time::Duration) -> Self {
        Self { nap }
    }
}

impl Default for Sleeping {
    /// Naps of 100 µs.
    fn default() -> Self {
        Self::new(std::time::Duration::from_micros(100))
    }
}

impl WaitStrategy for Sleeping {
    fn wait_for<A, H>(&self, sequence: i64, available: A, alerted: H) -> i64
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        let backoff = crate::loom::Backoff::new();
        loop {
            let seen = available();
            if seen >= sequence || alerted() {
                return seen;
            }
            if !backoff.is_completed() {
                backoff.snooze();
            } else {
                #[cfg(not(loom))]
                std::thread::sleep(self.nap);
                #[cfg(loom)]
                #[allow(clippy::disallowed_methods)] // the switch module's yield
                crate::loom::thread::yield_now();
            }
        }
    }

    fn wait_for_until<A, H>(
        &self,
        sequence: i64,
        available: A,
        alerted: H,
        deadline: Instant,
    ) -> Result<i64, Timeout>
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        let backoff = crate::loom::Backoff::new();
        loop {
            let seen = available();
            if seen >= sequence || alerted() {
                return Ok(seen);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Timeout);
            }
            if !backoff.is_completed() {
                backoff.snooze();
            } else {
                #[cfg(not(loom))]
                std::thread::sleep(self.nap.min(deadline - now));
                #[cfg(loom)]
                #[allow(clippy::disallowed_methods)] // the switch module's yield
                crate::loom::thread::yield_now();
            }
        }
    }

    #[inline]
    fn signal(&self) {}

    #[inline]
    fn sleeps(&self) -> bool {
        false
    }
}

/// Polls for up to about 100 µs (spinning, then yielding), then sleeps on a
/// condition variable; the producer wakes sleepers after it publishes. An idle consumer uses no CPU.
///
/// # Algorithm
///
/// A consumer that finds nothing available after polling for a while (a
/// short spin, then yields: about 100 µs in all) takes the mutex, counts
/// itself in `sleepers`, issues the heavy half of a fence pair, checks again, and only then waits on
/// the condition variable (which releases the mutex atomically). A producer,
/// after its `Release` publish, issues the light half and reads `sleepers`;
/// only if it is non-zero does it take the mutex and notify. On Linux the
/// light half is a compiler fence and the heavy half a process-wide barrier
/// (`membarrier`), so a publish pays no fence instruction; elsewhere both are
/// `SeqCst` fences ([FENCE-I1](crate::safety#FENCE-I1)). The two halves
/// form a Dekker pair: either the producer sees the sleeper, or the sleeper's
/// re-check sees the publish — never neither, so no wake-up is lost
/// ([DSR-O7](crate::safety#DSR-O7) in SAFETY.md). Holding the mutex from the count to the wait
/// keeps the notify from slipping in between.
///
/// # Memory ordering
///
/// See the trait's: the fences order only the hand-shake that keeps a
/// sleeper from missing its wake-up ([DSR-O7](crate::safety#DSR-O7)); the events are ordered by
/// the sequences ([DSR-O1](crate::safety#DSR-O1), [DSR-O2](crate::safety#DSR-O2)).
///
/// # Examples
///
/// An idle consumer that sleeps until the producer publishes:
///
/// ```
/// use acqrel::disruptor::{Blocking, Builder};
/// use std::sync::mpsc;
///
/// let (tx, rx) = mpsc::channel();
/// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, Blocking::new())
///     .handle_events_with(move |e, _, _| tx.send(*e).unwrap())
///     .build();
/// producer.publish(|e| *e = 42).unwrap(); // wakes the consumer
/// assert_eq!(rx.recv().unwrap(), 42);
/// drop(producer);
/// consumers.join().unwrap();
/// ```
#[allow(clippy::disallowed_types)] // the switch module's Mutex and Condvar
pub struct Blocking {
    mutex: Mutex<()>,
    condvar: Condvar,
    sleepers: AtomicUsize,
}

impl Blocking {
    /// A new blocking strategy.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Builder, BusySpin};
    ///
    /// let (mut producer, consumers) = Builder::single_producer(4, || 0u64, BusySpin)
    ///     .producer_wait(Blocking::new()) // a producer on a full ring sleeps
    ///     .handle_events_with(|_, _, _| {})
    ///     .build();
    /// for i in 0..32 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    #[allow(clippy::disallowed_types)] // the switch module's Mutex and Condvar
    pub fn new() -> Self {
        // Every `Blocking` exists only after the process has chosen its
        // fence pair ([FENCE-I1](crate::safety#FENCE-I1)).
        asymmetric::prepare();
        Self { mutex: Mutex::new(()), condvar: Condvar::new(), sleepers: AtomicUsize::new(0) }
    }
}

impl Default for Blocking {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Blocking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocking").finish_non_exhaustive()
    }
}

impl Blocking {
    /// The wait of both [`WaitStrategy::wait_for`] (no deadline) and
    /// [`WaitStrategy::wait_for_until`]: one hand-shake ([DSR-O7](crate::safety#DSR-O7)) for both,
    /// so the loom models of the untimed wait check the timed one's too.
    fn wait_until<A, H>(
        &self,
        sequence: i64,
        available: A,
        alerted: H,
        deadline: Option<Instant>,
    ) -> Result<i64, Timeout>
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        // Poll for a while first (spinning, then yielding): an event that is
        // about to arrive costs neither side a sleep and a wake-up.
        let mut patience = Patience::new();
        loop {
            let seen = available();
            if seen >= sequence || alerted() {
                return Ok(seen);
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) || !patience.poll_again()
            {
                break;
            }
        }
        loop {
            let seen = available();
            if seen >= sequence || alerted() {
                return Ok(seen);
            }
            let left = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Err(Timeout),
                },
            };
            let guard = self.mutex.lock().unwrap_or_else(|e| e.into_inner());
            // ORDERING: [DSR-O7] Relaxed — the count is only changed under the mutex; its visibility to the producer comes from the fence below.
            self.sleepers.fetch_add(1, Relaxed);
            // ORDERING: [DSR-O7] SeqCst fence (heavy half, [FENCE-I1]) — StoreLoad against the light half in `signal`: our count is seen there, or our re-check below sees its publish.
            asymmetric::heavy(SeqCst);
            let seen = available();
            if seen >= sequence || alerted() {
                // ORDERING: [DSR-O7] Relaxed — under the mutex; a stale positive count costs the producer one needless notify.
                self.sleepers.fetch_sub(1, Relaxed);
                return Ok(seen);
            }
            let guard = match left {
                None => self.condvar.wait(guard).unwrap_or_else(|e| e.into_inner()),
                Some(left) => {
                    self.condvar.wait_timeout(guard, left).unwrap_or_else(|e| e.into_inner()).0
                }
            };
            // ORDERING: [DSR-O7] Relaxed — under the mutex again.
            self.sleepers.fetch_sub(1, Relaxed);
            drop(guard);
        }
    }
}

impl WaitStrategy for Blocking {
    fn wait_for<A, H>(&self, sequence: i64, available: A, alerted: H) -> i64
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        match self.wait_until(sequence, available, alerted, None) {
            Ok(seen) => seen,
            Err(Timeout) => unreachable!("a wait without a deadline does not time out"),
        }
    }

    fn wait_for_until<A, H>(
        &self,
        sequence: i64,
        available: A,
        alerted: H,
        deadline: Instant,
    ) -> Result<i64, Timeout>
    where
        A: Fn() -> i64,
        H: Fn() -> bool,
    {
        self.wait_until(sequence, available, alerted, Some(deadline))
    }

    fn signal(&self) {
        // ORDERING: [DSR-O7] SeqCst fence (light half, [FENCE-I1]) — StoreLoad: the publish before it is ordered before the `sleepers` load after it (pairs with the sleeper's heavy half).
        asymmetric::light(SeqCst);
        // ORDERING: [DSR-O7] Relaxed — the fence pair decides what this load must see.
        if self.sleepers.load(Relaxed) != 0 {
            let _guard = self.mutex.lock().unwrap_or_else(|e| e.into_inner());
            self.condvar.notify_all();
        }
    }
}
