//! An LMAX-style Disruptor: a pre-allocated ring of events, sequencers that
//! hand out slots to producers, and consumers that follow the producers (and
//! each other) by sequence numbers alone.
//!
//! Source: M. Thompson, D. Farley, M. Barker, P. Gee, A. Stewart,
//! *Disruptor: High performance alternative to bounded queues for exchanging
//! data between concurrent threads* (LMAX, 2011), and the LMAX Disruptor 4
//! (Java) it describes. The vocabulary is theirs.
//!
//! # Concepts
//!
//! | part | role |
//! |---|---|
//! | [`Sequence`] | a cache-padded `i64`, `-1` at first; one per producer cursor and per consumer |
//! | [`RingBuffer`] | `2^k` events made once by a factory, slot of sequence `s` is `s & (2^k - 1)` |
//! | [`SingleProducerSequencer`] | one producer: claims with plain arithmetic, publishes with one `Release` store |
//! | [`MultiProducerSequencer`] | many producers: claim counter (`fetch_add`/compare-exchange) + per-slot availability laps ([`MultiProducerCursor`]) |
//! | [`SequenceBarrier`] | what a consumer may read: the published cursor, or the stages it depends on |
//! | [`WaitStrategy`] | how a consumer (or a producer on a full ring) waits: [`BusySpin`], [`Yielding`], [`Sleeping`], [`Blocking`]; with a deadline ([`WaitStrategy::wait_for_until`], [`Timed`]) |
//! | [`EventHandler`] | user code run on every event by a consumer thread |
//! | [`EventPoller`] | a consumer polled from the caller's own thread |
//! | work pool ([`Builder::work_pool`]) | N workers sharing a claim counter: each event to exactly one of them |
//! | [`Builder`] / [`Producer`] / [`Consumers`] | wiring, publishing, shutdown |
//!
//! # Algorithm
//!
//! A producer *claims* the next sequence `s` (or `n` of them), writes the
//! event in slot `s & mask` in place, and *publishes* `s`. A claim may
//! proceed only when every gating consumer — the handlers of the last stage —
//! has finished with `s - capacity`, the previous event in that slot.
//! Consumers wait (through their wait strategy) until the barrier reports a
//! sequence at or beyond the next one they need, handle every event up to
//! that highest available sequence (natural batching), and then publish
//! their own progress in their [`Sequence`], which is what the next stage
//! and the producers wait on.
//!
//! A consumer thread that has just handled a batch of 8 or more events
//! lets the producer run ahead before it reads the cursor again: 16 spin
//! hints (about half a microsecond), and only when the producer is
//! streaming. A consumer that re-reads the cursor the moment it catches up
//! takes the cursor's cache line, and the line of the slot being written,
//! back from the producer every few events, and the producer then waits for
//! both lines on its next publish; slipping behind it makes the batches
//! longer and those transfers rarer (the "temporal slipping" of
//! FastForward, Giacomoni et al., PPoPP 2008). The price is latency inside a
//! stream: an event published during the slip waits for its end. After a
//! batch shorter than 8 (request/response traffic) there is no slip, and an
//! [`EventPoller`] never slips. A consumer with a sleeping strategy
//! ([`Blocking`]) slips too: there the producer checks for sleepers after
//! every publish ([DSR-O7](crate::safety#DSR-O7)), behind a `SeqCst` fence where the process-wide
//! barrier of [FENCE-I1](crate::safety#FENCE-I1) is missing, and that fence waits for the cursor's
//! line, so the transfers the slip saves cost it more than they cost a spinning one.
//!
//! With one producer the published cursor is the only shared write on the
//! producer's side. With several, a producer publishes each slot by writing
//! its lap number into the availability buffer, and consumers read only the
//! contiguous run of published slots, so no consumer ever sees a gap.
//!
//! # Guarantees
//!
//! - Every published event is handled by every handler, in sequence order,
//!   exactly once; a handler in a later stage sees an event only after every
//!   handler of the earlier stages has returned from it.
//! - Per producer, events are handled in the order that producer published.
//! - A producer never overwrites an event a gating consumer has not finished.
//! - Shutdown (dropping the last producer) drains: every event published
//!   before it is handled before the consumer threads end ([DSR-I5](crate::safety#DSR-I5)).
//! - A slot once claimed is always published, even when the code writing it
//!   panics or its [`Claim`] is leaked; it is then reset to a fresh factory
//!   event first, so no half-written event and no event of an earlier lap is
//!   ever delivered as new ([DSR-I6](crate::safety#DSR-I6)).
//! - In a work pool each event is handled by exactly one worker ([DSR-I7](crate::safety#DSR-I7)).
//! - A panicking handler (or consumer wait strategy) halts the Disruptor:
//!   other consumers stop, producers get [`Halted`], and [`Consumers::join`]
//!   returns the panic.
//! - Wait strategies are trusted with nothing that decides which memory is
//!   touched: what a consumer reads and when a producer overwrites are
//!   decided by the crate's own readings of the sequences; a strategy that
//!   lies only delays its own waiter ([`WaitStrategy`], SAFETY.md [DSR-S1](crate::safety#DSR-S1)).
//! - Leaking a handle (`mem::forget` of a [`Producer`], [`EventPoller`],
//!   [`Consumers`]) is safe: the Disruptor then stays open, like a channel
//!   whose sender leaked, and delivers everything published exactly once.
//!
//! # Wait strategies per party
//!
//! The strategy given to the builder is the default; a handler, work
//! pool or poller may have its own ([`Builder::handle_events_with_wait`],
//! [`Builder::work_pool_with_wait`], [`Builder::poller_with_wait`]) and producers facing a full ring wait
//! through one too ([`Builder::producer_wait`], [`Yielding`] by default): a
//! `Blocking` producer sleeps until a gating consumer advances. Each
//! consumer's loop is compiled for its own strategy's type, so a `BusySpin`
//! consumer never pays a dynamic call per wait. Consumer threads start at
//! `build`, when the graph is complete: every party then holds the list of
//! the graph's sleeping strategies and signals each after every store that
//! could end a wait ([DSR-I8](crate::safety#DSR-I8)). No sleeping strategy: a signal is one
//! branch. Each sleeping strategy: one fence (a compiler fence where the
//! sleeper pays a process-wide barrier instead, [FENCE-I1](crate::safety#FENCE-I1); a `SeqCst` fence
//! elsewhere) and one load per signal while nobody sleeps ([DSR-O7](crate::safety#DSR-O7)), as for an all-`Blocking`
//! Disruptor. A consumer whose strategy has a timeout ([`Timed`]) calls its
//! handler's [`EventHandler::on_timeout`] whenever a wait times out;
//! [`EventPoller::poll_timeout`] waits for a bounded time.
//!
//! Progress: producers and consumers are non-blocking with respect to each
//! other except where the protocol demands waiting (a full ring, an empty
//! one) and, with [`Blocking`], except for the mutex a sleeping consumer
//! shares with a producer that wakes it.
//!
//! # Memory ordering
//!
//! Four edges carry everything (SAFETY.md, section "Disruptor"):
//!
//! 1. **Publication.** Event writes → the cursor's `Release` store
//!    ([DSR-O1](crate::safety#DSR-O1)) or the slot's availability `Release` store ([DSR-O3](crate::safety#DSR-O3)) →
//!    the consumer's `Acquire` load ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)) → its reads.
//! 2. **The wrap.** A consumer's reads of slot `s` → its sequence's
//!    `Release` store → the producer's `Acquire` load of the gating
//!    sequences → the producer's write of `s + capacity`.
//! 3. **Stages.** Upstream work on `s` → the upstream sequence `Release` →
//!    the downstream `Acquire`; and since only the last stage gates the
//!    producers, the chain of these edges is also what keeps the producer
//!    off slots an *earlier* stage still reads.
//! 4. **The multi-producer claim** is `Relaxed`: a slot range is unique by
//!    the atomicity of the read-modify-write alone, and nothing is
//!    published through the claim counter ([DSR-O5](crate::safety#DSR-O5)).
//!
//! No `SeqCst` is needed on the data path. In particular "publish the
//! cursor, then read the consumers' sequences" needs no StoreLoad barrier
//! here ([DSR-I3](crate::safety#DSR-I3)): a stale consumer sequence only makes the producer wait
//! longer. The one StoreLoad edge is the [`Blocking`] strategy's "did anyone
//! fall asleep?" check, made with an asymmetric fence pair ([DSR-O7](crate::safety#DSR-O7),
//! [FENCE-I1](crate::safety#FENCE-I1));
//! the same pair serves a consumer asleep on the cursor or on an upstream
//! stage and a producer asleep on the gating sequences.

mod multi_producer;
mod ring_buffer;
mod sequence;
mod single_producer;

#[cfg(feature = "std")]
mod barrier;
#[cfg(feature = "std")]
mod builder;
#[cfg(feature = "std")]
mod event_poller;
#[cfg(feature = "std")]
mod processor;
#[cfg(feature = "std")]
mod producer;
#[cfg(feature = "std")]
mod shared;
#[cfg(feature = "std")]
mod wait_strategy;

#[cfg(feature = "std")]
pub use barrier::SequenceBarrier;
pub use multi_producer::{MultiProducerCursor, MultiProducerSequencer};
pub use ring_buffer::RingBuffer;
pub use sequence::Sequence;
pub use single_producer::SingleProducerSequencer;

#[cfg(feature = "std")]
pub use builder::{Builder, Consumers, HasConsumer, NoConsumer, Wired};
#[cfg(feature = "std")]
pub use event_poller::{EventPoller, Polled};
#[cfg(feature = "std")]
pub use processor::{ContinueOnPanic, EventHandler, PanicPayload};
#[cfg(feature = "std")]
pub use producer::{Claim, MultiProducer, Producer, SingleProducer};
#[cfg(feature = "std")]
pub use wait_strategy::{Blocking, BusySpin, Sleeping, Timed, Timeout, WaitStrategy, Yielding};

use core::fmt;

/// The producers' side of a Disruptor: claiming and publishing sequences.
///
/// The crate implements it twice: [`SingleProducerSequencer`] and
/// [`MultiProducerSequencer`]; a [`Producer`] is built on one of them by
/// the [`Builder`]. Used directly, a sequencer only hands out sequences: the
/// caller writes the events (a [`RingBuffer`]) and publishes.
///
/// # Memory ordering
///
/// [`publish`](Sequencer::publish) is a `Release` store ([DSR-O1](crate::safety#DSR-O1) single
/// producer, [DSR-O3](crate::safety#DSR-O3) per slot with several), read by the consumers with
/// `Acquire` ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)): the writes to the events of a
/// published range happen-before a consumer that sees it. A claim reads the
/// gating sequences with `Acquire` ([DSR-O2](crate::safety#DSR-O2)): the gating consumers' reads
/// of a slot happen-before its being claimed again.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Cursor, Sequence, Sequencer, SingleProducerSequencer};
/// use std::sync::Arc;
///
/// fn claim_two(seq: &mut impl Sequencer) -> i64 {
///     let hi = seq.try_claim(2).unwrap();
///     seq.publish(hi - 1, hi);
///     hi
/// }
///
/// let cursor = Arc::new(Sequence::new());
/// let mut seq = SingleProducerSequencer::new(Arc::clone(&cursor), 8, vec![]);
/// assert_eq!(claim_two(&mut seq), 1);
/// assert_eq!(cursor.highest_published(0), 1);
/// ```
pub trait Sequencer {
    /// What consumers read to learn how far events are published.
    type Cursor: Cursor;

    /// Claims `n` sequences if the ring has room for them; returns the
    /// highest (the range is `hi - n + 1 ..= hi`).
    ///
    /// # Errors
    ///
    /// [`InsufficientCapacity`] when a gating consumer is too far behind;
    /// nothing is claimed then.
    ///
    /// # Panics
    ///
    /// If `n` is zero or larger than the ring.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{InsufficientCapacity, Sequence, Sequencer, SingleProducerSequencer};
    /// use std::sync::Arc;
    ///
    /// let consumer = Arc::new(Sequence::new());
    /// let cursor = Arc::new(Sequence::new());
    /// let mut seq = SingleProducerSequencer::new(cursor, 4, vec![Arc::clone(&consumer)]);
    /// assert_eq!(seq.try_claim(3), Ok(2)); // sequences 0..=2
    /// assert_eq!(seq.try_claim(2), Err(InsufficientCapacity));
    /// consumer.set(0);
    /// assert_eq!(seq.try_claim(2), Ok(4));
    /// ```
    #[inline]
    fn try_claim(&mut self, n: usize) -> Result<i64, InsufficientCapacity> {
        self.try_claim_or_missing(n).map_err(|_| InsufficientCapacity)
    }

    /// Like [`try_claim`](Sequencer::try_claim), but a refusal says how
    /// many of the `n` slots were missing: `Err(missing)`, between 1 and
    /// `n`, taken from the same reading of the gating sequences that
    /// refused the claim (the slowest gating consumer must move on by that
    /// many before `n` slots fit).
    ///
    /// # Errors
    ///
    /// `Err(missing)` when a gating consumer is too far behind; nothing is
    /// claimed then.
    ///
    /// # Panics
    ///
    /// If `n` is zero or larger than the ring.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{MultiProducerCursor, MultiProducerSequencer, Sequence, Sequencer};
    /// use std::sync::Arc;
    ///
    /// let consumer = Arc::new(Sequence::new());
    /// let cursor = Arc::new(MultiProducerCursor::new(8));
    /// let mut seq = MultiProducerSequencer::new(cursor, vec![Arc::clone(&consumer)]);
    /// assert_eq!(seq.try_claim_or_missing(6), Ok(5));
    /// assert_eq!(seq.try_claim_or_missing(5), Err(3)); // 2 free of 5
    /// consumer.set(2);
    /// assert_eq!(seq.try_claim_or_missing(5), Ok(10));
    /// ```
    fn try_claim_or_missing(&mut self, n: usize) -> Result<i64, usize>;

    /// Claims `n` sequences, waiting (spin, then yield) while the ring is
    /// full and `keep_waiting()` says so; returns the highest, or `None` if
    /// it gave up (nothing is claimed then).
    ///
    /// # Panics
    ///
    /// If `n` is zero or larger than the ring.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Sequence, Sequencer, SingleProducerSequencer};
    /// use std::sync::Arc;
    ///
    /// let consumer = Arc::new(Sequence::new());
    /// let cursor = Arc::new(Sequence::new());
    /// let mut seq = SingleProducerSequencer::new(cursor, 2, vec![Arc::clone(&consumer)]);
    /// assert_eq!(seq.claim_while(2, || true), Some(1));
    /// let mut tries = 0;
    /// assert_eq!(seq.claim_while(1, || { tries += 1; tries < 3 }), None); // gave up
    /// consumer.set(0);
    /// assert_eq!(seq.claim_while(1, || true), Some(2));
    /// ```
    fn claim_while(&mut self, n: usize, keep_waiting: impl FnMut() -> bool) -> Option<i64>;

    /// Claims `n` sequences, waiting through `wait` while the ring is full
    /// — a wait for the minimum of the gating sequences to reach the wrap
    /// point, so a [`Blocking`] producer sleeps until a consumer advances
    /// and signals it ([DSR-I8](crate::safety#DSR-I8)) — until `alerted()`; returns the highest,
    /// or `None` if alerted first (nothing is claimed then).
    ///
    /// Whether there is room is decided by the sequencer's own reading of
    /// the gating sequences, whatever `wait` returns ([DSR-S1](crate::safety#DSR-S1)).
    ///
    /// # Panics
    ///
    /// If `n` is zero or larger than the ring, or if `wait` panics (nothing
    /// is claimed then).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Sequence, Sequencer, SingleProducerSequencer, Yielding};
    /// use std::sync::Arc;
    ///
    /// let consumer = Arc::new(Sequence::new());
    /// let mut seq = SingleProducerSequencer::new(Arc::new(Sequence::new()), 1, vec![Arc::clone(&consumer)]);
    /// assert_eq!(seq.claim_with(1, &Yielding, || false), Some(0));
    /// consumer.set(0); // without this the next claim would wait
    /// assert_eq!(seq.claim_with(1, &Yielding, || false), Some(1));
    /// assert_eq!(seq.claim_with(1, &Yielding, || true), None); // full, and told to stop
    /// ```
    #[cfg(feature = "std")]
    fn claim_with<P: WaitStrategy>(
        &mut self,
        n: usize,
        wait: &P,
        alerted: impl Fn() -> bool,
    ) -> Option<i64>;

    /// Publishes the claimed range `lo..=hi` after its events were written.
    ///
    /// # Memory ordering
    ///
    /// `Release` ([DSR-O1](crate::safety#DSR-O1) for the single producer's cursor, [DSR-O3](crate::safety#DSR-O3) for each
    /// slot of several producers): the writes to the events of `lo..=hi` made
    /// before the call happen-before a consumer whose `Acquire` reading
    /// ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)) sees the range published.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Cursor, MultiProducerCursor, MultiProducerSequencer, Sequencer};
    /// use std::sync::Arc;
    ///
    /// let cursor = Arc::new(MultiProducerCursor::new(8));
    /// let mut seq = MultiProducerSequencer::new(Arc::clone(&cursor), vec![]);
    /// let hi = seq.try_claim(4).unwrap();
    /// seq.publish(hi - 3, hi - 2); // the first two only
    /// assert_eq!(cursor.highest_published(0), 1);
    /// seq.publish(hi - 1, hi);
    /// assert_eq!(cursor.highest_published(0), 3);
    /// ```
    fn publish(&self, lo: i64, hi: i64);

    /// The highest sequence claimed so far (by any producer).
    ///
    /// # Memory ordering
    ///
    /// None: a claimed sequence may not be published yet, and the value orders
    /// no other memory (the multi-producer claim counter is read `Relaxed`,
    /// [DSR-O6](crate::safety#DSR-O6)).
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{Sequence, Sequencer, SingleProducerSequencer};
    /// use std::sync::Arc;
    ///
    /// let mut seq = SingleProducerSequencer::new(Arc::new(Sequence::new()), 8, vec![]);
    /// seq.try_claim(3).unwrap();
    /// assert_eq!(seq.claimed(), 2);
    /// ```
    fn claimed(&self) -> i64;

    /// The ring's capacity.
    ///
    /// # Examples
    ///
    /// ```
    /// use acqrel::disruptor::{MultiProducerCursor, MultiProducerSequencer, Sequencer};
    /// use std::sync::Arc;
    ///
    /// let seq = MultiProducerSequencer::new(Arc::new(MultiProducerCursor::new(64)), vec![]);
    /// assert_eq!(seq.capacity(), 64);
    /// ```
    fn capacity(&self) -> usize;
}

/// The consumers' view of a sequencer.
///
/// Implemented by [`Sequence`] (a single producer's cursor: everything up
/// to it is published) and [`MultiProducerCursor`].
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Cursor, Sequence};
///
/// let cursor = Sequence::with_value(4);
/// assert_eq!(cursor.highest_published(2), 4);
/// ```
pub trait Cursor: Send + Sync {
    /// The highest sequence `h >= next - 1` such that every sequence in
    /// `next..=h` is published, for a consumer that has handled everything
    /// before `next`.
    ///
    /// # Memory ordering
    ///
    /// The events of `next..=h` happen-before the return ([DSR-O2](crate::safety#DSR-O2), [DSR-O4](crate::safety#DSR-O4)).
    ///
    /// # Examples
    ///
    /// With several producers, a slot not yet published hides the ones after it:
    ///
    /// ```
    /// use acqrel::disruptor::{Cursor, MultiProducerCursor, MultiProducerSequencer, Sequencer};
    /// use std::sync::Arc;
    ///
    /// let cursor = Arc::new(MultiProducerCursor::new(8));
    /// let mut seq = MultiProducerSequencer::new(Arc::clone(&cursor), vec![]);
    /// seq.try_claim(3).unwrap();
    /// seq.publish(1, 2);
    /// assert_eq!(cursor.highest_published(0), -1);
    /// seq.publish(0, 0);
    /// assert_eq!(cursor.highest_published(0), 2);
    /// ```
    fn highest_published(&self, next: i64) -> i64;
}

impl Cursor for Sequence {
    /// The cursor of a single producer: every sequence up to it is published.
    #[inline]
    fn highest_published(&self, _next: i64) -> i64 {
        self.get()
    }
}

/// The ring has no room for the claim: a gating consumer is a whole ring behind.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{InsufficientCapacity, Sequence, Sequencer, SingleProducerSequencer};
/// use std::sync::Arc;
///
/// let consumer = Arc::new(Sequence::new());
/// let mut seq = SingleProducerSequencer::new(Arc::new(Sequence::new()), 1, vec![consumer]);
/// seq.try_claim(1).unwrap();
/// assert_eq!(seq.try_claim(1), Err(InsufficientCapacity));
/// assert_eq!(InsufficientCapacity.to_string(), "the ring buffer is full");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsufficientCapacity;

impl fmt::Display for InsufficientCapacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the ring buffer is full")
    }
}

impl core::error::Error for InsufficientCapacity {}

/// A handler panicked and the Disruptor halted; nothing more is published.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, Halted, Yielding};
///
/// let (mut producer, consumers) = Builder::single_producer(4, || 0u32, Yielding)
///     .handle_events_with(|e, _, _| assert_ne!(*e, 1, "no ones"))
///     .build();
/// let result = loop {
///     if let Err(halted) = producer.publish(|e| *e = 1) {
///         break halted;
///     }
/// };
/// assert_eq!(result, Halted);
/// assert!(consumers.join().is_err()); // the handler's panic
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Halted;

impl fmt::Display for Halted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Disruptor halted after a handler panicked")
    }
}

impl core::error::Error for Halted {}

/// Why [`Producer::try_publish`] refused.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, TryPublishError, Yielding};
///
/// let (builder, _poller) = Builder::single_producer(1, || 0u32, Yielding).poller();
/// let (mut producer, consumers) = builder.build();
/// assert_eq!(producer.try_publish(|e| *e = 1), Ok(0));
/// assert_eq!(producer.try_publish(|e| *e = 2), Err(TryPublishError::Full)); // unpolled
/// drop(producer);
/// consumers.join().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryPublishError {
    /// The ring is full; nothing was claimed.
    Full,
    /// The Disruptor halted after a handler panicked.
    Halted,
}

impl fmt::Display for TryPublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => InsufficientCapacity.fmt(f),
            Self::Halted => Halted.fmt(f),
        }
    }
}

impl core::error::Error for TryPublishError {}

/// Why [`Producer::try_publish_batch`] refused.
///
/// # Examples
///
/// ```
/// use acqrel::disruptor::{Builder, TryPublishBatchError, Yielding};
///
/// let (builder, mut poller) = Builder::multi_producer(4, || 0u32, Yielding).poller();
/// let (mut producer, consumers) = builder.build();
/// assert_eq!(producer.try_publish_batch(3, |e, i| *e = i as u32), Ok(2));
/// let refused = producer.try_publish_batch(3, |_, _| unreachable!());
/// assert_eq!(refused, Err(TryPublishBatchError::Full { missing: 2 }));
/// poller.poll(|_, _, _| {});
/// assert_eq!(producer.try_publish_batch(3, |e, i| *e = i as u32), Ok(5));
/// drop(producer);
/// consumers.join().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryPublishBatchError {
    /// The ring has no room for the whole batch; nothing was claimed.
    Full {
        /// How many of the requested slots were not free (at least 1, at
        /// most the batch size): the slowest consumer must move on by this
        /// many before the batch fits.
        missing: usize,
    },
    /// The Disruptor halted after a handler panicked.
    Halted,
}

impl fmt::Display for TryPublishBatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full { missing } => {
                write!(f, "the ring buffer is full: {missing} slots of the batch are missing")
            }
            Self::Halted => Halted.fmt(f),
        }
    }
}

impl core::error::Error for TryPublishBatchError {}

/// `n` as an `i64` claim size.
///
/// # Panics
///
/// If `n` is zero or larger than the ring.
#[inline]
fn check_batch(n: usize, capacity: i64) -> i64 {
    // SAFE-CODE: [DSR-S7] a bad size panics before anything is claimed.
    if n == 0 || n as u64 > capacity as u64 {
        bad_batch(n, capacity);
    }
    n as i64
}

/// How many of the `n` slots a claim up to `wrap_point + capacity` lacks
/// when the gating minimum read is `gate` (`gate < wrap_point`): the
/// slowest consumer's shortfall, kept within `1..=n`.
#[inline]
fn missing(wrap_point: i64, gate: i64, n: i64) -> usize {
    // `max` then `min`, not `clamp`: no panic path, so a caller that drops
    // the count (`try_claim`) drops this code too.
    wrap_point.saturating_sub(gate).max(1).min(n) as usize
}

/// Out of line, so that the claim path does not prepare the message.
#[cold]
#[inline(never)]
fn bad_batch(n: usize, capacity: i64) -> ! {
    panic!("claim of {n} sequences on a ring of {capacity}")
}
