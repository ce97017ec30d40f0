//! Disruptor: one producer hands events to one consumer through a ring of
//! 1024 slots. The consumer's handler checks that it sees `0, 1, 2, ...`
//! exactly and hands its tally back when the consumer thread drops it.
use crate::{Contender, Done, Row, Sequence, Tally, items_and_sum};
use acqrel::disruptor::{Blocking, Builder, BusySpin};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

const EVENTS: u64 = 1_000_000;
const CAPACITY: usize = 1024;

/// The handler's state: what it has seen, reported when it is dropped (the
/// consumer thread drops its handler after the last event, before it ends).
struct Recorder {
    seq: Sequence,
    out: Arc<Mutex<Option<Tally>>>,
}

impl Recorder {
    fn new() -> (Self, Arc<Mutex<Option<Tally>>>) {
        let out = Arc::new(Mutex::new(None));
        (Recorder { seq: Sequence::default(), out: Arc::clone(&out) }, out)
    }

    #[inline]
    fn see(&mut self, v: u64) {
        self.seq.see(v);
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        *self.out.lock().unwrap() = Some(self.seq.tally());
    }
}

fn taken(out: &Mutex<Option<Tally>>) -> Tally {
    out.lock().unwrap().take().expect("the consumer dropped its handler before it ended")
}

/// A bounded channel: sender on a new thread, receiver here.
fn channel<S: Send, R>(
    (tx, rx): (S, R),
    send: impl Fn(&S, u64) + Send,
    receive: impl FnOnce(R, &mut Sequence),
) -> Tally {
    thread::scope(|s| {
        s.spawn(move || (0..EVENTS).for_each(|v| send(&tx, v)));
        let mut seq = Sequence::default();
        receive(rx, &mut seq);
        seq.tally()
    })
}

fn std_channel() -> Tally {
    channel(
        mpsc::sync_channel::<u64>(CAPACITY),
        |tx, v| tx.send(v).unwrap(),
        |rx, seq| rx.iter().for_each(|v| seq.see(v)),
    )
}

fn crossbeam_channel() -> Tally {
    channel(
        crossbeam_channel::bounded::<u64>(CAPACITY),
        |tx, v| tx.send(v).unwrap(),
        |rx, seq| rx.iter().for_each(|v| seq.see(v)),
    )
}

pub(crate) fn tour() -> Vec<Done> {
    let expected = Tally::of_range(EVENTS);
    let busy = Row {
        primitive: "Disruptor",
        workload: "1P1C hand-off, busy-spin consumer".into(),
        threads: 2,
        ops: EVENTS,
        expected,
        order: "sequence order",
        contenders: vec![
            Contender::new("acqrel", "Builder::single_producer, BusySpin", || {
                let (mut rec, out) = Recorder::new();
                let (mut producer, consumers) =
                    Builder::single_producer(CAPACITY, || 0u64, BusySpin)
                        .handle_events_with(move |e: &u64, _, _| rec.see(*e))
                        .build();
                for i in 0..EVENTS {
                    producer.publish(|e| *e = i).unwrap();
                }
                drop(producer);
                consumers.join().unwrap();
                taken(&out)
            }),
            Contender::new("std", "mpsc::sync_channel send/recv", std_channel),
            Contender::new("disruptor", "disruptor 4 single producer, BusySpin", || {
                use disruptor::Producer as _;
                let (mut rec, out) = Recorder::new();
                let mut producer =
                    disruptor::build_single_producer(CAPACITY, || 0u64, disruptor::BusySpin)
                        .handle_events_with(move |e: &u64, _, _| rec.see(*e))
                        .build();
                for i in 0..EVENTS {
                    producer.publish(|e| *e = i);
                }
                // Dropping the producer lets the consumer finish the events
                // published so far and joins its thread.
                drop(producer);
                taken(&out)
            }),
        ],
        describe: items_and_sum,
        if_slower: "a BusySpin consumer needs a core to itself: on a machine shared with \
                    other work it spins through its time slice while the producer waits for a \
                    core, where a channel's receiver sleeps, so there the Blocking or Yielding \
                    strategy (next row) is the one to use; against the disruptor crate, the \
                    same LMAX design, single runs swing either way (alternating runs in the \
                    README: 1.07-1.42x the disruptor crate).",
    }
    .run();

    let blocking = Row {
        primitive: "Disruptor",
        workload: "1P1C hand-off, Blocking (sleeping) consumer".into(),
        threads: 2,
        ops: EVENTS,
        expected,
        order: "sequence order",
        contenders: vec![
            Contender::new("acqrel", "Builder::single_producer, Blocking", || {
                let (mut rec, out) = Recorder::new();
                let (mut producer, consumers) =
                    Builder::single_producer(CAPACITY, || 0u64, Blocking::new())
                        .handle_events_with(move |e: &u64, _, _| rec.see(*e))
                        .build();
                for i in 0..EVENTS {
                    producer.publish(|e| *e = i).unwrap();
                }
                drop(producer);
                consumers.join().unwrap();
                taken(&out)
            }),
            Contender::new("std", "mpsc::sync_channel send/recv", std_channel),
            Contender::new("crossbeam", "crossbeam_channel::bounded", crossbeam_channel),
        ],
        describe: items_and_sum,
        if_slower: "with a Blocking strategy every publish and every consumer batch pays a \
                    SeqCst fence and a load to learn whether anyone sleeps, and a lock and a \
                    notify when someone does; with a core to spare a BusySpin or Yielding \
                    consumer (row above) avoids both, and for a plain queue whose two ends \
                    sleep crossbeam_channel::bounded is the faster pick.",
    }
    .run();
    vec![busy, blocking]
}
