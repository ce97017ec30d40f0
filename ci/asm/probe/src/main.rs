//! Probe functions for the instruction check (`ci/asm.sh`): each hot
//! operation of each primitive behind an `#[inline(never)]`, unmangled
//! wrapper (`probe_<primitive>_<operation>`), so its machine code can be found
//! by symbol in the built binary without changing how the library itself is
//! inlined. `ci/asm/<family>.txt` says which instructions each probe must and
//! must not compile to on each architecture.
//!
//! Running it calls every probe once and checks the results, so the probe binary
//! also tests that the probes do what their names say.
//!
//! To cover a new primitive: add `src/<family>.rs` here with its probes and a
//! `check()` that calls them, a `mod` line and a call below, and
//! `ci/asm/<family>.txt` with the expected instructions.

mod counters;
mod disruptor;
mod locks;
mod spsc;
mod stack_queue;

fn main() {
    counters::check();
    spsc::check();
    disruptor::check();
    locks::check();
    stack_queue::check();
    println!("asm_probe: every probe ran");
}
