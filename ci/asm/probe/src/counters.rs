//! Probes for `Counter` and `ShardedCounter`.

use acqrel::{Counter, LocalCounter, ShardedCounter};
use std::hint::black_box;

/// `Counter::add`: [CTR-O1], Relaxed `fetch_add`.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_counter_add(c: &Counter, n: u64) -> u64 {
    c.add(n)
}

/// `Counter::get`: [CTR-O2], Relaxed load.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_counter_get(c: &Counter) -> u64 {
    c.get()
}

/// `Counter::take`: [CTR-O1], Relaxed swap.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_counter_take(c: &Counter) -> u64 {
    c.take()
}

/// `Counter::fetch_max`: [CTR-O1], Relaxed `fetch_max`.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_counter_fetch_max(c: &Counter, v: u64) -> u64 {
    c.fetch_max(v)
}

/// `Counter::add_bounded`: [CTR-O3], Relaxed load and Relaxed/Relaxed
/// compare-exchange loop.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_counter_add_bounded(c: &Counter, n: u64, limit: u64) -> Result<u64, u64> {
    c.add_bounded(n, limit)
}

/// `Counter::add_release`: [CTR-O4], Release `fetch_add`.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_counter_add_release(c: &Counter, n: u64) -> u64 {
    c.add_release(n)
}

/// `Counter::get_acquire`: [CTR-O5], Acquire load.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_counter_get_acquire(c: &Counter) -> u64 {
    c.get_acquire()
}

/// `LocalCounter::inc`: [SHC-O1], the owner's Relaxed load and store.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_sharded_local_inc(l: &LocalCounter<'_>) {
    l.inc()
}

/// `ShardedCounter::sum`: [SHC-O3] Acquire load of the baseline, [SHC-O2]
/// Relaxed loads of the cells.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_sharded_sum(c: &ShardedCounter) -> u64 {
    c.sum()
}

/// `ShardedCounter::take`: [SHC-O3], [SHC-O2], and the [SHC-O4]
/// Release/Acquire compare-exchange.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn probe_sharded_take(c: &ShardedCounter) -> u64 {
    c.take()
}

pub(crate) fn check() {
    let c = black_box(Counter::new(0));
    assert_eq!(probe_counter_add(&c, black_box(5)), 0);
    assert_eq!(probe_counter_add_release(&c, 1), 5);
    assert_eq!(probe_counter_get(&c), 6);
    assert_eq!(probe_counter_get_acquire(&c), 6);
    assert_eq!(probe_counter_fetch_max(&c, 9), 6);
    assert_eq!(probe_counter_add_bounded(&c, 1, 10), Ok(9));
    assert_eq!(probe_counter_add_bounded(&c, 1, 10), Err(10));
    assert_eq!(probe_counter_take(&c), 10);
    let s = black_box(ShardedCounter::new());
    let local = s.local();
    probe_sharded_local_inc(&local);
    probe_sharded_local_inc(&local);
    assert_eq!(probe_sharded_sum(&s), 2);
    assert_eq!(probe_sharded_take(&s), 2);
    assert_eq!(probe_sharded_sum(&s), 0);
}
