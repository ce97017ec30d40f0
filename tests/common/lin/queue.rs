//! Sequential specification of a FIFO queue, bounded or not (MS queue,
//! bounded MPMC queues; `spsc` reuses it).

use super::Model;
use std::collections::VecDeque;
use std::fmt::Debug;
use std::hash::Hash;

/// A queue's state: its items, head first, and its capacity (`None`: unbounded).
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct QueueSpec<T> {
    pub items: VecDeque<T>,
    pub capacity: Option<usize>,
}

impl<T> QueueSpec<T> {
    pub fn unbounded() -> Self {
        Self { items: VecDeque::new(), capacity: None }
    }

    pub fn bounded(capacity: usize) -> Self {
        Self { items: VecDeque::new(), capacity: Some(capacity) }
    }
}

/// Queue operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueOp<T> {
    Push(T),
    Pop,
}

/// What a queue operation returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueRet<T> {
    Pushed,
    /// A bounded queue was full; the item was not enqueued.
    Full,
    /// The dequeued item, `None` when the queue was empty.
    Popped(Option<T>),
}

impl<T: Clone + Hash + Eq + Debug> Model for QueueSpec<T> {
    type Op = QueueOp<T>;
    type Ret = QueueRet<T>;

    fn step(&mut self, op: &QueueOp<T>) -> QueueRet<T> {
        match op {
            QueueOp::Push(x) => {
                if self.capacity.is_some_and(|c| self.items.len() >= c) {
                    QueueRet::Full
                } else {
                    self.items.push_back(x.clone());
                    QueueRet::Pushed
                }
            }
            QueueOp::Pop => QueueRet::Popped(self.items.pop_front()),
        }
    }
}
