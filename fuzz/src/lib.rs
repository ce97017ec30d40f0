//! What the fuzz targets share: a reader that decodes the fuzz input into
//! operations and arguments, and an item that records its drops so a target
//! can check every item it made was dropped exactly once.

use std::cell::RefCell;
use std::rc::Rc;

/// Reads the input as a stream of operations and arguments; past its end,
/// arguments read as 0 and operations stop.
pub struct Input<'a>(pub &'a [u8]);

impl Input<'_> {
    /// The next byte, or `None` at the end of the input.
    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// A small argument: one byte (0 past the end).
    pub fn arg(&mut self) -> usize {
        usize::from(self.byte().unwrap_or(0))
    }

    /// A wide argument: one byte, or (when the byte's top bit is set) a full
    /// `u64`, so that values near `u64::MAX` are common.
    pub fn value(&mut self) -> u64 {
        match self.byte() {
            Some(b) if b & 0x80 != 0 => {
                let mut v = [0xff; 8];
                for byte in &mut v {
                    *byte = self.byte().unwrap_or(0xff);
                }
                u64::from_le_bytes(v)
            }
            Some(b) => u64::from(b),
            None => 0,
        }
    }
}

/// Drops seen per item value (item `v` is entry `v`).
pub type Record = Rc<RefCell<Vec<u32>>>;

/// An item that counts its drops in the shared record and fails at once on
/// a second drop.
#[derive(Debug)]
pub struct Tracked {
    /// The item's value: its index in the record, in the order items were made.
    pub v: u32,
    record: Record,
}

impl Tracked {
    /// The next item of `record`: its value is the number of items made before.
    pub fn new(record: &Record) -> Self {
        let mut r = record.borrow_mut();
        r.push(0);
        let v = u32::try_from(r.len() - 1).expect("fewer than 2^32 items per input");
        Tracked { v, record: Rc::clone(record) }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let mut r = self.record.borrow_mut();
        r[self.v as usize] += 1;
        assert_eq!(r[self.v as usize], 1, "item {} dropped twice", self.v);
    }
}

/// Asserts that exactly the items made and not in `alive` have been dropped,
/// once each.
pub fn check_drops<'a>(record: &Record, alive: impl IntoIterator<Item = &'a u32>) {
    let r = record.borrow();
    let mut held = vec![false; r.len()];
    for &v in alive {
        held[v as usize] = true;
    }
    for (v, &drops) in r.iter().enumerate() {
        let expected = u32::from(!held[v]);
        assert_eq!(drops, expected, "item {v}: {drops} drops, expected {expected}");
    }
}
