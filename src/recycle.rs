//! Per-thread caches of retired container nodes (`std` only).
//!
//! [`TreiberStack`](crate::TreiberStack) and [`MsQueue`](crate::MsQueue)
//! allocate a node for every push and retire one for every pop. A retired
//! node may still be read by a thread that loaded it before it was unlinked,
//! so the containers hand it to the epoch collector, which runs the deferred
//! function only once every such thread has unpinned. Without this module
//! that function frees the node and the next push allocates a new one: two
//! trips through the allocator per push and pop.
//!
//! Here [`retire`] gathers a thread's retired nodes into batches of
//! [`BATCH`] and defers one function per batch, and that function calls
//! [`release`] for each node instead of freeing it. `release` keeps the
//! node's memory in a cache belonging to the thread that runs it, and
//! [`owned`] takes a block from the calling thread's cache before it asks
//! the allocator. A block in a cache is the thread's alone: no other thread
//! can name it, so the cache needs no atomics and no ordering. Why handing
//! a node's memory to a later push is as safe as freeing it is
//! [RCY-I1](crate::safety#RCY-I1).
//!
//! # Bounds
//!
//! A thread caches blocks of at most [`CLASSES`] layouts (size and
//! alignment); each layout holds at most [`MAX_BLOCKS`] blocks and at most
//! [`MAX_BYTES`] bytes. A block that would exceed a bound, or whose layout
//! finds no free class, goes back to the allocator. The cache is freed when
//! its thread exits; a block released after that (the collector may run
//! deferred functions from a thread-local destructor) goes straight to the
//! allocator ([RCY-S1](crate::safety#RCY-S1)). Besides its cache, a thread
//! holds at most `BATCH - 1` retired nodes that wait for its batch to fill;
//! they are deferred at the latest when the thread exits.

use crate::loom::thread_local;
use core::alloc::Layout;
use core::cell::{Cell, RefCell};
use core::mem;
use core::ptr;
use crossbeam_epoch::{Guard, Owned, Shared};
use std::alloc::{alloc, dealloc, handle_alloc_error};

/// Layouts one thread caches blocks of.
pub(crate) const CLASSES: usize = 4;
/// Blocks one layout's cache holds at most.
pub(crate) const MAX_BLOCKS: usize = 1024;
/// Bytes one layout's cache holds at most.
pub(crate) const MAX_BYTES: usize = 64 * 1024;

/// A cached block: its first word links to the next cached block.
struct Free {
    next: *mut Free,
}

/// The cached blocks of one layout: a singly-linked list through the blocks
/// themselves.
struct Class {
    /// Size of the blocks; 0 while the class is unused.
    size: Cell<usize>,
    /// Alignment of the blocks.
    align: Cell<usize>,
    /// The most recently released block, or null.
    head: Cell<*mut Free>,
    /// Number of blocks in the list.
    len: Cell<usize>,
}

impl Class {
    const fn new() -> Self {
        Class {
            size: Cell::new(0),
            align: Cell::new(0),
            head: Cell::new(ptr::null_mut()),
            len: Cell::new(0),
        }
    }

    fn holds(&self, layout: Layout) -> bool {
        self.size.get() == layout.size() && self.align.get() == layout.align()
    }

    /// The most blocks of this class's layout the class may hold.
    fn cap(&self) -> usize {
        MAX_BLOCKS.min(MAX_BYTES / self.size.get().max(1))
    }
}

/// One thread's classes.
struct Cache {
    classes: [Class; CLASSES],
}

impl Cache {
    const fn new() -> Self {
        Cache { classes: [Class::new(), Class::new(), Class::new(), Class::new()] }
    }

    /// A cached block of `layout`, removed from the cache, or `None`.
    fn take(&self, layout: Layout) -> Option<*mut u8> {
        let class = self.classes.iter().find(|c| c.holds(layout))?;
        let block = class.head.get();
        if block.is_null() {
            return None;
        }
        // SAFETY: [RCY-I2] a listed block is this thread's, was written by `give`, and
        // is at least a `Free` large and aligned.
        let next = unsafe { (*block).next };
        class.head.set(next);
        class.len.set(class.len.get() - 1);
        Some(block.cast())
    }

    /// Lists `block` (of `layout`) in the cache, or hands it back if the
    /// cache is full for that layout.
    fn give(&self, block: *mut u8, layout: Layout) -> Result<(), *mut u8> {
        let class = match self.classes.iter().find(|c| c.holds(layout)) {
            Some(class) => class,
            None => {
                let unused = self.classes.iter().find(|c| c.size.get() == 0).ok_or(block)?;
                unused.size.set(layout.size());
                unused.align.set(layout.align());
                unused
            }
        };
        if class.len.get() >= class.cap() {
            return Err(block);
        }
        let block = block.cast::<Free>();
        // SAFETY: [RCY-I2] the caller gives up the block, which `cacheable` found
        // large and aligned enough for a `Free`; nothing else can reach it.
        unsafe { block.write(Free { next: class.head.get() }) };
        class.head.set(block);
        class.len.set(class.len.get() + 1);
        Ok(())
    }
}

impl Drop for Cache {
    fn drop(&mut self) {
        for class in &self.classes {
            if class.size.get() == 0 {
                continue;
            }
            // SAFETY: [RCY-I2] the class's size and alignment came from a valid `Layout`.
            let layout =
                unsafe { Layout::from_size_align_unchecked(class.size.get(), class.align.get()) };
            while let Some(block) = self.take(layout) {
                // SAFETY: [RCY-I2] every cached block was allocated with its class's layout
                // by the global allocator, and leaves the cache before it is freed.
                unsafe { dealloc(block, layout) };
            }
        }
    }
}

thread_local! {
    static CACHE: Cache = const { Cache::new() };
}

/// Whether blocks of `layout` can hold the cache's link.
fn cacheable(layout: Layout) -> bool {
    layout.size() >= mem::size_of::<Free>() && layout.align() >= mem::align_of::<Free>()
}

/// `value` in a block from this thread's cache if it has one of `N`'s
/// layout, else in a newly allocated block; either way owned exactly as
/// `Owned::new(value)` would own it.
pub(crate) fn owned<N>(value: N) -> Owned<N> {
    let layout = Layout::new::<N>();
    let cached = if cacheable(layout) {
        // SAFE-CODE: [RCY-S1] after this thread's cache is gone, allocate.
        CACHE.try_with(|cache| cache.take(layout)).ok().flatten()
    } else {
        None
    };
    let block = match cached {
        Some(block) => block,
        None => {
            assert!(layout.size() != 0, "a node is never zero-sized");
            // SAFETY: [RCY-I2] `layout` has a non-zero size.
            let block = unsafe { alloc(layout) };
            if block.is_null() {
                handle_alloc_error(layout);
            }
            block
        }
    };
    let node = block.cast::<N>();
    // SAFETY: [RCY-I1] the block is `N`'s size and alignment, allocated by the global
    // allocator with `N`'s layout (as `Box<N>` would be), and this thread's alone:
    // fresh, or out of the cache, where it went only after its grace period.
    unsafe {
        node.write(value);
        Owned::from_raw(node)
    }
}

/// Ends the node at `node` (runs its destructor, which for the containers'
/// nodes drops no value) and keeps its memory in this thread's cache, or
/// frees it if the cache is full or gone.
///
/// # Safety
///
/// `node` came from [`owned`] (or `Owned::new`) for this `N`, no thread can
/// reach it any more and none ever will ([RCY-I1](crate::safety#RCY-I1)): the
/// containers call this only from a deferred function, after the grace
/// period, and only once per node.
pub(crate) unsafe fn release<N>(node: *mut N) {
    let layout = Layout::new::<N>();
    // SAFETY: [RCY-I1] the caller hands over the node, which no thread can reach.
    unsafe { ptr::drop_in_place(node) };
    let block = node.cast::<u8>();
    let refused = if cacheable(layout) {
        // SAFE-CODE: [RCY-S1] after this thread's cache is gone, free.
        CACHE.try_with(|cache| cache.give(block, layout).err()).unwrap_or(Some(block))
    } else {
        Some(block)
    };
    if let Some(block) = refused {
        // SAFETY: [RCY-I2] allocated by the global allocator with `N`'s layout.
        unsafe { dealloc(block, layout) };
    }
}

/// Nodes one thread retires before it hands them to the collector as one
/// deferred function. One under loom, so that the models see every node
/// reach the collector at once.
pub(crate) const BATCH: usize = if cfg!(loom) { 1 } else { 64 };

/// A retired node and the `release` of its type.
type Pending = (*mut u8, unsafe fn(*mut u8));

/// This thread's retired nodes not yet handed to the collector.
struct Batch {
    nodes: RefCell<Vec<Pending>>,
}

impl Drop for Batch {
    fn drop(&mut self) {
        let nodes = core::mem::take(self.nodes.get_mut());
        if !nodes.is_empty() {
            // SAFE-CODE: [RCY-S1] at thread exit the batch still goes through the
            // collector: `pin` works here too (a fresh registration if need be).
            let guard = crossbeam_epoch::pin();
            // SAFETY: [RCY-I1] every node in the batch was unlinked before this
            // deferral, so the grace period it waits for covers every reader.
            unsafe { defer(nodes, &guard) };
        }
    }
}

thread_local! {
    static BATCHES: Batch = const { Batch { nodes: RefCell::new(Vec::new()) } };
}

/// `release` for a type-erased node of type `N`.
///
/// # Safety
///
/// As [`release`], for `node.cast::<N>()`.
unsafe fn release_erased<N>(node: *mut u8) {
    // SAFETY: [RCY-I1] the caller's obligations are `release`'s.
    unsafe { release(node.cast::<N>()) }
}

/// Defers one function that releases every node of `nodes`.
///
/// # Safety
///
/// As [`retire`], for every node: each was unlinked before this call and
/// is retired once; `guard` pins the default collector.
unsafe fn defer(nodes: Vec<Pending>, guard: &Guard) {
    // SAFETY: [RCY-I1] the function runs after every thread pinned now has
    // unpinned; by then no thread holds any of the nodes.
    unsafe {
        guard.defer_unchecked(move || {
            for (node, release) in nodes {
                release(node);
            }
        });
    }
}

/// Retires the unlinked `node`: once every thread pinned now has unpinned,
/// the thread that runs the deferred function [`release`]s it. The
/// containers' replacement for `guard.defer_destroy(node)`.
///
/// The node first joins this thread's batch; the retire that fills the
/// batch ([`BATCH`] nodes) defers one function for all of them, so the
/// collector handles one deferred function per batch instead of one per
/// node. Deferring a node later than it was unlinked only lengthens its
/// grace period ([RCY-I1](crate::safety#RCY-I1)). A batch that is not full
/// is deferred when its thread exits.
///
/// # Safety
///
/// As `Guard::defer_destroy`: `node` came from [`owned`], is unlinked (no
/// thread can newly reach it once the grace period has passed), and is
/// retired once; `guard` pins the default collector (not `unprotected()`).
pub(crate) unsafe fn retire<N>(node: Shared<'_, N>, guard: &Guard) {
    let node = node.as_raw().cast_mut();
    // SAFE-CODE: [RCY-S1] no batch (the thread's is gone, or a re-entrant
    // allocator holds it): defer the node alone.
    let batched = BATCHES
        .try_with(|batch| {
            let Ok(mut nodes) = batch.nodes.try_borrow_mut() else { return false };
            if nodes.capacity() == 0 {
                nodes.reserve_exact(BATCH);
            }
            nodes.push((node.cast(), release_erased::<N>));
            if nodes.len() == BATCH {
                let full = core::mem::take(&mut *nodes);
                drop(nodes);
                // SAFETY: [RCY-I1] every node of the batch was unlinked before now.
                unsafe { defer(full, guard) };
                // The batch goes to the global queue now rather than when this
                // thread's bag of deferred functions fills (64 batches later).
                // Not under loom, where every node is a batch and the models
                // collect where they mean to.
                #[cfg(not(loom))]
                guard.flush();
            }
            true
        })
        .unwrap_or(false);
    if !batched {
        // SAFETY: [RCY-I1] the caller retires the node once, after unlinking it.
        unsafe { guard.defer_unchecked(move || release(node)) };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn block_of(size: usize) -> (*mut u8, Layout) {
        let layout = Layout::from_size_align(size, 8).unwrap();
        // SAFETY: [RCY-I2] non-zero size.
        let block = unsafe { alloc(layout) };
        assert!(!block.is_null());
        (block, layout)
    }

    #[test]
    fn a_released_block_is_the_next_one_taken() {
        let cache = Cache::new();
        let (a, layout) = block_of(24);
        let (b, _) = block_of(24);
        assert!(cache.give(a, layout).is_ok());
        assert!(cache.give(b, layout).is_ok());
        assert_eq!(cache.take(layout), Some(b));
        assert_eq!(cache.take(layout), Some(a));
        assert_eq!(cache.take(layout), None);
        for block in [a, b] {
            // SAFETY: [RCY-I2] allocated above with `layout`, no longer cached.
            unsafe { dealloc(block, layout) };
        }
    }

    #[test]
    fn each_layout_has_its_own_class_and_a_fifth_is_refused() {
        let cache = Cache::new();
        let sizes = [16, 24, 32, 40];
        for size in sizes {
            let (block, layout) = block_of(size);
            assert!(cache.give(block, layout).is_ok());
        }
        let (fifth, layout) = block_of(48);
        assert_eq!(cache.give(fifth, layout), Err(fifth));
        // SAFETY: [RCY-I2] refused, so still ours.
        unsafe { dealloc(fifth, layout) };
        assert_eq!(cache.take(Layout::from_size_align(32, 16).unwrap()), None, "alignment counts");
        for size in sizes {
            let layout = Layout::from_size_align(size, 8).unwrap();
            assert!(cache.take(layout).is_some_and(|b| {
                // SAFETY: [RCY-I2] taken out of the cache, allocated with `layout`.
                unsafe { dealloc(b, layout) };
                true
            }));
        }
    }

    #[test]
    fn a_class_holds_at_most_its_cap_and_the_drop_frees_the_rest() {
        let cache = Cache::new();
        for (size, cap) in [(16, MAX_BLOCKS), (1000, MAX_BYTES / 1000)] {
            let mut kept = 0;
            let mut refused = 0;
            for _ in 0..MAX_BLOCKS + 10 {
                let (block, layout) = block_of(size);
                match cache.give(block, layout) {
                    Ok(()) => kept += 1,
                    Err(block) => {
                        refused += 1;
                        // SAFETY: [RCY-I2] refused, so still ours.
                        unsafe { dealloc(block, layout) };
                    }
                }
            }
            assert_eq!((kept, refused), (cap, MAX_BLOCKS + 10 - cap), "size {size}");
        }
        // Dropping `cache` frees the cached blocks (Miri and the leak
        // sanitizer report them otherwise).
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "crossbeam-epoch's `Owned` needs permissive provenance; tests/recycle_memory.rs runs `owned` and `release` under Miri"
    )]
    fn owned_reuses_the_block_release_kept() {
        #[repr(align(8))]
        struct Node([u64; 3]);
        let first = owned(Node([1, 2, 3])).into_box();
        let address = Box::into_raw(first);
        // SAFETY: [RCY-I2] from `owned`, unreachable by anyone else, released once.
        unsafe { release(address) };
        let second = owned(Node([4, 5, 6])).into_box();
        assert_eq!(&*second as *const Node, address.cast_const());
        assert_eq!(second.0, [4, 5, 6]);
    }
}
