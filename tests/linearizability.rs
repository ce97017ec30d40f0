//! The linearizability checker's own tests: for each sequential
//! specification, hand-built histories it must accept and ones it must
//! reject.
mod common;

use common::lin::counter::{CounterOp, CounterRet, CounterSpec};
use common::lin::queue::{QueueOp, QueueRet, QueueSpec};
use common::lin::spsc::{SpscSpec, assert_spsc_roles};
use common::lin::stack::{StackOp, StackRet, StackSpec};
use common::lin::{self, History, Model};

use CounterOp::{Add, AddBounded, Get, Take};
use CounterRet::{Refused, Value};

fn accepts<M: Model>(init: M, h: &History<M::Op, M::Ret>) {
    if let Err(v) = lin::check(init, h) {
        panic!("rejected a linearizable history; stuck on {:?}", v.stuck_on);
    }
}

fn rejects<M: Model>(init: M, h: &History<M::Op, M::Ret>) {
    assert!(lin::check(init, h).is_err(), "accepted a non-linearizable history");
}

// ---- counter ----

#[test]
fn counter_accepts_overlapping_adds_in_either_order() {
    // T0's add is invoked first but linearizes second.
    let h = History::new()
        .op(0, 0, 5, Add(1), Value(2))
        .op(1, 1, 3, Add(2), Value(0))
        .op(1, 6, 7, Get, Value(3))
        .op(0, 8, 9, Take, Value(3))
        .op(1, 10, 11, Get, Value(0));
    accepts(CounterSpec::default(), &h);
}

#[test]
fn counter_rejects_a_lost_update() {
    // Both adds saw 0: a load-then-store increment.
    let h = History::new().op(0, 0, 2, Add(1), Value(0)).op(1, 1, 3, Add(1), Value(0));
    rejects(CounterSpec::default(), &h);
}

#[test]
fn counter_rejects_a_stale_read_after_completion() {
    let h = History::new().op(0, 0, 1, Add(5), Value(0)).op(1, 2, 3, Get, Value(0));
    rejects(CounterSpec::default(), &h);
    // The same read overlapping the add is fine.
    let h = History::new().op(0, 0, 2, Add(5), Value(0)).op(1, 1, 3, Get, Value(0));
    accepts(CounterSpec::default(), &h);
}

#[test]
fn counter_rejects_a_unit_taken_twice() {
    let h = History::new().op(0, 0, 1, Add(3), Value(0)).op(1, 2, 4, Take, Value(3)).op(
        2,
        3,
        5,
        Take,
        Value(3),
    );
    rejects(CounterSpec::default(), &h);
}

#[test]
fn counter_rejects_a_bounded_add_past_its_limit() {
    let ok = History::new().op(0, 0, 3, AddBounded { n: 1, limit: 1 }, Value(0)).op(
        1,
        1,
        2,
        AddBounded { n: 1, limit: 1 },
        Refused(1),
    );
    accepts(CounterSpec::default(), &ok);
    let both = History::new().op(0, 0, 3, AddBounded { n: 1, limit: 1 }, Value(0)).op(
        1,
        1,
        2,
        AddBounded { n: 1, limit: 1 },
        Value(1),
    );
    rejects(CounterSpec::default(), &both);
}

// ---- stack ----

#[test]
fn stack_accepts_lifo_with_overlap() {
    let h = History::new()
        .op(0, 0, 4, StackOp::Push(1), StackRet::Pushed)
        .op(1, 1, 5, StackOp::Push(2), StackRet::Pushed)
        // Overlaps both pushes: may see either on top.
        .op(2, 2, 6, StackOp::Pop, StackRet::Popped(Some(1)))
        .op(2, 7, 8, StackOp::Pop, StackRet::Popped(Some(2)))
        .op(0, 9, 10, StackOp::Pop, StackRet::Popped(None));
    accepts(StackSpec::default(), &h);
}

#[test]
fn stack_rejects_fifo_order_and_phantom_empty() {
    let fifo = History::new()
        .op(0, 0, 1, StackOp::Push(1), StackRet::Pushed)
        .op(0, 2, 3, StackOp::Push(2), StackRet::Pushed)
        .op(1, 4, 5, StackOp::Pop, StackRet::Popped(Some(1)));
    rejects(StackSpec::default(), &fifo);
    let phantom_empty = History::new().op(0, 0, 1, StackOp::Push(1), StackRet::Pushed).op(
        1,
        2,
        3,
        StackOp::Pop,
        StackRet::Popped(None),
    );
    rejects(StackSpec::default(), &phantom_empty);
}

// ---- FIFO queue ----

#[test]
fn queue_accepts_fifo_with_overlapping_pushes() {
    let h = History::new()
        .op(0, 0, 3, QueueOp::Push(1), QueueRet::Pushed)
        .op(1, 1, 4, QueueOp::Push(2), QueueRet::Pushed)
        .op(2, 5, 6, QueueOp::Pop, QueueRet::Popped(Some(2)))
        .op(2, 7, 8, QueueOp::Pop, QueueRet::Popped(Some(1)))
        .op(2, 9, 10, QueueOp::Pop, QueueRet::Popped(None));
    accepts(QueueSpec::unbounded(), &h);
}

#[test]
fn queue_rejects_lifo_order_and_duplicates() {
    let lifo = History::new()
        .op(0, 0, 1, QueueOp::Push(1), QueueRet::Pushed)
        .op(0, 2, 3, QueueOp::Push(2), QueueRet::Pushed)
        .op(1, 4, 5, QueueOp::Pop, QueueRet::Popped(Some(2)));
    rejects(QueueSpec::unbounded(), &lifo);
    let duplicate = History::new()
        .op(0, 0, 1, QueueOp::Push(1), QueueRet::Pushed)
        .op(1, 2, 4, QueueOp::Pop, QueueRet::Popped(Some(1)))
        .op(2, 3, 5, QueueOp::Pop, QueueRet::Popped(Some(1)));
    rejects(QueueSpec::unbounded(), &duplicate);
}

#[test]
fn bounded_queue_full_only_when_full() {
    let ok = History::new()
        .op(0, 0, 1, QueueOp::Push(1), QueueRet::Pushed)
        .op(0, 2, 5, QueueOp::Push(2), QueueRet::Full)
        .op(1, 3, 4, QueueOp::Pop, QueueRet::Popped(Some(1)));
    accepts(QueueSpec::bounded(1), &ok);
    let stale_full = History::new()
        .op(0, 0, 1, QueueOp::Push(1), QueueRet::Pushed)
        .op(1, 2, 3, QueueOp::Pop, QueueRet::Popped(Some(1)))
        .op(0, 4, 5, QueueOp::Push(2), QueueRet::Full);
    rejects(QueueSpec::bounded(1), &stale_full);
}

// ---- SPSC FIFO ----

#[test]
fn spsc_accepts_a_good_history_and_rejects_an_invented_item() {
    let good = History::new()
        .op(0, 0, 2, QueueOp::Push(1), QueueRet::Pushed)
        .op(1, 1, 3, QueueOp::Pop, QueueRet::Popped(None))
        .op(0, 4, 6, QueueOp::Push(2), QueueRet::Pushed)
        .op(0, 7, 8, QueueOp::Push(3), QueueRet::Full)
        .op(1, 5, 9, QueueOp::Pop, QueueRet::Popped(Some(1)));
    assert_spsc_roles(&good);
    accepts(SpscSpec::bounded(2), &good);
    let invented = History::new()
        .op(0, 0, 1, QueueOp::Push(1), QueueRet::Pushed)
        .op(1, 2, 3, QueueOp::Pop, QueueRet::Popped(Some(1)))
        .op(1, 4, 5, QueueOp::Pop, QueueRet::Popped(Some(1)));
    rejects(SpscSpec::bounded(2), &invented);
}

#[test]
#[should_panic(expected = "same SPSC role")]
fn spsc_roles_reject_two_producers() {
    let h = History::new().op(0, 0, 1, QueueOp::Push(1), QueueRet::Pushed).op(
        1,
        2,
        3,
        QueueOp::Push(2),
        QueueRet::Pushed,
    );
    assert_spsc_roles(&h);
}

// ---- the search itself ----

#[test]
fn memoisation_keeps_wide_overlap_cheap() {
    // Twenty adds all overlapping, returning their tickets in scrambled
    // order: 20! orders, but only 2^20 (set, state) pairs at most, and the
    // matching ones are a thin path.
    let n = 20u64;
    let mut h = History::new();
    for t in 0..n {
        h = h.op(t as usize, t, 100 + t, Add(1), Value((t * 7) % n));
    }
    let stats = lin::assert_linearizable(CounterSpec::default(), &h);
    assert!(stats.explored < 10_000, "{stats:?}");
}

#[test]
fn recorded_sequential_history_is_accepted() {
    // A single-threaded run through the recorder is trivially linearizable.
    let h = lin::stress(1, |_, rec| {
        let mut spec = CounterSpec::default();
        for i in 0..common::scaled(1000) as u64 {
            let op = if i % 3 == 0 { Take } else { Add(i) };
            rec.call(op, |op| spec.step(op));
        }
    });
    lin::assert_linearizable(CounterSpec::default(), &h);
}

#[test]
fn report_names_the_calls_that_cannot_be_placed() {
    let h = History::new().op(0, 0, 2, Add(1), Value(0)).op(1, 1, 3, Add(1), Value(0));
    let report = std::panic::catch_unwind(|| {
        lin::assert_linearizable(CounterSpec::default(), &h);
    })
    .unwrap_err();
    let text = report.downcast_ref::<String>().unwrap();
    assert!(text.contains("not linearizable") && text.contains("Add(1) -> Value(0)"), "{text}");
}
