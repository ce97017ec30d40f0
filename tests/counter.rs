//! Behaviour and std-thread stress tests of `Counter`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;

use acqrel::{Counter, CounterOverflow};
use common::scaled;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::thread;

#[test]
fn settlement_total_is_exact() {
    // Eight workers credit one unit a million times each (scaled under Miri/qemu).
    let per_worker = scaled(1_000_000) as u64;
    let total = Counter::new(0);
    thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..per_worker {
                    total.increment();
                }
            });
        }
    });
    assert_eq!(total.get(), 8 * per_worker);
}

#[test]
fn increment_hands_out_unique_tickets() {
    let n = scaled(50_000);
    let next = Counter::new(0);
    let tickets: Vec<Vec<u64>> = thread::scope(|s| {
        let handles: Vec<_> =
            (0..4).map(|_| s.spawn(|| (0..n).map(|_| next.increment()).collect())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<u64> = tickets.into_iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all, (0..4 * n as u64).collect::<Vec<_>>());
}

#[test]
fn take_racing_adds_loses_nothing() {
    let per_worker = scaled(200_000) as u64;
    let counter = Counter::new(0);
    let taken = thread::scope(|s| {
        let adders: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..per_worker {
                        counter.add(1);
                    }
                })
            })
            .collect();
        // The scope's own thread is the taker.
        let mut taken = 0;
        while !adders.iter().all(|a| a.is_finished()) {
            taken += counter.take();
        }
        taken
    });
    assert_eq!(taken + counter.take(), 2 * per_worker);
    assert_eq!(counter.get(), 0);
}

#[test]
fn arithmetic_wraps_as_documented() {
    let c = Counter::new(u64::MAX);
    assert_eq!(c.add(2), u64::MAX);
    assert_eq!(c.get(), 1);
    assert_eq!(c.sub(3), 1);
    assert_eq!(c.get(), u64::MAX - 1);
}

#[test]
fn checked_and_bounded_refuse_without_changing_the_value() {
    let c = Counter::new(u64::MAX - 1);
    assert_eq!(c.checked_add(1), Ok(u64::MAX - 1));
    assert_eq!(c.checked_add(1), Err(CounterOverflow { current: u64::MAX }));
    assert_eq!(c.get(), u64::MAX);
    let c = Counter::new(2);
    assert_eq!(c.checked_sub(3), Err(CounterOverflow { current: 2 }));
    assert_eq!(c.checked_sub(2), Ok(2));
    assert_eq!(c.get(), 0);
    assert_eq!(c.add_bounded(10, 9), Err(0));
    assert_eq!(c.add_bounded(9, 9), Ok(0));
    assert_eq!(c.add_bounded(1, u64::MAX), Ok(9));
    let near_max = Counter::new(u64::MAX);
    assert_eq!(near_max.add_bounded(1, u64::MAX), Err(u64::MAX), "overflow is refused too");
    assert_eq!(
        CounterOverflow { current: 7 }.to_string(),
        "counter operation would wrap (current value 7)"
    );
}

#[test]
fn bounded_add_refuses_every_limit_it_cannot_meet() {
    // A value already above the limit (reached through `add`/`set`): even
    // `n = 0` is refused, and nothing is stored.
    let c = Counter::new(10);
    assert_eq!(c.add_bounded(0, 9), Err(10));
    assert_eq!(c.add_bounded(0, 10), Ok(10), "n = 0 at the limit stores the same value");
    assert_eq!(c.add_bounded(1, 0), Err(10));
    // `current + n` overflowing is refused whatever the limit.
    assert_eq!(c.add_bounded(u64::MAX, u64::MAX), Err(10));
    assert_eq!(c.get(), 10);
    // The largest limit and the largest step that fit.
    assert_eq!(c.add_bounded(u64::MAX - 10, u64::MAX), Ok(10));
    assert_eq!(c.get(), u64::MAX);
    assert_eq!(c.add_bounded(0, u64::MAX), Ok(u64::MAX));
    assert_eq!(c.checked_add(0), Ok(u64::MAX));
    assert_eq!(c.checked_sub(u64::MAX), Ok(u64::MAX));
    assert_eq!(c.checked_sub(1), Err(CounterOverflow { current: 0 }));
    // The extremes of max and min leave the value where it is.
    assert_eq!(c.fetch_max(0), 0);
    assert_eq!(c.fetch_min(u64::MAX), 0);
    assert_eq!(c.fetch_max(u64::MAX), 0);
    assert_eq!(c.fetch_min(0), u64::MAX);
    assert_eq!(c.get(), 0);
}

/// Every operation from a thread-local destructor, registered before the
/// thread first touched the counter, on threads that come and go. (Not
/// under loom, where `Counter::new` is not `const`.)
#[test]
#[cfg(not(loom))]
fn every_operation_works_from_a_thread_local_destructor() {
    static COUNTER: Counter = Counter::new(0);
    static TAKEN: Counter = Counter::new(0);
    static ADDED_AT_EXIT: Counter = Counter::new(0);

    use std::cell::RefCell;

    struct UseOnDrop;
    impl Drop for UseOnDrop {
        fn drop(&mut self) {
            // Other threads' `take`s run concurrently: the checked operations
            // may refuse (and `sub` may wrap), so count what was applied.
            COUNTER.add(3);
            COUNTER.increment();
            COUNTER.sub(1);
            COUNTER.add_release(2);
            let mut added = 5u64;
            if COUNTER.checked_add(1).is_ok() {
                added += 1;
            }
            if COUNTER.checked_sub(1).is_ok() {
                added -= 1;
            }
            if COUNTER.add_bounded(1, u64::MAX).is_ok() {
                added += 1;
            }
            let _ = (COUNTER.get(), COUNTER.get_acquire());
            let _ = (COUNTER.fetch_max(0), COUNTER.fetch_min(u64::MAX));
            ADDED_AT_EXIT.add(added);
            TAKEN.add(COUNTER.take());
        }
    }
    thread_local! {
        static AT_EXIT: RefCell<Option<UseOnDrop>> = const { RefCell::new(None) };
    }

    let threads = scaled(100);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            thread::spawn(|| {
                AT_EXIT.with(|slot| *slot.borrow_mut() = Some(UseOnDrop));
                COUNTER.increment();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap(); // returns after the thread's destructors ran
    }
    // Each thread adds 1 in its body, the rest at exit; wrapping arithmetic
    // throughout (a `sub` may land on a freshly taken zero).
    let total = TAKEN.get().wrapping_add(COUNTER.take());
    assert_eq!(total, ADDED_AT_EXIT.get().wrapping_add(threads as u64));
    assert!(ADDED_AT_EXIT.get() >= 5 * threads as u64);
}

#[test]
fn bounded_add_never_passes_limit_under_contention() {
    // Four threads race to take permits; exactly `limit` succeed in total.
    let limit = scaled(20_000) as u64;
    let permits = Counter::new(0);
    let granted: u64 = thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = 0;
                    for _ in 0..limit {
                        if permits.add_bounded(1, limit).is_ok() {
                            mine += 1;
                        }
                        assert!(permits.get() <= limit);
                    }
                    mine
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(granted, limit);
    assert_eq!(permits.get(), limit);
}

#[test]
fn fetch_max_and_min_keep_extremes() {
    let high = Counter::new(0);
    let low = Counter::new(u64::MAX);
    thread::scope(|s| {
        for t in 0..4u64 {
            let (high, low) = (&high, &low);
            s.spawn(move || {
                for i in 0..1000 {
                    high.fetch_max(t * 1000 + i);
                    low.fetch_min(t * 1000 + i + 5);
                }
            });
        }
    });
    assert_eq!(high.get(), 3999);
    assert_eq!(low.get(), 5);
}

#[test]
fn completion_count_publishes_work() {
    let rounds = scaled(2_000);
    for _ in 0..rounds {
        let results: Vec<AtomicU64> = (0..2).map(|_| AtomicU64::new(0)).collect();
        let done = Counter::new(0);
        thread::scope(|s| {
            for (i, slot) in results.iter().enumerate() {
                let done = &done;
                s.spawn(move || {
                    slot.store(i as u64 + 1, Relaxed);
                    done.add_release(1);
                });
            }
            while done.get_acquire() < 2 {
                std::hint::spin_loop();
            }
            assert_eq!(results[0].load(Relaxed) + results[1].load(Relaxed), 3);
        });
    }
}

#[test]
fn conversions_and_debug() {
    let c: Counter = 5.into();
    assert_eq!(format!("{c:?}"), "Counter(5)");
    assert_eq!(Counter::default().get(), 0);
    assert_eq!(c.into_inner(), 5);
}

/// The std-named operations return the previous value and are the same
/// operations as the short forms.
#[test]
fn fetch_names_return_the_previous_value() {
    let c = Counter::new(10);
    assert_eq!(c.fetch_add(5), 10);
    assert_eq!(c.add(5), 15);
    assert_eq!(c.fetch_sub(3), 20);
    assert_eq!(c.sub(7), 17);
    assert_eq!(c.swap(100), 10);
    assert_eq!(c.set(1), 100);
    assert_eq!(c.fetch_sub(2), 1);
    assert_eq!(c.get(), u64::MAX, "fetch_sub wraps below zero");
    assert_eq!(c.fetch_add(1), u64::MAX);
    assert_eq!(c.get(), 0, "fetch_add wraps past u64::MAX");
}

/// `swap` racing `fetch_add`s hands out every unit once: the swaps' returns
/// plus what is left is everything added plus the values swapped in.
#[test]
fn swap_racing_fetch_add_loses_nothing() {
    let per_worker = scaled(200_000) as u64;
    let c = Counter::new(0);
    let swapped_out = AtomicU64::new(0);
    let rounds = per_worker / 100;
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..per_worker {
                    c.fetch_add(1);
                }
            });
        }
        s.spawn(|| {
            for _ in 0..rounds {
                swapped_out.fetch_add(c.swap(1), Relaxed);
            }
        });
    });
    assert_eq!(swapped_out.load(Relaxed) + c.get(), 2 * per_worker + rounds);
}

/// `Counter` is `Send + Sync + UnwindSafe + RefUnwindSafe`: every change is
/// one atomic instruction or one compare-exchange, so a panic cannot leave it
/// half-updated.
#[test]
fn auto_traits_are_exactly_right() {
    use std::panic::{RefUnwindSafe, UnwindSafe};
    fn assert_all<T: Send + Sync + UnwindSafe + RefUnwindSafe>() {}
    assert_all::<Counter>();
    assert_all::<CounterOverflow>();
    let c = Counter::new(0);
    let caught = std::panic::catch_unwind(|| {
        c.fetch_add(2);
        panic!("in the middle of counting");
    });
    assert!(caught.is_err());
    assert_eq!(c.fetch_add(1), 2);
    assert_eq!(format!("{c:?}"), "Counter(3)");
}

#[test]
#[cfg(not(loom))]
fn counter_is_const_constructible() {
    static GLOBAL: Counter = Counter::new(3);
    assert_eq!(GLOBAL.increment(), 3);
    assert_eq!(GLOBAL.get(), 4);
}

/// A small deterministic generator (xorshift64), so stress runs need no dependency.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn mixed_operations_are_linearizable() {
    // Short histories of every kind of counter call from three threads, each
    // checked against the sequential counter (tests/common/lin).
    use common::lin::{self, counter::*};
    let ops = if cfg!(miri) { 3 } else { 60 };
    for round in 0..scaled(40) as u64 {
        let counter = Counter::new(0);
        let history = lin::stress(3, |t, rec| {
            let mut seed = 0x9E37_79B9_7F4A_7C15 ^ (round << 8 | t as u64);
            for _ in 0..ops {
                let r = next_random(&mut seed);
                let op = match r % 8 {
                    0..=2 => CounterOp::Add(r >> 8 & 3),
                    3 | 4 => CounterOp::Get,
                    5 => CounterOp::Take,
                    _ => CounterOp::AddBounded { n: 1, limit: 40 },
                };
                rec.call(op, |op| match *op {
                    CounterOp::Add(n) => CounterRet::Value(counter.add(n)),
                    CounterOp::Get => CounterRet::Value(counter.get()),
                    CounterOp::Take => CounterRet::Value(counter.take()),
                    CounterOp::AddBounded { n, limit } => match counter.add_bounded(n, limit) {
                        Ok(previous) => CounterRet::Value(previous),
                        Err(current) => CounterRet::Refused(current),
                    },
                    CounterOp::AddBlind(_) => unreachable!(),
                });
            }
        });
        lin::assert_linearizable(CounterSpec::default(), &history);
    }
}
