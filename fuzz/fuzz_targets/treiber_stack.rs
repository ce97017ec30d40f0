//! Differential fuzzing of `TreiberStack` against a `Vec`: operations decoded
//! from the input (`push`, `pop`, `is_empty`, their `_with` variants under a
//! pin held across several operations, `push_all` of a short run, and
//! `take_all` consumed in part and then dropped) run on one thread, and each
//! result is compared with the model after every step. Every item records its
//! drops: an item is never dropped twice, the items popped or taken are
//! dropped by the driver at once, and when the stack is dropped every item it
//! still holds is dropped with it (node memory is reclaimed later by the
//! collector, but values are never deferred), so that at the end every item
//! made has been dropped exactly once.
#![no_main]

use acqrel::TreiberStack;
use acqrel_fuzz::{Input, Record, Tracked, check_drops};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let record = Record::default();
    let stack = TreiberStack::new();
    let mut model: Vec<u32> = Vec::new();
    // A pin held across operations, taken and released by the input.
    let mut pin = None;
    while let Some(op) = input.byte() {
        match op % 10 {
            0 | 1 => {
                let item = Tracked::new(&record);
                model.push(item.v);
                stack.push(item);
            }
            2 | 3 => {
                let got = stack.pop().map(|t| t.v);
                assert_eq!(got, model.pop(), "pop");
            }
            4 => assert_eq!(stack.is_empty(), model.is_empty(), "is_empty"),
            5 => {
                let n = input.arg() % 6;
                let items: Vec<Tracked> = (0..n).map(|_| Tracked::new(&record)).collect();
                model.extend(items.iter().map(|t| t.v));
                stack.push_all(items);
            }
            6 => {
                // take_all, consumed in part: the rest is dropped with the iterator.
                let k = input.arg() % 8;
                let mut taken = stack.take_all();
                for _ in 0..k {
                    assert_eq!(taken.next().map(|t| t.v), model.pop(), "take_all order");
                }
                let rest: Vec<u32> = model.drain(..).rev().collect();
                drop(taken);
                let r = record.borrow();
                for v in rest {
                    assert_eq!(r[v as usize], 1, "item {v} left in a dropped take_all");
                }
            }
            7 => {
                let guard = pin.get_or_insert_with(crossbeam_epoch::pin);
                let item = Tracked::new(&record);
                model.push(item.v);
                stack.push_with(item, guard);
            }
            8 => {
                let guard = pin.get_or_insert_with(crossbeam_epoch::pin);
                assert_eq!(stack.pop_with(guard).map(|t| t.v), model.pop(), "pop_with");
            }
            _ => pin = None,
        }
        assert_eq!(stack.is_empty(), model.is_empty(), "is_empty after op {op}");
        check_drops(&record, &model);
    }
    drop(pin);
    drop(stack);
    for _ in 0..3 {
        crossbeam_epoch::pin().flush();
    }
    check_drops(&record, &[]);
});
