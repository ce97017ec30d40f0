//! Differential fuzzing of `MsQueue` against a `VecDeque`: operations decoded
//! from the input (`push`, `pop`, `is_empty` and the `_with` variants under a
//! pin held across several operations) run on one thread, and each result is
//! compared with the model after every step. Every item records its drops: an
//! item is never dropped twice, popped items are dropped by the driver at
//! once, and when the queue is dropped every item it still holds is dropped
//! with it (retired sentinels are reclaimed later by the collector, but their
//! values were moved out when they became sentinels), so that at the end
//! every item made has been dropped exactly once.
#![no_main]

use std::collections::VecDeque;

use acqrel::MsQueue;
use acqrel_fuzz::{Input, Record, Tracked, check_drops};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let record = Record::default();
    let queue = MsQueue::new();
    let mut model: VecDeque<u32> = VecDeque::new();
    // A pin held across operations, taken and released by the input.
    let mut pin = None;
    while let Some(op) = input.byte() {
        match op % 8 {
            0 | 1 => {
                let item = Tracked::new(&record);
                model.push_back(item.v);
                queue.push(item);
            }
            2 | 3 => assert_eq!(queue.pop().map(|t| t.v), model.pop_front(), "pop"),
            4 => {
                let guard = pin.get_or_insert_with(crossbeam_epoch::pin);
                for _ in 0..=input.arg() % 4 {
                    let item = Tracked::new(&record);
                    model.push_back(item.v);
                    queue.push_with(item, guard);
                }
            }
            5 => {
                let guard = pin.get_or_insert_with(crossbeam_epoch::pin);
                for _ in 0..=input.arg() % 4 {
                    assert_eq!(queue.pop_with(guard).map(|t| t.v), model.pop_front(), "pop_with");
                }
            }
            6 => pin = None,
            _ => {
                // A burst of pops past empty and a refill: the sentinel and
                // the tail meet and part again.
                while let Some(v) = model.pop_front() {
                    assert_eq!(queue.pop().map(|t| t.v), Some(v), "drain");
                }
                assert!(queue.pop().is_none(), "pop on empty");
            }
        }
        assert_eq!(queue.is_empty(), model.is_empty(), "is_empty after op {op}");
        check_drops(&record, &model);
    }
    drop(pin);
    drop(queue);
    for _ in 0..3 {
        crossbeam_epoch::pin().flush();
    }
    check_drops(&record, &[]);
});
