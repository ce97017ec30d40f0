//! [`EventHandler`] and the batch event processor that runs one on its own thread.

use super::Cursor;
use super::barrier::SequenceBarrier;
use super::sequence::Sequence;
use super::shared::Shared;
use super::wait_strategy::{Signals, Timeout, WaitStrategy};
use crate::loom::sync::Arc;
use crossbeam_utils::CachePadded;
use std::any::Any;
use std::boxed::Box;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The payload of a handler's panic, as [`std::thread::Result`] carries it.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, BusySpin, PanicPayload};
///
/// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
///     .handle_events_with(|_, _, _| panic!("disk full"))
///     .build();
/// let _ = producer.publish(|e| *e = 1);
/// let payload: PanicPayload = consumers.join().unwrap_err();
/// assert_eq!(payload.downcast_ref::<&str>(), Some(&"disk full"));
/// ```
pub type PanicPayload = Box<dyn Any + Send + 'static>;

/// A consumer of events, run by the Disruptor on a thread of its own.
///
/// Any `FnMut(&E, i64, bool) + 'static` closure is an `EventHandler`; pass
/// closures to the builder's plain forms
/// ([`handle_events_with`](super::Builder::handle_events_with),
/// [`and`](super::Builder::and), [`then`](super::Builder::then), their
/// `_from` and `_wait` variants and [`work_pool`](super::Builder::work_pool)),
/// which infer their argument types, and types with hooks to the `_handler`
/// forms. A handler given to the builder must be `Send` (it moves to its
/// thread); one made there by a factory
/// ([`handle_events_from`](super::Builder::handle_events_from),
/// [`handle_events_from_handler`](super::Builder::handle_events_from_handler))
/// need not be.
///
/// # Memory ordering
///
/// The publish of an event happens-before every `on_event` call that is
/// handed it ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)), and so does what
/// the handlers of earlier stages did while handling it. What `on_event`
/// did happens-before the next stage's `on_event` for the same event and
/// before a producer overwrites the slot: the handler's sequence is
/// published with `Release` after the batch and read with `Acquire`
/// ([DSR-O1](crate::safety#DSR-O1), [DSR-O2](crate::safety#DSR-O2)). Everything a handler did happens-before
/// [`Consumers::join`](super::Consumers::join) returns.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, BusySpin, EventHandler};
///
/// struct Sum(u64);
/// impl EventHandler<u64> for Sum {
///     fn on_event(&mut self, event: &u64, _sequence: i64, _end_of_batch: bool) {
///         self.0 += event;
///     }
///     fn on_shutdown(&mut self) {
///         assert_eq!(self.0, (0..100).sum::<u64>());
///     }
/// }
///
/// let (mut producer, consumers) =
///     Builder::single_producer(64, || 0u64, BusySpin).handle_events_with_handler(Sum(0)).build();
/// for i in 0..100 {
///     producer.publish(|e| *e = i).unwrap();
/// }
/// drop(producer); // shutdown: the consumer drains all 100, then stops
/// consumers.join().unwrap();
/// ```
pub trait EventHandler<E>: 'static {
    /// Handles the event of `sequence`. `end_of_batch` is true for the last
    /// event currently available: a good moment to flush.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::EventHandler;
    ///
    /// struct Last(u64);
    /// impl EventHandler<u64> for Last {
    ///     fn on_event(&mut self, event: &u64, _: i64, _: bool) {
    ///         self.0 = *event;
    ///     }
    /// }
    ///
    /// let mut handler = Last(0);
    /// handler.on_event(&5, 0, true); // what a consumer thread does
    /// assert_eq!(handler.0, 5);
    /// ```
    fn on_event(&mut self, event: &E, sequence: i64, end_of_batch: bool);

    /// Called on the consumer's thread before the first event.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, EventHandler};
    ///
    /// struct Named(Option<String>);
    /// impl EventHandler<u64> for Named {
    ///     fn on_start(&mut self) {
    ///         self.0 = std::thread::current().name().map(str::to_owned);
    ///     }
    ///     fn on_event(&mut self, _: &u64, _: i64, _: bool) {
    ///         assert_eq!(self.0.as_deref(), Some("audit-0"));
    ///     }
    /// }
    ///
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .thread_name("audit")
    ///     .handle_events_with_handler(Named(None))
    ///     .build();
    /// producer.publish(|e| *e = 1).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    fn on_start(&mut self) {}

    /// Called on the consumer's thread after the last event, when the
    /// Disruptor shuts down (not when it halts after a panic).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, EventHandler};
    /// use std::sync::mpsc;
    ///
    /// struct Count(u64, mpsc::Sender<u64>);
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
    ///     .handle_events_with_handler(Count(0, tx))
    ///     .build();
    /// producer.publish_batch(3, |_, _| {}).unwrap();
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(rx.recv().unwrap(), 3);
    /// ```
    fn on_shutdown(&mut self) {}

    /// Called on the consumer's thread when its wait strategy has a
    /// [`timeout`](super::WaitStrategy::timeout) (see [`Timed`](super::Timed))
    /// and that long passed with no new event; `sequence` is the last one
    /// handled. A good moment to flush or to send a heartbeat.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, EventHandler, Timed};
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    ///
    /// struct Heartbeat(mpsc::Sender<i64>);
    /// impl EventHandler<u64> for Heartbeat {
    ///     fn on_event(&mut self, _: &u64, _: i64, _: bool) {}
    ///     fn on_timeout(&mut self, sequence: i64) {
    ///         let _ = self.0.send(sequence);
    ///     }
    /// }
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with_handler_and_wait(
    ///         Heartbeat(tx),
    ///         Timed::new(BusySpin, Duration::from_millis(1)),
    ///     )
    ///     .build();
    /// producer.publish(|e| *e = 1).unwrap();
    /// while rx.recv().unwrap() != 0 {} // idle after handling sequence 0
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    fn on_timeout(&mut self, sequence: i64) {
        let _ = sequence;
    }
}

impl<E, F> EventHandler<E> for F
where
    F: FnMut(&E, i64, bool) + 'static,
{
    #[inline]
    fn on_event(&mut self, event: &E, sequence: i64, end_of_batch: bool) {
        self(event, sequence, end_of_batch)
    }
}

/// A panic policy for a stage that can tolerate a failed event: wraps a
/// handler so that a panic in `on_event` is caught, reported, and the
/// consumer goes on with the next event, where a bare handler's panic halts
/// the whole Disruptor.
///
/// The panic message itself is printed by the panic hook as usual; `report`
/// (if given) gets the event's sequence and the panic's payload, for a
/// metric or a dead-letter log. What the handler's state holds after a
/// panic is whatever the panic left (the wrapper asserts unwind safety for
/// it): use it where a half-handled event does no harm, such as a
/// best-effort replicator or a metrics stage. Panics in `on_start`,
/// `on_shutdown` and `on_timeout` still halt.
///
/// A closure wrapped in it needs its argument types written out
/// (`|e: &u64, _: i64, _: bool|`): the wrapper is built before the builder
/// call that would tell the event type.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, BusySpin, ContinueOnPanic};
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let failed = Arc::new(AtomicU64::new(0));
/// let f = Arc::clone(&failed);
/// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
///     .handle_events_with_handler(ContinueOnPanic::reporting(
///         |e: &u64, _: i64, _: bool| assert!(*e != 3, "cannot ship order 3"),
///         move |_sequence, _panic| { f.fetch_add(1, Ordering::Relaxed); },
///     ))
///     .build();
/// for i in 0..6 {
///     producer.publish(|e| *e = i).unwrap(); // never Halted
/// }
/// drop(producer);
/// consumers.join().unwrap(); // Ok: the stage went on
/// assert_eq!(failed.load(Ordering::Relaxed), 1);
/// ```
pub struct ContinueOnPanic<H, R = fn(i64, &PanicPayload)> {
    inner: H,
    report: R,
}

impl<H> ContinueOnPanic<H> {
    /// Wraps `inner`; a panic in its `on_event` is printed by the panic hook
    /// and otherwise ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, ContinueOnPanic};
    /// use std::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with_handler(ContinueOnPanic::new(move |e: &u64, _: i64, _: bool| {
    ///         assert_ne!(*e, 1, "bad event");
    ///         tx.send(*e).unwrap();
    ///     }))
    ///     .build();
    /// for i in 0..3 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// drop(producer);
    /// consumers.join().unwrap(); // Ok: the panic did not halt
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 2]);
    /// ```
    pub fn new(inner: H) -> Self {
        Self { inner, report: |_, _| {} }
    }
}

impl<H, R> ContinueOnPanic<H, R> {
    /// Wraps `inner`; after a panic in its `on_event`, `report(sequence,
    /// &payload)` runs, then the consumer goes on. A panic in `report`
    /// itself halts the Disruptor.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, BusySpin, ContinueOnPanic};
    /// use std::sync::mpsc;
    ///
    /// let (dead, letters) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u64, BusySpin)
    ///     .handle_events_with_handler(ContinueOnPanic::reporting(
    ///         |e: &u64, _: i64, _: bool| assert!(*e % 2 == 0, "odd"),
    ///         move |sequence, _panic| dead.send(sequence).unwrap(),
    ///     ))
    ///     .build();
    /// for i in 0..4 {
    ///     producer.publish(|e| *e = i).unwrap();
    /// }
    /// drop(producer);
    /// consumers.join().unwrap();
    /// assert_eq!(letters.iter().collect::<Vec<_>>(), [1, 3]);
    /// ```
    pub fn reporting(inner: H, report: R) -> Self
    where
        R: FnMut(i64, &PanicPayload),
    {
        Self { inner, report }
    }
}

impl<E, H, R> EventHandler<E> for ContinueOnPanic<H, R>
where
    H: EventHandler<E>,
    R: FnMut(i64, &PanicPayload) + 'static,
{
    #[inline]
    fn on_event(&mut self, event: &E, sequence: i64, end_of_batch: bool) {
        // SAFE-CODE: [DSR-S2] the user asked for this stage to go on after a panic: the handler's state is as the panic left it, which is theirs to judge; the Disruptor's own bookkeeping is outside the catch.
        let handled =
            catch_unwind(AssertUnwindSafe(|| self.inner.on_event(event, sequence, end_of_batch)));
        if let Err(panic) = handled {
            (self.report)(sequence, &panic);
        }
    }

    fn on_start(&mut self) {
        self.inner.on_start();
    }

    fn on_shutdown(&mut self) {
        self.inner.on_shutdown();
    }

    fn on_timeout(&mut self, sequence: i64) {
        self.inner.on_timeout(sequence);
    }
}

impl<H, R> core::fmt::Debug for ContinueOnPanic<H, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ContinueOnPanic").finish_non_exhaustive()
    }
}

/// Waits through `wait` for `next`; `Err(Timeout)` only when `wait` has a
/// [`timeout`](WaitStrategy::timeout) and it passed. With `slip` (the last
/// batch was long) the consumer first lets the producer run ahead for
/// [`SLIP_PAUSES`] spin hints, without looking: reading the cursor to see
/// whether anything is new would take its cache line back from the
/// producer, which is the transfer the slip is there to save.
#[inline]
fn wait_next<C: Cursor, V: WaitStrategy>(
    barrier: &SequenceBarrier<C>,
    next: i64,
    wait: &V,
    slip: bool,
    alerted: impl Fn() -> bool,
) -> Result<i64, Timeout> {
    if slip {
        for _ in 0..SLIP_PAUSES {
            crate::loom::spin_loop();
        }
    }
    match wait.timeout() {
        None => Ok(barrier.wait_for(next, wait, alerted)),
        Some(t) => barrier.wait_at_most(next, wait, alerted, t),
    }
}

/// A batch at least this long means the producer is streaming: the consumer
/// slips behind it before its next wait (see [`wait_next`] and the module
/// documentation of `disruptor`, "Algorithm").
const SLIP_BATCH: i64 = 8;

/// How long a streaming consumer slips: spin hints before it reads the
/// producer's cursor again after catching up. About 0.2–0.5 µs on current
/// x86-64 parts; the exact time does not matter, only that the producer
/// fills several cache lines meanwhile.
const SLIP_PAUSES: u32 = 16;

/// Runs `handler` over every event `barrier` lets through, waiting with
/// `wait` and publishing its progress in `sequence`, until shutdown has been
/// drained or the Disruptor halts. After each batch it signals the graph's
/// sleepers ([DSR-I8](crate::safety#DSR-I8)). A panic in the handler halts the whole Disruptor and
/// is returned.
pub(crate) fn run<E, C, W, V, H>(
    shared: &Shared<E, C, W>,
    barrier: SequenceBarrier<C>,
    sequence: Arc<Sequence>,
    make: impl FnOnce() -> H,
    wait: &V,
    signals: Signals,
) -> Result<(), PanicPayload>
where
    C: Cursor,
    W: WaitStrategy,
    V: WaitStrategy,
    H: EventHandler<E>,
{
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFE-CODE: [DSR-S2] the handler is made here, on its own thread, inside the
        // catch: a panicking factory halts the Disruptor like a panicking handler.
        // Its state is written once per event, so it lives on this thread's
        // stack, on cache lines of its own.
        let mut handler = CachePadded::new(make());
        handler.on_start();
        let mut next = sequence.get() + 1;
        // The last batch was long: the producer is streaming (see `SLIP_BATCH`).
        let mut slip = false;
        loop {
            let Ok(hi) = wait_next(&barrier, next, wait, slip, || shared.control.alerted()) else {
                handler.on_timeout(next - 1);
                continue;
            };
            if hi >= next {
                // SAFETY: [DSR-I1] every sequence up to `hi` was published (or passed by every stage we depend on): `hi` is the barrier's own reading, not the strategy's answer; and our own sequence stays below `next` until the batch ends, so no producer claims any of them a lap later meanwhile.
                unsafe {
                    shared.ring.read_batch(next, hi, |e, s, end| handler.on_event(e, s, end))
                };
                slip = hi - next + 1 >= SLIP_BATCH;
                // [DSR-O1] Release: our reads of the batch happen-before the
                // producer's overwrite and the next stage's reads.
                sequence.set(hi);
                // [DSR-I8] a later stage or a producer may sleep on our sequence.
                signals.signal(&shared.wait);
                next = hi + 1;
                continue;
            }
            if shared.control.is_halted() {
                return;
            }
            if next > shared.control.end() {
                break; // [DSR-I5] everything published before shutdown is handled
            }
            // Shut down, but an upstream stage still has events for us.
            #[allow(clippy::disallowed_methods)] // the switch module's yield
            crate::loom::thread::yield_now();
        }
        handler.on_shutdown();
    }));
    if outcome.is_err() {
        shared.control.halt();
        signals.signal(&shared.wait);
    }
    outcome
}

/// The claim counter a work pool's workers share: the highest sequence any
/// of them has taken.
pub(crate) struct WorkSequence(crossbeam_utils::CachePadded<crate::loom::atomic::AtomicI64>);

impl WorkSequence {
    pub(crate) fn new() -> Self {
        Self(crossbeam_utils::CachePadded::new(crate::loom::atomic::AtomicI64::new(
            Sequence::INITIAL,
        )))
    }

    /// Takes the next sequence for one worker, first recording in `mine`
    /// that the worker is done with everything up to the current claim.
    fn claim(&self, mine: &Sequence) -> i64 {
        use crate::loom::atomic::Ordering::Relaxed;
        // ORDERING: [DSR-O10] Relaxed — the compare-exchange below validates the value.
        let mut current = self.0.load(Relaxed);
        loop {
            // [DSR-O1] Release: our previous event's reads happen-before the
            // producer's overwrite; we read nothing at or below `current` now.
            mine.set(current);
            // ORDERING: [DSR-O10] Relaxed on success and on failure — uniqueness of the claim is the read-modify-write's atomicity; the event is read only after the barrier's Acquire.
            match self.0.compare_exchange_weak(current, current + 1, Relaxed, Relaxed) {
                Ok(_) => return current + 1,
                Err(seen) => current = seen,
            }
        }
    }
}

/// Runs one worker of a work pool: each event goes to exactly one worker of
/// the pool ([DSR-I7](crate::safety#DSR-I7)). `end_of_batch` is always true (a worker handles one
/// event at a time).
pub(crate) fn run_worker<E, C, W, V, H>(
    shared: &Shared<E, C, W>,
    barrier: SequenceBarrier<C>,
    sequence: Arc<Sequence>,
    work: Arc<WorkSequence>,
    handler: H,
    wait: &V,
    signals: Signals,
) -> Result<(), PanicPayload>
where
    C: Cursor,
    W: WaitStrategy,
    V: WaitStrategy,
    H: EventHandler<E>,
{
    // The handler arrives inside the boxed thread body, on the heap next to
    // whatever was allocated around it; its state is written once per event,
    // so it runs from this thread's stack, on cache lines of its own.
    let mut handler = CachePadded::new(handler);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        handler.on_start();
        let mut next = work.claim(&sequence);
        // [DSR-I8] even the first claim may advance our sequence (past the
        // events the other workers took), and a producer may sleep on it.
        signals.signal(&shared.wait);
        loop {
            let Ok(hi) = wait_next(&barrier, next, wait, false, || shared.control.alerted()) else {
                handler.on_timeout(next - 1);
                continue;
            };
            if hi >= next {
                // SAFETY: [DSR-I1] [DSR-I7] `next` is published (`hi` is the barrier's own reading) and claimed by this worker alone; our sequence is below it until we claim again.
                let event = unsafe { shared.ring.get(next) };
                handler.on_event(event, next, true);
                next = work.claim(&sequence);
                // [DSR-I8] a later stage or a producer may sleep on our sequence.
                signals.signal(&shared.wait);
                continue;
            }
            if shared.control.is_halted() {
                return;
            }
            if next > shared.control.end() {
                break;
            }
            #[allow(clippy::disallowed_methods)] // the switch module's yield
            crate::loom::thread::yield_now();
        }
        handler.on_shutdown();
    }));
    if outcome.is_err() {
        shared.control.halt();
        signals.signal(&shared.wait);
    }
    outcome
}
