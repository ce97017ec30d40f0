//! Probes for the Disruptor (`acqrel::disruptor`).

use acqrel::disruptor::{
    Blocking, Cursor, InsufficientCapacity, MultiProducerCursor, MultiProducerSequencer, Sequence,
    Sequencer, SingleProducerSequencer, WaitStrategy,
};
use std::hint::black_box;
use std::sync::Arc;

/// `Sequence::get`: [DSR-O2], Acquire load.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_disruptor_sequence_get(s: &Sequence) -> i64 {
    s.get()
}

/// `Sequence::set`: [DSR-O1], Release store.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_disruptor_sequence_set(s: &Sequence, v: i64) {
    s.set(v)
}

/// Single-producer publish: [DSR-O1] Release store of the cursor, no fence
/// after it ([DSR-I3]).
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_disruptor_sp_publish(s: &SingleProducerSequencer, lo: i64, hi: i64) {
    s.publish(lo, hi)
}

/// Single-producer claim: plain arithmetic, [DSR-O2] Acquire loads of the
/// gating sequences on the wrap path only.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_disruptor_sp_try_claim(
    s: &mut SingleProducerSequencer,
    n: usize,
) -> Result<i64, InsufficientCapacity> {
    s.try_claim(n)
}

/// Multi-producer publish: [DSR-O3] Release store of each slot's lap.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_disruptor_mp_publish(s: &MultiProducerSequencer, lo: i64, hi: i64) {
    s.publish(lo, hi)
}

/// Multi-producer claim: [DSR-O5] Relaxed load and Relaxed compare-exchange,
/// [DSR-O2] Acquire loads of the gating sequences when the cache is short.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_disruptor_mp_try_claim(
    s: &mut MultiProducerSequencer,
    n: usize,
) -> Result<i64, InsufficientCapacity> {
    s.try_claim(n)
}

/// Multi-producer availability scan: [DSR-O6] Relaxed load of the claim
/// counter, [DSR-O4] Acquire load of each slot's lap.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_disruptor_mp_highest_published(c: &MultiProducerCursor, next: i64) -> i64 {
    c.highest_published(next)
}

/// `Blocking::signal`: [DSR-O7] SeqCst fence, then a Relaxed load of the
/// sleeper count.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_disruptor_blocking_signal(w: &Blocking) {
    w.signal()
}

pub(crate) fn check() {
    let s = black_box(Sequence::new());
    probe_disruptor_sequence_set(&s, 7);
    assert_eq!(probe_disruptor_sequence_get(&s), 7);

    let cursor = Arc::new(Sequence::new());
    let gate = Arc::new(Sequence::new());
    let mut sp = SingleProducerSequencer::new(Arc::clone(&cursor), 2, vec![Arc::clone(&gate)]);
    assert_eq!(probe_disruptor_sp_try_claim(&mut sp, 2), Ok(1));
    assert_eq!(probe_disruptor_sp_try_claim(&mut sp, 1), Err(InsufficientCapacity));
    probe_disruptor_sp_publish(&sp, 0, 1);
    assert_eq!(cursor.get(), 1);

    let mp_cursor = Arc::new(MultiProducerCursor::new(4));
    let mut mp = MultiProducerSequencer::new(Arc::clone(&mp_cursor), vec![gate]);
    assert_eq!(probe_disruptor_mp_try_claim(&mut mp, 2), Ok(1));
    assert_eq!(probe_disruptor_mp_try_claim(&mut mp, 3), Err(InsufficientCapacity));
    probe_disruptor_mp_publish(&mp, 1, 1);
    assert_eq!(probe_disruptor_mp_highest_published(&mp_cursor, 0), -1, "0 is a gap");
    probe_disruptor_mp_publish(&mp, 0, 0);
    assert_eq!(probe_disruptor_mp_highest_published(&mp_cursor, 0), 1);

    probe_disruptor_blocking_signal(&Blocking::new());
}
