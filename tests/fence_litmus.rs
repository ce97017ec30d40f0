//! [FENCE-I1] as a litmus test on the machine that runs it: the asymmetric
//! fence pair must forbid the store-buffering outcome (each side's load
//! missing the other side's store), whichever pair the process uses.
//!
//! The pair is crate-private, so this binary compiles the switch module
//! itself (`src/loom.rs`) as a module of its own; its atomics here are std's
//! and play no part in any proof. Not built under loom (the switch module
//! would resolve to loom's types) or with the mutation hooks.
#![cfg(all(feature = "std", not(loom), not(acqrel_mutate)))]
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

#[allow(missing_docs, unused_macros)]
#[path = "../src/loom.rs"]
mod loom;

use loom::asymmetric::{heavy, light, prepare};
use std::hint::spin_loop;
use std::sync::atomic::{AtomicUsize, Ordering::*};
use std::time::{Duration, Instant};

/// Each round: the waker stores `x` then runs `light` and loads `y`; the
/// sleeper stores `y` then runs `heavy` and loads `x`, both starting at the
/// same instant. With `heavy`'s barrier commented out (checked by hand on
/// a 2-vCPU x86-64 VM) every run of 4 saw the forbidden outcome, 1 500 to
/// 1 800 times in its 100 000 rounds.
#[test]
fn light_and_heavy_forbid_the_store_buffering_outcome() {
    prepare();
    let rounds = if cfg!(miri) { 100 } else { 100_000 };
    let (x, y) = (AtomicUsize::new(0), AtomicUsize::new(0));
    // `start`: when (in ns after `base`) both sides run round `round`;
    // `seen`: the sleeper's load in that round, plus one, once made.
    let (round, start, seen) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
    let base = Instant::now();
    // Both sides wait for the same instant, so their stores meet within a
    // clock read of each other; the waker then spins 0–3 more times, varied
    // from round to round, to sweep the overlap.
    let at = |ns: usize| {
        while base.elapsed() < Duration::from_nanos(ns as u64) {
            spin_loop();
        }
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            for r in 1..=rounds {
                while round.load(Acquire) != r {
                    spin_loop();
                }
                at(start.load(Relaxed));
                y.store(r, Relaxed); // the sleeper's announcement
                heavy(SeqCst);
                seen.store(x.load(Relaxed) + 1, Release); // its re-check
            }
        });
        let mut both_missed = 0;
        for r in 1..=rounds {
            let go = base.elapsed().as_nanos() as usize + 2_000;
            start.store(go, Relaxed);
            round.store(r, Release);
            at(go);
            for _ in 0..r.wrapping_mul(0x9E37_79B9) % 4 {
                spin_loop();
            }
            x.store(r, Relaxed); // the waker's publish
            light(SeqCst);
            let waker_saw = y.load(Relaxed); // its check for a sleeper
            let sleeper_saw = loop {
                match seen.swap(0, Acquire) {
                    0 => spin_loop(),
                    v => break v - 1,
                }
            };
            if waker_saw != r && sleeper_saw != r {
                both_missed += 1;
            }
        }
        assert_eq!(both_missed, 0, "the fence pair let both loads miss");
    });
}
