//! How long a blocking waiter keeps polling before it parks (`std` only).
//!
//! Parking costs both sides: the waiter a sleep and a wake-up (two context
//! switches), the waker a system call. A wait that ends within a few
//! microseconds is far cheaper to poll through. [`Patience`] polls in two
//! phases: a short spin (one spin hint per poll), then polls separated by
//! `yield_now` until [`BUDGET`] has passed since the first yield; only then
//! does the caller park. The yields keep an oversubscribed machine moving:
//! a waiter whose peer is not running gives it the processor.
//!
//! The budget is a speed heuristic, not part of any proof: whatever it is,
//! the caller parks through its own hand-shake (SAFETY.md [SPSC-I5](crate::safety#SPSC-I5),
//! [DSR-O7](crate::safety#DSR-O7)). Under loom a waiter parks at once, so the models reach the
//! park path without the scheduling points the polls would add.

use std::time::{Duration, Instant};

/// Polls of the spin phase, one spin hint each.
const SPIN_POLLS: u32 = 64;

/// How long a waiter polls (spinning, then yielding) before it parks:
/// longer than a parked thread takes to wake on a typical virtual machine
/// (tens of microseconds), so that two threads handing work back and forth
/// through a full or empty queue do not put each other to sleep in turn,
/// and short enough that an idle waiter's polling is lost in its sleep.
pub(crate) const BUDGET: Duration = Duration::from_micros(100);

/// One waiter's polling state; make a new one for each wait.
pub(crate) struct Patience {
    polls: u32,
    yielding_since: Option<Instant>,
}

impl Patience {
    pub(crate) fn new() -> Self {
        Self { polls: 0, yielding_since: None }
    }

    /// Pauses before the next poll and returns true, or returns false when
    /// the waiter should park now.
    #[inline]
    pub(crate) fn poll_again(&mut self) -> bool {
        if cfg!(loom) {
            return false;
        }
        if self.polls < SPIN_POLLS {
            self.polls += 1;
            crate::loom::spin_loop();
            return true;
        }
        let since = *self.yielding_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= BUDGET {
            return false;
        }
        crate::loom::yield_now();
        true
    }
}
