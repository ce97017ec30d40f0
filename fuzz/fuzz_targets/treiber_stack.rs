//! Differential fuzzing of `TreiberStack` against a `Vec`: operations decoded
//! from the input (`push`, `pop`, `is_empty`, their `_with` variants under a
//! pin held across several operations, `push_all` of a short run, and
//! `take_all` consumed in part and then dropped, or left undropped while the
//! stack is used on — as a leaked iterator would be — and dropped only at a
//! later step) run on one thread, and each result is compared with the model
//! after every step. Every item records its
//! drops: an item is never dropped twice, the items popped or taken are
//! dropped by the driver at once, and when the stack is dropped every item it
//! still holds is dropped with it (node memory is reclaimed later by the
//! collector, but values are never deferred), so that at the end every item
//! made has been dropped exactly once.
#![no_main]

use acqrel::TreiberStack;
use acqrel::treiber_stack::TakeAll;
use acqrel_fuzz::{Input, Record, Tracked, check_drops};
use libfuzzer_sys::fuzz_target;

/// Takes everything, consumes `k` values, and returns the iterator undropped
/// with the values it still holds (in the model's order). While it lives, the
/// stack cannot tell it from a leaked one: `take_all` already unlinked its chain.
fn take_all_left_undropped(
    stack: &TreiberStack<Tracked>,
    model: &mut Vec<u32>,
    k: usize,
) -> (TakeAll<Tracked>, Vec<u32>) {
    let mut taken = stack.take_all();
    for _ in 0..k {
        assert_eq!(taken.next().map(|t| t.v), model.pop(), "take_all order");
    }
    (taken, std::mem::take(model))
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let record = Record::default();
    let stack = TreiberStack::new();
    let mut model: Vec<u32> = Vec::new();
    // A pin held across operations, taken and released by the input.
    let mut pin = None;
    // A `take_all` iterator left undropped, with the values it still holds.
    let mut parked: Option<(TakeAll<Tracked>, Vec<u32>)> = None;
    while let Some(op) = input.byte() {
        match op % 12 {
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
            9 => pin = None,
            10 => {
                if parked.is_none() {
                    let k = input.arg() % 4;
                    parked = Some(take_all_left_undropped(&stack, &mut model, k));
                }
            }
            _ => {
                if let Some((taken, rest)) = parked.take() {
                    drop(taken);
                    let r = record.borrow();
                    for v in rest {
                        assert_eq!(r[v as usize], 1, "item {v} left in a parked take_all");
                    }
                }
            }
        }
        assert_eq!(stack.is_empty(), model.is_empty(), "is_empty after op {op}");
        let in_parked = parked.iter().flat_map(|(_, rest)| rest.iter());
        check_drops(&record, model.iter().chain(in_parked));
    }
    drop(pin);
    drop(parked);
    drop(stack);
    for _ in 0..3 {
        crossbeam_epoch::pin().flush();
    }
    check_drops(&record, &[]);
});
