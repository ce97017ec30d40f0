//! Probes for the SPSC queue (`acqrel::spsc`).

use acqrel::spsc::{self, Blocking, Consumer, Heap, Producer};
use std::hint::black_box;

/// `Producer::push`: plain slot write, [SPSC-O1] Release store of `tail`;
/// on the full path only, [SPSC-O4] Acquire reload of `head` (and
/// [SPSC-O6] Acquire load of `state` when still full).
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_spsc_push(p: &mut Producer<u64>, v: u64) -> bool {
    p.push(v).is_ok()
}

/// `Consumer::pop`: plain slot read, [SPSC-O3] Release store of `head`; on
/// the empty path only, [SPSC-O2] Acquire reload of `tail` (and [SPSC-O6]).
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_spsc_pop(c: &mut Consumer<u64>) -> Option<u64> {
    c.pop().ok()
}

/// `Producer::push_slice`: one [SPSC-O1] Release store for the whole copy.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_spsc_push_slice(p: &mut Producer<u64>, items: &[u64]) -> usize {
    p.push_slice(items)
}

/// `Producer::push` in `Blocking` mode: the [SPSC-O1] Release store of
/// `tail`, then the waker's [SPSC-O8] SeqCst fence and a Relaxed load of the
/// waiting bit (the notification itself is the cold `Shared::notify`).
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_spsc_push_blocking_mode(p: &mut Producer<u64, Heap, Blocking>, v: u64) -> bool {
    p.push(v).is_ok()
}

pub(crate) fn check() {
    let (mut p, mut c) = spsc::bounded::<u64>(black_box(2));
    assert!(probe_spsc_push(&mut p, 1));
    assert!(probe_spsc_push(&mut p, 2));
    assert!(!probe_spsc_push(&mut p, 3), "full");
    assert_eq!(probe_spsc_pop(&mut c), Some(1));
    assert_eq!(probe_spsc_push_slice(&mut p, &[3, 4]), 1);
    assert_eq!(probe_spsc_pop(&mut c), Some(2));
    assert_eq!(probe_spsc_pop(&mut c), Some(3));
    assert_eq!(probe_spsc_pop(&mut c), None, "empty");
    let (mut p, mut c) = spsc::bounded_blocking::<u64>(black_box(1));
    assert!(probe_spsc_push_blocking_mode(&mut p, 1));
    assert!(!probe_spsc_push_blocking_mode(&mut p, 2), "full");
    assert_eq!(c.pop(), Ok(1));
}
