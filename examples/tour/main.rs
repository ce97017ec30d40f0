//! A tour of acqrel: each primitive on a small workload, measured in the same
//! process next to what a user would otherwise pick for that job — the `std`
//! answer and the strongest crate for it. Every row checks what went through
//! it (items conserved, order kept, sums) and, where acqrel is the slower
//! one, says why and which primitive does that job faster. About 10 to 20 s:
//!
//! ```text
//! cargo run --release --example tour
//! ```
//!
//! The implementations of a row take turns, round after round, and each
//! reports the median of its rounds, so that a burst of other work on the
//! machine lands on all of them rather than on whichever ran at the time. Only the tour's direct peers are
//! dependencies of this crate; the criterion benches (`bench/`) hold the
//! wider field.
//!
//! Under `--cfg loom` the peers are not dependencies and the tour is an empty
//! program.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

#[cfg(not(loom))]
mod counters;
#[cfg(not(loom))]
mod disruptor;
#[cfg(not(loom))]
mod spin_lock;
#[cfg(not(loom))]
mod spsc;
#[cfg(not(loom))]
mod stack_queue;

#[cfg(loom)]
fn main() {}

#[cfg(not(loom))]
fn main() {
    harness::main();
}

/// Rounds, timing, checks and the printed table (not built under loom).
#[cfg(not(loom))]
mod harness {
    use std::time::{Duration, Instant};

    /// Rounds per row: each implementation runs this many times, in turn.
    const ROUNDS: usize = 5;

    /// What a run moved: computed by the code that consumed the items, and
    /// compared with what the workload put in.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) struct Tally {
        /// Items received (or operations counted).
        pub(crate) items: u64,
        /// Their sum (wrapping).
        pub(crate) sum: u64,
        /// Whether the order the row checks held (see [`Row::order`]).
        pub(crate) in_order: bool,
    }

    impl Tally {
        /// The tally of `0..n` received in order.
        pub(crate) fn of_range(n: u64) -> Self {
            Tally { items: n, sum: n.wrapping_mul(n.wrapping_sub(1)) / 2, in_order: true }
        }
    }

    /// The usual words for a tally: items moved and their sum.
    pub(crate) fn items_and_sum(t: &Tally) -> String {
        format!("{} items received, sum {}", t.items, t.sum)
    }

    /// Follows a stream that should be `0, 1, 2, ...` and tallies it.
    #[derive(Default)]
    pub(crate) struct Sequence {
        items: u64,
        sum: u64,
        out_of_order: bool,
    }

    impl Sequence {
        #[inline]
        pub(crate) fn see(&mut self, v: u64) {
            self.out_of_order |= v != self.items;
            self.items += 1;
            self.sum = self.sum.wrapping_add(v);
        }

        /// Items seen so far.
        pub(crate) fn seen(&self) -> u64 {
            self.items
        }

        pub(crate) fn tally(&self) -> Tally {
            Tally { items: self.items, sum: self.sum, in_order: !self.out_of_order }
        }
    }

    /// Waiting for the other thread in a polling loop: spin, and yield now
    /// and then so that a machine with more threads than cores lets the
    /// other side run.
    #[inline]
    pub(crate) fn wait(spins: &mut u32) {
        *spins += 1;
        if *spins % 1024 == 0 {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }

    /// One implementation in a row: where it comes from, what it is, and a
    /// run of the workload returning its time and tally.
    pub(crate) struct Contender<'a> {
        pub(crate) from: &'static str,
        pub(crate) name: &'static str,
        pub(crate) run: Box<dyn FnMut() -> (Duration, Tally) + 'a>,
    }

    impl<'a> Contender<'a> {
        /// A contender whose run is timed as a whole (threads started and
        /// joined inside the timing; a few tens of µs against runs of tens of
        /// milliseconds).
        pub(crate) fn new(
            from: &'static str,
            name: &'static str,
            mut run: impl FnMut() -> Tally + 'a,
        ) -> Self {
            Contender {
                from,
                name,
                run: Box::new(move || {
                    let t0 = Instant::now();
                    let tally = run();
                    (t0.elapsed(), tally)
                }),
            }
        }
    }

    /// One row of the tour: acqrel first, then its rivals.
    pub(crate) struct Row<'a> {
        pub(crate) primitive: &'static str,
        pub(crate) workload: String,
        /// Threads busy at once (more than the cores: oversubscribed).
        pub(crate) threads: usize,
        /// Operations per run, for the M ops/s figure.
        pub(crate) ops: u64,
        /// What every run must tally.
        pub(crate) expected: Tally,
        /// What `in_order` checks, e.g. "FIFO order"; empty when the row
        /// checks no order.
        pub(crate) order: &'static str,
        pub(crate) contenders: Vec<Contender<'a>>,
        /// Words for a tally in the verification line.
        pub(crate) describe: fn(&Tally) -> String,
        /// Printed when a rival is faster: why, and what to use instead.
        pub(crate) if_slower: &'static str,
    }

    /// A finished row for the summary table.
    pub(crate) struct Done {
        primitive: &'static str,
        workload: String,
        threads: String,
        ours: f64,
        rivals: Vec<(&'static str, f64)>,
    }

    /// Prints `text` after `lead`, wrapped at 100 columns with the
    /// continuation lines indented under the text.
    fn print_wrapped(lead: &str, text: &str) {
        let indent = " ".repeat(4);
        let mut line = lead.to_string();
        for word in text.split_whitespace() {
            if line.len() + 1 + word.len() > 100 && line.trim().len() > lead.trim().len() {
                println!("{line}");
                line = indent.clone();
            } else if !line.ends_with(' ') {
                line.push(' ');
            }
            line.push_str(word);
        }
        println!("{line}");
    }

    fn cores() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    fn median(mut v: Vec<Duration>) -> Duration {
        v.sort();
        v[v.len() / 2]
    }

    impl Row<'_> {
        /// Runs every contender `ROUNDS` times in turn, checks every run's
        /// tally and prints the row.
        pub(crate) fn run(mut self) -> Done {
            let cores = cores();
            let load = if self.threads > cores {
                format!("{} threads on {cores} cores: oversubscribed", self.threads)
            } else {
                format!("{} threads", self.threads)
            };
            println!("\n{} — {} ({load})", self.primitive, self.workload);
            let n = self.contenders.len();
            let mut times = vec![Vec::new(); n];
            let mut ours_seen = None;
            for round in 0..ROUNDS {
                // A different implementation goes first in each round.
                for k in 0..n {
                    let i = (round + k) % n;
                    let c = &mut self.contenders[i];
                    let (elapsed, tally) = (c.run)();
                    assert_eq!(
                        tally, self.expected,
                        "{} {}: the run's tally differs from what went in",
                        c.from, c.name
                    );
                    times[i].push(elapsed);
                    if i == 0 {
                        ours_seen = Some(tally);
                    }
                }
            }
            let mops: Vec<f64> = times
                .into_iter()
                .map(|t| self.ops as f64 / median(t).as_secs_f64() / 1e6)
                .collect();
            let ours = mops[0];
            for (c, m) in self.contenders.iter().zip(&mops) {
                let ratio = if c.from == "acqrel" {
                    String::new()
                } else {
                    format!("acqrel {:.2}x", ours / m)
                };
                let line = format!("  {:<11} {:<38} {:>7.1} M ops/s  {ratio}", c.from, c.name, m);
                println!("{}", line.trim_end());
            }
            let seen = ours_seen.expect("at least one round");
            let order = match (self.order, seen.in_order) {
                ("", _) => String::new(),
                (order, true) => format!(", {order} kept"),
                (order, false) => format!(", {order} NOT kept"),
            };
            print_wrapped(
                "  verified:",
                &format!(
                    "acqrel's last run: {}{order}; all {} runs matched the input",
                    (self.describe)(&seen),
                    ROUNDS * n
                ),
            );
            let faster: Vec<&str> = self
                .contenders
                .iter()
                .zip(&mops)
                .skip(1)
                .filter(|(_, m)| **m > ours)
                .map(|(c, _)| c.name)
                .collect();
            if !faster.is_empty() {
                print_wrapped(&format!("  slower than {}:", faster.join(", ")), self.if_slower);
            }
            Done {
                primitive: self.primitive,
                workload: self.workload,
                threads: if self.threads > cores {
                    format!("{}*", self.threads)
                } else {
                    self.threads.to_string()
                },
                ours,
                rivals: self
                    .contenders
                    .iter()
                    .zip(&mops)
                    .skip(1)
                    .map(|(c, m)| (c.name, ours / m))
                    .collect(),
            }
        }
    }

    pub(crate) fn main() {
        let started = Instant::now();
        println!(
            "acqrel tour: {} cores; each row alternates its implementations, median of {ROUNDS} rounds",
            cores()
        );
        let mut done = Vec::new();
        done.extend(crate::counters::tour());
        done.extend(crate::spsc::tour());
        done.extend(crate::disruptor::tour());
        done.extend(crate::spin_lock::tour());
        done.extend(crate::stack_queue::tour());

        println!(
            "\nsummary (ratio = acqrel's throughput / the rival's; > 1 means acqrel is faster)"
        );
        println!(
            "{:<14} {:<44} {:>7} {:>10}  rivals",
            "primitive", "workload", "threads", "acqrel M/s"
        );
        for d in &done {
            let rivals: Vec<String> =
                d.rivals.iter().map(|(name, r)| format!("{r:.2}x {name}")).collect();
            println!(
                "{:<14} {:<44} {:>7} {:>10.1}  {}",
                d.primitive,
                d.workload,
                d.threads,
                d.ours,
                rivals.join(", ")
            );
        }
        println!("(* more busy threads than cores: oversubscribed)");
        println!("\ntour finished in {:.1} s", started.elapsed().as_secs_f64());
    }
}

#[cfg(not(loom))]
pub(crate) use harness::{Contender, Done, Row, Sequence, Tally, items_and_sum, wait};
