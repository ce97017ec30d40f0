//! Loom models of `TreiberStack` (crossbeam-epoch model-checked too, built
//! with `--cfg loom --cfg crossbeam_loom`). Covers [TRB-O1] [TRB-O2] [TRB-O3]
//! [TRB-O4] [TRB-O5] [TRB-O6] [TRB-O7] [TRB-O8] [TRB-I1] [TRB-I2] [TRB-I4] [TRB-I5]
//! [TRB-I6] [TRB-S7].
//!
//! Every model pre-fills the stack on the main thread before spawning: a
//! push racing a pop on an *empty* stack never makes the popper read a node
//! through a stale `next`, so it misses a weakened push.
#![cfg(loom)]
#![allow(clippy::disallowed_types)]

use acqrel::TreiberStack;
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// A value whose drop is counted (outside the model's memory: only totals matter).
struct Counted(&'static AtomicUsize);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v
}

/// A push races a pop on a one-element stack: the pop returns either the old
/// top or the new one, and the other is still there.
#[test]
fn push_races_pop_on_prefilled_stack() {
    loom::model(|| {
        let stack = Arc::new(TreiberStack::new());
        stack.push(1usize);
        let pusher = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || stack.push(2))
        };
        let popped = stack.pop().expect("the stack held at least one value");
        pusher.join().unwrap();
        let rest = stack.pop().expect("one value is left");
        assert!(stack.pop().is_none());
        assert_eq!(sorted(vec![popped, rest]), [1, 2]);
    });
}

/// Two threads pop a two-element stack at once: each value goes to exactly one of them.
#[test]
fn two_pops_race_on_prefilled_stack() {
    loom::model(|| {
        let stack = Arc::new(TreiberStack::new());
        stack.push(1usize);
        stack.push(2usize);
        let popper = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || stack.pop())
        };
        let mine = stack.pop();
        let theirs = popper.join().unwrap();
        assert_eq!(sorted(vec![mine.unwrap(), theirs.unwrap()]), [1, 2]);
        assert!(stack.is_empty());
    });
}

/// A pushing and popping thread against a popping thread on a one-element
/// stack: the lone node may be popped and a new one pushed between another
/// popper's load and its exchange (the shape of ABA), and no value is lost
/// or duplicated.
#[test]
fn push_pop_races_pop_on_prefilled_stack() {
    loom::model(|| {
        let stack = Arc::new(TreiberStack::new());
        stack.push(1usize);
        let worker = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || {
                let a = stack.pop();
                stack.push(2);
                a
            })
        };
        let mine = stack.pop();
        let theirs = worker.join().unwrap();
        let mut all: Vec<usize> = mine.into_iter().chain(theirs).collect();
        while let Some(v) = stack.pop() {
            all.push(v);
        }
        assert_eq!(sorted(all), [1, 2]);
    });
}

/// `take_all` races a push on a one-element stack: every value is in the
/// batch or still on the stack, exactly once.
#[test]
fn take_all_races_push() {
    loom::model(|| {
        let stack = Arc::new(TreiberStack::new());
        stack.push(1usize);
        let pusher = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || stack.push(2))
        };
        let mut all: Vec<usize> = stack.take_all().collect();
        pusher.join().unwrap();
        all.extend(stack.take_all());
        assert_eq!(sorted(all), [1, 2]);
    });
}

/// `take_all` detaches the node a concurrent pop is reading: the pop either
/// wins the node or finds the stack empty, and the detached node is freed
/// only after the popper unpins.
#[test]
fn take_all_races_pop() {
    loom::model(|| {
        let stack = Arc::new(TreiberStack::new());
        stack.push(1usize);
        let popper = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || stack.pop())
        };
        let batch: Vec<usize> = stack.take_all().collect();
        let popped = popper.join().unwrap();
        let all: Vec<usize> = batch.into_iter().chain(popped).collect();
        assert_eq!(all, [1]);
    });
}

/// A chain published by `push_all` races a pop on a one-element stack.
#[test]
fn push_all_races_pop() {
    loom::model(|| {
        let stack = Arc::new(TreiberStack::new());
        stack.push(1usize);
        let pusher = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || stack.push_all([2, 3]))
        };
        let popped = stack.pop().unwrap();
        pusher.join().unwrap();
        let mut all = vec![popped];
        all.extend(stack.take_all());
        assert_eq!(sorted(all), [1, 2, 3]);
    });
}

/// After a concurrent push and pop, dropping the stack drops every value left
/// exactly once (popped values are dropped by their popper).
#[test]
fn drop_after_concurrent_use() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    loom::model(|| {
        DROPS.store(0, SeqCst);
        let stack = Arc::new(TreiberStack::new());
        stack.push(Counted(&DROPS));
        let worker = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || {
                stack.push(Counted(&DROPS));
                drop(stack.pop());
            })
        };
        stack.push(Counted(&DROPS));
        worker.join().unwrap();
        drop(stack);
        assert_eq!(DROPS.load(SeqCst), 3);
    });
}

/// Hands this thread's retired nodes to the collector and collects a few
/// times, so that frees due by the epoch rules happen inside the model
/// (and a premature free would be a use-after-free that AddressSanitizer
/// reports: loom itself does not track freed memory).
fn collect_now() {
    for _ in 0..2 {
        crossbeam_epoch::pin().flush();
    }
}

/// Both handles are dropped inside the threads, and the thread that takes
/// the batch drops it there (retiring the detached node) and collects until
/// the node is due, while the main thread may still be reading that node in
/// its pop: the node is freed only after that pop unpins (a pop that did
/// not pin would read freed memory here, which AddressSanitizer reports).
/// Whichever thread drops the last `Arc` frees the stack. The value is
/// dropped exactly once. Covers [TRB-I1] [TRB-I5] [TRB-S7].
#[test]
fn batch_retired_and_stack_freed_inside_the_threads_while_a_pop_reads() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    loom::model(|| {
        DROPS.store(0, SeqCst);
        let stack = Arc::new(TreiberStack::new());
        stack.push(Counted(&DROPS));
        let taker = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || {
                drop(stack.take_all());
                drop(stack);
                collect_now();
            })
        };
        drop(stack.pop());
        drop(stack);
        taker.join().unwrap();
        assert_eq!(DROPS.load(SeqCst), 1);
    });
}

/// `len` walks the stack while another thread pops its top and retires the
/// node: the count is the stack at one moment (2 before the pop, 1 after),
/// and the walk never reads a freed node (under AddressSanitizer too).
#[test]
fn len_races_pop_and_push() {
    loom::model(|| {
        let stack = Arc::new(TreiberStack::new());
        stack.push(1usize);
        stack.push(2usize);
        let worker = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || {
                assert!(stack.pop().is_some());
                stack.push(3);
            })
        };
        let n = stack.len();
        assert!((1..=2).contains(&n), "len {n} was never the stack's length");
        worker.join().unwrap();
        assert_eq!(stack.len(), 2);
    });
}

/// A node's memory goes back to a per-thread cache after its grace period
/// and the next push on that thread reuses it. Here the main thread pops,
/// collects (so that a node whose grace period has passed is recycled
/// inside the model) and pushes again, while another thread pops. Were the
/// popped node reused while the other pop that loaded it is still pinned,
/// that pop's exchange could succeed against the recycled node and move out
/// a value whose write it never synchronised with (loom reports the race on
/// the value's cell), or with a stale `next` (ABA: a value would come out
/// twice or never). Every value comes out exactly once. Covers [RCY-I1]
/// [TRB-I1].
#[test]
fn a_node_is_recycled_only_after_every_pop_that_loaded_it_unpinned() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let stack = Arc::new(TreiberStack::new());
        for v in 1..=3usize {
            stack.push(v);
        }
        let popper = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || stack.pop())
        };
        let mine = stack.pop();
        collect_now();
        stack.push(4);
        let mut all: Vec<usize> = popper.join().unwrap().into_iter().collect();
        all.extend(mine);
        all.extend(stack.take_all());
        assert_eq!(sorted(all), [1, 2, 3, 4]);
    });
}

/// A value with an id whose drop is counted (outside the model's memory).
struct Token(usize, &'static AtomicUsize);

impl Drop for Token {
    fn drop(&mut self) {
        self.1.fetch_add(1, SeqCst);
    }
}

/// Elimination: a push (main thread) and a pop both lose their exchange on
/// `head` to a third push, so the push offers its value in an exchange slot
/// and the pop may take it there. The pop gets one of the three values,
/// read after its write (loom checks the value cell), and every value is
/// dropped exactly once: by the popper, or by the stack's `Drop`, which
/// finds the others linked (none lost in a slot, none twice). Three
/// threads: with two, a push can lose only to a successful pop and a pop
/// only to a successful push, so they never both lose at once and never
/// meet. Bounded to one preemption: the threads' starts are free choices for
/// loom, so one preemption already lets the push and the pop both read
/// `head` before the third push changes it, and the model reaches offers
/// that the pop takes and offers the push withdraws. With a `Relaxed` offer
/// or a `Relaxed` look by the pop it fails within seconds (a causality
/// violation on the value); a bound of two takes minutes. The end
/// is checked without pinning (the stack's `Drop`), which keeps the model
/// small. Covers [TRB-O7] [TRB-I6]; [TRB-O8]'s edge needs a pop after the
/// eliminated push, which only a fourth operation racing it can make stale
/// (see that entry for the tests that reach it).
#[test]
#[cfg_attr(
    acqrel_loom_asan,
    ignore = "frees nothing while it runs (no collection inside the model), so AddressSanitizer has \
              nothing to add to loom here"
)]
fn push_and_pop_lose_to_a_third_push_and_meet_in_a_slot() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(1);
    builder.check(|| {
        DROPS.store(0, SeqCst);
        let stack = Arc::new(TreiberStack::new());
        stack.push(Token(1, &DROPS));
        let popper = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || {
                let popped = stack.pop().expect("the stack never empties");
                assert!((1..=3).contains(&popped.0));
            })
        };
        let third = {
            let stack = Arc::clone(&stack);
            thread::spawn(move || stack.push(Token(3, &DROPS)))
        };
        stack.push(Token(2, &DROPS));
        third.join().unwrap();
        popper.join().unwrap();
        drop(stack);
        assert_eq!(DROPS.load(SeqCst), 3);
    });
}
