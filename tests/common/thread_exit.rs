//! Runs test code from a thread-local destructor, during a thread's exit.
//!
//! Thread-local destructors run in reverse order of registration, so a
//! destructor registered *before* crossbeam-epoch's per-thread handle runs
//! after that handle is gone: `crossbeam_epoch::pin()` then has to register a
//! fresh handle. [`Teardown`] picks which of the two orders a run gets, and
//! the late order checks that it really ran after the handle's destructor.
//!
//! Included with `#[path = "common/thread_exit.rs"] mod thread_exit;` by the
//! test files that use it.
#![allow(dead_code, clippy::disallowed_types, clippy::disallowed_methods)]

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::mpsc;
use std::thread;

/// When the test code runs relative to crossbeam-epoch's per-thread handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Teardown {
    /// The thread never pins (for code that does not use crossbeam-epoch,
    /// which Miri can then run with strict provenance).
    WithoutEpoch,
    /// The handle is registered first, so the code runs while it still lives.
    BeforeEpochHandle,
    /// The code's destructor is registered first, so it runs after the
    /// handle was destroyed.
    AfterEpochHandle,
}

/// Both orders, for tests that run under each.
pub const BOTH: [Teardown; 2] = [Teardown::BeforeEpochHandle, Teardown::AfterEpochHandle];

type Job = Box<dyn FnOnce()>;

/// Runs its job when the thread's locals are destroyed.
struct Runner(Option<Job>);

impl Drop for Runner {
    fn drop(&mut self) {
        if let Some(job) = self.0.take() {
            job();
        }
    }
}

/// A local registered after the epoch handle: if it is already gone when the
/// job runs, so is the handle.
struct Marker;

impl Drop for Marker {
    fn drop(&mut self) {}
}

thread_local! {
    static RUNNER: RefCell<Runner> = const { RefCell::new(Runner(None)) };
    static MARKER: Marker = const { Marker };
}

/// A thread whose exit runs the job; [`join`](Self::join) returns its result.
pub struct Exiting<R> {
    handle: thread::JoinHandle<()>,
    result: mpsc::Receiver<thread::Result<R>>,
}

impl<R> Exiting<R> {
    /// Waits for the thread, destructors included, and returns what the job
    /// returned (or resumes its panic here).
    pub fn join(self) -> R {
        self.handle.join().expect("the thread's own body does not panic");
        match self.result.recv().expect("the thread-local destructor ran the job") {
            Ok(value) => value,
            Err(panic) => resume_unwind(panic),
        }
    }
}

/// Spawns a thread that does nothing but arrange for `job` to run from a
/// thread-local destructor as it exits, in the given order relative to
/// crossbeam-epoch's handle.
pub fn spawn_exiting<R, F>(when: Teardown, job: F) -> Exiting<R>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    let (tx, result) = mpsc::channel();
    let handle = thread::spawn(move || {
        let run: Job = Box::new(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                if when == Teardown::AfterEpochHandle {
                    assert!(
                        MARKER.try_with(|_| ()).is_err(),
                        "locals registered after this one, the epoch handle among them, are gone"
                    );
                }
                job()
            }));
            let _ = tx.send(outcome);
        });
        match when {
            Teardown::WithoutEpoch => RUNNER.with(|r| r.borrow_mut().0 = Some(run)),
            Teardown::BeforeEpochHandle => {
                drop(crossbeam_epoch::pin()); // registers the handle first
                RUNNER.with(|r| r.borrow_mut().0 = Some(run));
            }
            Teardown::AfterEpochHandle => {
                RUNNER.with(|r| r.borrow_mut().0 = Some(run));
                drop(crossbeam_epoch::pin()); // the handle, after the runner
                MARKER.with(|_| ()); // and the marker after both
            }
        }
    });
    Exiting { handle, result }
}

/// [`spawn_exiting`], joined.
pub fn at_thread_exit<R, F>(when: Teardown, job: F) -> R
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    spawn_exiting(when, job).join()
}
