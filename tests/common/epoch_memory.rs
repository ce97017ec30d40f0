//! Live-node accounting for the epoch-reclaimed containers: a counting
//! global allocator (installed by [`count_live_nodes!`](crate::count_live_nodes))
//! and the long-run check that retired nodes are freed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::thread;

/// A payload with a size no other allocation in a test binary is likely to
/// have, so that counting allocations of its node size counts nodes.
#[derive(Clone, Copy)]
pub struct Odd(pub [u8; 977]);

/// `Odd`'s node in either container: the payload rounded up to pointer
/// alignment, plus the link.
pub const NODE_SIZE: usize = 977_usize.next_multiple_of(8) + 8;

static LIVE_NODES: AtomicUsize = AtomicUsize::new(0);

/// Allocations of [`NODE_SIZE`] bytes currently live.
pub fn live_nodes() -> usize {
    LIVE_NODES.load(Relaxed)
}

/// Forwards to the system allocator, counting live [`NODE_SIZE`] blocks.
pub struct NodeCounter;

// SAFETY: forwards to the system allocator, counting on the side.
unsafe impl GlobalAlloc for NodeCounter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() == NODE_SIZE {
            LIVE_NODES.fetch_add(1, Relaxed);
        }
        // SAFETY: the caller's obligations are the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() == NODE_SIZE {
            LIVE_NODES.fetch_sub(1, Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Installs [`NodeCounter`] as the test binary's global allocator.
#[macro_export]
macro_rules! count_live_nodes {
    () => {
        #[global_allocator]
        static ALLOCATOR: common::epoch_memory::NodeCounter = common::epoch_memory::NodeCounter;
    };
}

/// Two threads each run `pair` (a push and a pop of an [`Odd`]) 20 rounds
/// of `per_round` times. Live nodes must stay far below the number retired
/// (no growth with the run's length) and fall back to `resident` or fewer
/// once every thread has unpinned (no garbage that collection never frees).
pub fn memory_stays_flat(per_round: usize, resident: usize, pair: impl Fn() + Sync) {
    memory_stays_flat_with(per_round, resident, || (), |_| pair());
}

/// [`memory_stays_flat`] with per-thread state: each thread makes its own
/// `state` for the round (a handle holding a pin, for instance), runs
/// `pair(&mut state)` `per_round` times, and drops it before the round ends.
pub fn memory_stays_flat_with<S>(
    per_round: usize,
    resident: usize,
    state: impl Fn() -> S + Sync,
    pair: impl Fn(&mut S) + Sync,
) {
    // The node count is global to the test binary: two of these runs at
    // once would count each other's nodes.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let rounds = 20;
    let baseline = live_nodes();
    let mut peak = 0;
    for _ in 0..rounds {
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    let mut state = state();
                    for _ in 0..per_round {
                        pair(&mut state);
                    }
                    drop(state);
                    crossbeam_epoch::pin().flush();
                });
            }
        });
        crossbeam_epoch::pin().flush();
        peak = peak.max(live_nodes().saturating_sub(baseline));
    }
    // Retired nodes wait in per-thread bags (64 each) and the global queue
    // for two epoch advances, and a preempted pinned thread holds everything
    // back for a while (spikes of a few thousand on a busy 2-core machine).
    let retired = rounds * 2 * per_round;
    assert!(peak < retired / 4, "live nodes grew to {peak} of {retired} retired");
    // Other tests of the binary pin the same (global) collector from their
    // own threads; one of them preempted while pinned holds the epoch back,
    // so yield between attempts to let it run and unpin.
    let mut drained = false;
    for _ in 0..10_000 {
        crossbeam_epoch::pin().flush();
        if live_nodes().saturating_sub(baseline) <= resident {
            drained = true;
            break;
        }
        thread::yield_now();
    }
    assert!(drained, "retired nodes were never freed");
}
