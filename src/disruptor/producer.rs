//! [`Producer`] claims slots, writes events in place and publishes them;
//! [`Claim`] is one claimed slot.

use super::multi_producer::MultiProducerSequencer;
use super::processor::PanicPayload;
use super::shared::Shared;
use super::single_producer::SingleProducerSequencer;
use super::wait_strategy::WaitStrategy;
use super::wait_strategy::{Signals, Yielding, catching, resume};
use super::{Halted, Sequencer, TryPublishBatchError, TryPublishError};
use crate::loom::atomic::Ordering::{AcqRel, Relaxed};
use crate::loom::sync::Arc;
use core::fmt;
use core::ops::{Deref, DerefMut};

/// The producer of a Disruptor made with [`Builder::single_producer`](super::Builder::single_producer):
/// `E` the event, `W` the consumers' default wait strategy, `P` the
/// producer's ([`Yielding`] unless [`producer_wait`](super::Builder::producer_wait) set one).
///
/// # Examples
///
/// A struct that keeps its producer:
///
/// ```
/// use acqrel::disruptor::{Blocking, Builder, SingleProducer};
///
/// struct Feed {
///     out: SingleProducer<u64, Blocking, Blocking>,
/// }
///
/// let (out, consumers) = Builder::single_producer(64, || 0u64, Blocking::new())
///     .producer_wait(Blocking::new())
///     .handle_events_with(|_, _, _| {})
///     .build();
/// let mut feed = Feed { out };
/// feed.out.publish(|e| *e = 1).unwrap();
/// drop(feed);
/// consumers.join().unwrap();
/// ```
pub type SingleProducer<E, W, P = Yielding> = Producer<E, SingleProducerSequencer, W, P>;

/// A producer of a Disruptor made with [`Builder::multi_producer`](super::Builder::multi_producer)
/// (cloned once per producer thread): `E` the event, `W` the consumers'
/// default wait strategy, `P` the producer's ([`Yielding`] unless
/// [`producer_wait`](super::Builder::producer_wait) set one).
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, MultiProducer, Yielding};
/// use std::thread;
///
/// fn feed(mut out: MultiProducer<u64, Yielding>, from: u64) {
///     for i in from..from + 3 {
///         out.publish(|e| *e = i).unwrap();
///     }
/// }
///
/// let (producer, consumers) = Builder::multi_producer(8, || 0u64, Yielding)
///     .handle_events_with(|_, _, _| {})
///     .build();
/// let other = thread::spawn({
///     let p = producer.clone();
///     move || feed(p, 10)
/// });
/// feed(producer, 0);
/// other.join().unwrap();
/// consumers.join().unwrap();
/// ```
pub type MultiProducer<E, W, P = Yielding> = Producer<E, MultiProducerSequencer, W, P>;

/// A producer handle: claims slots, writes events in place, publishes.
///
/// `Producer<E, SingleProducerSequencer, W>` is the only producer of its
/// Disruptor and is not `Clone`; `Producer<E, MultiProducerSequencer, W>`
/// clones into one handle per producer thread. Dropping the last handle
/// shuts the Disruptor down (see [`Consumers`](super::Consumers)).
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
/// [`Consumers::join`](super::Consumers::join) does not return; everything published is still
/// delivered exactly once.
///
/// # Examples
///
/// Two producer threads; the handler sees each one's events in its order:
///
/// ```
/// use acqrel::disruptor::{Builder, Yielding};
/// use std::sync::{Arc, Mutex};
/// use std::thread;
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = Arc::clone(&seen);
/// let (producer, consumers) = Builder::multi_producer(16, || (0, 0), Yielding)
///     .handle_events_with(move |e, _, _| log.lock().unwrap().push(*e))
///     .build();
/// let threads: Vec<_> = (0..2)
///     .map(|id| {
///         let mut p = producer.clone();
///         thread::spawn(move || (0..5).for_each(|i| { p.publish(|e| *e = (id, i)).unwrap(); }))
///     })
///     .collect();
/// drop(producer);
/// threads.into_iter().for_each(|t| t.join().unwrap());
/// consumers.join().unwrap(); // every event handled
/// let seen = seen.lock().unwrap();
/// for id in 0..2 {
///     let mine: Vec<_> = seen.iter().filter(|e| e.0 == id).map(|e| e.1).collect();
///     assert_eq!(mine, [0, 1, 2, 3, 4]);
/// }
/// ```
pub struct Producer<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy = Yielding> {
    pub(crate) shared: Arc<Shared<E, S::Cursor, W>>,
    pub(crate) sequencer: S,
    /// The graph's sleeping strategies, signalled after each publish.
    pub(crate) signals: Signals,
    /// How this producer waits on a full ring.
    pub(crate) wait: Arc<P>,
    /// The sequence of the [`Claim`] that [`claim`](Producer::claim)
    /// handed out, until that claim's drop publishes it; [`NO_CLAIM`]
    /// otherwise. Still set at the next claim (or at the producer's drop)
    /// only if the claim was leaked; the producer then publishes it itself
    /// ([`publish_leaked_claim`](Producer::publish_leaked_claim)).
    pub(crate) guarded: i64,
}

/// `Producer::guarded` when no [`Claim`] is out.
pub(crate) const NO_CLAIM: i64 = i64::MIN;

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
    ///
    /// # Memory ordering
    ///
    /// Everything `write` did to the event, and everything the producer did
    /// before the call, happens-before the handler call or poll that is
    /// handed the event: the publish is a `Release` store ([DSR-O1](crate::safety#DSR-O1) with one
    /// producer, [DSR-O3](crate::safety#DSR-O3) with several) that the consumer reads with `Acquire`
    /// ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)). Before the slot is written, the consumers that
    /// last read it are done with it (their `Release` sequence stores, read
    /// with `Acquire` by the claim, [DSR-O2](crate::safety#DSR-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, Yielding};
    /// use std::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (mut producer, consumers) = Builder::single_producer(8, String::new, Yielding)
    ///     .handle_events_with(move |e, seq, _| tx.send((seq, e.clone())).unwrap())
    ///     .build();
    /// let seq = producer.publish(|e| {
    ///     e.clear();
    ///     e.push_str("order 17");
    /// }).unwrap();
    /// assert_eq!(rx.recv().unwrap(), (seq, "order 17".to_string()));
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    #[inline]
    pub fn publish(&mut self, write: impl FnOnce(&mut E)) -> Result<i64, Halted> {
        let hi = self.claim_range(1)?;
        self.write_and_publish(hi, write);
        Ok(hi)
    }

    /// Lets `write` fill the claimed slot `hi`, then publishes it (reset, if
    /// `write` panics). No guard state is kept on the normal path.
    #[inline]
    pub(crate) fn write_and_publish(&mut self, hi: i64, write: impl FnOnce(&mut E)) {
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
    ///
    /// # Memory ordering
    ///
    /// Everything `write` did to the event, and everything the producer did
    /// before the call, happens-before the handler call or poll that is
    /// handed the event: the publish is a `Release` store ([DSR-O1](crate::safety#DSR-O1) with one
    /// producer, [DSR-O3](crate::safety#DSR-O3) with several) that the consumer reads with `Acquire`
    /// ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)). Before the slot is written, the consumers that
    /// last read it are done with it (their `Release` sequence stores, read
    /// with `Acquire` by the claim, [DSR-O2](crate::safety#DSR-O2)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, Polled, TryPublishError, Yielding};
    ///
    /// let (builder, mut poller) = Builder::single_producer(2, || 0u8, Yielding).poller();
    /// let (mut producer, consumers) = builder.build();
    /// assert_eq!(producer.try_publish(|e| *e = 1), Ok(0));
    /// assert_eq!(producer.try_publish(|e| *e = 2), Ok(1));
    /// assert_eq!(producer.try_publish(|e| *e = 3), Err(TryPublishError::Full));
    /// assert_eq!(poller.poll(|_, _, _| {}), Polled::Events(2));
    /// assert_eq!(producer.try_publish(|e| *e = 3), Ok(2));
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
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
    ///
    /// # Memory ordering
    ///
    /// Everything `write` did to the event, and everything the producer did
    /// before the call, happens-before the handler call or poll that is
    /// handed the event: the publish is a `Release` store ([DSR-O1](crate::safety#DSR-O1) with one
    /// producer, [DSR-O3](crate::safety#DSR-O3) with several) that the consumer reads with `Acquire`
    /// ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)). Before the slot is written, the consumers that
    /// last read it are done with it (their `Release` sequence stores, read
    /// with `Acquire` by the claim, [DSR-O2](crate::safety#DSR-O2)). All `n` events are published together
    /// (with several producers, slot by slot), so a consumer that sees the
    /// last sees all of them.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, Polled, Yielding};
    ///
    /// let (builder, mut poller) = Builder::single_producer(8, || 0u32, Yielding).poller();
    /// let (mut producer, consumers) = builder.build();
    /// let readings = [12, 15, 11];
    /// assert_eq!(producer.publish_batch(3, |e, i| *e = readings[i]), Ok(2));
    /// let mut got = Vec::new();
    /// assert_eq!(poller.poll(|e, _, _| got.push(*e)), Polled::Events(3));
    /// assert_eq!(got, readings);
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn publish_batch(
        &mut self,
        n: usize,
        write: impl FnMut(&mut E, usize),
    ) -> Result<i64, Halted> {
        let hi = self.claim_range(n)?;
        self.write_batch_and_publish(hi, n, write);
        Ok(hi)
    }

    /// Like [`publish_batch`](Producer::publish_batch), but claims the `n`
    /// slots only if all of them are free now, instead of waiting for them:
    /// a refusal claims nothing and does not call `write`. Returns the last
    /// sequence.
    ///
    /// # Errors
    ///
    /// [`TryPublishBatchError::Full`] when fewer than `n` slots are free;
    /// `missing` says how many more the slowest consumer must free, read
    /// from the same look at the consumers that refused the claim.
    /// [`TryPublishBatchError::Halted`] after a handler panic.
    ///
    /// # Panics
    ///
    /// As [`publish_batch`](Producer::publish_batch): if `n` is zero or
    /// larger than the ring, or if `write` panics (the slots it did not
    /// finish are reset, and all `n` are published).
    ///
    /// # Memory ordering
    ///
    /// Everything `write` did to the event, and everything the producer did
    /// before the call, happens-before the handler call or poll that is
    /// handed the event: the publish is a `Release` store ([DSR-O1](crate::safety#DSR-O1) with one
    /// producer, [DSR-O3](crate::safety#DSR-O3) with several) that the consumer reads with `Acquire`
    /// ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)). Before the slot is written, the consumers that
    /// last read it are done with it (their `Release` sequence stores, read
    /// with `Acquire` by the claim, [DSR-O2](crate::safety#DSR-O2)). As for
    /// [`publish_batch`](Producer::publish_batch), a consumer that sees the
    /// last event of the batch sees all of them. A refusal publishes nothing
    /// and orders nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, Polled, TryPublishBatchError, Yielding};
    ///
    /// let (builder, mut poller) = Builder::single_producer(4, || 0u32, Yielding).poller();
    /// let (mut producer, consumers) = builder.build();
    /// assert_eq!(producer.try_publish_batch(3, |e, i| *e = 10 + i as u32), Ok(2));
    /// // One slot left: a batch of three is refused whole.
    /// let refused = producer.try_publish_batch(3, |_, _| unreachable!());
    /// assert_eq!(refused, Err(TryPublishBatchError::Full { missing: 2 }));
    /// let mut got = Vec::new();
    /// assert_eq!(poller.poll(|e, _, _| got.push(*e)), Polled::Events(3));
    /// assert_eq!(got, [10, 11, 12]);
    /// assert_eq!(producer.try_publish_batch(3, |e, i| *e = 20 + i as u32), Ok(5));
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
    pub fn try_publish_batch(
        &mut self,
        n: usize,
        write: impl FnMut(&mut E, usize),
    ) -> Result<i64, TryPublishBatchError> {
        if self.guarded != NO_CLAIM {
            resume(self.publish_leaked_claim());
        }
        if self.shared.control.is_halted() {
            return Err(TryPublishBatchError::Halted);
        }
        let hi = self
            .sequencer
            .try_claim_or_missing(n)
            .map_err(|missing| TryPublishBatchError::Full { missing })?;
        self.write_batch_and_publish(hi, n, write);
        Ok(hi)
    }

    /// Lets `write` fill the `n` claimed slots up to `hi` in order, then
    /// publishes them; if `write` panics, the guard resets the unfinished
    /// slots and publishes all `n`.
    fn write_batch_and_publish(&mut self, hi: i64, n: usize, mut write: impl FnMut(&mut E, usize)) {
        let lo = hi - n as i64 + 1;
        let mut guard = Claim::new(self, lo, hi);
        for i in 0..n {
            let s = lo + i as i64;
            // SAFETY: [DSR-I1] `s` is in the range this guard claimed and has not published; no other reference to the slot exists.
            write(unsafe { guard.producer.shared.ring.get_mut(s) }, i);
            guard.written = s;
        }
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
    /// # Memory ordering
    ///
    /// As for [`publish`](Producer::publish): what was written through
    /// the guard happens-before the handler call or poll that is handed the
    /// event, the guard's drop being the publish ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, Yielding};
    ///
    /// let (mut producer, consumers) = Builder::single_producer(8, || 0u32, Yielding)
    ///     .handle_events_with(|e, _, _| assert_eq!(*e, 7))
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
    pub(crate) fn claim_range(&mut self, n: usize) -> Result<i64, Halted> {
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
    pub(crate) fn publish_leaked_claim(&mut self) -> Option<PanicPayload> {
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

// Unwind safety: a writer or claim holder that panics has its unfinished
// slots reset to fresh factory events and published ([DSR-I6]), and a
// strategy that panics has claimed nothing ([DSR-S2]), so the ring and the
// sequences are consistent after any panic; `&Producer` reads only its
// sequence. The events are behind the same reset, hence no bound on `E`.
impl<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> std::panic::UnwindSafe
    for Producer<E, S, W, P>
{
}
impl<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> std::panic::RefUnwindSafe
    for Producer<E, S, W, P>
{
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
/// events ([DSR-I6](crate::safety#DSR-I6)); forgotten when the writer returns normally.
pub(crate) struct ResetOnUnwind<'a, E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> {
    pub(crate) producer: &'a mut Producer<E, S, W, P>,
    pub(crate) lo: i64,
    pub(crate) hi: i64,
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
///
/// # Memory ordering
///
/// The guard's drop publishes the event: what was written through it
/// happens-before the handler call or poll that is handed the event, as
/// for [`Producer::publish`] ([DSR-O1](crate::safety#DSR-O1), [DSR-O3](crate::safety#DSR-O3) → [DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)).
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, Polled, Yielding};
///
/// let (builder, mut poller) = Builder::single_producer(4, Vec::new, Yielding).poller();
/// let (mut producer, consumers) = builder.build();
/// {
///     let mut claim = producer.claim().unwrap();
///     claim.clear();
///     claim.extend_from_slice(b"hello");
///     assert_eq!(poller.poll(|_, _, _| {}), Polled::Idle); // not yet published
/// }
/// let mut got = Vec::new();
/// assert_eq!(poller.poll(|e, _, _| got = e.clone()), Polled::Events(1));
/// assert_eq!(got, b"hello");
/// drop(producer);
/// consumers.join().unwrap();
/// ```
pub struct Claim<'a, E, S: Sequencer, W: WaitStrategy, P: WaitStrategy = Yielding> {
    pub(crate) producer: &'a mut Producer<E, S, W, P>,
    pub(crate) lo: i64,
    pub(crate) hi: i64,
    /// The last sequence of the range fully written (batches).
    pub(crate) written: i64,
    pub(crate) panicking_at_claim: bool,
}

impl<'a, E, S: Sequencer, W: WaitStrategy, P: WaitStrategy> Claim<'a, E, S, W, P> {
    pub(crate) fn new(producer: &'a mut Producer<E, S, W, P>, lo: i64, hi: i64) -> Self {
        // SAFE-CODE: [DSR-S6] `thread::panicking` is the only per-thread state the Disruptor reads; std answers it in thread-local destructors too.
        Self { producer, lo, hi, written: lo - 1, panicking_at_claim: std::thread::panicking() }
    }

    /// The sequence of the claimed event.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Builder, Yielding};
    ///
    /// let (mut producer, consumers) = Builder::single_producer(4, || 0u8, Yielding)
    ///     .handle_events_with(|_, _, _| {})
    ///     .build();
    /// producer.publish(|e| *e = 1).unwrap();
    /// assert_eq!(producer.claim().unwrap().sequence(), 1);
    /// drop(producer);
    /// consumers.join().unwrap();
    /// ```
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
pub(crate) fn publish_while_unwinding<E, S: Sequencer, W: WaitStrategy, P: WaitStrategy>(
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
