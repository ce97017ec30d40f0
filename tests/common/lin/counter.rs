//! Sequential specification of a `u64` counter (`Counter`, `ShardedCounter`).

use super::Model;

/// A counter's state: one wrapping `u64`.
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub struct CounterSpec {
    pub value: u64,
}

/// Counter operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterOp {
    /// Wrapping add returning the previous value (`Counter::add`).
    Add(u64),
    /// Wrapping add whose caller sees nothing (`ShardedCounter::add`/`inc`).
    AddBlind(u64),
    /// Read the value (`Counter::get`).
    Get,
    /// Read and reset to zero (`Counter::take`, `ShardedCounter::take`).
    Take,
    /// Add unless the result would pass `limit` (`Counter::add_bounded`).
    AddBounded { n: u64, limit: u64 },
}

/// What a counter operation returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterRet {
    /// `AddBlind`.
    Unit,
    /// A value read: the previous value (`Add`, `Take`, successful bounded
    /// add) or the current one (`Get`).
    Value(u64),
    /// A refused bounded add, with the value it saw.
    Refused(u64),
}

impl Model for CounterSpec {
    type Op = CounterOp;
    type Ret = CounterRet;

    fn step(&mut self, op: &CounterOp) -> CounterRet {
        let v = self.value;
        match *op {
            CounterOp::Add(n) => {
                self.value = v.wrapping_add(n);
                CounterRet::Value(v)
            }
            CounterOp::AddBlind(n) => {
                self.value = v.wrapping_add(n);
                CounterRet::Unit
            }
            CounterOp::Get => CounterRet::Value(v),
            CounterOp::Take => {
                self.value = 0;
                CounterRet::Value(v)
            }
            CounterOp::AddBounded { n, limit } => match v.checked_add(n).filter(|&s| s <= limit) {
                Some(sum) => {
                    self.value = sum;
                    CounterRet::Value(v)
                }
                None => CounterRet::Refused(v),
            },
        }
    }
}
