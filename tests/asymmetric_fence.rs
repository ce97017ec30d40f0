//! [FENCE-S1]: the process's first blocking structures are made in
//! thread-local destructors, on two threads at once, and they work.
//!
//! One test in a binary of its own, so that nothing else in the process has
//! made a blocking structure (and so chosen the fence pair) before it.
#![cfg(not(loom))]
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod common;
#[path = "common/thread_exit.rs"]
mod thread_exit;

use acqrel::disruptor::{Blocking, Builder};
use acqrel::spsc;
use common::scaled;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::thread;
use thread_exit::{Teardown, spawn_exiting};

#[test]
fn first_blocking_structures_made_in_thread_local_destructors_on_two_threads() {
    let n = scaled(20_000) as u64;
    let expected = n * (n - 1) / 2;
    let start = Arc::new(Barrier::new(2));
    let through_spsc = {
        let start = Arc::clone(&start);
        spawn_exiting(Teardown::WithoutEpoch, move || {
            start.wait(); // both threads reach their first constructor together
            let (mut producer, mut consumer) = spsc::bounded_blocking::<u64>(1);
            let sender =
                thread::spawn(move || (0..n).for_each(|i| producer.push_blocking(i).unwrap()));
            let mut sum = 0;
            while let Ok(i) = consumer.pop_blocking() {
                sum += i;
            }
            sender.join().unwrap();
            sum
        })
    };
    let through_disruptor = spawn_exiting(Teardown::WithoutEpoch, move || {
        start.wait();
        let sum = Arc::new(AtomicU64::new(0));
        let total = Arc::clone(&sum);
        let (mut producer, consumers) = Builder::single_producer(2, || 0u64, Blocking::new())
            .producer_wait(Blocking::new())
            .handle_events_with(move |e, _, _| {
                total.fetch_add(*e, Relaxed);
            })
            .build();
        for i in 0..n {
            producer.publish(|e| *e = i).unwrap();
        }
        drop(producer);
        consumers.join().unwrap();
        sum.load(Relaxed)
    });
    assert_eq!(through_spsc.join(), expected);
    assert_eq!(through_disruptor.join(), expected);
}
