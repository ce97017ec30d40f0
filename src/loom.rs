//! The one switch between `core`/`std` and [loom](https://docs.rs/loom).
//!
//! Every atomic, `UnsafeCell`, spin hint, yield, thread, `Arc`, mutex,
//! thread-local and process-wide static used anywhere in `src` is imported
//! from this module (`thread_local!`, `global!`), never from
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

    impl<T> AtomicPtr<T> {
        /// Exclusive access (loom's shape, so it also works under loom).
        #[inline(always)]
        pub(crate) fn with_mut<R>(&mut self, f: impl FnOnce(&mut *mut T) -> R) -> R {
            #[cfg(not(loom))]
            return f(self.0.get_mut());
            #[cfg(loom)]
            return self.0.with_mut(f);
        }
    }
}

/// An asymmetric StoreLoad fence pair for the blocking layers' sleep
/// hand-shakes ([FENCE-I1](crate::safety#FENCE-I1)): a waker on the hot path runs [`light`],
/// a thread about to sleep runs [`heavy`], and the two order like a pair
/// of `SeqCst` fences.
///
/// Where the process may use Linux's `membarrier` (registered by
/// [`prepare`]), [`light`] is a compiler fence only and [`heavy`] is
/// `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which makes every running
/// thread of the process execute a full barrier before it returns. Anywhere
/// else — another OS, a kernel or sandbox without it, Miri, loom — both are
/// `fence(order)` (`order` is `SeqCst` at every call), so loom and Miri
/// check the hand-shakes with the symmetric pair, and the mutation tool
/// weakens each call as the fence it is there.
///
/// [`light`]: asymmetric::light
/// [`heavy`]: asymmetric::heavy
/// [`prepare`]: asymmetric::prepare
#[cfg(feature = "std")]
pub(crate) mod asymmetric {
    use super::atomic::{Ordering, fence};

    /// Whether this process uses `membarrier` for the pair: decided once, by
    /// the first [`prepare`], before any structure that uses the pair exists.
    /// Every waker reads it, so it has a cache line to itself: a static
    /// written nearby would otherwise cost each read a miss.
    #[cfg(all(target_os = "linux", not(loom), not(miri)))]
    static PROCESS_BARRIER: crossbeam_utils::CachePadded<std::sync::OnceLock<bool>> =
        crossbeam_utils::CachePadded::new(std::sync::OnceLock::new());

    /// Decides, once per process, which pair to use; every constructor of a
    /// structure that calls [`light`] or [`heavy`] calls it first, so both
    /// sides of every hand-shake see the same decision ([FENCE-I1](crate::safety#FENCE-I1)).
    /// Safe from any thread, at any time, thread-local destructors included.
    // SAFE-CODE: [FENCE-S1] no thread-local state: the first call may come from a
    // thread-local destructor, and racing first calls share one registration.
    pub(crate) fn prepare() {
        #[cfg(all(target_os = "linux", not(loom), not(miri)))]
        PROCESS_BARRIER.get_or_init(linux::register);
    }

    #[cfg(all(target_os = "linux", not(loom), not(miri)))]
    #[inline(always)]
    fn process_barrier() -> bool {
        PROCESS_BARRIER.get() == Some(&true)
    }

    #[cfg(not(all(target_os = "linux", not(loom), not(miri))))]
    #[inline(always)]
    fn process_barrier() -> bool {
        false
    }

    /// The waker's half: after its store, before its load of the sleeper's
    /// announcement. A compiler fence where [`heavy`] is a process-wide
    /// barrier; `fence(order)` otherwise.
    #[inline(always)]
    #[cfg_attr(acqrel_mutate, track_caller)]
    pub(crate) fn light(order: Ordering) {
        if process_barrier() {
            // Keeps the compiler from moving the store after the load;
            // the processor's order comes from the sleeper's barrier.
            core::sync::atomic::compiler_fence(Ordering::SeqCst); // not an atomic operation
        } else {
            fence(order);
        }
    }

    /// The sleeper's half: after its announcement, before its re-check.
    /// `membarrier` where the process registered it; `fence(order)` otherwise.
    #[inline]
    #[cfg_attr(acqrel_mutate, track_caller)]
    pub(crate) fn heavy(order: Ordering) {
        #[cfg(all(target_os = "linux", not(loom), not(miri)))]
        if process_barrier() {
            core::sync::atomic::compiler_fence(Ordering::SeqCst); // not an atomic operation
            linux::barrier();
            core::sync::atomic::compiler_fence(Ordering::SeqCst); // not an atomic operation
            return;
        }
        fence(order);
    }

    #[cfg(all(target_os = "linux", not(loom), not(miri)))]
    mod linux {
        /// Registers the process for private expedited barriers; false
        /// (use the symmetric pair) if the kernel lacks them or refuses.
        pub(super) fn register() -> bool {
            let private = libc::MEMBARRIER_CMD_PRIVATE_EXPEDITED as libc::c_long;
            // SAFETY: [FENCE-I1] `membarrier(QUERY, 0)` takes no pointer and touches no memory of ours.
            let supported =
                unsafe { libc::syscall(libc::SYS_membarrier, libc::MEMBARRIER_CMD_QUERY, 0) };
            if supported < 0 || supported & private == 0 {
                return false;
            }
            // SAFETY: [FENCE-I1] registering takes no pointer and touches no memory of ours.
            unsafe {
                libc::syscall(
                    libc::SYS_membarrier,
                    libc::MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
                    0,
                ) == 0
            }
        }

        /// A full barrier in every running thread of the process, this one
        /// included, before it returns.
        ///
        /// # Panics
        ///
        /// If the kernel refuses the barrier even after registering the
        /// process again (a child after `fork` may have lost the
        /// registration; nothing else is documented): a waker that relies on
        /// it could otherwise leave this thread asleep for good.
        pub(super) fn barrier() {
            if expedited() == 0 {
                return;
            }
            assert!(
                register() && expedited() == 0,
                "membarrier refused after a successful registration"
            );
        }

        fn expedited() -> libc::c_long {
            // SAFETY: [FENCE-I1] the barrier takes no pointer and touches no memory of ours.
            unsafe {
                libc::syscall(libc::SYS_membarrier, libc::MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0)
            }
        }
    }
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

    /// `spawn`, naming the thread (loom's threads have no names: under loom
    /// the name is dropped).
    ///
    /// # Panics
    ///
    /// If the operating system refuses the thread, as `spawn` does.
    pub(crate) fn spawn_named<F, T>(name: std::string::String, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        #[cfg(loom)]
        {
            drop(name);
            spawn(f)
        }
        #[cfg(not(loom))]
        {
            std::thread::Builder::new().name(name).spawn(f).expect("failed to spawn thread")
        }
    }
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

/// Per-thread storage: std's `thread_local!`, or loom's under loom.
///
/// Loom runs every model thread on one OS thread, so std's thread-locals
/// would be shared by all of them; loom's give each model thread its own
/// value and drop it when that model thread ends, which is when std drops
/// a thread's values: at thread exit, in the thread's last steps. Two
/// differences matter to destructors. std drops the values one after the
/// other in the reverse order of their registration, and a value not yet
/// dropped stays reachable meanwhile; loom first marks every value of the
/// thread as destroyed, then drops them (in no fixed order), so from any of
/// those destructors every thread-local of the thread is gone (`try_with`
/// fails). Code that runs in thread-local destructors must handle both: it
/// uses `try_with`, never `with`. (And loom's `join` may return before the
/// joined thread's values are dropped; std's waits for them.)
///
/// Same syntax as std's, including `= const { init }` (loom's macro does
/// not accept a `const` block; there the value is made on first use).
#[cfg(feature = "std")]
macro_rules! thread_local_switch {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr }; $($rest:tt)*) => {
        #[cfg(not(loom))]
        std::thread_local!($(#[$attr])* $vis static $name: $t = const { $init });
        #[cfg(loom)]
        loom::thread_local!($(#[$attr])* $vis static $name: $t = $init);
        $crate::loom::thread_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
        #[cfg(not(loom))]
        std::thread_local!($(#[$attr])* $vis static $name: $t = $init);
        #[cfg(loom)]
        loom::thread_local!($(#[$attr])* $vis static $name: $t = $init);
        $crate::loom::thread_local!($($rest)*);
    };
}
#[cfg(feature = "std")]
pub(crate) use thread_local_switch as thread_local;

/// What `global!` returns: a reference to a process-wide value that code
/// running in thread-local destructors can still reach.
///
/// Normally `&'static T`. Under loom an `Arc<T>`: loom's statics are made
/// once per model execution (`loom::lazy_static!`) and dropped when the
/// model's closure returns, *before* the main model thread's thread-locals,
/// so a destructor that needs the value must hold a reference of its own.
#[cfg(all(feature = "std", not(loom)))]
pub(crate) type Global<T> = &'static T;

/// What `global!` returns (loom: an `Arc` clone; see the normal build's docs).
#[cfg(loom)]
pub(crate) type Global<T> = loom::sync::Arc<T>;

/// `global!(fn name() -> T = init;)` defines `fn name() -> Global<T>`, one
/// value shared by the whole process: a `static` normally (`init` must then
/// be a constant expression), a `loom::lazy_static!` made afresh in each
/// model execution under loom.
#[cfg(feature = "std")]
macro_rules! global {
    ($(#[$attr:meta])* $vis:vis fn $name:ident() -> $t:ty = $init:expr;) => {
        $(#[$attr])*
        #[cfg(not(loom))]
        $vis fn $name() -> $crate::loom::Global<$t> {
            static VALUE: $t = $init;
            &VALUE
        }

        $(#[$attr])*
        #[cfg(loom)]
        $vis fn $name() -> $crate::loom::Global<$t> {
            loom::lazy_static! {
                static ref VALUE: loom::sync::Arc<$t> = loom::sync::Arc::new($init);
            }
            loom::sync::Arc::clone(&VALUE)
        }
    };
}
#[cfg(feature = "std")]
pub(crate) use global;
