//! Probes for the epoch-based stack and queue (`acqrel::treiber_stack`,
//! `acqrel::ms_queue`).

use acqrel::{MsQueue, TreiberStack};
use crossbeam_epoch::Guard;

/// `TreiberStack::push`: the epoch pin, [TRB-O6] Relaxed head guess and
/// link store, [TRB-O1] Release compare-exchange.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_treiber_push(s: &TreiberStack<u64>, v: u64) {
    s.push(v)
}

/// `TreiberStack::pop`: the epoch pin, [TRB-O2] Acquire head load,
/// [TRB-O3] Relaxed/[TRB-O2] Acquire compare-exchange.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_treiber_pop(s: &TreiberStack<u64>) -> Option<u64> {
    s.pop()
}

/// `TreiberStack::push_with`: as `push`, under the caller's pin.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_treiber_push_with(s: &TreiberStack<u64>, v: u64, g: &Guard) {
    s.push_with(v, g)
}

/// `TreiberStack::pop_with`: as `pop`, under the caller's pin.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_treiber_pop_with(s: &TreiberStack<u64>, g: &Guard) -> Option<u64> {
    s.pop_with(g)
}

/// `MsQueue::push`: the epoch pin, the tail/next loads and the link and
/// tail compare-exchanges.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_ms_queue_push(q: &MsQueue<u64>, v: u64) {
    q.push(v)
}

/// `MsQueue::pop`: the epoch pin, the head/next loads and the head
/// compare-exchange.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_ms_queue_pop(q: &MsQueue<u64>) -> Option<u64> {
    q.pop()
}

/// `MsQueue::push_with`: as `push`, under the caller's pin.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_ms_queue_push_with(q: &MsQueue<u64>, v: u64, g: &Guard) {
    q.push_with(v, g)
}

/// `MsQueue::pop_with`: as `pop`, under the caller's pin.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_ms_queue_pop_with(q: &MsQueue<u64>, g: &Guard) -> Option<u64> {
    q.pop_with(g)
}

pub(crate) fn check() {
    let s = TreiberStack::new();
    probe_treiber_push(&s, 1);
    let g = crossbeam_epoch::pin();
    probe_treiber_push_with(&s, 2, &g);
    assert_eq!(probe_treiber_pop_with(&s, &g), Some(2));
    drop(g);
    assert_eq!(probe_treiber_pop(&s), Some(1));
    assert_eq!(probe_treiber_pop(&s), None, "empty");
    let q = MsQueue::new();
    probe_ms_queue_push(&q, 1);
    let g = crossbeam_epoch::pin();
    probe_ms_queue_push_with(&q, 2, &g);
    assert_eq!(probe_ms_queue_pop_with(&q, &g), Some(1));
    drop(g);
    assert_eq!(probe_ms_queue_pop(&q), Some(2));
    assert_eq!(probe_ms_queue_pop(&q), None, "empty");
}
