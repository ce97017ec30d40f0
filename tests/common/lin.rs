//! A linearizability checker for histories recorded by stress tests.
//!
//! A concurrent object is *linearizable* when every history of calls on it
//! can be explained by some sequential order of the same calls that (1)
//! respects real time — a call that returned before another was invoked comes
//! first — and (2) gives every call the result the object's sequential
//! specification (a [`Model`]) gives it in that order.
//!
//! # How a test uses it
//!
//! ```ignore
//! let history = lin::stress(3, |thread, rec| {
//!     for i in 0..100 {
//!         rec.call(CounterOp::Add(1), |_| CounterRet::Value(counter.add(1)));
//!     }
//! });
//! lin::assert_linearizable(CounterSpec::default(), &history);
//! ```
//!
//! Each thread records, per call, an invocation and a response timestamp from
//! one shared [`Clock`] (a `SeqCst` `fetch_add`, so the clock's order is
//! consistent with happens-before: if call A's response tick precedes call
//! B's invocation tick, A's operation happens-before B's). Recording is
//! per-thread (a `Vec` push per call, no sharing besides the clock) and the
//! histories are merged after the threads are joined.
//!
//! # The search
//!
//! Wing & Gong's algorithm (J. Parallel Distrib. Comput. 1993) with Lowe's
//! memoisation ("Testing for linearizability", Concurrency and Computation
//! 2017): a depth-first search that repeatedly picks, among the calls not yet
//! linearized, one that may come next — a call invoked before every pending
//! call's response — applies it to a clone of the model, and keeps it if the
//! model returns what the call really returned. Lowe's cache remembers every
//! configuration (set of linearized calls as a bitset, model state) already
//! explored, so a configuration reached by two different orders is searched
//! once; this makes histories of a few thousand calls from a handful of
//! threads take milliseconds.
//!
//! Calls that never returned are not supported: every recorded call has a
//! response (stress tests join their threads). P-compositionality (checking a
//! map or a multi-queue key by key) is not implemented; none of the objects
//! here needs it.
//!
//! # What it does not see
//!
//! The shared clock is itself a synchronising `SeqCst` read-modify-write, so
//! recording adds happens-before edges between threads and can hide a missing
//! ordering. The checker tests the *algorithm* (no lost, duplicated,
//! reordered or invented result); orderings are loom's and Miri's job.
//!
//! # Adding a specification
//!
//! One file per object under `tests/common/lin/`: a state type deriving
//! `Clone, Hash, PartialEq, Eq, Debug`, an operation enum and a result enum,
//! and `impl Model` whose `step` is the plain sequential behaviour. Add a
//! `pub mod` line below, a good and a bad hand-built history for it in
//! `tests/linearizability.rs`, and a stress test in `tests/<primitive>.rs`.
#![allow(dead_code, clippy::disallowed_types)]

pub mod counter;
pub mod queue;
pub mod spsc;
pub mod stack;

use std::collections::HashSet;
use std::fmt::{self, Debug};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// The sequential specification of an object: its state and what one
/// operation does to it.
pub trait Model: Clone + Hash + Eq + Debug {
    /// An operation with its arguments.
    type Op: Debug;
    /// What an operation returns.
    type Ret: PartialEq + Debug;
    /// Applies `op` to the state and returns its result.
    fn step(&mut self, op: &Self::Op) -> Self::Ret;
}

/// A shared logical clock: each tick is unique and later ticks are later in
/// real time (the ticks are one `SeqCst` read-modify-write chain).
#[derive(Debug, Default)]
pub struct Clock(AtomicU64);

impl Clock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn tick(&self) -> u64 {
        self.0.fetch_add(1, SeqCst)
    }
}

/// One completed call: its thread, invocation and response ticks, the
/// operation and what it returned.
#[derive(Debug, Clone)]
pub struct Call<Op, Ret> {
    pub thread: usize,
    pub invoked: u64,
    pub returned: u64,
    pub op: Op,
    pub ret: Ret,
}

/// A thread's recorder: timestamps each call with the shared clock.
#[derive(Debug)]
pub struct Recorder<'c, Op, Ret> {
    clock: &'c Clock,
    thread: usize,
    calls: Vec<Call<Op, Ret>>,
}

impl<'c, Op, Ret: Clone> Recorder<'c, Op, Ret> {
    pub fn new(clock: &'c Clock, thread: usize) -> Self {
        Self { clock, thread, calls: Vec::new() }
    }

    /// Runs `f` (the real call) between two clock ticks and records it.
    pub fn call(&mut self, op: Op, f: impl FnOnce(&Op) -> Ret) -> Ret {
        let invoked = self.clock.tick();
        let ret = f(&op);
        let returned = self.clock.tick();
        self.calls.push(Call { thread: self.thread, invoked, returned, op, ret: ret.clone() });
        ret
    }

    pub fn into_calls(self) -> Vec<Call<Op, Ret>> {
        self.calls
    }
}

/// A history: completed calls from any number of threads.
#[derive(Debug, Clone)]
pub struct History<Op, Ret> {
    pub calls: Vec<Call<Op, Ret>>,
}

impl<Op, Ret> Default for History<Op, Ret> {
    fn default() -> Self {
        Self { calls: Vec::new() }
    }
}

impl<Op, Ret> History<Op, Ret> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a hand-built call on `thread` spanning the ticks `invoked..returned`.
    pub fn op(mut self, thread: usize, invoked: u64, returned: u64, op: Op, ret: Ret) -> Self {
        assert!(invoked < returned, "a call returns after it is invoked");
        self.calls.push(Call { thread, invoked, returned, op, ret });
        self
    }

    /// Merges the recorders of joined threads.
    pub fn merge<'c>(recorders: impl IntoIterator<Item = Recorder<'c, Op, Ret>>) -> Self {
        Self { calls: recorders.into_iter().flat_map(|r| r.calls).collect() }
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }
}

/// Runs `body` on `threads` scoped threads, each with its own recorder on one
/// shared clock, and returns the merged history.
pub fn stress<Op, Ret, F>(threads: usize, body: F) -> History<Op, Ret>
where
    Op: Send,
    Ret: Send + Clone,
    F: Fn(usize, &mut Recorder<'_, Op, Ret>) + Sync,
{
    let clock = Clock::new();
    let recorders = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (clock, body) = (&clock, &body);
                s.spawn(move || {
                    let mut rec = Recorder::new(clock, t);
                    body(t, &mut rec);
                    rec
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
    });
    History::merge(recorders)
}

/// Why a history is not linearizable: the longest sequential prefix the
/// search found, and the calls none of which could extend it.
pub struct Violation<M: Model> {
    pub longest_prefix: Vec<usize>,
    pub state_after_prefix: M,
    pub stuck_on: Vec<usize>,
    pub explored: usize,
}

/// How far a search went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Configurations (linearized set, model state) explored.
    pub explored: usize,
}

/// Upper bound on explored configurations before the search gives up
/// (inconclusive: a panic, never a pass).
pub const MAX_EXPLORED: usize = 5_000_000;

/// Searches for a linearization of `history` against the model starting in
/// state `init`. `Ok` holds the order found (indices into `history.calls`).
pub fn check<M: Model>(
    init: M,
    history: &History<M::Op, M::Ret>,
) -> Result<(Vec<usize>, Stats), Violation<M>> {
    let calls = &history.calls;
    let n = calls.len();
    // Calls sorted by invocation, so candidates are a prefix scan.
    let mut by_invocation: Vec<usize> = (0..n).collect();
    by_invocation.sort_by_key(|&i| calls[i].invoked);
    let words = n.div_ceil(64);

    struct Frame<M> {
        done: Vec<u64>,
        state: M,
        candidates: Vec<usize>,
        next: usize,
    }
    let is_done = |done: &[u64], i: usize| done[i / 64] >> (i % 64) & 1 == 1;
    // The calls that may be linearized next: not done, and invoked before the
    // earliest response among the calls not done.
    let candidates = |done: &[u64]| -> Vec<usize> {
        let earliest = by_invocation
            .iter()
            .filter(|&&i| !is_done(done, i))
            .map(|&i| calls[i].returned)
            .min()
            .unwrap_or(u64::MAX);
        by_invocation
            .iter()
            .copied()
            .take_while(|&i| calls[i].invoked < earliest)
            .filter(|&i| !is_done(done, i))
            .collect()
    };

    let mut seen: HashSet<(Vec<u64>, M)> = HashSet::new();
    let root_done = vec![0u64; words];
    let root_candidates = candidates(&root_done);
    let mut path: Vec<usize> = Vec::new();
    let mut stack =
        vec![Frame { done: root_done, state: init, candidates: root_candidates, next: 0 }];
    let mut best: (Vec<usize>, Option<M>, Vec<usize>) = (Vec::new(), None, Vec::new());
    let mut explored = 1;
    while let Some(frame) = stack.last_mut() {
        if path.len() == n {
            return Ok((path, Stats { explored }));
        }
        if frame.next == frame.candidates.len() {
            if best.1.is_none() || path.len() > best.0.len() {
                best = (path.clone(), Some(frame.state.clone()), frame.candidates.clone());
            }
            stack.pop();
            path.pop();
            continue;
        }
        let i = frame.candidates[frame.next];
        frame.next += 1;
        let mut state = frame.state.clone();
        if state.step(&calls[i].op) != calls[i].ret {
            continue;
        }
        let mut done = frame.done.clone();
        done[i / 64] |= 1 << (i % 64);
        if !seen.insert((done.clone(), state.clone())) {
            continue; // Lowe's cache: this configuration was already searched
        }
        explored += 1;
        assert!(
            explored <= MAX_EXPLORED,
            "linearizability search gave up after {explored} configurations"
        );
        let candidates = candidates(&done);
        path.push(i);
        stack.push(Frame { done, state, candidates, next: 0 });
    }
    let (longest_prefix, state, stuck_on) = best;
    Err(Violation {
        longest_prefix,
        state_after_prefix: state.expect("root explored"),
        stuck_on,
        explored,
    })
}

/// Panics with a readable report unless `history` is linearizable; returns
/// the search statistics.
pub fn assert_linearizable<M: Model>(init: M, history: &History<M::Op, M::Ret>) -> Stats
where
    M::Ret: Clone,
{
    match check(init, history) {
        Ok((_, stats)) => stats,
        Err(v) => panic!("{}", Report { violation: &v, history }),
    }
}

struct Report<'a, M: Model> {
    violation: &'a Violation<M>,
    history: &'a History<M::Op, M::Ret>,
}

impl<M: Model> fmt::Display for Report<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.violation;
        let show = |f: &mut fmt::Formatter<'_>, i: usize| {
            let c = &self.history.calls[i];
            writeln!(
                f,
                "    #{i} thread {} [{}, {}] {:?} -> {:?}",
                c.thread, c.invoked, c.returned, c.op, c.ret
            )
        };
        writeln!(
            f,
            "history of {} calls is not linearizable ({} configurations explored)",
            self.history.len(),
            v.explored
        )?;
        writeln!(f, "  longest linearizable prefix ({} calls):", v.longest_prefix.len())?;
        let shown = v.longest_prefix.len().saturating_sub(20);
        for &i in &v.longest_prefix[shown..] {
            show(f, i)?;
        }
        writeln!(f, "  state after it: {:?}", v.state_after_prefix)?;
        writeln!(f, "  no candidate call returns what it really returned there:")?;
        for &i in &v.stuck_on {
            show(f, i)?;
        }
        Ok(())
    }
}
