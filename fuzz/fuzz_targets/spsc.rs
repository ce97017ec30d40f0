//! Differential fuzzing of the SPSC queue against a `VecDeque`: both handles
//! are driven from one thread by operations decoded from the input (push,
//! pop, peek, slice copies, write and read chunks committed in part, the
//! popping iterator stopped early or leaked, `push_from_iter`, dropping
//! either handle), and results, `len`, `slots`, `is_empty`, `is_full` and
//! abandonment are compared with the model after every step. The first byte picks the
//! capacity (1..=17) and the item type: `u32` (the slice operations need
//! `Copy`) or an item that records its drops, so that every item made is
//! checked to be dropped exactly once when both handles are gone.
#![no_main]

use std::collections::VecDeque;

use acqrel::spsc::{self, Consumer, PopError, Producer, PushError};
use acqrel_fuzz::{Input, Record, Tracked};
use libfuzzer_sys::fuzz_target;

/// An item type the driver can make, read back and (for `Copy` types) copy
/// in slices.
trait Val: Sized {
    /// Whether a chunk iterator over such items may be leaked: only for items
    /// without drop tracking (a leaked `Tracked` would leak its record, which
    /// LeakSanitizer reports).
    const LEAKABLE: bool;
    fn make(v: u32, record: &Record) -> Self;
    fn value(&self) -> u32;
    /// `push_slice` of items with these values, if the type is `Copy`.
    fn push_slice(p: &mut Producer<Self>, values: &[u32]) -> Option<usize>;
    /// `pop_slice` into a buffer of `n`, if the type is `Copy`.
    fn pop_slice(c: &mut Consumer<Self>, n: usize) -> Option<Vec<u32>>;
}

impl Val for u32 {
    const LEAKABLE: bool = true;
    fn make(v: u32, _: &Record) -> Self {
        v
    }
    fn value(&self) -> u32 {
        *self
    }
    fn push_slice(p: &mut Producer<Self>, values: &[u32]) -> Option<usize> {
        Some(p.push_slice(values))
    }
    fn pop_slice(c: &mut Consumer<Self>, n: usize) -> Option<Vec<u32>> {
        let mut out = vec![u32::MAX; n];
        let k = c.pop_slice(&mut out);
        assert!(out[k..].iter().all(|&x| x == u32::MAX), "pop_slice wrote past its count");
        out.truncate(k);
        Some(out)
    }
}

impl Val for Tracked {
    const LEAKABLE: bool = false;
    fn make(v: u32, record: &Record) -> Self {
        let item = Tracked::new(record);
        assert_eq!(item.v, v);
        item
    }
    fn value(&self) -> u32 {
        self.v
    }
    fn push_slice(_: &mut Producer<Self>, _: &[u32]) -> Option<usize> {
        None
    }
    fn pop_slice(_: &mut Consumer<Self>, _: usize) -> Option<Vec<u32>> {
        None
    }
}

fn drive<T: Val>(input: &mut Input<'_>, cap: usize) {
    let record = Record::default();
    let (p, c) = spsc::bounded::<T>(cap);
    let (mut p, mut c) = (Some(p), Some(c));
    assert_eq!(p.as_ref().unwrap().capacity(), cap);
    assert_eq!(c.as_ref().unwrap().capacity(), cap);
    let mut model: VecDeque<u32> = VecDeque::new();
    // Slots a leaked chunk iterator took from the consumer's view whose head
    // is not stored yet: the producer sees them taken until the consumer
    // next stores its head (a pop or commit, its empty path, its drop).
    let mut stale = 0usize;
    let mut next = 0u32;
    let mut fresh = |record: &Record| {
        next += 1;
        T::make(next - 1, record)
    };
    while let Some(op) = input.byte() {
        let arg = input.arg();
        let free = cap - model.len() - stale;
        match op % 12 {
            0 => {
                if let Some(p) = p.as_mut() {
                    let item = fresh(&record);
                    let v = item.value();
                    match p.push(item) {
                        Ok(()) => {
                            assert!(free > 0, "push into a full queue");
                            model.push_back(v);
                        }
                        Err(PushError::Full(item)) => {
                            assert_eq!((free, c.is_some()), (0, true));
                            assert_eq!(item.value(), v);
                        }
                        Err(PushError::Abandoned(item)) => {
                            assert_eq!((free, c.is_some()), (0, false));
                            assert_eq!(item.value(), v);
                        }
                    }
                }
            }
            1 | 2 => {
                if let Some(c) = c.as_mut() {
                    let expected = match model.front() {
                        Some(&v) => Ok(v),
                        None if p.is_some() => Err(PopError::Empty),
                        None => Err(PopError::Abandoned),
                    };
                    if op % 12 == 1 {
                        assert_eq!(c.pop().map(|item| item.value()), expected);
                        model.pop_front();
                        stale = 0; // stored by the pop, or by the empty path
                    } else {
                        assert_eq!(c.peek().map(|item| item.value()), expected);
                        if model.is_empty() {
                            stale = 0; // the empty path stores the head
                        }
                    }
                }
            }
            3 => {
                if let Some(p) = p.as_mut() {
                    let values: Vec<u32> =
                        (0..arg % (2 * cap + 2)).map(|_| fresh(&record).value()).collect();
                    if let Some(n) = T::push_slice(p, &values) {
                        assert_eq!(n, values.len().min(free));
                        model.extend(&values[..n]);
                    }
                }
            }
            4 => {
                if let Some(c) = c.as_mut() {
                    let n = arg % (2 * cap + 2);
                    if let Some(out) = T::pop_slice(c, n) {
                        let k = n.min(model.len());
                        assert_eq!(out, model.drain(..k).collect::<Vec<_>>());
                        stale = 0; // its commit stores the head
                    }
                }
            }
            5 => {
                // A write chunk of up to `max` slots, `n` of them written and committed.
                if let Some(p) = p.as_mut() {
                    let max = arg % (cap + 2);
                    let mut chunk = p.write_chunk(max);
                    assert_eq!(chunk.len(), max.min(free));
                    assert_eq!(chunk.is_empty(), max.min(free) == 0);
                    let n = usize::from(input.byte().unwrap_or(0)) % (chunk.len() + 1);
                    let (a, b) = chunk.as_mut_slices();
                    assert_eq!(a.len() + b.len(), max.min(free));
                    for slot in a.iter_mut().chain(b.iter_mut()).take(n) {
                        let item = fresh(&record);
                        model.push_back(item.value());
                        slot.write(item);
                    }
                    // SAFETY: the first `n` slots were written above, and `n <= len`.
                    unsafe { chunk.commit(n) };
                }
            }
            6 => {
                // A read chunk of up to `max` items, the first `n` committed (dropped).
                if let Some(c) = c.as_mut() {
                    let max = arg % (cap + 2);
                    let chunk = c.read_chunk(max);
                    let len = max.min(model.len());
                    assert_eq!(chunk.len(), len);
                    assert_eq!(chunk.is_empty(), len == 0);
                    let (a, b) = chunk.as_slices();
                    let seen: Vec<u32> = a.iter().chain(b).map(Val::value).collect();
                    assert_eq!(seen, model.iter().take(len).copied().collect::<Vec<_>>());
                    let n = usize::from(input.byte().unwrap_or(0)) % (len + 1);
                    chunk.commit(n);
                    model.drain(..n);
                    stale = 0; // a commit stores the head
                }
            }
            7 | 11 => {
                // The popping iterator, stopped after `k` items; leaked (op 11)
                // with the items it did not yield.
                if let Some(c) = c.as_mut() {
                    let k = arg % (cap + 2);
                    let chunk = model.len();
                    if chunk == 0 {
                        stale = 0; // `pop_iter` found the queue empty
                    }
                    let mut it = c.pop_iter();
                    assert_eq!(it.len(), model.len());
                    for _ in 0..k {
                        assert_eq!(it.next().map(|item| item.value()), model.pop_front());
                    }
                    assert_eq!(it.len(), model.len());
                    if op % 12 == 11 && T::LEAKABLE {
                        std::mem::forget(it);
                        model.clear(); // leaked: never read, never dropped
                        stale += chunk;
                    } else {
                        drop(it);
                        if k.min(chunk) > 0 {
                            stale = 0;
                        }
                    }
                }
            }
            8 => {
                if let Some(p) = p.as_mut() {
                    let k = arg % (2 * cap + 2);
                    let items: Vec<T> = (0..k).map(|_| fresh(&record)).collect();
                    let values: Vec<u32> = items.iter().map(Val::value).collect();
                    let mut source = items.into_iter();
                    let n = p.push_from_iter(&mut source);
                    assert_eq!(n, k.min(free));
                    assert_eq!(source.len(), k - n, "push_from_iter lost items");
                    model.extend(&values[..n]);
                }
            }
            9 => drop(p.take()),
            _ => {
                drop(c.take());
                stale = 0; // the consumer's drop stores its head
            }
        }
        let len = model.len();
        if let Some(p) = p.as_mut() {
            assert_eq!(p.is_full(), len + stale == cap);
            assert_eq!(p.slots(), cap - len - stale);
            assert_eq!(p.is_abandoned(), c.is_none());
        }
        if let Some(c) = c.as_mut() {
            assert_eq!(c.len(), len);
            if len == 0 {
                stale = 0; // the empty path stores the head
            }
            assert_eq!(c.slots(), len);
            assert_eq!(c.is_empty(), len == 0);
            assert_eq!(c.is_abandoned(), p.is_none());
        }
    }
    drop((p, c));
    let drops = record.borrow();
    for (v, &d) in drops.iter().enumerate() {
        assert_eq!(d, 1, "item {v} dropped {d} times");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(first) = input.byte() else { return };
    let cap = usize::from(first & 0x7f) % 17 + 1;
    if first & 0x80 == 0 {
        drive::<u32>(&mut input, cap);
    } else {
        drive::<Tracked>(&mut input, cap);
    }
});
