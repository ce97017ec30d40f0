//! The one switch between `core`/`std` and [loom](https://docs.rs/loom).
//!
//! Every atomic, `UnsafeCell`, spin hint, yield, thread, `Arc` and per-thread
//! slot used anywhere in `src` is imported from this module, never from
//! `core` or `std` directly (clippy's `disallowed-types`/`disallowed-methods`,
//! configured in `clippy.toml`, enforce it). Built with `RUSTFLAGS="--cfg loom"`
//! the same names resolve to loom's model-checked types, so every primitive's
//! source is exactly the code the loom models explore.
//!
//! The module mirrors the shape of loom's API where the two differ:
//! [`UnsafeCell`] exposes `with`/`with_mut` closures (loom tracks each access),
//! and spin hints yield to the model scheduler under loom so spin loops end.
#![allow(clippy::disallowed_types, clippy::disallowed_methods, unused_imports, dead_code)]

/// Atomic types, [`Ordering`](atomic::Ordering) and [`fence`](atomic::fence).
///
/// The atomic types are thin `#[repr(transparent)]` wrappers over `core`'s
/// (or loom's) with the same method names, every method `#[inline(always)]`.
/// They exist for two reasons: clippy's `disallowed-types` can then keep the
/// raw types out of the rest of the crate, and every ordering passes through
/// [`site`](atomic::site), which is the identity normally and, when built with
/// `--cfg acqrel_mutate`, lets the ordering-mutation tool weaken one call site
/// at run time (the site is the caller's `file:line:column`).
pub(crate) mod atomic {
    pub(crate) use core::sync::atomic::Ordering;

    #[cfg(not(loom))]
    use core::sync::atomic as imp;
    #[cfg(loom)]
    use loom::sync::atomic as imp;

    /// Where an ordering is used; the mutation tool weakens each kind differently.
    pub(crate) mod site {
        use super::Ordering;

        #[cfg(not(acqrel_mutate))]
        macro_rules! identity {
            ($($kind:ident),*) => {$(
                #[inline(always)]
                pub(crate) const fn $kind(order: Ordering) -> Ordering {
                    order
                }
            )*};
        }
        #[cfg(not(acqrel_mutate))]
        identity!(load, store, rmw, cas_success, cas_failure, fence);

        #[cfg(acqrel_mutate)]
        macro_rules! hooked {
            ($($kind:ident),*) => {$(
                #[track_caller]
                pub(crate) fn $kind(order: Ordering) -> Ordering {
                    crate::mutate::ordering(stringify!($kind), order, core::panic::Location::caller())
                }
            )*};
        }
        #[cfg(acqrel_mutate)]
        hooked!(load, store, rmw, cas_success, cas_failure, fence);
    }

    /// A memory fence. Under `acqrel_mutate` a mutant may remove it.
    #[inline(always)]
    #[cfg_attr(acqrel_mutate, track_caller)]
    pub(crate) fn fence(order: Ordering) {
        let order = site::fence(order);
        #[cfg(acqrel_mutate)]
        let removed = order == Ordering::Relaxed; // not an atomic operation
        #[cfg(acqrel_mutate)]
        if removed {
            return; // the mutant "fence removed"
        }
        imp::fence(order);
    }

    macro_rules! wrapper {
        ($name:ident $(<$gen:ident>)?, $value:ty) => {
            #[doc = concat!("`", stringify!($name), "` through the switch module.")]
            #[repr(transparent)]
            #[derive(Default)]
            pub(crate) struct $name$(<$gen>)?(imp::$name$(<$gen>)?);

            impl$(<$gen>)? core::fmt::Debug for $name$(<$gen>)? {
                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    self.0.fmt(f)
                }
            }

            impl$(<$gen>)? $name$(<$gen>)? {
                #[cfg(not(loom))]
                #[inline(always)]
                pub(crate) const fn new(value: $value) -> Self {
                    Self(imp::$name::new(value))
                }
                #[cfg(loom)]
                #[inline(always)]
                #[track_caller]
                pub(crate) fn new(value: $value) -> Self {
                    Self(imp::$name::new(value))
                }
                #[inline(always)]
                #[cfg_attr(acqrel_mutate, track_caller)]
                pub(crate) fn load(&self, order: Ordering) -> $value {
                    self.0.load(site::load(order))
                }
                #[inline(always)]
                #[cfg_attr(acqrel_mutate, track_caller)]
                pub(crate) fn store(&self, value: $value, order: Ordering) {
                    self.0.store(value, site::store(order))
                }
                #[inline(always)]
                #[cfg_attr(acqrel_mutate, track_caller)]
                pub(crate) fn swap(&self, value: $value, order: Ordering) -> $value {
                    self.0.swap(value, site::rmw(order))
                }
                #[inline(always)]
                #[cfg_attr(acqrel_mutate, track_caller)]
                pub(crate) fn compare_exchange(
                    &self,
                    current: $value,
                    new: $value,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$value, $value> {
                    self.0.compare_exchange(current, new, site::cas_success(success), site::cas_failure(failure))
                }
                #[inline(always)]
                #[cfg_attr(acqrel_mutate, track_caller)]
                pub(crate) fn compare_exchange_weak(
                    &self,
                    current: $value,
                    new: $value,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$value, $value> {
                    self.0.compare_exchange_weak(current, new, site::cas_success(success), site::cas_failure(failure))
                }
                #[inline(always)]
                pub(crate) fn into_inner(self) -> $value {
                    self.0.into_inner()
                }
            }
        };
    }

    macro_rules! rmw {
        ($name:ident, $value:ty, $($op:ident),*) => {
            impl $name {
                $(
                    #[inline(always)]
                    #[cfg_attr(acqrel_mutate, track_caller)]
                    pub(crate) fn $op(&self, value: $value, order: Ordering) -> $value {
                        self.0.$op(value, site::rmw(order))
                    }
                )*

                /// Exclusive access (loom's shape, so it also works under loom).
                #[inline(always)]
                pub(crate) fn with_mut<R>(&mut self, f: impl FnOnce(&mut $value) -> R) -> R {
                    #[cfg(not(loom))]
                    return f(self.0.get_mut());
                    #[cfg(loom)]
                    return self.0.with_mut(f);
                }
            }
        };
    }

    wrapper!(AtomicBool, bool);
    wrapper!(AtomicU32, u32);
    wrapper!(AtomicU64, u64);
    wrapper!(AtomicI64, i64);
    wrapper!(AtomicUsize, usize);
    wrapper!(AtomicPtr<T>, *mut T);
    rmw!(AtomicU32, u32, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_or);
    rmw!(AtomicU64, u64, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_or);
    rmw!(AtomicI64, i64, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_or);
    rmw!(AtomicUsize, usize, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_or);
}

/// `Arc`, and the blocking primitives used by the optional blocking layers.
#[cfg(feature = "std")]
#[allow(unused_imports)]
pub(crate) mod sync {
    #[cfg(loom)]
    pub(crate) use loom::sync::{Arc, Condvar, Mutex};
    #[cfg(not(loom))]
    pub(crate) use std::sync::{Arc, Condvar, Mutex};
}

/// `Arc` for `no_std` builds (there is no blocking layer without `std`).
#[cfg(not(feature = "std"))]
#[allow(unused_imports)]
pub(crate) mod sync {
    pub(crate) use alloc::sync::Arc;
}

/// Threads: spawning, yielding, parking.
#[cfg(feature = "std")]
#[allow(unused_imports)]
pub(crate) mod thread {
    #[cfg(loom)]
    pub(crate) use loom::thread::{JoinHandle, Thread, current, park, spawn, yield_now};
    #[cfg(not(loom))]
    pub(crate) use std::thread::{JoinHandle, Thread, current, park, spawn, yield_now};
}

/// Hint that the caller is busy-waiting.
///
/// A `pause`/`yield`-class instruction normally; under loom a yield to the
/// model scheduler, without which a spin loop would never let the thread it
/// waits for run.
#[inline(always)]
#[allow(dead_code)]
pub(crate) fn spin_loop() {
    #[cfg(not(loom))]
    core::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// Gives the CPU to another runnable thread: `std::thread::yield_now`, or a
/// yield to the model scheduler under loom. Only with `std` (without an
/// operating system there is nothing to yield to).
#[cfg(feature = "std")]
#[inline]
#[allow(dead_code)]
pub(crate) fn yield_now() {
    thread::yield_now();
}

/// Exponential backoff for spin loops: `crossbeam_utils::Backoff` normally.
///
/// Under loom every step yields to the scheduler instead of spinning, for the
/// same reason as [`spin_loop`].
#[cfg(not(loom))]
#[allow(unused_imports)]
pub(crate) use crossbeam_utils::Backoff;

/// Loom stand-in for `crossbeam_utils::Backoff` (same method names).
#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct Backoff(core::cell::Cell<u32>);

#[cfg(loom)]
#[allow(dead_code)]
impl Backoff {
    pub(crate) fn new() -> Self {
        Self::default()
    }
    pub(crate) fn reset(&self) {
        self.0.set(0);
    }
    pub(crate) fn spin(&self) {
        loom::thread::yield_now();
    }
    pub(crate) fn snooze(&self) {
        self.0.set(self.0.get() + 1);
        loom::thread::yield_now();
    }
    pub(crate) fn is_completed(&self) -> bool {
        self.0.get() > 6
    }
}

/// A cell whose accesses loom can track: `with` for shared, `with_mut` for
/// exclusive access through a raw pointer.
#[cfg(not(loom))]
#[derive(Debug, Default)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
#[allow(dead_code)]
impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    /// Unwraps the value.
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(not(loom))]
#[allow(dead_code)]
impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a pointer for reading.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for writing.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }

    /// Exclusive access through `&mut self`.
    #[inline(always)]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0.get_mut()
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// Per-object, per-thread storage: `thread_local::ThreadLocal` normally,
/// with a one-entry per-thread cache in front of it.
///
/// Under loom every model thread runs on one OS thread, so storage keyed by
/// the OS thread would hand every model thread the same slot; the loom
/// version keys slots by loom's thread id instead (and has no cache).
#[cfg(all(feature = "std", not(loom)))]
pub(crate) use self::cached_thread_local::ThreadLocal;

#[cfg(all(feature = "std", not(loom)))]
mod cached_thread_local {
    use super::atomic::AtomicU64;
    use super::atomic::Ordering::Relaxed;
    use core::cell::Cell;

    std::thread_local! {
        /// The `ThreadLocal` this thread used last, and its value for this thread.
        static LAST: Cell<(u64, *const ())> = const { Cell::new((0, core::ptr::null())) };
    }

    /// Source of instance ids; 0 is never handed out (it marks an empty cache).
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);

    /// `thread_local::ThreadLocal` plus a process-unique id, so that a thread
    /// that keeps using the same instance finds its value with one TLS read
    /// and a compare instead of the crate's bucket lookup.
    pub(crate) struct ThreadLocal<T: Send> {
        inner: thread_local::ThreadLocal<T>,
        id: u64,
    }

    impl<T: Send> ThreadLocal<T> {
        pub(crate) fn new() -> Self {
            // ORDERING: [LOOM-O2] Relaxed — only uniqueness is needed, which the read-modify-write gives at any ordering.
            let id = NEXT_ID.fetch_add(1, Relaxed);
            Self { inner: thread_local::ThreadLocal::new(), id }
        }

        #[inline(always)]
        pub(crate) fn get_or(&self, create: impl FnOnce() -> T) -> &T {
            let cached = LAST.with(|last| {
                let (id, value) = last.get();
                (id == self.id).then_some(value)
            });
            match cached {
                // SAFETY: [LOOM-I2] the cache holds this instance's value for this thread.
                Some(value) => unsafe { &*value.cast::<T>() },
                None => self.get_or_slow(create),
            }
        }

        #[cold]
        #[inline(never)]
        fn get_or_slow(&self, create: impl FnOnce() -> T) -> &T {
            let value = self.inner.get_or(create);
            LAST.with(|last| last.set((self.id, (value as *const T).cast::<()>())));
            value
        }

        pub(crate) fn iter(&self) -> thread_local::Iter<'_, T>
        where
            T: Sync,
        {
            self.inner.iter()
        }
    }
}

#[cfg(loom)]
pub(crate) use self::loom_thread_local::ThreadLocal;

#[cfg(loom)]
mod loom_thread_local {
    // The crate's own atomic wrapper (loom's type underneath), so that the
    // ordering-mutation tool can weaken the stand-in's orderings too.
    use super::atomic::AtomicBool;
    use super::atomic::Ordering::{Acquire, Release};
    use loom::cell::UnsafeCell;
    use std::sync::Mutex;
    use std::vec::Vec;

    /// Loom runs at most a handful of threads per model.
    const SLOTS: usize = 8;

    struct Slot<T> {
        /// Set once the value is in place, as `thread_local` does for its entries.
        present: AtomicBool,
        value: UnsafeCell<Option<T>>,
    }

    /// Slots keyed by loom's thread id. Like the `thread_local` crate, the
    /// slot array (and each `present` flag) exists before any thread looks
    /// it up, and a slot's value is published by its `present` flag. The
    /// owner lookup sits behind an unmodelled mutex, so the stand-in adds no
    /// happens-before edge the real crate lacks.
    pub(crate) struct ThreadLocal<T: Send> {
        owners: Mutex<Vec<loom::thread::ThreadId>>,
        slots: Vec<Slot<T>>,
    }

    // SAFETY: [LOOM-I1] a slot's value is written once by its owner before it is
    // published and only read afterwards, so sharing the map shares `&T` (and
    // values may be dropped by whichever thread drops the map: `T: Send`).
    unsafe impl<T: Send + Sync> Sync for ThreadLocal<T> {}

    impl<T: Send> ThreadLocal<T> {
        pub(crate) fn new() -> Self {
            let slots = (0..SLOTS)
                .map(|_| Slot { present: AtomicBool::new(false), value: UnsafeCell::new(None) })
                .collect();
            Self { owners: Mutex::new(Vec::new()), slots }
        }

        pub(crate) fn get_or(&self, create: impl FnOnce() -> T) -> &T {
            let id = loom::thread::current().id();
            let (index, fresh) = {
                let mut owners = self.owners.lock().unwrap();
                match owners.iter().position(|owner| *owner == id) {
                    Some(index) => (index, false),
                    None => {
                        owners.push(id);
                        assert!(owners.len() <= SLOTS, "loom stand-in: too many threads");
                        (owners.len() - 1, true)
                    }
                }
            };
            let slot = &self.slots[index];
            if fresh {
                let value = create();
                // SAFETY: [LOOM-I1] only the owner writes its slot, once, before publishing it.
                slot.value.with_mut(|p| unsafe { *p = Some(value) });
                // ORDERING: [LOOM-O1] Release — pairs with the Acquire in `iter`: the value's creation happens-before its readers.
                slot.present.store(true, Release);
            }
            // SAFETY: [LOOM-I1] the value was written above or by this thread earlier, and is never written again.
            slot.value.with(|p| unsafe { (*p).as_ref().unwrap() })
        }

        pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
            self.slots.iter().filter_map(|slot| {
                // ORDERING: [LOOM-O1] Acquire — pairs with the Release in `get_or`.
                if !slot.present.load(Acquire) {
                    return None;
                }
                // SAFETY: [LOOM-I1] `present` was acquired, so the one write of the value happened-before.
                slot.value.with(|p| unsafe { (*p).as_ref() })
            })
        }
    }
}
