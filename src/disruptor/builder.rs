//! [`Builder`] wires the consumer graph; [`Producer`] publishes into it;
//! [`Consumers`] joins it.

use super::barrier::SequenceBarrier;
use super::event_poller::EventPoller;
use super::multi_producer::{MultiProducerCursor, MultiProducerSequencer};
use super::processor::{EventHandler, PanicPayload, WorkSequence, run, run_worker};
use super::ring_buffer::RingBuffer;
use super::sequence::Sequence;
use super::single_producer::SingleProducerSequencer;
use super::wait_strategy::WaitStrategy;
use super::wait_strategy::{Signal, Signals, Yielding, catching, resume};
use super::{Cursor, Halted, Sequencer, TryPublishError};
use crate::loom::atomic::Ordering::{AcqRel, Relaxed};
use crate::loom::atomic::{AtomicBool, AtomicI64, AtomicUsize};
use crate::loom::sync::Arc;
use crate::loom::thread::{self, JoinHandle};
use core::fmt;
use core::ops::{Deref, DerefMut};
use std::boxed::Box;
use std::vec::Vec;

type Factory<E> = Box<dyn Fn() -> E + Send + Sync>;

/// A consumer thread's body, waiting for the graph's [`Signals`] to start.
type Pending = Box<dyn FnOnce(Signals) -> Result<(), PanicPayload> + Send>;

/// Shutdown and halt state shared by producers and consumers.
pub(crate) struct Control {
    /// `i64::MAX` while producers exist; then the last sequence claimed.
    end: AtomicI64,
    halted: AtomicBool,
    /// Live producer handles.
    producers: AtomicUsize,
}

impl Control {
    fn new() -> Self {
        Self {
            end: AtomicI64::new(i64::MAX),
            halted: AtomicBool::new(false),
            producers: AtomicUsize::new(1),
        }
    }

    #[inline]
    pub(crate) fn alerted(&self) -> bool {
        self.end() != i64::MAX || self.is_halted()
    }

    #[inline]
    pub(crate) fn end(&self) -> i64 {
        // ORDERING: [DSR-O9] Relaxed — a consumer stops only after it has acquired every sequence up to `end` through [DSR-O2]/[DSR-O4]; the value itself publishes nothing.
        self.end.load(Relaxed)
    }

    fn close(&self, end: i64) {
        // ORDERING: [DSR-O9] Relaxed — see `end`; sleepers see it through the fence in `WaitStrategy::signal` ([DSR-O7]).
        self.end.store(end, Relaxed);
    }

    #[inline]
    pub(crate) fn is_halted(&self) -> bool {
        // ORDERING: [DSR-O9] Relaxed — a halted party only stops; it reads no data another wrote.
        self.halted.load(Relaxed)
    }

    pub(crate) fn halt(&self) {
        // ORDERING: [DSR-O9] Relaxed — see `is_halted`.
        self.halted.store(true, Relaxed);
    }
}

/// What producers and consumers of one Disruptor share.
pub(crate) struct Shared<E, C, W> {
    pub(crate) ring: RingBuffer<E>,
    pub(crate) cursor: Arc<C>,
    /// The default strategy: consumers added without one of their own.
    pub(crate) wait: W,
    pub(crate) control: Control,
    /// The graph's other sleeping strategies, set once by `build` before
    /// any consumer thread starts or any producer exists.
    signals: std::sync::OnceLock<Signals>,
    factory: Factory<E>,
}

impl<E, C, W: WaitStrategy> Shared<E, C, W> {
    /// Wakes every sleeping strategy of the graph ([DSR-I8]); for the cold
    /// paths and pollers (threads and producers keep their own copy).
    pub(crate) fn signal(&self) {
        match self.signals.get() {
            Some(signals) => signals.signal(&self.wait),
            None => self.wait.signal(),
        }
    }

    /// [`signal`](Shared::signal) from a `Drop` impl or a guard: a
    /// strategy's panic is resumed only if the thread is not unwinding.
    pub(crate) fn signal_from_drop(&self) {
        resume(catching(|| self.signal()));
    }

    /// Replaces the event of slot `s` with a fresh one from the factory,
    /// before a claimed range whose writer panicked, or whose claim was
    /// leaked, is published ([DSR-I6]). If the factory panics, the slot
    /// keeps what it holds; if the old event's `Drop` panics, the fresh
    /// event is in place anyway. Either panic is returned, not propagated:
    /// the caller publishes the range first.
    ///
    /// # Safety
    ///
    /// The caller holds the claim on `s` (claimed and not yet published)
    /// and no reference to the slot lives.
    #[cold]
    unsafe fn reset(&self, s: i64) -> Option<PanicPayload> {
        // SAFE-CODE: [DSR-S2] the factory is user code: a panic here is caught, so it cannot keep the range from being published or, inside a drop during unwinding, abort the process.
        let fresh = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(&self.factory)) {
            Ok(fresh) => fresh,
            Err(panic) => return Some(panic),
        };
        // SAFETY: [DSR-I1] the caller holds the claim on `s` and no reference to the slot lives.
        let slot = unsafe { self.ring.get_mut(s) };
        catching(|| *slot = fresh)
    }
}

/// Builds a Disruptor: ring, sequencer, wait strategy and consumer graph.
///
/// Each handler runs on its own thread, started by `build` (so that every
/// party knows the whole graph's sleeping strategies, [DSR-I8]). The
/// graph is a chain of stages: [`handle_events_with`](Builder::handle_events_with)
/// and [`and`](Builder::and) add a handler to the current stage (all of a
/// stage's handlers see every event, in parallel: multicast);
/// [`then`](Builder::then) starts a new stage whose handlers see an event
/// only after every handler of the previous stage has. Only the last
/// stage gates the producers: the earlier ones are behind it by construction.
///
/// The wait strategy given to the constructor is the default for every
/// consumer; [`handle_events_with_wait`](Builder::handle_events_with_wait)
/// and [`work_pool_with_wait`](Builder::work_pool_with_wait) give a consumer
/// its own, and [`producer_wait`](Builder::producer_wait) sets how producers
/// wait on a full ring (`P`, [`Yielding`] unless set).
///
/// # Examples
///
/// Decode, then journal and replicate in parallel, then apply:
///
/// ```
/// use acqrel::disruptor::{Blocking, Builder};
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let applied = Arc::new(AtomicU64::new(0));
/// let sum = Arc::clone(&applied);
/// let (mut producer, consumers) = Builder::single_producer(1024, || 0u64, Blocking::new())
///     .handle_events_with(|_: &u64, _, _| { /* journal */ })
///     .and(|_: &u64, _, _| { /* replicate */ })
///     .then(move |e: &u64, _, _| { sum.fetch_add(*e, Ordering::Relaxed); })
///     .build();
/// for i in 1..=10 {
///     producer.publish(|e| *e = i).unwrap();
/// }
/// drop(producer);
/// consumers.join().unwrap();
/// assert_eq!(applied.load(Ordering::Relaxed), 55);
/// ```
pub struct Builder<E, C, W: WaitStrategy, P: WaitStrategy = Yielding> {
    shared: Arc<Shared<E, C, W>>,
    /// What the current stage's handlers wait for (empty: the cursor).
    stage_dependencies: Vec<Arc<Sequence>>,
    /// The sequences of the current stage's handlers.
    stage: Vec<Arc<Sequence>>,
    /// Consumer threads, spawned by `build`.
    pending: Vec<Pending>,
    /// Sleeping strategies other than the default ([DSR-I8]).
    sleepers: Vec<Box<dyn Signal>>,
    /// How producers wait on a full ring.
    producer_wait: Arc<P>,
    built: bool,
}

impl<E, W> Builder<E, Sequence, W>
where
    E: Send + Sync + 'static,
    W: WaitStrategy,
{
    /// A Disruptor with one producer: a ring of `capacity` events made by
    /// `factory`, consumers waiting with `wait` unless given their own.
    ///
    /// # Panics
    ///
    /// If `capacity` is not a power of two (zero included) or exceeds `2^32`.
    pub fn single_producer(
        capacity: usize,
        factory: impl Fn() -> E + Send + Sync + 'static,
        wait: W,
    ) -> Self {
        Self::with_cursor(capacity, factory, wait, Sequence::new())
    }
}

impl<E, W> Builder<E, MultiProducerCursor, W>
where
    E: Send + Sync + 'static,
    W: WaitStrategy,
{
    /// A Disruptor for any number of producers (clone the producer handle).
    ///
    /// # Panics
    ///
    /// If `capacity` is not a power of two (zero included) or exceeds `2^32`.
    pub fn multi_producer(
        capacity: usize,
        factory: impl Fn() -> E + Send + Sync + 'static,
        wait: W,
    ) -> Self {
        let cursor = MultiProducerCursor::new(capacity);
        Self::with_cursor(capacity, factory, wait, cursor)
    }
}

impl<E, W, P> Builder<E, Sequence, W, P>
where
    E: Send + Sync + 'static,
    W: WaitStrategy,
    P: WaitStrategy,
{
    /// Finishes the graph and starts the consumer threads: the producer
    /// handle, and the consumers to join.
    pub fn build(mut self) -> (Producer<E, SingleProducerSequencer, W, P>, Consumers) {
        let gating = core::mem::take(&mut self.stage);
        let sequencer = SingleProducerSequencer::new(
            Arc::clone(&self.shared.cursor),
            self.shared.ring.capacity(),
            gating,
        );
        self.finish(sequencer)
    }
}

impl<E, W, P> Builder<E, MultiProducerCursor, W, P>
where
    E: Send + Sync + 'static,
    W: WaitStrategy,
    P: WaitStrategy,
{
    /// Finishes the graph and starts the consumer threads: the first
    /// producer handle (clone it for more), and the consumers to join.
    pub fn build(mut self) -> (Producer<E, MultiProducerSequencer, W, P>, Consumers) {
        let gating = core::mem::take(&mut self.stage);
        let sequencer = MultiProducerSequencer::new(Arc::clone(&self.shared.cursor), gating);
        self.finish(sequencer)
    }
}

impl<E, C, W> Builder<E, C, W>
where
    E: Send + Sync + 'static,
    C: Cursor + 'static,
    W: WaitStrategy,
{
    fn with_cursor(
        capacity: usize,
        factory: impl Fn() -> E + Send + Sync + 'static,
        wait: W,
        cursor: C,
    ) -> Self {
        let ring = RingBuffer::new(capacity, &factory);
        let shared = Shared {
            ring,
            cursor: Arc::new(cursor),
            wait,
            control: Control::new(),
            signals: std::sync::OnceLock::new(),
            factory: Box::new(factory),
        };
        Self {
            shared: Arc::new(shared),
            stage_dependencies: Vec::new(),
            stage: Vec::new(),
            pending: Vec::new(),
            sleepers: Vec::new(),
            producer_wait: Arc::new(Yielding),
            built: false,
        }
    }
}

impl<E, C, W, P> Builder<E, C, W, P>
where
    E: Send + Sync + 'static,
    C: Cursor + 'static,
    W: WaitStrategy,
    P: WaitStrategy,
{
    /// Producers facing a full ring wait with `wait` instead of the default
    /// [`Yielding`]. With [`Blocking`](super::Blocking) a producer sleeps
    /// until a gating consumer advances; the consumers then signal it after
    /// each batch ([DSR-I8]).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Builder, BusySpin};
    ///
    /// let (mut producer, consumers) = Builder::single_producer(2, || 0u64, BusySpin)
    ///     .handle_events_with(|_: &u64, _, _| {})
    ///     .producer_wait(Blocking::new())
    ///     .build();
    /// for i in 0..100 {
    ///     producer.publish(|e| *e = i).unwrap(); // sleeps whenever two are unread
    /// }
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn producer_wait<Q: WaitStrategy>(mut self, wait: Q) -> Builder<E, C, W, Q> {
        self.built = true; // moved into the new builder
        Builder {
            shared: Arc::clone(&self.shared),
            stage_dependencies: core::mem::take(&mut self.stage_dependencies),
            stage: core::mem::take(&mut self.stage),
            pending: core::mem::take(&mut self.pending),
            sleepers: core::mem::take(&mut self.sleepers),
            producer_wait: Arc::new(wait),
            built: false,
        }
    }

    /// Adds a handler to the current stage (the first stage at first): it
    /// sees every event, in parallel with the stage's other handlers.
    pub fn handle_events_with(self, handler: impl EventHandler<E>) -> Self {
        self.and(handler)
    }

    /// Adds a handler to the current stage; same as
    /// [`handle_events_with`](Builder::handle_events_with).
    pub fn and(mut self, handler: impl EventHandler<E>) -> Self {
        let sequence = Arc::new(Sequence::new());
        let barrier =
            SequenceBarrier::new(Arc::clone(&self.shared.cursor), self.stage_dependencies.clone());
        let shared = Arc::clone(&self.shared);
        let mine = Arc::clone(&sequence);
        self.pending.push(Box::new(move |signals| {
            let wait: &W = &shared.wait;
            run(&shared, barrier, mine, handler, wait, signals)
        }));
        self.stage.push(sequence);
        self
    }

    /// Adds a handler to the current stage that waits with its own strategy
    /// instead of the Disruptor's default. Its loop is compiled for `wait`'s
    /// type (no dynamic dispatch per wait), and if `wait` sleeps, every
    /// party that can end its wait signals it ([DSR-I8]).
    ///
    /// # Examples
    ///
    /// A latency-critical handler spins while an audit handler sleeps:
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Builder, BusySpin};
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let audited = Arc::new(AtomicU64::new(0));
    /// let a = Arc::clone(&audited);
    /// let (mut producer, consumers) = Builder::single_producer(64, || 0u64, BusySpin)
    ///     .handle_events_with(|_: &u64, _, _| { /* match orders */ })
    ///     .handle_events_with_wait(
    ///         move |e: &u64, _, _| { a.fetch_add(*e, Ordering::Relaxed); },
    ///         Blocking::new(),
    ///     )
    ///     .build();
    /// for i in 1..=10 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(audited.load(Ordering::Relaxed), 55);
    /// ```
    pub fn handle_events_with_wait<V: WaitStrategy>(
        mut self,
        handler: impl EventHandler<E>,
        wait: V,
    ) -> Self {
        let wait = self.own_strategy(wait);
        let sequence = Arc::new(Sequence::new());
        let barrier =
            SequenceBarrier::new(Arc::clone(&self.shared.cursor), self.stage_dependencies.clone());
        let shared = Arc::clone(&self.shared);
        let mine = Arc::clone(&sequence);
        self.pending
            .push(Box::new(move |signals| run(&shared, barrier, mine, handler, &*wait, signals)));
        self.stage.push(sequence);
        self
    }

    /// Registers a consumer's own strategy: if it sleeps, every party
    /// signals it ([DSR-I8]).
    fn own_strategy<V: WaitStrategy>(&mut self, wait: V) -> Arc<V> {
        let wait = Arc::new(wait);
        if wait.sleeps() {
            self.sleepers.push(Box::new(Arc::clone(&wait)));
        }
        wait
    }

    /// Adds a work pool to the current stage: each event goes to exactly
    /// one of `workers` (each on its own thread), unlike the stage's other
    /// members, which each see every event. Later stages see an event only
    /// after the worker that took it has handled it. Events are not
    /// handled in sequence order across workers; `end_of_batch` is always
    /// true.
    ///
    /// # Panics
    ///
    /// If `workers` is empty.
    pub fn work_pool<H: EventHandler<E>>(self, workers: impl IntoIterator<Item = H>) -> Self {
        self.add_work_pool(workers, None::<Arc<W>>)
    }

    /// Adds a work pool whose workers wait with their own strategy (one
    /// instance shared by the pool) instead of the Disruptor's default; see
    /// [`work_pool`](Builder::work_pool) and
    /// [`handle_events_with_wait`](Builder::handle_events_with_wait).
    ///
    /// # Panics
    ///
    /// If `workers` is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Builder, Yielding};
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let handled = Arc::new(AtomicU64::new(0));
    /// let workers: Vec<_> = (0..2)
    ///     .map(|_| {
    ///         let h = Arc::clone(&handled);
    ///         move |_: &u64, _: i64, _: bool| { h.fetch_add(1, Ordering::Relaxed); }
    ///     })
    ///     .collect();
    /// let (mut producer, consumers) = Builder::single_producer(16, || 0u64, Yielding)
    ///     .work_pool_with_wait(workers, Blocking::new())
    ///     .build();
    /// for i in 0..100 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(handled.load(Ordering::Relaxed), 100);
    /// ```
    pub fn work_pool_with_wait<H: EventHandler<E>, V: WaitStrategy>(
        mut self,
        workers: impl IntoIterator<Item = H>,
        wait: V,
    ) -> Self {
        let wait = self.own_strategy(wait);
        self.add_work_pool(workers, Some(wait))
    }

    fn add_work_pool<H: EventHandler<E>, V: WaitStrategy>(
        mut self,
        workers: impl IntoIterator<Item = H>,
        wait: Option<Arc<V>>,
    ) -> Self {
        let work = Arc::new(WorkSequence::new());
        let before = self.stage.len();
        for handler in workers {
            let sequence = Arc::new(Sequence::new());
            let barrier = SequenceBarrier::new(
                Arc::clone(&self.shared.cursor),
                self.stage_dependencies.clone(),
            );
            let (shared, mine, work) =
                (Arc::clone(&self.shared), Arc::clone(&sequence), Arc::clone(&work));
            let wait = wait.clone();
            self.pending.push(Box::new(move |signals| match wait {
                Some(wait) => run_worker(&shared, barrier, mine, work, handler, &*wait, signals),
                None => run_worker(&shared, barrier, mine, work, handler, &shared.wait, signals),
            }));
            self.stage.push(sequence);
        }
        assert!(self.stage.len() > before, "a work pool needs at least one worker");
        self
    }

    /// Adds an [`EventPoller`] to the current stage: a consumer the caller
    /// polls from a thread of its own instead of a handler thread.
    ///
    /// The poller waits (in [`poll_timeout`](EventPoller::poll_timeout))
    /// with the Disruptor's default strategy.
    pub fn poller(self) -> (Self, EventPoller<E, C, W>) {
        self.add_poller(None)
    }

    /// Like [`poller`](Builder::poller), but the poller waits with `wait`:
    /// for example a [`Blocking`](super::Blocking) poller, which sleeps in
    /// [`poll_timeout`](EventPoller::poll_timeout), in a Disruptor whose
    /// handlers spin. If `wait` sleeps, every producer and consumer
    /// signals it ([DSR-I8]).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Builder, BusySpin, Polled};
    /// use std::time::Duration;
    ///
    /// let (builder, mut poller) =
    ///     Builder::single_producer(8, || 0u32, BusySpin).poller_with_wait(Blocking::new());
    /// let (mut producer, consumers) = builder.build();
    /// let publisher = std::thread::spawn(move || {
    ///     producer.publish(|e| *e = 7).unwrap();
    /// });
    /// let mut got = 0;
    /// // Asleep until the publish wakes it.
    /// let polled = poller.poll_timeout(Duration::from_secs(60), |e, _, _| got = *e);
    /// assert_eq!((polled, got), (Polled::Events(1), 7));
    /// publisher.join().unwrap();
    /// assert_eq!(poller.poll(|_, _, _| {}), Polled::Shutdown);
    /// consumers.join().unwrap();
    /// ```
    pub fn poller_with_wait<V: WaitStrategy>(mut self, wait: V) -> (Self, EventPoller<E, C, W, V>) {
        let wait = self.own_strategy(wait);
        self.add_poller(Some(wait))
    }

    fn add_poller<V: WaitStrategy>(
        mut self,
        wait: Option<Arc<V>>,
    ) -> (Self, EventPoller<E, C, W, V>) {
        let sequence = Arc::new(Sequence::new());
        let barrier =
            SequenceBarrier::new(Arc::clone(&self.shared.cursor), self.stage_dependencies.clone());
        let poller =
            EventPoller::new(Arc::clone(&self.shared), barrier, Arc::clone(&sequence), wait);
        self.stage.push(sequence);
        (self, poller)
    }

    /// Starts a new stage after the current one and adds `handler` to it: it
    /// sees an event only after every handler added so far has handled it.
    ///
    /// # Panics
    ///
    /// If the current stage has no handler yet.
    pub fn then(mut self, handler: impl EventHandler<E>) -> Self {
        assert!(!self.stage.is_empty(), "`then` needs a handler before it");
        self.stage_dependencies = core::mem::take(&mut self.stage);
        self.and(handler)
    }

    fn finish<S: Sequencer<Cursor = C>>(
        mut self,
        sequencer: S,
    ) -> (Producer<E, S, W, P>, Consumers) {
        self.built = true;
        let mut sleepers = core::mem::take(&mut self.sleepers);
        if self.producer_wait.sleeps() {
            sleepers.push(Box::new(Arc::clone(&self.producer_wait)));
        }
        let signals = Signals::new(sleepers);
        // [DSR-I8] set before any consumer thread starts and before the
        // producer exists: every party sees the same list.
        let _ = self.shared.signals.set(signals.clone());
        let threads = core::mem::take(&mut self.pending)
            .into_iter()
            .map(|body| {
                let signals = signals.clone();
                #[allow(clippy::disallowed_methods)] // the switch module's spawn
                thread::spawn(move || body(signals))
            })
            .collect();
        let shared = Arc::clone(&self.shared);
        let wait = Arc::clone(&self.producer_wait);
        let guarded = NO_CLAIM;
        (Producer { shared, sequencer, signals, wait, guarded }, Consumers { threads })
    }
}

impl<E, C, W: WaitStrategy, P: WaitStrategy> Drop for Builder<E, C, W, P> {
    /// A builder dropped before `build` starts no thread; its pollers see
    /// a shut-down Disruptor.
    fn drop(&mut self) {
        if !self.built {
            self.shared.control.close(Sequence::INITIAL);
            self.shared.signal_from_drop();
        }
    }
}

impl<E, C, W: WaitStrategy, P: WaitStrategy> fmt::Debug for Builder<E, C, W, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder").field("handlers", &self.pending.len()).finish_non_exhaustive()
    }
}

/// The consumer threads of a Disruptor.
///
/// # Shutdown
///
/// Drop every [`Producer`] handle, then call [`join`](Consumers::join):
/// the consumers handle every event published before the last producer was
/// dropped, run their `on_shutdown` hooks, and end. Dropping `Consumers`
/// without joining detaches the threads; they still drain and end.
pub struct Consumers {
    threads: Vec<JoinHandle<Result<(), PanicPayload>>>,
}

impl Consumers {
    /// Waits for every consumer thread to end.
    ///
    /// Returns once every producer handle has been dropped and every event
    /// published has been handled, or after a handler panicked (the
    /// Disruptor then halts: the other consumers stop at once, producers get
    /// [`Halted`]).
    ///
    /// # Errors
    ///
    /// The payload of the first handler panic, for
    /// [`std::panic::resume_unwind`] or inspection.
    pub fn join(self) -> Result<(), PanicPayload> {
        let mut first = Ok(());
        for t in self.threads {
            let outcome = t.join().unwrap_or_else(Err);
            if first.is_ok() {
                first = outcome;
            }
        }
        first
    }
}

impl fmt::Debug for Consumers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumers").field("threads", &self.threads.len()).finish()
    }
}

/// A producer handle: claims slots, writes events in place, publishes.
///
/// `Producer<E, SingleProducerSequencer, W>` is the only producer of its
/// Disruptor and is not `Clone`; `Producer<E, MultiProducerSequencer, W>`
/// clones into one handle per producer thread. Dropping the last handle
/// shuts the Disruptor down (see [`Consumers`]).
///
/// A single producer cannot be cloned:
///
/// ```compile_fail
/// use acqrel::disruptor::{Builder, BusySpin};
///
/// let (producer, _consumers) = Builder::single_producer(8, || 0u64, BusySpin).build();
/// let second = producer.clone(); // one producer only: no `Clone`
/// ```
///
/// and events must be shareable between threads (`E: Send + Sync`):
///
/// ```compile_fail
/// use acqrel::disruptor::{Builder, BusySpin};
/// use std::cell::Cell;
///
/// let _ = Builder::single_producer(8, || Cell::new(0u64), BusySpin);
/// ```
///
/// # Panics in the writing closure
///
/// A claimed slot is always published, even when the closure writing it
/// panics: consumers never stall on it. The slot is first reset to a fresh
/// event from the factory, so consumers see a blank event rather than a
/// half-written one (give the factory a recognisable "empty" value if they
/// must tell). The panic then continues to unwind in the producer. Should
/// the factory itself panic there, the slot is published as the writer
/// left it.
///
/// # Leaks
///
/// A leaked [`Claim`] (`mem::forget`) is published by its producer at the
/// producer's next claim or when the producer is dropped, reset to a fresh
/// factory event like the slot of a panicking writer: consumers never see
/// the slot's old event as a new one, nor a gap that stops them for good.
/// Until then they wait at that sequence, as for a claim still held. A
/// leaked `Producer` handle is like a leaked sender of a channel: the
/// Disruptor never shuts down, so consumers keep waiting and
/// [`Consumers::join`] does not return; everything published is still
/// delivered exactly once.
pub struct Producer<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy = Yielding> {
    shared: Arc<Shared<E, S::Cursor, W>>,
    sequencer: S,
    /// The graph's sleeping strategies, signalled after each publish.
    signals: Signals,
    /// How this producer waits on a full ring.
    wait: Arc<P>,
    /// The sequence of the [`Claim`] that [`claim`](Producer::claim)
    /// handed out, until that claim's drop publishes it; [`NO_CLAIM`]
    /// otherwise. Still set at the next claim (or at the producer's drop)
    /// only if the claim was leaked; the producer then publishes it itself
    /// ([`publish_leaked_claim`](Producer::publish_leaked_claim)).
    guarded: i64,
}

/// `Producer::guarded` when no [`Claim`] is out.
const NO_CLAIM: i64 = i64::MIN;

impl<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> Producer<E, S, W, P> {
    /// Claims the next slot (waiting while the ring is full), lets `write`
    /// fill the event in place, and publishes it. Returns its sequence.
    ///
    /// # Errors
    ///
    /// [`Halted`] when a handler panicked and the Disruptor stopped: the
    /// event is not published (`write` is not called).
    ///
    /// # Panics
    ///
    /// If `write` panics; the slot is published reset, see
    /// [the type docs](Producer#panics-in-the-writing-closure).
    #[inline]
    pub fn publish(&mut self, write: impl FnOnce(&mut E)) -> Result<i64, Halted> {
        let hi = self.claim_range(1)?;
        self.write_and_publish(hi, write);
        Ok(hi)
    }

    /// Lets `write` fill the claimed slot `hi`, then publishes it (reset, if
    /// `write` panics). No guard state is kept on the normal path.
    #[inline]
    fn write_and_publish(&mut self, hi: i64, write: impl FnOnce(&mut E)) {
        let on_unwind = ResetOnUnwind { producer: self, lo: hi, hi };
        // SAFETY: [DSR-I1] `hi` is claimed by the caller and unpublished: nobody else touches the slot.
        write(unsafe { on_unwind.producer.shared.ring.get_mut(hi) });
        // Disarmed: `write` returned, the slot holds what it wrote.
        core::mem::forget(on_unwind);
        self.sequencer.publish(hi, hi);
        // [DSR-I8] wake whatever sleeps on the cursor.
        self.signals.signal(&self.shared.wait);
    }

    /// Like [`publish`](Producer::publish), but refuses instead of waiting
    /// when the ring is full.
    ///
    /// # Errors
    ///
    /// [`TryPublishError::Full`] when the slowest consumer is a whole ring
    /// behind (nothing is claimed; `write` is not called);
    /// [`TryPublishError::Halted`] after a handler panic.
    #[inline]
    pub fn try_publish(&mut self, write: impl FnOnce(&mut E)) -> Result<i64, TryPublishError> {
        if self.guarded != NO_CLAIM {
            resume(self.publish_leaked_claim());
        }
        if self.shared.control.is_halted() {
            return Err(TryPublishError::Halted);
        }
        let hi = self.sequencer.try_claim(1).map_err(|_| TryPublishError::Full)?;
        self.write_and_publish(hi, write);
        Ok(hi)
    }

    /// Claims `n` consecutive slots, calls `write(event, i)` for `i` in
    /// `0..n`, and publishes all of them with one store (multi-producer:
    /// one per slot). Returns the last sequence.
    ///
    /// # Errors
    ///
    /// [`Halted`] as for [`publish`](Producer::publish).
    ///
    /// # Panics
    ///
    /// If `n` is zero or larger than the ring, or if `write` panics (the
    /// slots it did not finish are reset, and all `n` are published).
    pub fn publish_batch(
        &mut self,
        n: usize,
        mut write: impl FnMut(&mut E, usize),
    ) -> Result<i64, Halted> {
        let hi = self.claim_range(n)?;
        let lo = hi - n as i64 + 1;
        let mut guard = Claim::new(self, lo, hi);
        for i in 0..n {
            let s = lo + i as i64;
            // SAFETY: [DSR-I1] `s` is in the range this guard claimed and has not published; no other reference to the slot exists.
            write(unsafe { guard.producer.shared.ring.get_mut(s) }, i);
            guard.written = s;
        }
        Ok(hi)
    }

    /// Claims the next slot and returns a guard that derefs to its event and
    /// publishes it when dropped. A guard that is leaked instead
    /// (`mem::forget`) is published by the producer at its next claim or
    /// its drop, reset to a fresh factory event (see
    /// [Leaks](Producer#leaks)).
    ///
    /// # Errors
    ///
    /// [`Halted`] as for [`publish`](Producer::publish).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, Yielding};
    ///
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u32, Yielding)
    ///     .handle_events_with(|e: &u32, _, _| assert_eq!(*e, 7))
    ///     .build();
    /// {
    ///     let mut event = producer.claim().unwrap();
    ///     *event = 7;
    /// } // published here
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    #[inline]
    pub fn claim(&mut self) -> Result<Claim<'_, E, S, W, P>, Halted> {
        let hi = self.claim_range(1)?;
        // SAFE-CODE: [DSR-S3] recorded before the guard exists: if the guard is leaked, the producer still knows `hi` is unpublished. (`publish_batch`'s guard never reaches user code, so it cannot be leaked and is not recorded.)
        self.guarded = hi;
        Ok(Claim::new(self, hi, hi))
    }

    #[inline]
    fn claim_range(&mut self, n: usize) -> Result<i64, Halted> {
        if self.guarded != NO_CLAIM {
            resume(self.publish_leaked_claim());
        }
        let control = &self.shared.control;
        if control.is_halted() {
            return Err(Halted);
        }
        self.sequencer.claim_with(n, &*self.wait, || control.is_halted()).ok_or(Halted)
    }

    /// Publishes the sequence of a [`Claim`] that was leaked (its drop,
    /// which publishes and clears `guarded`, never ran), reset to a fresh
    /// factory event. Returns a panic of the factory or of a strategy's
    /// `signal`, caught so that the sequence is published and signalled
    /// first.
    #[cold]
    fn publish_leaked_claim(&mut self) -> Option<PanicPayload> {
        let s = core::mem::replace(&mut self.guarded, NO_CLAIM);
        if s == NO_CLAIM {
            return None;
        }
        // SAFE-CODE: [DSR-S3] the claim was leaked: its drop did not publish `s`, so the producer does, after resetting it (the slot may hold a half-written event or the previous lap's).
        // SAFETY: [DSR-I1] [DSR-I6] `s` was claimed by this producer and not published; the leaked guard borrowed the producer mutably, and we hold `&mut self` again, so no reference to the slot is left.
        let panic = unsafe { self.shared.reset(s) };
        self.sequencer.publish(s, s);
        // [DSR-I8] wake whatever sleeps on the cursor.
        panic.or(catching(|| self.signals.signal(&self.shared.wait)))
    }
}

impl<E, W: WaitStrategy, P: WaitStrategy> Clone for Producer<E, MultiProducerSequencer, W, P> {
    fn clone(&self) -> Self {
        // ORDERING: [DSR-O8] Relaxed — a new handle is made from a live one, so the count cannot reach zero meanwhile (as in `Arc::clone`).
        self.shared.control.producers.fetch_add(1, Relaxed);
        Self {
            shared: Arc::clone(&self.shared),
            sequencer: self.sequencer.clone(),
            signals: self.signals.clone(),
            wait: Arc::clone(&self.wait),
            guarded: NO_CLAIM,
        }
    }
}

impl<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> Drop for Producer<E, S, W, P> {
    fn drop(&mut self) {
        // SAFE-CODE: [DSR-S3] a leaked claim is published before the handle goes, so that shutdown's `end` covers only published sequences ([DSR-I5]).
        let mut panic = self.publish_leaked_claim();
        // SAFE-CODE: [DSR-S4] the only way to shut down: a leaked handle never decrements, so the Disruptor stays open (and keeps `shared` alive), which is all a leak can do.
        // ORDERING: [DSR-O8] AcqRel — Release: this handle's claims happen-before the last handle's drop; Acquire (in the last): so its read of the claim counter sees every handle's claims.
        if self.shared.control.producers.fetch_sub(1, AcqRel) == 1 {
            self.shared.control.close(self.sequencer.claimed());
            // SAFE-CODE: [DSR-S2] a strategy's panic is caught until the count and `end` are settled.
            panic = panic.or(catching(|| self.signals.signal(&self.shared.wait)));
        }
        resume(panic);
    }
}

impl<E, S: Sequencer + fmt::Debug, W: WaitStrategy, P: WaitStrategy> fmt::Debug
    for Producer<E, S, W, P>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer").field("sequencer", &self.sequencer).finish_non_exhaustive()
    }
}

/// Publishes a claimed range whose writer panicked, reset to fresh factory
/// events ([DSR-I6]); forgotten when the writer returns normally.
struct ResetOnUnwind<'a, E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> {
    producer: &'a mut Producer<E, S, W, P>,
    lo: i64,
    hi: i64,
}

impl<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> Drop for ResetOnUnwind<'_, E, S, W, P> {
    /// Runs only while the writer's panic unwinds, so every panic of user
    /// code here is dropped (a second one escaping would abort).
    #[cold]
    fn drop(&mut self) {
        let shared = &self.producer.shared;
        for s in self.lo..=self.hi {
            // SAFETY: [DSR-I1] still claimed and unpublished by the unwinding writer, whose `&mut E` is gone.
            let _ = unsafe { shared.reset(s) };
        }
        self.producer.sequencer.publish(self.lo, self.hi);
        self.producer.signals.signal_from_drop(&shared.wait);
    }
}

/// A claimed, not yet published slot; publishes when dropped.
///
/// Derefs to the event (the first of the range for batches). If the
/// guard is dropped while a panic unwinds from the code that held it, the
/// event is reset to a fresh factory event before it is published. If it
/// is leaked, its producer publishes it later, reset the same way (see
/// [Leaks](Producer#leaks)).
///
/// `Claim` is `Send` and `Sync` (events are `Send + Sync`): a shared
/// `&Claim` gives only `&E`, and `&mut E` needs `&mut Claim`.
pub struct Claim<'a, E, S: Sequencer, W: WaitStrategy, P: WaitStrategy = Yielding> {
    producer: &'a mut Producer<E, S, W, P>,
    lo: i64,
    hi: i64,
    /// The last sequence of the range fully written (batches).
    written: i64,
    panicking_at_claim: bool,
}

impl<'a, E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> Claim<'a, E, S, W, P> {
    fn new(producer: &'a mut Producer<E, S, W, P>, lo: i64, hi: i64) -> Self {
        // SAFE-CODE: [DSR-S6] `thread::panicking` is the only per-thread state the Disruptor reads; std answers it in thread-local destructors too.
        Self { producer, lo, hi, written: lo - 1, panicking_at_claim: std::thread::panicking() }
    }

    /// The sequence of the claimed event.
    pub fn sequence(&self) -> i64 {
        self.lo
    }
}

impl<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> Deref for Claim<'_, E, S, W, P> {
    type Target = E;
    fn deref(&self) -> &E {
        // SAFETY: [DSR-I1] the slot is claimed by this guard and unpublished: nobody else touches it, and a `&mut E` to it exists only while `&mut self` is borrowed, so none lives now.
        unsafe { self.producer.shared.ring.get(self.lo) }
    }
}

impl<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> DerefMut for Claim<'_, E, S, W, P> {
    fn deref_mut(&mut self) -> &mut E {
        // SAFETY: [DSR-I1] as in `deref`; `&mut self` keeps this the only reference.
        unsafe { self.producer.shared.ring.get_mut(self.lo) }
    }
}

impl<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> Drop for Claim<'_, E, S, W, P> {
    fn drop(&mut self) {
        // SAFE-CODE: [DSR-S3] published below: nothing left for the producer to settle.
        self.producer.guarded = NO_CLAIM;
        if std::thread::panicking() {
            // The fields by value: the guard itself need not be in memory.
            let unfinished = if self.panicking_at_claim { self.hi + 1 } else { self.written + 1 };
            return publish_while_unwinding(self.producer, self.lo, unfinished, self.hi);
        }
        self.producer.sequencer.publish(self.lo, self.hi);
        // [DSR-I8] wake whatever sleeps on the cursor.
        self.producer.signals.signal(&self.producer.shared.wait);
    }
}

/// The drop of a claim of `lo..=hi` while the thread unwinds: resets
/// `unfinished..=hi`, publishes, signals. Every panic of user code is
/// dropped here (a second one escaping would abort).
#[cold]
fn publish_while_unwinding<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy>(
    producer: &mut Producer<E, S, W, P>,
    lo: i64,
    unfinished: i64,
    hi: i64,
) {
    let shared = &producer.shared;
    // [DSR-I6] never leave a half-written event: reset what the writer did
    // not finish, then publish anyway.
    for s in unfinished..=hi {
        // SAFETY: [DSR-I1] still claimed and unpublished by the guard being dropped, so no reference to the slot is left.
        let _ = unsafe { shared.reset(s) };
    }
    producer.sequencer.publish(lo, hi);
    producer.signals.signal_from_drop(&shared.wait);
}

impl<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> fmt::Debug for Claim<'_, E, S, W, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim").field("lo", &self.lo).field("hi", &self.hi).finish_non_exhaustive()
    }
}
