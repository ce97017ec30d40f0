//! TreiberStack and MsQueue: push+pop pairs from two threads.
use crate::{Measured, Row};
use acqrel::{MsQueue, TreiberStack};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::thread;

const THREADS: u64 = 2;
const PER_THREAD: u64 = 2_000_000;

fn pairs(f: impl Fn(u64) + Sync) {
    thread::scope(|s| {
        for t in 0..THREADS {
            let f = &f;
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    f(t * PER_THREAD + i);
                }
            });
        }
    });
}

pub(crate) fn tour() -> Vec<Row> {
    println!("stack and queue: {THREADS} threads x {PER_THREAD} push+pop pairs each");
    let total = THREADS * PER_THREAD;

    let vec = Mutex::new(Vec::new());
    let baseline = Measured::time("Mutex<Vec>", total, || {
        pairs(|v| {
            vec.lock().unwrap().push(v);
            std::hint::black_box(vec.lock().unwrap().pop());
        })
    });
    let stack = TreiberStack::new();
    let ours = Measured::time("TreiberStack", total, || {
        pairs(|v| {
            stack.push(v);
            std::hint::black_box(stack.pop());
        })
    });
    assert!(stack.is_empty());
    let stack_row = Row {
        primitive: "TreiberStack",
        workload: "push+pop pairs, 2 threads".into(),
        ours,
        baseline,
    };

    let deque = Mutex::new(VecDeque::new());
    let baseline = Measured::time("Mutex<VecDeque>", total, || {
        pairs(|v| {
            deque.lock().unwrap().push_back(v);
            std::hint::black_box(deque.lock().unwrap().pop_front());
        })
    });
    let queue = MsQueue::new();
    let ours = Measured::time("MsQueue", total, || {
        pairs(|v| {
            queue.push(v);
            std::hint::black_box(queue.pop());
        })
    });
    assert!(queue.is_empty());
    let queue_row =
        Row { primitive: "MsQueue", workload: "push+pop pairs, 2 threads".into(), ours, baseline };
    vec![stack_row, queue_row]
}
