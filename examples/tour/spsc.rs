//! SPSC queue: one thread hands `u64` work items to another through a ring of
//! 1024 slots. The consumer checks that it receives `0, 1, 2, ...` exactly.
use crate::{Contender, Done, Row, Sequence, Tally, items_and_sum, wait};
use acqrel::spsc;
use std::sync::mpsc;
use std::thread;

const ITEMS: u64 = 2_000_000;
const CAPACITY: usize = 1024;

/// Runs `produce` on a new thread and `consume` on this one.
fn hand_off<P: Send, C>(
    (p, c): (P, C),
    produce: impl FnOnce(P) + Send,
    consume: impl FnOnce(C) -> Tally,
) -> Tally {
    thread::scope(|s| {
        s.spawn(move || produce(p));
        consume(c)
    })
}

/// Pushes `0..ITEMS` through a non-blocking `try_push`, polling while full.
fn produce_polling<P>(mut p: P, mut try_push: impl FnMut(&mut P, u64) -> bool) {
    let mut spins = 0;
    for v in 0..ITEMS {
        while !try_push(&mut p, v) {
            wait(&mut spins);
        }
    }
}

/// Pops `ITEMS` values through a non-blocking `try_pop`, polling while empty.
fn consume_polling<C>(mut c: C, mut try_pop: impl FnMut(&mut C) -> Option<u64>) -> Tally {
    let (mut seq, mut spins) = (Sequence::default(), 0);
    while seq.seen() < ITEMS {
        match try_pop(&mut c) {
            Some(v) => seq.see(v),
            None => wait(&mut spins),
        }
    }
    seq.tally()
}

pub(crate) fn tour() -> Vec<Done> {
    let expected = Tally::of_range(ITEMS);
    let polling = Row {
        primitive: "spsc",
        workload: "1P1C u64, cap 1024, push/pop, polling".into(),
        threads: 2,
        ops: ITEMS,
        expected,
        order: "FIFO order",
        contenders: vec![
            Contender::new("acqrel", "spsc::bounded push/pop", || {
                hand_off(
                    spsc::bounded::<u64>(CAPACITY),
                    |p| produce_polling(p, |p, v| p.push(v).is_ok()),
                    |c| consume_polling(c, |c| c.pop().ok()),
                )
            }),
            Contender::new("std", "mpsc::sync_channel try_send/recv", || {
                hand_off(
                    mpsc::sync_channel::<u64>(CAPACITY),
                    |p| produce_polling(p, |p, v| p.try_send(v).is_ok()),
                    |c| consume_polling(c, |c| c.try_recv().ok()),
                )
            }),
            Contender::new("rtrb", "rtrb::RingBuffer push/pop", || {
                hand_off(
                    rtrb::RingBuffer::<u64>::new(CAPACITY),
                    |p| produce_polling(p, |p, v| p.push(v).is_ok()),
                    |c| consume_polling(c, |c| c.pop().ok()),
                )
            }),
        ],
        describe: items_and_sum,
        if_slower: "acqrel and rtrb run the same algorithm (each side caches the other's \
                    index, one index store per item), and two threads on a shared 2-core VM \
                    swing either way from run to run; to move more items per second use the \
                    chunk API (next row): one index store per chunk.",
    }
    .run();

    let chunks = Row {
        primitive: "spsc",
        workload: "1P1C u64, cap 1024, chunk API, polling".into(),
        threads: 2,
        ops: ITEMS,
        expected,
        order: "FIFO order",
        contenders: vec![
            Contender::new("acqrel", "write_chunk/read_chunk", || {
                hand_off(
                    spsc::bounded::<u64>(CAPACITY),
                    |mut p| {
                        let (mut next, mut spins) = (0, 0);
                        while next < ITEMS {
                            // Every free slot filled from the range, one commit.
                            let filled = p.write_chunk(usize::MAX).fill_from_iter(next..ITEMS);
                            if filled == 0 {
                                wait(&mut spins);
                            }
                            next += filled as u64;
                        }
                    },
                    |mut c| {
                        let (mut seq, mut spins) = (Sequence::default(), 0);
                        while seq.seen() < ITEMS {
                            let chunk = c.read_chunk(usize::MAX);
                            if chunk.is_empty() {
                                wait(&mut spins);
                                continue;
                            }
                            chunk.into_iter().for_each(|v| seq.see(v));
                        }
                        seq.tally()
                    },
                )
            }),
            Contender::new("std", "mpsc::sync_channel send/recv", || {
                hand_off(
                    mpsc::sync_channel::<u64>(CAPACITY),
                    |p| (0..ITEMS).for_each(|v| p.send(v).unwrap()),
                    |c| {
                        let mut seq = Sequence::default();
                        c.iter().for_each(|v| seq.see(v));
                        seq.tally()
                    },
                )
            }),
            Contender::new("rtrb", "write_chunk_uninit/read_chunk", || {
                hand_off(
                    rtrb::RingBuffer::<u64>::new(CAPACITY),
                    |mut p| {
                        let (mut next, mut spins) = (0, 0);
                        while next < ITEMS {
                            let free = p.slots().min((ITEMS - next) as usize);
                            if free == 0 {
                                wait(&mut spins);
                                continue;
                            }
                            let chunk = p.write_chunk_uninit(free).unwrap();
                            next += chunk.fill_from_iter(next..ITEMS) as u64;
                        }
                    },
                    |mut c| {
                        let (mut seq, mut spins) = (Sequence::default(), 0);
                        while seq.seen() < ITEMS {
                            let ready = c.slots();
                            if ready == 0 {
                                wait(&mut spins);
                                continue;
                            }
                            let chunk = c.read_chunk(ready).unwrap();
                            let (a, b) = chunk.as_slices();
                            a.iter().chain(b).for_each(|v| seq.see(*v));
                            chunk.commit_all();
                        }
                        seq.tally()
                    },
                )
            }),
        ],
        describe: items_and_sum,
        if_slower: "both publish a whole chunk with one index store and run level when \
                    measured back to back in one vCPU placement (269 against 254 M items/s \
                    far apart, 1.59 against 1.64 G near); a wider gap here means the two \
                    threads moved between vCPU placements during the row — run it again.",
    }
    .run();

    let blocking = Row {
        primitive: "spsc",
        workload: "1P1C u64, cap 1024, both sides block".into(),
        threads: 2,
        ops: ITEMS,
        expected,
        order: "FIFO order",
        contenders: vec![
            Contender::new("acqrel", "bounded_blocking push/pop_blocking", || {
                hand_off(
                    spsc::bounded_blocking::<u64>(CAPACITY),
                    |mut p| (0..ITEMS).for_each(|v| p.push_blocking(v).unwrap()),
                    |mut c| {
                        let mut seq = Sequence::default();
                        while let Ok(v) = c.pop_blocking() {
                            seq.see(v);
                        }
                        seq.tally()
                    },
                )
            }),
            Contender::new("std", "mpsc::sync_channel send/recv", || {
                hand_off(
                    mpsc::sync_channel::<u64>(CAPACITY),
                    |p| (0..ITEMS).for_each(|v| p.send(v).unwrap()),
                    |c| {
                        let mut seq = Sequence::default();
                        c.iter().for_each(|v| seq.see(v));
                        seq.tally()
                    },
                )
            }),
            Contender::new("crossbeam", "crossbeam_channel::bounded", || {
                hand_off(
                    crossbeam_channel::bounded::<u64>(CAPACITY),
                    |p| (0..ITEMS).for_each(|v| p.send(v).unwrap()),
                    |c| {
                        let mut seq = Sequence::default();
                        c.iter().for_each(|v| seq.see(v));
                        seq.tally()
                    },
                )
            }),
        ],
        describe: items_and_sum,
        if_slower: "in Blocking mode every commit checks for a parked peer behind a SeqCst \
                    fence, and a peer that parked is woken through a mutex and condvar; where \
                    a side may poll, spsc::bounded (rows above) is the fast path, and where \
                    both sides must sleep crossbeam_channel::bounded is the faster pick.",
    }
    .run();
    vec![polling, chunks, blocking]
}
