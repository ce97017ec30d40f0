//! Sequential specification of a bounded single-producer single-consumer
//! FIFO: a bounded [`QueueSpec`] whose history must also respect the roles
//! (one thread pushes, another pops), checked by [`assert_spsc_roles`].

use super::History;
use super::queue::{QueueOp, QueueRet};
/// The SPSC specification: a bounded FIFO.
pub type SpscSpec<T> = super::queue::QueueSpec<T>;

/// Panics unless every push in `history` comes from one thread and every
/// pop from one other thread.
pub fn assert_spsc_roles<T>(history: &History<QueueOp<T>, QueueRet<T>>) {
    let mut producer = None;
    let mut consumer = None;
    for call in &history.calls {
        let role = match call.op {
            QueueOp::Push(_) => &mut producer,
            QueueOp::Pop => &mut consumer,
        };
        assert!(
            role.replace(call.thread).is_none_or(|t| t == call.thread),
            "more than one thread plays the same SPSC role"
        );
    }
    assert!(producer.is_none() || producer != consumer, "one thread both pushes and pops");
}
