//! Sequential specification of a LIFO stack (Treiber stack).

use super::Model;
use std::fmt::Debug;
use std::hash::Hash;

/// A stack's state: its items, top last.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct StackSpec<T> {
    pub items: Vec<T>,
}

impl<T> Default for StackSpec<T> {
    fn default() -> Self {
        Self { items: Vec::new() }
    }
}

/// Stack operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackOp<T> {
    Push(T),
    Pop,
}

/// What a stack operation returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackRet<T> {
    Pushed,
    /// The popped item, `None` when the stack was empty.
    Popped(Option<T>),
}

impl<T: Clone + Hash + Eq + Debug> Model for StackSpec<T> {
    type Op = StackOp<T>;
    type Ret = StackRet<T>;

    fn step(&mut self, op: &StackOp<T>) -> StackRet<T> {
        match op {
            StackOp::Push(x) => {
                self.items.push(x.clone());
                StackRet::Pushed
            }
            StackOp::Pop => StackRet::Popped(self.items.pop()),
        }
    }
}
