//! Behaviour and stress tests of `SpinLock` and `TicketLock` (and, with the
//! `lock_api` feature, of `lock_api::Mutex` over their raw locks).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;
#[path = "common/thread_exit.rs"]
mod thread_exit;

use acqrel::{RawSpinLock, RawTicketLock, SpinLock, TicketLock};
use common::{DropCounter, scaled};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread;
use thread_exit::{Teardown, at_thread_exit};

/// The operations both lock types share, so every test runs on both.
trait Lock<T>: Sync {
    fn with_new(value: T) -> Self;
    fn locked<R>(&self, f: impl FnOnce(&mut T) -> R) -> R;
    fn try_locked<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R>;
    fn held(&self) -> bool;
    fn unwrap(self) -> T;
}

macro_rules! impl_lock {
    ($lock:ident) => {
        impl<T: Send> Lock<T> for $lock<T> {
            fn with_new(value: T) -> Self {
                $lock::new(value)
            }
            fn locked<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
                f(&mut self.lock())
            }
            fn try_locked<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
                self.try_lock().map(|mut guard| f(&mut guard))
            }
            fn held(&self) -> bool {
                self.is_locked()
            }
            fn unwrap(self) -> T {
                self.into_inner()
            }
        }
    };
}
impl_lock!(SpinLock);
impl_lock!(TicketLock);

/// Two plain (non-atomic) fields that every critical section changes
/// together: a torn or lost update shows as `a != b` or a short total.
#[derive(Default, Debug)]
struct Pair {
    a: u64,
    b: u64,
}

fn exclusion_stress<L: Lock<Pair>>() {
    let threads = 4;
    let per_thread = scaled(100_000) as u64;
    let lock = L::with_new(Pair::default());
    let start = Barrier::new(threads);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                start.wait();
                for _ in 0..per_thread {
                    lock.locked(|p| {
                        assert_eq!(p.a, p.b, "another thread is inside the section");
                        p.a += 1;
                        std::hint::black_box(&mut *p);
                        p.b += 1;
                    });
                }
            });
        }
    });
    let pair = lock.unwrap();
    assert_eq!((pair.a, pair.b), (threads as u64 * per_thread, threads as u64 * per_thread));
}

#[test]
fn spin_lock_excludes_and_publishes_under_contention() {
    exclusion_stress::<SpinLock<Pair>>();
}

#[test]
fn ticket_lock_excludes_and_publishes_under_contention() {
    exclusion_stress::<TicketLock<Pair>>();
}

fn smoke<L: Lock<Vec<u32>>>() {
    let lock = L::with_new(vec![1]);
    assert!(!lock.held());
    lock.locked(|v| v.push(2));
    assert_eq!(lock.try_locked(|v| v.len()), Some(2));
    lock.locked(|v| {
        v.push(3);
    });
    assert_eq!(lock.unwrap(), [1, 2, 3]);
}

#[test]
fn smoke_both() {
    smoke::<SpinLock<Vec<u32>>>();
    smoke::<TicketLock<Vec<u32>>>();
}

#[test]
fn guard_and_lock_state() {
    let lock = SpinLock::new(5);
    {
        let mut guard = lock.lock();
        assert!(lock.is_locked());
        assert!(lock.try_lock().is_none());
        *guard += 1;
        assert_eq!(format!("{guard:?} {guard}"), "6 6");
    }
    assert!(!lock.is_locked());

    let ticket = TicketLock::new(5);
    {
        let mut guard = ticket.lock();
        assert!(ticket.is_locked());
        assert_eq!(ticket.queue_len(), 1);
        assert!(ticket.try_lock().is_none());
        *guard += 1;
        assert_eq!(format!("{guard:?} {guard}"), "6 6");
    }
    assert!(!ticket.is_locked());
    assert_eq!(ticket.queue_len(), 0);
}

#[test]
fn get_mut_into_inner_default_from() {
    let mut lock = SpinLock::<u32>::default();
    *lock.get_mut() = 3;
    assert_eq!(*lock.lock(), 3);
    assert_eq!(SpinLock::from(7).into_inner(), 7);

    let mut ticket = TicketLock::<u32>::default();
    *ticket.get_mut() = 3;
    assert_eq!(*ticket.lock(), 3);
    assert_eq!(TicketLock::from(7).into_inner(), 7);
}

/// `new` is `const`: a lock can be a `static` (not under loom, whose atomics
/// have no `const` constructor).
#[cfg(not(loom))]
#[test]
fn locks_can_be_statics() {
    static SPIN: SpinLock<u32> = SpinLock::new(0);
    static TICKET: TicketLock<u32> = TicketLock::new(0);
    static RAW: RawSpinLock = RawSpinLock::new();
    static RAW_TICKET: RawTicketLock = RawTicketLock::new();
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                *SPIN.lock() += 1;
                *TICKET.lock() += 1;
                RAW.lock();
                // SAFETY: taken on the line above, by this thread.
                unsafe { RAW.unlock() };
                RAW_TICKET.lock();
                // SAFETY: taken on the line above, by this thread.
                unsafe { RAW_TICKET.unlock() };
            });
        }
    });
    assert_eq!((*SPIN.lock(), *TICKET.lock()), (2, 2));
    assert!(!RAW.is_locked() && !RAW_TICKET.is_locked());
}

fn panic_in_section_unlocks<L: Lock<u32>>() {
    let lock = L::with_new(0);
    let result = catch_unwind(AssertUnwindSafe(|| {
        lock.locked(|v| {
            *v = 41; // half-done update, left as the panic found it
            panic!("user code panics while holding the lock");
        })
    }));
    assert!(result.is_err());
    assert!(!lock.held(), "unwinding dropped the guard, which unlocked");
    // No poisoning: the next holder sees the value as the panic left it.
    assert_eq!(lock.try_locked(|v| *v), Some(41));
    lock.locked(|v| *v += 1);
    assert_eq!(lock.unwrap(), 42);
}

#[test]
fn guard_dropped_by_a_panic_unlocks_without_poisoning() {
    panic_in_section_unlocks::<SpinLock<u32>>();
    panic_in_section_unlocks::<TicketLock<u32>>();
}

/// A panic on another thread while it holds the lock: the lock is free
/// afterwards and usable from here.
#[test]
fn panic_on_another_thread_releases_the_lock() {
    let lock = SpinLock::new(0u32);
    let ticket = TicketLock::new(0u32);
    let joined = thread::scope(|s| {
        s.spawn(|| {
            let _g = lock.lock();
            let _t = ticket.lock();
            panic!("dies holding both locks");
        })
        .join()
    });
    assert!(joined.is_err());
    *lock.lock() += 1;
    *ticket.lock() += 1;
    assert_eq!((lock.into_inner(), ticket.into_inner()), (1, 1));
}

#[test]
fn try_lock_fails_while_another_thread_holds_the_lock() {
    let lock = SpinLock::new(0u32);
    let ticket = TicketLock::new(0u32);
    let guard = lock.lock();
    let tguard = ticket.lock();
    thread::scope(|s| {
        s.spawn(|| {
            assert!(lock.try_lock().is_none());
            assert!(ticket.try_lock().is_none());
        });
    });
    drop((guard, tguard));
    thread::scope(|s| {
        s.spawn(|| {
            *lock.try_lock().expect("free: no spurious failure") += 1;
            *ticket.try_lock().expect("free and nobody queued") += 1;
        });
    });
    assert_eq!((lock.into_inner(), ticket.into_inner()), (1, 1));
}

#[test]
fn zero_sized_data() {
    let lock = SpinLock::new(());
    let ticket = TicketLock::new(());
    assert_eq!(size_of::<SpinLock<()>>(), size_of::<RawSpinLock>());
    assert_eq!(size_of::<TicketLock<()>>(), size_of::<RawTicketLock>());
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..scaled(1_000) {
                    let _g = lock.lock();
                    let _t = ticket.lock();
                }
            });
        }
    });
    assert!(!lock.is_locked() && !ticket.is_locked());
}

/// `?Sized` data: a lock around a slice, reached through unsizing.
#[test]
fn unsized_data() {
    let lock = SpinLock::new([0u8; 4]);
    let slice: &SpinLock<[u8]> = &lock;
    slice.lock()[2] = 7;
    let ticket = TicketLock::new([0u8; 4]);
    let tslice: &TicketLock<[u8]> = &ticket;
    tslice.lock()[1] = 9;
    assert_eq!((lock.into_inner(), ticket.into_inner()), ([0, 0, 7, 0], [0, 9, 0, 0]));
}

#[test]
fn data_is_dropped_exactly_once() {
    let drops = DropCounter::new();
    drop(SpinLock::new(drops.track(1)));
    drop(TicketLock::new(drops.track(2)));
    assert_eq!(drops.dropped(), 2);
    let inner = SpinLock::new(drops.track(3)).into_inner();
    let tinner = TicketLock::new(drops.track(4)).into_inner();
    assert_eq!(drops.dropped(), 2, "into_inner hands the value out without dropping it");
    drop((inner, tinner));
    assert_eq!((drops.created(), drops.dropped()), (4, 4));
}

#[test]
fn debug_never_blocks() {
    let lock = SpinLock::new(vec![1, 2]);
    assert_eq!(format!("{lock:?}"), "SpinLock { data: [1, 2], .. }");
    let guard = lock.lock();
    assert_eq!(format!("{lock:?}"), "SpinLock { data: <locked>, .. }");
    drop(guard);

    let ticket = TicketLock::new(3);
    assert_eq!(format!("{ticket:?}"), "TicketLock { data: 3, .. }");
    let guard = ticket.lock();
    assert_eq!(format!("{ticket:?}"), "TicketLock { data: <locked>, .. }");
    assert_eq!(ticket.queue_len(), 1, "Debug did not queue behind the holder");
    drop(guard);

    let raw = RawSpinLock::new();
    raw.lock();
    assert_eq!(format!("{raw:?}"), "RawSpinLock { locked: true }");
    // SAFETY: taken just above.
    unsafe { raw.unlock() };
}

/// Waiters are served in the order they drew tickets: each thread is
/// started only after the previous one has queued, then the holder lets go.
/// The order may differ only if a waiter was passed over (it was not running
/// when its turn came, which `skips` records); every waiter is served anyway.
#[test]
fn ticket_lock_serves_waiters_in_arrival_order() {
    let waiters = 4u32;
    let lock = TicketLock::new(Vec::new());
    let guard = lock.lock();
    thread::scope(|s| {
        for id in 0..waiters {
            let lock = &lock;
            s.spawn(move || lock.lock().push(id));
            while lock.queue_len() < 2 + id {
                thread::yield_now();
            }
        }
        drop(guard);
    });
    let skips = lock.skips();
    let mut order = lock.into_inner();
    if skips == 0 {
        assert_eq!(order, (0..waiters).collect::<Vec<_>>());
    } else {
        order.sort_unstable();
        assert_eq!(order, (0..waiters).collect::<Vec<_>>(), "a passed-over waiter was not served");
    }
}

/// A thread that releases and immediately re-locks goes to the back of the
/// queue: with two threads alternating, no thread runs two sections in a
/// row while the other is queued — except after the other was passed over
/// for not taking its turn in time. Each skip lets the releaser run once
/// more and leaves the counts one section further apart, which shows again
/// when the first thread finishes; so at most two repeats per skip.
#[test]
fn ticket_lock_alternates_between_two_queued_threads() {
    let rounds = scaled(2_000);
    let lock = TicketLock::new(Vec::with_capacity(2 * rounds));
    let running = AtomicUsize::new(2);
    let guard = lock.lock();
    thread::scope(|s| {
        for id in 0..2u8 {
            let (lock, running) = (&lock, &running);
            s.spawn(move || {
                for _ in 0..rounds {
                    let mut log = lock.lock();
                    log.push(id);
                    // Hold the lock until the other thread is queued (or
                    // has finished), so the order is decided by the queue,
                    // not by timing.
                    while lock.queue_len() < 2 && running.load(SeqCst) == 2 {
                        std::hint::spin_loop();
                    }
                }
                running.fetch_sub(1, SeqCst);
            });
        }
        while lock.queue_len() < 3 {
            thread::yield_now();
        }
        drop(guard);
    });
    let skips = lock.skips() as usize;
    let log = lock.into_inner();
    assert_eq!(log.len(), 2 * rounds);
    let repeats = log.windows(2).filter(|w| w[0] == w[1]).count();
    assert!(repeats <= 2 * skips, "{repeats} sections ran twice in a row with {skips} skips");
}

/// A panic between two writes that belong together: the next holder gets
/// the data half-updated, exactly as the panic left it (no poisoning, no
/// rollback), and the lock works on.
fn panic_mid_update_is_seen_half_done<L: Lock<Pair>>() {
    let lock = L::with_new(Pair::default());
    let result = catch_unwind(AssertUnwindSafe(|| {
        lock.locked(|p| {
            p.a += 1;
            panic!("between the two writes");
        })
    }));
    assert!(result.is_err());
    assert!(!lock.held());
    assert_eq!(lock.locked(|p| (p.a, p.b)), (1, 0), "the half-done update is visible");
    lock.locked(|p| p.b += 1);
    let pair = lock.unwrap();
    assert_eq!((pair.a, pair.b), (1, 1));
}

#[test]
fn panic_mid_update_leaves_the_data_half_updated() {
    panic_mid_update_is_seen_half_done::<SpinLock<Pair>>();
    panic_mid_update_is_seen_half_done::<TicketLock<Pair>>();
}

/// A leaked guard leaves the lock held for good (as with std's
/// `MutexGuard`), and nothing else: `try_lock` fails here and on another
/// thread, `Debug` reports it held without blocking, and `get_mut` and
/// `into_inner`, which need the lock exclusively, still reach the data,
/// which is dropped exactly once. Under Miri: no undefined behaviour.
#[test]
fn forgotten_guard_keeps_the_lock_held_and_nothing_else() {
    let drops = DropCounter::new();
    let mut lock = SpinLock::new(drops.track(0u32));
    let mut guard = lock.lock();
    guard.value = 1;
    std::mem::forget(guard);
    assert!(lock.is_locked());
    assert!(lock.try_lock().is_none());
    thread::scope(|s| {
        s.spawn(|| assert!(lock.try_lock().is_none(), "held for every thread"));
    });
    assert_eq!(format!("{lock:?}"), "SpinLock { data: <locked>, .. }");
    lock.get_mut().value += 1;
    assert!(lock.is_locked(), "get_mut does not touch the lock");
    let inner = lock.into_inner();
    assert_eq!((inner.value, drops.dropped()), (2, 0));
    drop(inner);
    assert_eq!((drops.created(), drops.dropped()), (1, 1));

    let mut ticket = TicketLock::new(drops.track(0u32));
    let mut guard = ticket.lock();
    guard.value = 1;
    std::mem::forget(guard);
    assert!(ticket.is_locked());
    assert_eq!(ticket.queue_len(), 1, "the leaked holder's ticket");
    assert!(ticket.try_lock().is_none());
    thread::scope(|s| {
        s.spawn(|| assert!(ticket.try_lock().is_none(), "held for every thread"));
    });
    assert_eq!(format!("{ticket:?}"), "TicketLock { data: <locked>, .. }");
    assert_eq!(ticket.queue_len(), 1, "neither try_lock nor Debug queued");
    ticket.get_mut().value += 1;
    let inner = ticket.into_inner();
    assert_eq!(inner.value, 2);
    drop(inner);
    assert_eq!((drops.created(), drops.dropped()), (2, 2));
}

/// `T`'s `Debug` runs while `Debug` of the lock holds it: one that formats
/// the same lock finds it held (no deadlock), and one that panics leaves the
/// lock released.
#[cfg(not(loom))]
#[test]
fn debug_of_the_data_may_reenter_the_lock_or_panic() {
    use std::fmt;
    struct Reenter;
    impl fmt::Debug for Reenter {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "Reenter({:?}, {:?})", &SPIN, &TICKET)
        }
    }
    static SPIN: SpinLock<Reenter> = SpinLock::new(Reenter);
    static TICKET: TicketLock<Reenter> = TicketLock::new(Reenter);
    assert_eq!(
        format!("{SPIN:?}"),
        "SpinLock { data: Reenter(SpinLock { data: <locked>, .. }, \
         TicketLock { data: Reenter(SpinLock { data: <locked>, .. }, \
         TicketLock { data: <locked>, .. }), .. }), .. }"
    );
    assert!(!SPIN.is_locked() && !TICKET.is_locked());

    struct Panics;
    impl fmt::Debug for Panics {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("user Debug panics");
        }
    }
    impl fmt::Display for Panics {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("user Display panics");
        }
    }
    let spin = SpinLock::new(Panics);
    let ticket = TicketLock::new(Panics);
    assert!(catch_unwind(AssertUnwindSafe(|| format!("{spin:?}"))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| format!("{ticket:?}"))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| format!("{}", spin.lock()))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| format!("{}", ticket.lock()))).is_err());
    assert!(!spin.is_locked() && !ticket.is_locked(), "every guard was released");
    assert!(spin.try_lock().is_some() && ticket.try_lock().is_some());
}

/// The data's own `Drop` panicking as the lock is dropped: the panic
/// propagates, and the value was dropped once.
#[test]
fn panicking_drop_of_the_data_drops_it_once() {
    struct Bomb(#[allow(dead_code)] common::Tracked<()>);
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("the data's Drop panics");
        }
    }
    let drops = DropCounter::new();
    let spin = SpinLock::new(Bomb(drops.track(())));
    let ticket = TicketLock::new(Bomb(drops.track(())));
    assert!(catch_unwind(AssertUnwindSafe(|| drop(spin))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| drop(ticket))).is_err());
    assert_eq!((drops.created(), drops.dropped()), (2, 2));
}

/// The holder asking again: `try_lock` fails (and the ticket lock does not
/// queue it), so no second guard can exist. (`lock` would wait forever, as
/// documented; that is not run.)
#[test]
fn the_holder_cannot_take_its_own_lock_again() {
    let spin = SpinLock::new(0);
    let ticket = TicketLock::new(0);
    let (g, t) = (spin.lock(), ticket.lock());
    assert!(spin.try_lock().is_none());
    assert!(ticket.try_lock().is_none());
    assert_eq!(ticket.queue_len(), 1);
    drop((g, t));
    assert!(spin.try_lock().is_some() && ticket.try_lock().is_some());
}

/// Every path of both locks from a thread-local destructor: they keep no
/// per-thread state, so exiting threads use them like any other. The ticket
/// lock is also contended there: the exiting thread queues behind this one.
#[test]
fn both_locks_work_from_a_thread_local_destructor() {
    let when = Teardown::WithoutEpoch;
    let spin = Arc::new(SpinLock::new(0u32));
    let ticket = Arc::new(TicketLock::new(0u32));
    let (s, t) = (Arc::clone(&spin), Arc::clone(&ticket));
    at_thread_exit(when, move || {
        *s.lock() += 1;
        *s.try_lock().expect("free") += 1;
        *t.lock() += 1;
        *t.try_lock().expect("free") += 1;
        assert!(!s.is_locked() && !t.is_locked());
    });
    assert_eq!((*spin.lock(), *ticket.lock()), (2, 2));

    let held = ticket.lock();
    let t = Arc::clone(&ticket);
    let exiting = thread_exit::spawn_exiting(when, move || *t.lock() += 10);
    while ticket.queue_len() < 2 {
        thread::yield_now();
    }
    drop(held);
    exiting.join();
    assert_eq!(*ticket.lock(), 12);
}

/// A lock shared by two threads is dropped, with its data, by whichever
/// lets go last; the data is dropped exactly once, on that thread.
#[test]
fn lock_dropped_by_the_last_thread_drops_its_data_once() {
    let drops = DropCounter::new();
    let spin = Arc::new(SpinLock::new(drops.track(0u32)));
    let ticket = Arc::new(TicketLock::new(drops.track(0u32)));
    thread::scope(|s| {
        for _ in 0..2 {
            let (spin, ticket) = (Arc::clone(&spin), Arc::clone(&ticket));
            s.spawn(move || {
                spin.lock().value += 1;
                ticket.lock().value += 1;
            });
        }
        drop((spin, ticket));
    });
    assert_eq!((drops.created(), drops.dropped()), (2, 2));
}

#[cfg(all(feature = "lock_api", not(loom)))]
mod with_lock_api {
    use super::*;
    use acqrel::lock_api::{
        MappedSpinMutexGuard, MappedTicketMutexGuard, Mutex, SpinMutex, SpinMutexGuard,
        TicketMutex, TicketMutexGuard,
    };

    fn counts_under_contention<R: lock_api::RawMutex + Sync>() {
        let threads = 4;
        let per_thread = scaled(50_000) as u64;
        let mutex = lock_api::Mutex::<R, Pair>::new(Pair::default());
        thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    for _ in 0..per_thread {
                        let mut p = mutex.lock();
                        assert_eq!(p.a, p.b);
                        p.a += 1;
                        p.b += 1;
                    }
                });
            }
        });
        let pair = mutex.into_inner();
        assert_eq!((pair.a, pair.b), (threads * per_thread, threads * per_thread));
    }

    #[test]
    fn lock_api_mutex_over_raw_spin_lock_excludes() {
        counts_under_contention::<RawSpinLock>();
    }

    #[test]
    fn lock_api_mutex_over_raw_ticket_lock_excludes() {
        counts_under_contention::<RawTicketLock>();
    }

    #[test]
    fn lock_api_guards_work() {
        static GLOBAL: SpinMutex<Vec<u32>> = SpinMutex::const_new(RawSpinLock::new(), Vec::new());
        GLOBAL.lock().push(1);
        let mut mapped = lock_api::MutexGuard::map(GLOBAL.lock(), |v| &mut v[0]);
        *mapped += 1;
        assert!(GLOBAL.is_locked());
        drop(mapped);
        assert_eq!(*GLOBAL.try_lock().unwrap(), [2]);

        let ticket = TicketMutex::new(1);
        let guard = ticket.lock();
        assert!(ticket.try_lock().is_none());
        drop(guard);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let _g = ticket.lock();
            panic!("no poisoning through lock_api either");
        }));
        assert!(result.is_err() && !ticket.is_locked());
    }

    /// A guard leaked through lock_api keeps the lock held; `force_unlock`,
    /// whose contract is exactly "this thread leaked a guard", releases it
    /// and the lock works on (Miri: no undefined behaviour).
    fn force_unlock_after_forget<R: lock_api::RawMutex>() {
        let mutex = lock_api::Mutex::<R, u32>::new(0);
        std::mem::forget(mutex.lock());
        assert!(mutex.is_locked());
        assert!(mutex.try_lock().is_none());
        // SAFETY: this thread leaked the guard just above and holds the lock.
        unsafe { mutex.force_unlock() };
        assert!(!mutex.is_locked());
        *mutex.lock() += 1;
        assert_eq!(*mutex.try_lock().expect("released"), 1);
    }

    #[test]
    fn force_unlock_releases_a_forgotten_guard() {
        force_unlock_after_forget::<RawSpinLock>();
        force_unlock_after_forget::<RawTicketLock>();
    }

    /// The aliases are lock_api's types over the raw locks, of the lock_api
    /// acqrel depends on (the annotations would not compile otherwise), and
    /// their guards, mapped guards and unsized data work.
    #[test]
    fn aliases_name_lock_api_mutexes_over_the_raw_locks() {
        let spin: lock_api::Mutex<RawSpinLock, [u32; 2]> = SpinMutex::new([1, 2]);
        let ticket: lock_api::Mutex<RawTicketLock, (u32, u32)> = TicketMutex::new((1, 2));
        {
            let guard: SpinMutexGuard<'_, [u32; 2]> = spin.lock();
            let mut first: MappedSpinMutexGuard<'_, u32> =
                SpinMutexGuard::map(guard, |a| &mut a[0]);
            *first += 10;
            assert!(spin.is_locked() && spin.try_lock().is_none(), "a mapped guard holds the lock");
        }
        assert!(!spin.is_locked());
        {
            let guard: TicketMutexGuard<'_, (u32, u32)> = ticket.lock();
            let mut second: MappedTicketMutexGuard<'_, u32> =
                TicketMutexGuard::map(guard, |p| &mut p.1);
            *second += 10;
            assert!(ticket.try_lock().is_none(), "a mapped guard holds the lock");
            MappedTicketMutexGuard::unlock_fair(second);
        }
        assert!(!ticket.is_locked());
        assert_eq!(spin.into_inner(), [11, 2]);
        assert_eq!(ticket.into_inner(), (1, 12));

        let spin_slice: &SpinMutex<[u32]> = &SpinMutex::new([1, 2, 3]);
        spin_slice.lock()[2] = 4;
        assert_eq!(*spin_slice.lock(), [1, 2, 4]);
        let ticket_slice: &TicketMutex<[u32]> = &TicketMutex::new([1, 2, 3]);
        ticket_slice.lock()[2] = 4;
        assert_eq!(*ticket_slice.lock(), [1, 2, 4]);
    }

    /// How many threads hold or wait for a ticket mutex, and how many were
    /// passed over.
    fn queue_and_skips<T>(mutex: &TicketMutex<T>) -> (u32, u32) {
        // SAFETY: the raw lock is only read; nothing is unlocked through it.
        let raw = unsafe { mutex.raw() };
        (raw.queue_len(), raw.skips())
    }

    /// `unlock_fair` offers the lock to the queued waiter: the releaser, who
    /// locks again at once, is served after it (unless the waiter was passed
    /// over for not taking its turn, which `skips` records).
    #[test]
    fn unlock_fair_hands_the_ticket_lock_to_the_queued_waiter() {
        let mutex = TicketMutex::new(Vec::new());
        let guard = mutex.lock();
        thread::scope(|s| {
            s.spawn(|| mutex.lock().push("waiter"));
            while queue_and_skips(&mutex).0 < 2 {
                thread::yield_now();
            }
            TicketMutexGuard::unlock_fair(guard);
            mutex.lock().push("releaser");
        });
        let skips = queue_and_skips(&mutex).1;
        let order = mutex.into_inner();
        if skips == 0 {
            assert_eq!(order, ["waiter", "releaser"]);
        } else {
            assert_eq!(order, ["releaser", "waiter"], "the waiter was passed over");
        }
    }

    /// `bump` with a waiter queued lets it run its section in between, and
    /// the bumping thread gets the lock back afterwards (the waiter goes
    /// after it only if it was passed over). With nobody waiting, `bump`
    /// keeps the lock.
    #[test]
    fn bump_lets_the_queued_waiter_run_in_between() {
        let mutex = TicketMutex::new(Vec::new());
        let mut guard = mutex.lock();
        TicketMutexGuard::bump(&mut guard);
        assert_eq!(queue_and_skips(&mutex), (1, 0), "bump alone keeps the lock");
        guard.push("before");
        thread::scope(|s| {
            s.spawn(|| mutex.lock().push("waiter"));
            while queue_and_skips(&mutex).0 < 2 {
                thread::yield_now();
            }
            TicketMutexGuard::bump(&mut guard);
            guard.push("after");
            drop(guard);
        });
        let skips = queue_and_skips(&mutex).1;
        let order = mutex.into_inner();
        if skips == 0 {
            assert_eq!(order, ["before", "waiter", "after"]);
        } else {
            assert_eq!(order, ["before", "after", "waiter"], "the waiter was passed over");
        }
    }

    /// Timed locking (`RawMutexTimed`, which needs `std` for `Instant`).
    #[cfg(feature = "std")]
    mod timed {
        use super::*;
        use acqrel::lock_api::RawMutexTimed;
        use std::time::{Duration, Instant};

        /// A timeout for attempts on a held lock: they must return `None` after it.
        const SHORT: Duration = Duration::from_millis(10);

        /// Timed attempts on a free lock succeed (also with a deadline already
        /// past: one attempt is always made, and with a timeout too long for an
        /// `Instant`); on a lock held here or on another thread they time out,
        /// and they leave nothing behind: `try_lock` works after the release.
        fn timed_attempts_fail_only_while_the_lock_is_held<R>()
        where
            R: RawMutexTimed<Duration = Duration, Instant = Instant> + Sync,
        {
            let mutex = Mutex::<R, u32>::new(0);
            *mutex.try_lock_for(SHORT).expect("free") += 1;
            *mutex.try_lock_until(Instant::now() + SHORT).expect("free") += 1;
            *mutex.try_lock_until(Instant::now()).expect("free, deadline past") += 1;
            *mutex.try_lock_for(Duration::MAX).expect("free, no deadline") += 1;

            let guard = mutex.lock();
            assert!(mutex.try_lock_for(SHORT).is_none());
            assert!(mutex.try_lock_until(Instant::now() + SHORT).is_none());
            assert!(mutex.try_lock_for(Duration::ZERO).is_none());
            thread::scope(|s| {
                s.spawn(|| {
                    assert!(mutex.try_lock_for(SHORT).is_none());
                    assert!(mutex.try_lock_until(Instant::now() + SHORT).is_none());
                });
            });
            drop(guard);
            assert_eq!(*mutex.try_lock().expect("the timed-out attempts left no trace"), 4);
        }

        #[test]
        fn timed_lock_times_out_only_while_held() {
            timed_attempts_fail_only_while_the_lock_is_held::<RawSpinLock>();
            timed_attempts_fail_only_while_the_lock_is_held::<RawTicketLock>();
        }

        /// The ticket lock's timed attempt never draws a ticket: after one that
        /// timed out, only the holder is counted, nobody was passed over, and the
        /// lock is free (not offered to an abandoned ticket) once released.
        #[test]
        fn timed_ticket_attempt_never_draws_a_ticket() {
            let raw = RawTicketLock::new();
            raw.lock();
            assert!(!RawMutexTimed::try_lock_for(&raw, SHORT));
            assert!(!RawMutexTimed::try_lock_until(&raw, Instant::now() + SHORT));
            assert_eq!((raw.queue_len(), raw.skips()), (1, 0));
            // SAFETY: taken by `lock` above, on this thread.
            unsafe { raw.unlock() };
            assert!(!raw.is_locked(), "no ticket left behind");
            assert!(raw.try_lock());
            // SAFETY: taken by the successful `try_lock`.
            unsafe { raw.unlock() };
        }

        /// A timed attempt that starts while another thread holds the lock gets
        /// it once that thread releases (long before the deadline), and sees
        /// what the holder wrote.
        fn timed_attempt_takes_the_lock_released_by_another_thread<R>()
        where
            R: RawMutexTimed<Duration = Duration, Instant = Instant> + Sync,
        {
            let mutex = Mutex::<R, u32>::new(0);
            let (queued, waiting) = std::sync::mpsc::channel();
            let mut guard = mutex.lock();
            thread::scope(|s| {
                s.spawn(|| {
                    assert!(mutex.try_lock().is_none());
                    queued.send(()).unwrap();
                    let mut value =
                        mutex.try_lock_for(Duration::from_secs(60)).expect("released before that");
                    assert_eq!(*value, 1, "the holder's write is visible");
                    *value += 1;
                });
                waiting.recv().unwrap();
                *guard += 1;
                drop(guard);
            });
            assert_eq!(mutex.into_inner(), 2);
        }

        #[test]
        fn timed_lock_waits_for_a_release_on_another_thread() {
            timed_attempt_takes_the_lock_released_by_another_thread::<RawSpinLock>();
            timed_attempt_takes_the_lock_released_by_another_thread::<RawTicketLock>();
        }

        /// Threads that mix `lock` and `try_lock_for` exclude each other: every
        /// section that ran (all plain ones, the timed ones that succeeded)
        /// counts once and sees the fields equal.
        fn timed_and_plain_sections_exclude<R>()
        where
            R: RawMutexTimed<Duration = Duration, Instant = Instant> + Sync,
        {
            let per_thread = scaled(20_000);
            let mutex = Mutex::<R, Pair>::new(Pair::default());
            let sections = AtomicUsize::new(0);
            thread::scope(|s| {
                for t in 0..4 {
                    let (mutex, sections) = (&mutex, &sections);
                    s.spawn(move || {
                        for i in 0..per_thread {
                            let guard = if (t + i) % 2 == 0 {
                                Some(mutex.lock())
                            } else {
                                mutex.try_lock_for(Duration::from_micros(50))
                            };
                            if let Some(mut p) = guard {
                                assert_eq!(p.a, p.b);
                                p.a += 1;
                                p.b += 1;
                                sections.fetch_add(1, SeqCst);
                            }
                        }
                    });
                }
            });
            let pair = mutex.into_inner();
            let ran = sections.into_inner() as u64;
            assert!(ran >= 2 * per_thread as u64, "every plain `lock` ran");
            assert_eq!((pair.a, pair.b), (ran, ran));
        }

        #[test]
        fn timed_and_plain_sections_exclude_each_other() {
            timed_and_plain_sections_exclude::<RawSpinLock>();
            timed_and_plain_sections_exclude::<RawTicketLock>();
        }
    }
}
