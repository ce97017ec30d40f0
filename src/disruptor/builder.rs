//! [`Builder`] wires the consumer graph and starts it; [`Consumers`] joins it.

use super::barrier::SequenceBarrier;
use super::event_poller::EventPoller;
use super::multi_producer::{MultiProducerCursor, MultiProducerSequencer};
use super::processor::{EventHandler, PanicPayload, WorkSequence, run, run_worker};
use super::producer::{NO_CLAIM, Producer};
use super::ring_buffer::RingBuffer;
use super::sequence::Sequence;
use super::shared::{Control, Shared};
use super::single_producer::SingleProducerSequencer;
use super::wait_strategy::WaitStrategy;
use super::wait_strategy::{Signal, Signals, Yielding, catching};
use super::{Cursor, Sequencer};
use crate::loom::sync::Arc;
use crate::loom::thread::{self, JoinHandle};
use core::fmt;
use core::marker::PhantomData;
use std::boxed::Box;
use std::vec::Vec;

/// A consumer thread's body, waiting for the graph's [`Signals`] to start.
type Pending = Box<dyn FnOnce(Signals) -> Result<(), PanicPayload> + Send>;

/// The user's hook for each consumer thread's start, given its index.
/// std's `Arc`, not the switch module's: it only hands the hook to the
/// threads (loom's `Arc` cannot hold an unsized value).
type StartHook = std::sync::Arc<dyn Fn(usize) + Send + Sync>;

/// Builds a Disruptor: ring, sequencer, wait strategy and consumer graph.
///
/// Each handler runs on its own thread, started by `build` (so that every
/// party knows the whole graph's sleeping strategies, [DSR-I8](crate::safety#DSR-I8)). The
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
///     .handle_events_with(|_, _, _| { /* journal */ })
///     .and(|_, _, _| { /* replicate */ })
///     .then(move |e, _, _| { sum.fetch_add(*e, Ordering::Relaxed); })
///     .build();
/// for i in 1..=10 {
///     producer.publish(|e| *e = i).unwrap();
/// }
/// drop(producer);
/// consumers.join().unwrap();
/// assert_eq!(applied.load(Ordering::Relaxed), 55);
/// ```
///
/// Wiring mistakes do not compile. `build` with no consumer (it would
/// publish into nothing):
///
/// ```compile_fail
/// use acqrel::disruptor::{Builder, BusySpin};
///
/// let (producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin).build();
/// ```
///
/// and `then` before any handler (there is nothing for the new stage to
/// follow):
///
/// ```compile_fail
/// use acqrel::disruptor::{Builder, BusySpin};
///
/// let builder = Builder::single_producer(8, || 0u64, BusySpin).then(|_, _, _| {});
/// ```
///
/// Both report "this Disruptor has no consumer yet" and name the calls that
/// add one.
pub struct Builder<E, C, W: WaitStrategy, P: WaitStrategy = Yielding, S = NoConsumer> {
    shared: Arc<Shared<E, C, W>>,
    /// What the current stage's handlers wait for (empty: the cursor).
    stage_dependencies: Vec<Arc<Sequence>>,
    /// The sequences of the current stage's handlers.
    stage: Vec<Arc<Sequence>>,
    /// Consumer threads, spawned by `build`.
    pending: Vec<Pending>,
    /// Sleeping strategies other than the default ([DSR-I8](crate::safety#DSR-I8)).
    sleepers: Vec<Box<dyn Signal>>,
    /// How producers wait on a full ring.
    producer_wait: Arc<P>,
    /// The consumer threads' name prefix, if set.
    thread_name: Option<std::sync::Arc<str>>,
    /// Runs first on each consumer thread, if set.
    on_thread_start: Option<StartHook>,
    built: bool,
    /// [`NoConsumer`] until a consumer is added, then [`Wired`].
    _state: PhantomData<S>,
}

/// A [`Builder`] state: no consumer added yet, so neither
/// [`build`](Builder::build) nor [`then`](Builder::then) is available.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, BusySpin, NoConsumer, Sequence};
///
/// let empty: Builder<u64, Sequence, BusySpin, _, NoConsumer> =
///     Builder::single_producer(8, || 0u64, BusySpin);
/// let (mut producer, consumers) = empty.handle_events_with(|_, _, _| {}).build();
/// producer.publish(|e| *e = 1).unwrap();
/// drop(producer);
/// consumers.join().unwrap();
/// ```
#[derive(Debug)]
pub struct NoConsumer(());

/// A [`Builder`] state: at least one consumer (handler, work pool or poller)
/// was added.
///
/// # Examples
///
/// A function that takes only a builder with a consumer, and builds it:
///
/// ```
/// use acqrel::disruptor::{Builder, BusySpin, Consumers, Sequence, SingleProducer, Wired};
///
/// type Ready = Builder<u64, Sequence, BusySpin, BusySpin, Wired>;
///
/// fn start(b: Ready) -> (SingleProducer<u64, BusySpin, BusySpin>, Consumers) {
///     b.build()
/// }
///
/// let wired = Builder::single_producer(8, || 0u64, BusySpin)
///     .producer_wait(BusySpin)
///     .handle_events_with(|e, _, _| assert_eq!(*e, 3));
/// let (mut producer, consumers) = start(wired);
/// producer.publish(|e| *e = 3).unwrap();
/// drop(producer);
/// consumers.join().unwrap();
/// ```
#[derive(Debug)]
pub struct Wired(());

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Wired {}
}

/// The [`Builder`] states in which the graph has a consumer: what `build`
/// and `then` ask for. Only [`Wired`] is one.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{HasConsumer, Wired};
///
/// fn has_consumer<S: HasConsumer>() {}
/// has_consumer::<Wired>(); // compiles: `NoConsumer` would not
/// ```
#[diagnostic::on_unimplemented(
    message = "this Disruptor has no consumer yet",
    label = "add a consumer first",
    note = "add one with `handle_events_with`, `handle_events_with_handler`, `work_pool` or `poller` \
            before `build` or `then`: a Disruptor without consumers would publish into nothing"
)]
pub trait HasConsumer: sealed::Sealed {}

impl HasConsumer for Wired {}

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
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, Yielding};
    /// use std::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(64, || [0u8; 32], Yielding)
    ///     .handle_events_with(move |e, _, _| tx.send(e[0]).unwrap())
    ///     .build();
    /// producer.publish(|e| e[0] = 9).unwrap();
    /// assert_eq!(rx.recv().unwrap(), 9);
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, Yielding};
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    /// use std::thread;
    ///
    /// let total = Arc::new(AtomicU64::new(0));
    /// let t = Arc::clone(&total);
    /// let (producer, consumers) = Builder::multi_producer(64, || 0u64, Yielding)
    ///     .handle_events_with(move |e, _, _| { t.fetch_add(*e, Relaxed); })
    ///     .build();
    /// let handles: Vec<_> = (1..=3)
    ///     .map(|n| {
    ///         let mut p = producer.clone();
    ///         thread::spawn(move || p.publish(|e| *e = n).unwrap())
    ///     })
    ///     .collect();
    /// drop(producer);
    /// handles.into_iter().for_each(|h| { h.join().unwrap(); });
    /// consumers.join().unwrap();
    /// assert_eq!(total.load(Relaxed), 6);
    /// ```
    pub fn multi_producer(
        capacity: usize,
        factory: impl Fn() -> E + Send + Sync + 'static,
        wait: W,
    ) -> Self {
        let cursor = MultiProducerCursor::new(capacity);
        Self::with_cursor(capacity, factory, wait, cursor)
    }
}

impl<E, W, P, S> Builder<E, Sequence, W, P, S>
where
    E: Send + Sync + 'static,
    W: WaitStrategy,
    P: WaitStrategy,
{
    /// Finishes the graph and starts the consumer threads: the producer
    /// handle, and the consumers to join.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    ///
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(|e, seq, _| assert_eq!(*e, seq as u64 * 2))
    ///     .build(); // the handler's thread runs from here
    /// for i in 0..4 {
    ///     producer.publish(|e| *e = i * 2).unwrap();
    /// }
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn build(mut self) -> (Producer<E, SingleProducerSequencer, W, P>, Consumers)
    where
        S: HasConsumer,
    {
        let gating = core::mem::take(&mut self.stage);
        let sequencer = SingleProducerSequencer::new(
            Arc::clone(&self.shared.cursor),
            self.shared.ring.capacity(),
            gating,
        );
        self.finish(sequencer)
    }
}

impl<E, W, P, S> Builder<E, MultiProducerCursor, W, P, S>
where
    E: Send + Sync + 'static,
    W: WaitStrategy,
    P: WaitStrategy,
{
    /// Finishes the graph and starts the consumer threads: the first
    /// producer handle (clone it for more), and the consumers to join.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    ///
    /// let (mut first, consumers) = Builder::multi_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(|_, _, _| {})
    ///     .build();
    /// let mut second = first.clone();
    /// assert_eq!(first.publish(|e| *e = 1), Ok(0));
    /// assert_eq!(second.publish(|e| *e = 2), Ok(1));
    /// drop((first, second));
    /// consumers.join().unwrap();
    /// ```
    pub fn build(mut self) -> (Producer<E, MultiProducerSequencer, W, P>, Consumers)
    where
        S: HasConsumer,
    {
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
            thread_name: None,
            on_thread_start: None,
            built: false,
            _state: PhantomData,
        }
    }
}

impl<E, C, W, P, S> Builder<E, C, W, P, S>
where
    E: Send + Sync + 'static,
    C: Cursor + 'static,
    W: WaitStrategy,
    P: WaitStrategy,
{
    /// Producers facing a full ring wait with `wait` instead of the default
    /// [`Yielding`]. With [`Blocking`](super::Blocking) a producer sleeps
    /// until a gating consumer advances; the consumers then signal it after
    /// each batch ([DSR-I8](crate::safety#DSR-I8)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Builder, BusySpin};
    ///
    /// let (mut producer, consumers) = Builder::single_producer(2, || 0u64, BusySpin)
    ///     .handle_events_with(|_, _, _| {})
    ///     .producer_wait(Blocking::new())
    ///     .build();
    /// for i in 0..100 {
    ///     producer.publish(|e| *e = i).unwrap(); // sleeps whenever two are unread
    /// }
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn producer_wait<Q: WaitStrategy>(self, wait: Q) -> Builder<E, C, W, Q, S> {
        self.retype(Arc::new(wait))
    }

    /// Names the consumer threads `{prefix}-0`, `{prefix}-1`, … in the
    /// order the consumers were added (each work-pool worker is one), as
    /// debuggers, profilers and panic messages show them. Unnamed otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    ///
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .thread_name("md")
    ///     .handle_events_with(|_, _, _| assert_eq!(std::thread::current().name(), Some("md-0")))
    ///     .build();
    /// producer.publish(|e| *e = 1).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn thread_name(mut self, prefix: &str) -> Self {
        self.thread_name = Some(std::sync::Arc::from(prefix));
        self
    }

    /// Runs `hook(index)` first on each consumer thread, before its handler
    /// is made (`index` counts the consumers in the order they were added):
    /// the place to pin the thread to a core, raise its priority or set up
    /// thread-local state. A panic in the hook halts the Disruptor, as a
    /// handler's panic does, and [`Consumers::join`] returns it.
    ///
    /// # Examples
    ///
    /// Pinning each consumer to a core with the `core_affinity` crate:
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    ///
    /// let cores = core_affinity::get_core_ids().unwrap_or_default();
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .on_thread_start(move |index| {
    ///         if let Some(core) = cores.get(index % cores.len().max(1)) {
    ///             core_affinity::set_for_current(*core);
    ///         }
    ///     })
    ///     .handle_events_with(|_, _, _| {})
    ///     .build();
    /// producer.publish(|e| *e = 1).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn on_thread_start(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.on_thread_start = Some(std::sync::Arc::new(hook));
        self
    }

    /// The same builder, as another type: its producers' strategy or its
    /// state changes.
    fn retype<Q: WaitStrategy, T>(mut self, producer_wait: Arc<Q>) -> Builder<E, C, W, Q, T> {
        self.built = true; // moved into the new builder
        Builder {
            shared: Arc::clone(&self.shared),
            stage_dependencies: core::mem::take(&mut self.stage_dependencies),
            stage: core::mem::take(&mut self.stage),
            pending: core::mem::take(&mut self.pending),
            sleepers: core::mem::take(&mut self.sleepers),
            producer_wait,
            thread_name: self.thread_name.take(),
            on_thread_start: self.on_thread_start.take(),
            built: false,
            _state: PhantomData,
        }
    }

    /// The builder once a consumer was added.
    fn wired(self) -> Builder<E, C, W, P, Wired> {
        let producer_wait = Arc::clone(&self.producer_wait);
        self.retype(producer_wait)
    }

    /// Adds a handler closure to the current stage (the first stage at
    /// first): `handler(event, sequence, end_of_batch)` sees every event, in
    /// parallel with the stage's other handlers. The closure's argument
    /// types are inferred (`|e, _, _|`); a handler with start, shutdown or
    /// timeout hooks is an [`EventHandler`] for
    /// [`handle_events_with_handler`](Builder::handle_events_with_handler).
    ///
    /// # Memory ordering
    ///
    /// A producer's writes to an event happen-before the handler's call for
    /// it ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)); the handler's work on
    /// it happens-before the next stage's and before the slot is written
    /// again (see [`EventHandler`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    ///
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(|e, _, _| assert!(*e < 100))
    ///     .build();
    /// producer.publish(|e| *e = 7).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn handle_events_with<F>(self, handler: F) -> Builder<E, C, W, P, Wired>
    where
        F: FnMut(&E, i64, bool) + Send + 'static,
    {
        self.and_handler(handler)
    }

    /// Adds an [`EventHandler`] (a type with hooks, or state of its own) to
    /// the current stage, as [`handle_events_with`](Builder::handle_events_with)
    /// does a closure.
    ///
    /// # Memory ordering
    ///
    /// As for [`handle_events_with`](Builder::handle_events_with): the
    /// publish of an event happens-before `on_event` for it ([DSR-O1](crate::safety#DSR-O1),
    /// [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)), and what `on_event` did
    /// happens-before the next stage's handling of it.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, EventHandler};
    /// use std::sync::mpsc;
    ///
    /// struct Batches(mpsc::Sender<u64>, u64);
    ///
    /// impl EventHandler<u64> for Batches {
    ///     fn on_event(&mut self, e: &u64, _: i64, end_of_batch: bool) {
    ///         self.1 += *e;
    ///         if end_of_batch {
    ///             self.0.send(self.1).unwrap(); // one message per batch
    ///         }
    ///     }
    /// }
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with_handler(Batches(tx, 0))
    ///     .build();
    /// producer.publish_batch(4, |e, i| *e = i as u64 + 1).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(rx.iter().last(), Some(10));
    /// ```
    pub fn handle_events_with_handler(
        self,
        handler: impl EventHandler<E> + Send,
    ) -> Builder<E, C, W, P, Wired> {
        self.and_handler(handler)
    }

    /// Adds a handler closure made on its consumer thread to the current
    /// stage: `make` runs there, before the first event, and returns the
    /// closure, so the closure need not be `Send` (a thread-local buffer, an
    /// `Rc`, a non-`Send` client). Its argument types are inferred; a
    /// factory of any [`EventHandler`] goes to
    /// [`handle_events_from_handler`](Builder::handle_events_from_handler).
    ///
    /// # Memory ordering
    ///
    /// As for [`handle_events_with`](Builder::handle_events_with): the
    /// publish of an event happens-before the handler's call for it
    /// ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)), and the handler's work on
    /// it happens-before the next stage's.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_from(move || {
    ///         let seen = Rc::new(Cell::new(0)); // not Send: made on the consumer thread
    ///         move |e, _, end_of_batch| {
    ///             seen.set(seen.get() + *e);
    ///             if end_of_batch {
    ///                 tx.send(seen.get()).unwrap();
    ///             }
    ///         }
    ///     })
    ///     .build();
    /// producer.publish_batch(3, |e, i| *e = i as u64 + 1).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(rx.iter().last(), Some(6));
    /// ```
    pub fn handle_events_from<F, M>(self, make: M) -> Builder<E, C, W, P, Wired>
    where
        F: FnMut(&E, i64, bool) + 'static,
        M: FnOnce() -> F + Send + 'static,
    {
        self.and_from_handler(make)
    }

    /// Adds an [`EventHandler`] made on its consumer thread to the current
    /// stage, as [`handle_events_from`](Builder::handle_events_from) does a
    /// closure: `make` runs there, before the first event, so the handler
    /// need not be `Send`.
    ///
    /// # Memory ordering
    ///
    /// As for [`handle_events_with`](Builder::handle_events_with): the
    /// publish of an event happens-before `on_event` for it ([DSR-O1](crate::safety#DSR-O1),
    /// [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)), and what `on_event` did
    /// happens-before the next stage's handling of it.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, EventHandler};
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use std::sync::mpsc;
    ///
    /// struct Journal {
    ///     lines: Rc<RefCell<Vec<u64>>>, // not Send
    ///     done: mpsc::Sender<usize>,
    /// }
    /// impl EventHandler<u64> for Journal {
    ///     fn on_event(&mut self, e: &u64, _: i64, _: bool) {
    ///         self.lines.borrow_mut().push(*e);
    ///     }
    ///     fn on_shutdown(&mut self) {
    ///         self.done.send(self.lines.borrow().len()).unwrap();
    ///     }
    /// }
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_from_handler(move || Journal { lines: Rc::default(), done: tx })
    ///     .build();
    /// producer.publish_batch(3, |_, _| {}).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(rx.recv().unwrap(), 3);
    /// ```
    pub fn handle_events_from_handler<H, M>(self, make: M) -> Builder<E, C, W, P, Wired>
    where
        H: EventHandler<E>,
        M: FnOnce() -> H + Send + 'static,
    {
        self.and_from_handler(make)
    }

    /// Adds a handler closure to the current stage; the same as
    /// [`handle_events_with`](Builder::handle_events_with).
    ///
    /// # Memory ordering
    ///
    /// As for [`handle_events_with`](Builder::handle_events_with): the
    /// publish of an event happens-before the handler's call for it
    /// ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)). Handlers of one stage are
    /// not ordered with each other.
    ///
    /// # Examples
    ///
    /// Two handlers of one stage each see every event:
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    ///
    /// let (a, b) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    /// let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(move |e, _, _| { a2.fetch_add(*e, Relaxed); })
    ///     .and(move |e, _, _| { b2.fetch_add(*e, Relaxed); })
    ///     .build();
    /// producer.publish(|e| *e = 5).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!((a.load(Relaxed), b.load(Relaxed)), (5, 5));
    /// ```
    pub fn and<F>(self, handler: F) -> Builder<E, C, W, P, Wired>
    where
        F: FnMut(&E, i64, bool) + Send + 'static,
    {
        self.and_handler(handler)
    }

    /// Adds an [`EventHandler`] to the current stage; the same as
    /// [`handle_events_with_handler`](Builder::handle_events_with_handler).
    ///
    /// # Memory ordering
    ///
    /// As for [`handle_events_with`](Builder::handle_events_with): the
    /// publish of an event happens-before `on_event` for it ([DSR-O1](crate::safety#DSR-O1),
    /// [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)). Handlers of one stage are not ordered
    /// with each other.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, ContinueOnPanic};
    ///
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(|_, _, _| {})
    ///     .and_handler(ContinueOnPanic::new(|e: &u64, _: i64, _: bool| assert!(*e < 10)))
    ///     .build();
    /// producer.publish(|e| *e = 99).unwrap(); // fails in the second handler only
    /// drop(producer);
    /// assert!(consumers.join().is_ok());
    /// ```
    pub fn and_handler(self, handler: impl EventHandler<E> + Send) -> Builder<E, C, W, P, Wired> {
        self.and_from_handler(move || handler)
    }

    /// Adds a handler closure made on its consumer thread to the current
    /// stage; the same as [`handle_events_from`](Builder::handle_events_from).
    ///
    /// # Memory ordering
    ///
    /// As for [`handle_events_with`](Builder::handle_events_with): the
    /// publish of an event happens-before the handler's call for it
    /// ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)). Handlers of one stage are
    /// not ordered with each other.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use std::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(|_, _, _| {})
    ///     .and_from(move || {
    ///         let log = Rc::new(RefCell::new(Vec::new())); // stays on its thread
    ///         move |e, _, _| {
    ///             log.borrow_mut().push(*e);
    ///             tx.send(log.borrow().len()).unwrap();
    ///         }
    ///     })
    ///     .build();
    /// producer.publish_batch(2, |e, i| *e = i as u64).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn and_from<F, M>(self, make: M) -> Builder<E, C, W, P, Wired>
    where
        F: FnMut(&E, i64, bool) + 'static,
        M: FnOnce() -> F + Send + 'static,
    {
        self.and_from_handler(make)
    }

    /// Adds an [`EventHandler`] made on its consumer thread to the current
    /// stage; the same as
    /// [`handle_events_from_handler`](Builder::handle_events_from_handler).
    ///
    /// # Memory ordering
    ///
    /// As for [`handle_events_with`](Builder::handle_events_with): the
    /// publish of an event happens-before `on_event` for it ([DSR-O1](crate::safety#DSR-O1),
    /// [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)). Handlers of one stage are not ordered
    /// with each other.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, EventHandler};
    /// use std::rc::Rc;
    /// use std::sync::mpsc;
    ///
    /// struct Named(Rc<str>, mpsc::Sender<String>); // an `Rc`: not Send
    /// impl EventHandler<u64> for Named {
    ///     fn on_event(&mut self, _: &u64, _: i64, _: bool) {}
    ///     fn on_start(&mut self) {
    ///         self.1.send(format!("{} started", self.0)).unwrap();
    ///     }
    /// }
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(|_, _, _| {})
    ///     .and_from_handler(move || Named(Rc::from("audit"), tx))
    ///     .build();
    /// producer.publish(|e| *e = 1).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(rx.recv().unwrap(), "audit started");
    /// ```
    pub fn and_from_handler<H, M>(mut self, make: M) -> Builder<E, C, W, P, Wired>
    where
        H: EventHandler<E>,
        M: FnOnce() -> H + Send + 'static,
    {
        let sequence = Arc::new(Sequence::new());
        let barrier =
            SequenceBarrier::new(Arc::clone(&self.shared.cursor), self.stage_dependencies.clone());
        let shared = Arc::clone(&self.shared);
        let mine = Arc::clone(&sequence);
        self.pending.push(Box::new(move |signals| {
            let wait: &W = &shared.wait;
            run(&shared, barrier, mine, make, wait, signals)
        }));
        self.stage.push(sequence);
        self.wired()
    }

    /// Adds a handler closure to the current stage that waits with its own
    /// strategy instead of the Disruptor's default. Its loop is compiled for
    /// `wait`'s type (no dynamic dispatch per wait), and if `wait` sleeps,
    /// every party that can end its wait signals it ([DSR-I8](crate::safety#DSR-I8)). The
    /// closure's argument types are inferred; an [`EventHandler`] goes to
    /// [`handle_events_with_handler_and_wait`](Builder::handle_events_with_handler_and_wait).
    ///
    /// # Memory ordering
    ///
    /// As for [`handle_events_with`](Builder::handle_events_with), whatever
    /// the strategy: the publish of an event happens-before the handler's
    /// call for it ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)), as the
    /// consumer acts only on its own reading of the sequences ([DSR-S1](crate::safety#DSR-S1)).
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
    ///     .handle_events_with(|_, _, _| { /* match orders */ })
    ///     .handle_events_with_wait(
    ///         move |e, _, _| { a.fetch_add(*e, Ordering::Relaxed); },
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
    pub fn handle_events_with_wait<F, V>(self, handler: F, wait: V) -> Builder<E, C, W, P, Wired>
    where
        F: FnMut(&E, i64, bool) + Send + 'static,
        V: WaitStrategy,
    {
        self.handle_events_with_handler_and_wait(handler, wait)
    }

    /// Adds an [`EventHandler`] to the current stage that waits with its own
    /// strategy, as [`handle_events_with_wait`](Builder::handle_events_with_wait)
    /// does a closure.
    ///
    /// # Memory ordering
    ///
    /// As for [`handle_events_with`](Builder::handle_events_with), whatever
    /// the strategy: the publish of an event happens-before `on_event` for it
    /// ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)).
    ///
    /// # Examples
    ///
    /// A handler that flushes when the ring goes quiet, asleep meanwhile:
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Builder, BusySpin, EventHandler, Timed};
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    ///
    /// struct Flusher(Vec<u64>, mpsc::Sender<Vec<u64>>);
    /// impl EventHandler<u64> for Flusher {
    ///     fn on_event(&mut self, e: &u64, _: i64, _: bool) {
    ///         self.0.push(*e);
    ///     }
    ///     fn on_timeout(&mut self, _: i64) {
    ///         if !self.0.is_empty() {
    ///             self.1.send(std::mem::take(&mut self.0)).unwrap();
    ///         }
    ///     }
    /// }
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let quiet = Timed::new(Blocking::new(), Duration::from_millis(1));
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with_handler_and_wait(Flusher(Vec::new(), tx), quiet)
    ///     .build();
    /// producer.publish_batch(3, |e, i| *e = i as u64).unwrap();
    /// assert_eq!(rx.recv().unwrap(), [0, 1, 2]); // flushed once idle
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn handle_events_with_handler_and_wait<V: WaitStrategy>(
        mut self,
        handler: impl EventHandler<E> + Send,
        wait: V,
    ) -> Builder<E, C, W, P, Wired> {
        let wait = self.own_strategy(wait);
        let sequence = Arc::new(Sequence::new());
        let barrier =
            SequenceBarrier::new(Arc::clone(&self.shared.cursor), self.stage_dependencies.clone());
        let shared = Arc::clone(&self.shared);
        let mine = Arc::clone(&sequence);
        self.pending.push(Box::new(move |signals| {
            run(&shared, barrier, mine, move || handler, &*wait, signals)
        }));
        self.stage.push(sequence);
        self.wired()
    }

    /// Registers a consumer's own strategy: if it sleeps, every party
    /// signals it ([DSR-I8](crate::safety#DSR-I8)).
    fn own_strategy<V: WaitStrategy>(&mut self, wait: V) -> Arc<V> {
        let wait = Arc::new(wait);
        if wait.sleeps() {
            self.sleepers.push(Box::new(Arc::clone(&wait)));
        }
        wait
    }

    /// Adds a work pool of `workers` handler closures to the current stage:
    /// each event goes to exactly one worker (each on its own thread),
    /// unlike the stage's other members, which each see every event. Later
    /// stages see an event only after the worker that took it has handled
    /// it. Events are not handled in sequence order across workers;
    /// `end_of_batch` is always true.
    ///
    /// `make(index)` makes worker `index` (`0..workers`), here on the
    /// builder's thread; the closures' argument types are inferred. A pool
    /// of [`EventHandler`]s goes to
    /// [`work_pool_handlers`](Builder::work_pool_handlers).
    ///
    /// # Panics
    ///
    /// If `workers` is 0.
    ///
    /// # Memory ordering
    ///
    /// As for any handler: the publish of an event happens-before the worker's
    /// handling of it ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)), and that
    /// handling happens-before the next stage's. Workers hand events out by a
    /// `Relaxed` compare-exchange ([DSR-O10](crate::safety#DSR-O10)) that orders nothing between
    /// workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, Yielding};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let taken = Arc::new(Mutex::new(Vec::new()));
    /// let t = Arc::clone(&taken);
    /// let (mut producer, consumers) = Builder::single_producer(16, || 0u64, Yielding)
    ///     .work_pool(3, |_index| {
    ///         let t = Arc::clone(&t);
    ///         move |e, _, _| t.lock().unwrap().push(*e)
    ///     })
    ///     .build();
    /// for i in 0..20 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// drop(producer);
    /// consumers.join().unwrap();
    /// let mut taken = taken.lock().unwrap().clone();
    /// taken.sort();
    /// assert_eq!(taken, (0..20).collect::<Vec<_>>()); // each event to one worker
    /// ```
    pub fn work_pool<F>(
        self,
        workers: usize,
        make: impl FnMut(usize) -> F,
    ) -> Builder<E, C, W, P, Wired>
    where
        F: FnMut(&E, i64, bool) + Send + 'static,
    {
        assert!(workers > 0, "a work pool needs at least one worker");
        self.work_pool_handlers((0..workers).map(make))
    }

    /// Adds a work pool of `workers` handler closures whose workers wait
    /// with their own strategy (one instance shared by the pool) instead of
    /// the Disruptor's default; see [`work_pool`](Builder::work_pool) and
    /// [`handle_events_with_wait`](Builder::handle_events_with_wait).
    ///
    /// # Panics
    ///
    /// If `workers` is 0.
    ///
    /// # Memory ordering
    ///
    /// As for [`work_pool`](Builder::work_pool), whatever the strategy: the
    /// publish of an event happens-before the worker's handling of it
    /// ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)); the hand-out ([DSR-O10](crate::safety#DSR-O10))
    /// orders nothing between workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Builder, Yielding};
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let handled = Arc::new(AtomicU64::new(0));
    /// let h = Arc::clone(&handled);
    /// let (mut producer, consumers) = Builder::single_producer(16, || 0u64, Yielding)
    ///     .work_pool_with_wait(
    ///         2,
    ///         |_| {
    ///             let h = Arc::clone(&h);
    ///             move |_, _, _| { h.fetch_add(1, Ordering::Relaxed); }
    ///         },
    ///         Blocking::new(),
    ///     )
    ///     .build();
    /// for i in 0..100 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(handled.load(Ordering::Relaxed), 100);
    /// ```
    pub fn work_pool_with_wait<F, V>(
        self,
        workers: usize,
        make: impl FnMut(usize) -> F,
        wait: V,
    ) -> Builder<E, C, W, P, Wired>
    where
        F: FnMut(&E, i64, bool) + Send + 'static,
        V: WaitStrategy,
    {
        assert!(workers > 0, "a work pool needs at least one worker");
        self.work_pool_handlers_with_wait((0..workers).map(make), wait)
    }

    /// Adds a work pool of [`EventHandler`]s, one worker per item of
    /// `workers` (drained here, on the builder's thread), as
    /// [`work_pool`](Builder::work_pool) does with closures.
    ///
    /// # Panics
    ///
    /// If `workers` is empty.
    ///
    /// # Memory ordering
    ///
    /// As for [`work_pool`](Builder::work_pool): the publish of an event
    /// happens-before the worker's `on_event` for it ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) →
    /// [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)); the hand-out ([DSR-O10](crate::safety#DSR-O10)) orders nothing between
    /// workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, EventHandler, Yielding};
    /// use std::sync::mpsc;
    ///
    /// struct Worker(u64, mpsc::Sender<u64>);
    /// impl EventHandler<u64> for Worker {
    ///     fn on_event(&mut self, _: &u64, _: i64, _: bool) {
    ///         self.0 += 1;
    ///     }
    ///     fn on_shutdown(&mut self) {
    ///         self.1.send(self.0).unwrap(); // how many this worker took
    ///     }
    /// }
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(16, || 0u64, Yielding)
    ///     .work_pool_handlers((0..3).map(|_| Worker(0, tx.clone())))
    ///     .build();
    /// drop(tx);
    /// for i in 0..20 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(rx.iter().sum::<u64>(), 20); // each event to one worker
    /// ```
    pub fn work_pool_handlers<H: EventHandler<E> + Send>(
        self,
        workers: impl IntoIterator<Item = H>,
    ) -> Builder<E, C, W, P, Wired> {
        self.add_work_pool(workers, None::<Arc<W>>)
    }

    /// Adds a work pool of [`EventHandler`]s whose workers wait with their
    /// own strategy (one instance shared by the pool), as
    /// [`work_pool_with_wait`](Builder::work_pool_with_wait) does with
    /// closures.
    ///
    /// # Panics
    ///
    /// If `workers` is empty.
    ///
    /// # Memory ordering
    ///
    /// As for [`work_pool`](Builder::work_pool), whatever the strategy: the
    /// publish of an event happens-before the worker's `on_event` for it
    /// ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)); the hand-out ([DSR-O10](crate::safety#DSR-O10))
    /// orders nothing between workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Blocking, Builder, EventHandler, Yielding};
    /// use std::sync::mpsc;
    ///
    /// struct Worker(u64, mpsc::Sender<u64>);
    /// impl EventHandler<u64> for Worker {
    ///     fn on_event(&mut self, e: &u64, _: i64, _: bool) {
    ///         self.0 += *e;
    ///     }
    ///     fn on_shutdown(&mut self) {
    ///         self.1.send(self.0).unwrap();
    ///     }
    /// }
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let workers = vec![Worker(0, tx.clone()), Worker(0, tx)];
    /// let (mut producer, consumers) = Builder::single_producer(16, || 0u64, Yielding)
    ///     .work_pool_handlers_with_wait(workers, Blocking::new())
    ///     .build();
    /// for i in 1..=10 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(rx.iter().sum::<u64>(), 55);
    /// ```
    pub fn work_pool_handlers_with_wait<H: EventHandler<E> + Send, V: WaitStrategy>(
        mut self,
        workers: impl IntoIterator<Item = H>,
        wait: V,
    ) -> Builder<E, C, W, P, Wired> {
        let wait = self.own_strategy(wait);
        self.add_work_pool(workers, Some(wait))
    }

    fn add_work_pool<H: EventHandler<E> + Send, V: WaitStrategy>(
        mut self,
        workers: impl IntoIterator<Item = H>,
        wait: Option<Arc<V>>,
    ) -> Builder<E, C, W, P, Wired> {
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
        self.wired()
    }

    /// Adds an [`EventPoller`] to the current stage: a consumer the caller
    /// polls from a thread of its own instead of a handler thread.
    ///
    /// The poller waits (in [`poll_timeout`](EventPoller::poll_timeout))
    /// with the Disruptor's default strategy.
    ///
    /// # Examples
    ///
    /// A poller beside a handler thread, both seeing every event:
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, Polled};
    ///
    /// let (builder, mut poller) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(|e, _, _| assert_eq!(*e, 4))
    ///     .poller();
    /// let (mut producer, consumers) = builder.build();
    /// producer.publish(|e| *e = 4).unwrap();
    /// drop(producer);
    /// let mut got = Vec::new();
    /// while poller.poll(|e, _, _| got.push(*e)) != Polled::Shutdown {}
    /// assert_eq!(got, [4]);
    /// consumers.join().unwrap();
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn poller(self) -> (Builder<E, C, W, P, Wired>, EventPoller<E, C, W>) {
        self.add_poller(None)
    }

    /// Like [`poller`](Builder::poller), but the poller waits with `wait`:
    /// for example a [`Blocking`](super::Blocking) poller, which sleeps in
    /// [`poll_timeout`](EventPoller::poll_timeout), in a Disruptor whose
    /// handlers spin. If `wait` sleeps, every producer and consumer
    /// signals it ([DSR-I8](crate::safety#DSR-I8)).
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
    #[allow(clippy::type_complexity)]
    pub fn poller_with_wait<V: WaitStrategy>(
        mut self,
        wait: V,
    ) -> (Builder<E, C, W, P, Wired>, EventPoller<E, C, W, V>) {
        let wait = self.own_strategy(wait);
        self.add_poller(Some(wait))
    }

    #[allow(clippy::type_complexity)]
    fn add_poller<V: WaitStrategy>(
        mut self,
        wait: Option<Arc<V>>,
    ) -> (Builder<E, C, W, P, Wired>, EventPoller<E, C, W, V>) {
        let sequence = Arc::new(Sequence::new());
        let barrier =
            SequenceBarrier::new(Arc::clone(&self.shared.cursor), self.stage_dependencies.clone());
        let poller =
            EventPoller::new(Arc::clone(&self.shared), barrier, Arc::clone(&sequence), wait);
        self.stage.push(sequence);
        (self.wired(), poller)
    }

    /// Starts a new stage after the current one and adds `handler` to it: it
    /// sees an event only after every handler added so far has handled it.
    ///
    /// Only a builder with a consumer has it: `then` first is a compile
    /// error ([`HasConsumer`]).
    ///
    /// # Memory ordering
    ///
    /// Everything the earlier stages' handlers did while handling an event
    /// happens-before the new stage's handling of it: each handler's sequence
    /// is a `Release` store read with `Acquire` by the stage after it
    /// ([DSR-O1](crate::safety#DSR-O1), [DSR-O2](crate::safety#DSR-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    ///
    /// let decoded = Arc::new(AtomicU64::new(0));
    /// let (d1, d2) = (Arc::clone(&decoded), Arc::clone(&decoded));
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(move |e, _, _| d1.store(*e * 10, Relaxed))
    ///     // Sees the first stage's store for this event: it happened before.
    ///     .then(move |e, _, _| assert_eq!(d2.load(Relaxed), *e * 10))
    ///     .build();
    /// producer.publish(|e| *e = 3).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn then<F>(self, handler: F) -> Builder<E, C, W, P, Wired>
    where
        F: FnMut(&E, i64, bool) + Send + 'static,
        S: HasConsumer,
    {
        self.then_handler(handler)
    }

    /// Starts a new stage with an [`EventHandler`], as [`then`](Builder::then)
    /// does with a closure.
    ///
    /// Only a builder with a consumer has it: `then` first is a compile
    /// error ([`HasConsumer`]).
    ///
    /// # Memory ordering
    ///
    /// Everything the earlier stages' handlers did while handling an event
    /// happens-before the new stage's handling of it: each handler's sequence
    /// is a `Release` store read with `Acquire` by the stage after it
    /// ([DSR-O1](crate::safety#DSR-O1), [DSR-O2](crate::safety#DSR-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, ContinueOnPanic};
    ///
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(|_, _, _| {})
    ///     .then_handler(ContinueOnPanic::new(|e: &u64, _: i64, _: bool| assert_ne!(*e, 2)))
    ///     .build();
    /// for i in 0..4 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// drop(producer);
    /// assert!(consumers.join().is_ok());
    /// ```
    pub fn then_handler(self, handler: impl EventHandler<E> + Send) -> Builder<E, C, W, P, Wired>
    where
        S: HasConsumer,
    {
        self.then_from_handler(move || handler)
    }

    /// Starts a new stage with a handler closure made on its consumer
    /// thread, as [`handle_events_from`](Builder::handle_events_from) does in
    /// the current stage; the closure's argument types are inferred.
    ///
    /// Only a builder with a consumer has it: `then` first is a compile
    /// error ([`HasConsumer`]).
    ///
    /// # Memory ordering
    ///
    /// Everything the earlier stages' handlers did while handling an event
    /// happens-before the new stage's handling of it: each handler's sequence
    /// is a `Release` store read with `Acquire` by the stage after it
    /// ([DSR-O1](crate::safety#DSR-O1), [DSR-O2](crate::safety#DSR-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    /// use std::rc::Rc;
    /// use std::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(|_, _, _| {})
    ///     .then_from(move || {
    ///         let limit = Rc::new(100); // not Send: made on the stage's thread
    ///         move |e, _, _| tx.send(*e < *limit).unwrap()
    ///     })
    ///     .build();
    /// producer.publish(|e| *e = 1).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(rx.recv().unwrap(), true);
    /// ```
    pub fn then_from<F, M>(self, make: M) -> Builder<E, C, W, P, Wired>
    where
        F: FnMut(&E, i64, bool) + 'static,
        M: FnOnce() -> F + Send + 'static,
        S: HasConsumer,
    {
        self.then_from_handler(make)
    }

    /// Starts a new stage with an [`EventHandler`] made on its consumer
    /// thread, as [`handle_events_from_handler`](Builder::handle_events_from_handler)
    /// does in the current stage.
    ///
    /// Only a builder with a consumer has it: `then` first is a compile
    /// error ([`HasConsumer`]).
    ///
    /// # Memory ordering
    ///
    /// Everything the earlier stages' handlers did while handling an event
    /// happens-before the new stage's handling of it: each handler's sequence
    /// is a `Release` store read with `Acquire` by the stage after it
    /// ([DSR-O1](crate::safety#DSR-O1), [DSR-O2](crate::safety#DSR-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, EventHandler};
    /// use std::rc::Rc;
    /// use std::sync::mpsc;
    ///
    /// struct Count(u64, Rc<mpsc::Sender<u64>>); // an `Rc`: not Send
    /// impl EventHandler<u64> for Count {
    ///     fn on_event(&mut self, _: &u64, _: i64, _: bool) {
    ///         self.0 += 1;
    ///     }
    ///     fn on_shutdown(&mut self) {
    ///         self.1.send(self.0).unwrap();
    ///     }
    /// }
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(|_, _, _| {})
    ///     .then_from_handler(move || Count(0, Rc::new(tx)))
    ///     .build();
    /// producer.publish_batch(5, |_, _| {}).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(rx.recv().unwrap(), 5);
    /// ```
    pub fn then_from_handler<H, M>(mut self, make: M) -> Builder<E, C, W, P, Wired>
    where
        H: EventHandler<E>,
        M: FnOnce() -> H + Send + 'static,
        S: HasConsumer,
    {
        self.stage_dependencies = core::mem::take(&mut self.stage);
        self.and_from_handler(make)
    }

    fn finish<Q: Sequencer<Cursor = C>>(
        mut self,
        sequencer: Q,
    ) -> (Producer<E, Q, W, P>, Consumers) {
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
            .enumerate()
            .map(|(index, body)| {
                let signals = signals.clone();
                let hook = self.on_thread_start.clone();
                let shared = Arc::clone(&self.shared);
                let run = move || {
                    if let Some(hook) = hook {
                        // SAFE-CODE: [DSR-S2] the start hook is user code: its panic halts
                        // the Disruptor before this consumer handles anything, so nobody
                        // waits for a consumer that will never advance.
                        if let Some(panic) = catching(|| hook(index)) {
                            shared.control.halt();
                            shared.signal_from_drop();
                            return Err(panic);
                        }
                    }
                    body(signals)
                };
                #[allow(clippy::disallowed_methods)] // the switch module's spawn
                match &self.thread_name {
                    Some(prefix) => thread::spawn_named(format!("{prefix}-{index}"), run),
                    None => thread::spawn(run),
                }
            })
            .collect();
        let shared = Arc::clone(&self.shared);
        let wait = Arc::clone(&self.producer_wait);
        let guarded = NO_CLAIM;
        (Producer { shared, sequencer, signals, wait, guarded }, Consumers { threads })
    }
}

impl<E, C, W: WaitStrategy, P: WaitStrategy, S> Drop for Builder<E, C, W, P, S> {
    /// A builder dropped before `build` starts no thread; its pollers see
    /// a shut-down Disruptor.
    fn drop(&mut self) {
        if !self.built {
            self.shared.control.close(Sequence::INITIAL);
            self.shared.signal_from_drop();
        }
    }
}

impl<E, C, W: WaitStrategy, P: WaitStrategy, S> fmt::Debug for Builder<E, C, W, P, S> {
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
///
/// # Memory ordering
///
/// Shutdown drains ([DSR-I5](crate::safety#DSR-I5)): every event published before the last
/// producer handle was dropped is handled by every consumer, and all of
/// it happens-before [`join`](Consumers::join) returns.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, BusySpin};
///
/// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
///     .handle_events_with(|_, _, _| {})
///     .and(|_, _, _| {})
///     .build();
/// assert_eq!(format!("{consumers:?}"), "Consumers { threads: 2 }");
/// producer.publish(|e| *e = 1).unwrap();
/// drop(producer);
/// consumers.join().unwrap();
/// ```
pub struct Consumers {
    threads: Vec<JoinHandle<Result<(), PanicPayload>>>,
}

// Unwind safety: `&Consumers` gives access to nothing, and `join` only takes
// the threads' results, whatever a panic interrupted.
impl std::panic::UnwindSafe for Consumers {}
impl std::panic::RefUnwindSafe for Consumers {}

impl Consumers {
    /// Waits for every consumer thread to end.
    ///
    /// Returns once every producer handle has been dropped and every event
    /// published has been handled, or after a handler panicked (the
    /// Disruptor then halts: the other consumers stop at once, producers get
    /// [`Halted`](super::Halted)).
    ///
    /// # Errors
    ///
    /// The payload of the first handler panic, for
    /// [`std::panic::resume_unwind`] or inspection.
    ///
    /// # Memory ordering
    ///
    /// Everything the consumer threads did — every handler call, the
    /// `on_shutdown` hooks — happens-before `join` returns (the threads are
    /// joined). Every event published before the last producer handle was
    /// dropped has been handled by then ([DSR-I5](crate::safety#DSR-I5)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin};
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    ///
    /// let count = Arc::new(AtomicU64::new(0));
    /// let c = Arc::clone(&count);
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with(move |_, _, _| { c.fetch_add(1, Relaxed); })
    ///     .build();
    /// for i in 0..100 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// drop(producer); // shutdown: the consumers drain, then end
    /// consumers.join().unwrap();
    /// assert_eq!(count.load(Relaxed), 100);
    /// ```
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
