//! Differential fuzzing of the Disruptor's sequencers against a model of
//! claimed and published sequences, driven from one thread.
//!
//! Multi-producer: up to four handles (clones of one
//! `MultiProducerSequencer`) claim batches in turn, publish their claims in
//! any order, and one to three gating consumers advance (never past what is
//! published). After every step `claimed` and the cursor's
//! `highest_published(next)`, for every `next` a consumer could ask about,
//! are compared with the model: a set of published sequences, the highest
//! contiguous run from `next`, and a claim refused exactly when it would go
//! past the slowest consumer plus the capacity; a refused claim (`try_claim`
//! or `claim_while` giving up) claims nothing.
//!
//! Single producer: the wrap check of `try_claim` and `claim_while` from a
//! starting sequence taken from the input, with the consumers up to a ring
//! behind that start (a sequencer made over an existing cursor), publishes
//! in claim order (the cursor is a single counter), and the cursor as
//! `highest_published`.
#![no_main]

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use acqrel::disruptor::{
    Cursor, InsufficientCapacity, MultiProducerCursor, MultiProducerSequencer, Sequence, Sequencer,
    SingleProducerSequencer,
};
use acqrel_fuzz::Input;
use libfuzzer_sys::fuzz_target;

fn min_gate(gates: &[Arc<Sequence>]) -> i64 {
    gates.iter().map(|g| g.get()).min().unwrap()
}

fn multi(input: &mut Input<'_>, cap: usize, consumers: usize, handles: usize) {
    let cursor = Arc::new(MultiProducerCursor::new(cap));
    let gates: Vec<Arc<Sequence>> = (0..consumers).map(|_| Arc::new(Sequence::new())).collect();
    let first = MultiProducerSequencer::new(Arc::clone(&cursor), gates.clone());
    let mut seqs: Vec<MultiProducerSequencer> = vec![first; handles];
    let mut pending: Vec<Vec<(i64, i64)>> = vec![Vec::new(); handles];
    let mut published: BTreeSet<i64> = BTreeSet::new();
    let mut claimed = Sequence::INITIAL;
    let contiguous = |published: &BTreeSet<i64>, next: i64| {
        let mut s = next;
        while published.contains(&s) {
            s += 1;
        }
        s - 1
    };
    while let Some(op) = input.byte() {
        let a = input.arg();
        let b = input.arg();
        let h = a % handles;
        match op % 4 {
            0 | 1 => {
                let n = b % cap + 1;
                let hi = claimed + n as i64;
                let room = hi - cap as i64 <= min_gate(&gates);
                let got = if op % 4 == 0 {
                    seqs[h].try_claim(n)
                } else {
                    seqs[h].claim_while(n, || false).ok_or(InsufficientCapacity)
                };
                if room {
                    assert_eq!(got, Ok(hi));
                    pending[h].push((claimed + 1, hi));
                    claimed = hi;
                } else {
                    assert_eq!(got, Err(InsufficientCapacity));
                }
            }
            2 => {
                // Publish one of the handle's claims, any of them.
                if !pending[h].is_empty() {
                    let which = b % pending[h].len();
                    let (lo, hi) = pending[h].swap_remove(which);
                    seqs[h].publish(lo, hi);
                    published.extend(lo..=hi);
                }
            }
            _ => {
                // A consumer advances, by up to `b` sequences of those published.
                let g = &gates[a % consumers];
                let next = g.get() + 1;
                let end = contiguous(&published, next);
                assert_eq!(cursor.highest_published(next), end);
                g.set(end.min(next - 1 + b as i64));
            }
        }
        // Only sequences a consumer may still ask about are kept.
        let floor = min_gate(&gates);
        published = published.split_off(&(floor + 1));
        for s in &seqs {
            assert_eq!(s.claimed(), claimed);
            assert_eq!(s.capacity(), cap);
        }
        assert_eq!(cursor.claimed(), claimed);
        assert!(claimed - floor <= cap as i64, "claimed past the slowest consumer plus the ring");
        for next in floor + 1..=claimed + 1 {
            assert_eq!(cursor.highest_published(next), contiguous(&published, next), "from {next}");
        }
    }
}

fn single(input: &mut Input<'_>, cap: usize, consumers: usize, start: i64) {
    let cursor = Arc::new(Sequence::with_value(start));
    let gates: Vec<Arc<Sequence>> = (0..consumers)
        .map(|_| {
            let lag = input.byte().map_or(0, |b| i64::from(b) % (cap as i64 + 1));
            Arc::new(Sequence::with_value(start - lag))
        })
        .collect();
    let mut seq = SingleProducerSequencer::new(Arc::clone(&cursor), cap, gates.clone());
    let mut pending: VecDeque<(i64, i64)> = VecDeque::new();
    let mut claimed = start;
    let mut published = start;
    while let Some(op) = input.byte() {
        let a = input.arg();
        let b = input.arg();
        match op % 4 {
            0 | 1 => {
                let n = b % cap + 1;
                let hi = claimed + n as i64;
                let room = hi - cap as i64 <= min_gate(&gates);
                let got = if op % 4 == 0 {
                    seq.try_claim(n)
                } else {
                    seq.claim_while(n, || false).ok_or(InsufficientCapacity)
                };
                if room {
                    assert_eq!(got, Ok(hi));
                    pending.push_back((claimed + 1, hi));
                    claimed = hi;
                } else {
                    assert_eq!(got, Err(InsufficientCapacity));
                }
            }
            2 => {
                if let Some((lo, hi)) = pending.pop_front() {
                    seq.publish(lo, hi);
                    published = hi;
                }
            }
            _ => {
                let g = &gates[a % consumers];
                let next = g.get() + 1;
                assert_eq!(cursor.highest_published(next), published);
                g.set(published.min(next - 1 + b as i64));
            }
        }
        assert_eq!(seq.claimed(), claimed);
        assert_eq!(cursor.get(), published);
        assert!(
            claimed - min_gate(&gates) <= cap as i64,
            "claimed past the slowest consumer plus the ring"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(first) = input.byte() else { return };
    let cap = 1usize << (first % 5); // 1..=16
    let consumers = usize::from(first >> 3) % 3 + 1;
    if first & 0x80 == 0 {
        let handles = usize::from(first >> 5) % 4 + 1;
        multi(&mut input, cap, consumers, handles);
    } else {
        // A start near the top of the range or small, from the input.
        let raw = i64::from(input.byte().unwrap_or(0));
        let start = if raw & 1 == 0 { raw - 1 } else { i64::MAX / 2 - raw };
        single(&mut input, cap, consumers, start);
    }
});
