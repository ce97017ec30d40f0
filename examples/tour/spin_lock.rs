//! Spin locks: a small shared histogram updated under a lock by several
//! threads, one sample per critical section. The tally is the histogram's
//! total and its bucket-weighted sum, against the same samples counted on
//! one thread.
use crate::{Contender, Done, Row, Tally};
use acqrel::{SpinLock, TicketLock};
use std::sync::Mutex;
use std::thread;

const BUCKETS: usize = 16;
const SAMPLES: u64 = 2_000_000;

type Histogram = [u64; BUCKETS];

/// The bucket for sample `i` of thread `t`: cheap, deterministic, spread out.
fn bucket(t: u64, i: u64) -> usize {
    ((i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ t) >> 60) as usize % BUCKETS
}

fn tally(h: &Histogram) -> Tally {
    Tally {
        items: h.iter().sum(),
        sum: h.iter().enumerate().map(|(b, n)| b as u64 * n).sum(),
        in_order: true,
    }
}

/// The histogram of `threads` threads' samples, counted on this thread.
fn expected(threads: u64) -> Tally {
    let mut h = [0; BUCKETS];
    for t in 0..threads {
        for i in 0..SAMPLES / threads {
            h[bucket(t, i)] += 1;
        }
    }
    tally(&h)
}

/// `threads` threads record `SAMPLES / threads` samples each through
/// `record`; returns the histogram read back by `read`.
fn run(threads: u64, record: impl Fn(usize) + Sync) {
    thread::scope(|s| {
        for t in 0..threads {
            let record = &record;
            s.spawn(move || {
                for i in 0..SAMPLES / threads {
                    record(bucket(t, i));
                }
            });
        }
    });
}

fn std_mutex(threads: u64) -> Contender<'static> {
    Contender::new("std", "std::sync::Mutex", move || {
        let h = Mutex::new([0; BUCKETS]);
        run(threads, |b| h.lock().unwrap()[b] += 1);
        tally(&h.lock().unwrap())
    })
}

fn parking_lot_mutex(threads: u64) -> Contender<'static> {
    Contender::new("parking_lot", "parking_lot::Mutex", move || {
        let h = parking_lot::Mutex::new([0; BUCKETS]);
        run(threads, |b| h.lock()[b] += 1);
        tally(&h.lock())
    })
}

fn words(t: &Tally) -> String {
    format!("{} samples in the histogram, bucket-weighted sum {}", t.items, t.sum)
}

const SPIN_SLOWER: &str = "SpinLock's waiters keep polling (yielding between polls) instead of \
                           sleeping, which pays only for sections of tens of ns with no more \
                           threads than cores; for longer sections or more threads than cores \
                           parking_lot::Mutex, which parks waiters, is the faster lock.";

pub(crate) fn tour() -> Vec<Done> {
    let mut done = Vec::new();
    for threads in [2u64, 4] {
        done.push(
            Row {
                primitive: "SpinLock",
                workload: "16-bucket histogram, lock per sample".into(),
                threads: threads as usize,
                ops: SAMPLES / threads * threads,
                expected: expected(threads),
                order: "",
                contenders: vec![
                    Contender::new("acqrel", "SpinLock", move || {
                        let h = SpinLock::new([0; BUCKETS]);
                        run(threads, |b| h.lock()[b] += 1);
                        tally(&h.lock())
                    }),
                    std_mutex(threads),
                    parking_lot_mutex(threads),
                ],
                describe: words,
                if_slower: SPIN_SLOWER,
            }
            .run(),
        );
    }
    // Two threads only: a fair lock hands the lock to one particular thread,
    // and with more threads than cores that thread is often not running
    // (the criterion bench measures that case).
    done.push(
        Row {
            primitive: "TicketLock",
            workload: "16-bucket histogram, lock per sample".into(),
            threads: 2,
            ops: SAMPLES,
            expected: expected(2),
            order: "",
            contenders: vec![
                Contender::new("acqrel", "TicketLock", || {
                    let h = TicketLock::new([0; BUCKETS]);
                    run(2, |b| h.lock()[b] += 1);
                    tally(&h.lock())
                }),
                std_mutex(2),
                parking_lot_mutex(2),
            ],
            describe: words,
            if_slower: "TicketLock serves waiters in arrival order, so every release waits for \
                        one particular thread to take its turn; for throughput use SpinLock \
                        (unfair), and parking_lot::Mutex where waiters should sleep.",
        }
        .run(),
    );
    done
}
