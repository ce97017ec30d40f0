//! Differential fuzzing of `Counter` and `ShardedCounter` against a plain
//! `u64`: every operation decoded from the input runs on the primitive and on
//! the model, and results and values are compared after each step. The
//! initial value comes from the input, so wrapping at `u64::MAX` and the
//! refusing operations' edges are reached; `ShardedCounter` operations may
//! run on a short-lived second thread, so cells are created, recycled and
//! summed across threads.
#![no_main]

use acqrel::{Counter, CounterOverflow, ShardedCounter};
use acqrel_fuzz::Input;
use libfuzzer_sys::fuzz_target;

fn counter(input: &mut Input<'_>) {
    let initial = input.value();
    let c = Counter::new(initial);
    let mut model = initial;
    while let Some(op) = input.byte() {
        let n = input.value();
        match op % 13 {
            0 => {
                assert_eq!(c.add(n), model);
                model = model.wrapping_add(n);
            }
            1 => {
                assert_eq!(c.sub(n), model);
                model = model.wrapping_sub(n);
            }
            2 => {
                assert_eq!(c.increment(), model);
                model = model.wrapping_add(1);
            }
            3 => assert_eq!(c.get(), model),
            4 => assert_eq!(c.set(n), std::mem::replace(&mut model, n)),
            5 => assert_eq!(c.take(), std::mem::take(&mut model)),
            6 => {
                let max = model.max(n);
                assert_eq!(c.fetch_max(n), std::mem::replace(&mut model, max));
            }
            7 => {
                let min = model.min(n);
                assert_eq!(c.fetch_min(n), std::mem::replace(&mut model, min));
            }
            8 => {
                let limit = input.value();
                let expected = match model.checked_add(n).filter(|&s| s <= limit) {
                    Some(sum) => Ok(std::mem::replace(&mut model, sum)),
                    None => Err(model),
                };
                assert_eq!(c.add_bounded(n, limit), expected);
            }
            9 => {
                let expected = match model.checked_add(n) {
                    Some(sum) => Ok(std::mem::replace(&mut model, sum)),
                    None => Err(CounterOverflow { current: model }),
                };
                assert_eq!(c.checked_add(n), expected);
            }
            10 => {
                let expected = match model.checked_sub(n) {
                    Some(diff) => Ok(std::mem::replace(&mut model, diff)),
                    None => Err(CounterOverflow { current: model }),
                };
                assert_eq!(c.checked_sub(n), expected);
            }
            11 => {
                assert_eq!(c.add_release(n), model);
                model = model.wrapping_add(n);
            }
            _ => assert_eq!(c.get_acquire(), model),
        }
        assert_eq!(c.get(), model);
    }
    assert_eq!(c.into_inner(), model);
}

fn sharded_counter(input: &mut Input<'_>) {
    let c = ShardedCounter::new();
    let mut model = 0u64;
    while let Some(op) = input.byte() {
        let n = input.value();
        match op % 7 {
            0 => {
                c.inc();
                model = model.wrapping_add(1);
            }
            1 => {
                c.add(n);
                model = model.wrapping_add(n);
            }
            2 => {
                c.local().add(n);
                model = model.wrapping_add(n);
            }
            3 => assert_eq!(c.take(), std::mem::take(&mut model)),
            // Count from a short-lived thread: a new cell, or a recycled one.
            // `join` (not the scope's end) waits for the thread's exit, so
            // its index is back in the pool before the next helper starts.
            4 | 5 => {
                std::thread::scope(|s| {
                    s.spawn(|| {
                        if op % 7 == 4 {
                            c.add(n);
                        } else {
                            let local = c.local();
                            local.inc();
                            local.add(n.wrapping_sub(1));
                        }
                    })
                    .join()
                    .unwrap();
                });
                model = model.wrapping_add(n);
            }
            _ => assert_eq!(c.sum(), model),
        }
        assert_eq!(c.sum(), model);
        // At most two thread indices are ever held at once (this thread's
        // and a helper's, the helper's reused): buckets 0 and 1, three cells,
        // however many helpers ran.
        assert!(c.shards() <= 3, "{} cells", c.shards());
    }
    assert_eq!(c.take(), model);
    assert_eq!(c.sum(), 0);
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    match input.byte() {
        Some(b) if b & 1 == 0 => counter(&mut input),
        Some(_) => sharded_counter(&mut input),
        None => {}
    }
});
