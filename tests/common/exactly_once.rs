//! Numbered items and a book of what became of each one: delivered (handed to
//! the consumer), dropped, or neither (leaked). For tests that leak on
//! purpose: an item owns no heap memory, so an item leaked with a handle or a
//! chunk leaves nothing for Miri's leak checker to report, and a handle that
//! owns memory is leaked through [`leak`], which keeps it reachable from a
//! `static`.
//!
//! Include it with `#[path = "common/exactly_once.rs"] mod exactly_once;`.
#![allow(dead_code, clippy::disallowed_types, clippy::disallowed_methods)]

use std::any::Any;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What happened to one item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fate {
    pub delivered: u32,
    pub dropped: u32,
}

/// The record of every item made since the last [`Book::reset`]. Meant to be
/// a `static` of the test that uses it (`static BOOK: Book = Book::new();`).
pub struct Book {
    fates: Mutex<Log>,
    /// Ids in the order they were delivered.
    order: Mutex<Vec<usize>>,
}

/// The fates of the items of the current epoch (one epoch per reset).
struct Log {
    epoch: usize,
    fates: Vec<Fate>,
}

impl std::ops::Deref for Log {
    type Target = Vec<Fate>;
    fn deref(&self) -> &Vec<Fate> {
        &self.fates
    }
}

impl std::ops::DerefMut for Log {
    fn deref_mut(&mut self) -> &mut Vec<Fate> {
        &mut self.fates
    }
}

impl Book {
    pub const fn new() -> Self {
        Self {
            fates: Mutex::new(Log { epoch: 0, fates: Vec::new() }),
            order: Mutex::new(Vec::new()),
        }
    }

    fn fates(&self) -> MutexGuard<'_, Log> {
        // An item's drop may run while a test unwinds: never poison the book.
        self.fates.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a new epoch: the items made so far are no longer recorded
    /// (dropping one later changes nothing).
    pub fn reset(&self) {
        let mut log = self.fates();
        log.epoch += 1;
        log.clear();
        drop(log);
        self.order.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// A new item; ids count from 0 after each reset.
    pub fn item(&'static self) -> Item {
        let mut log = self.fates();
        log.push(Fate::default());
        Item { id: log.len() - 1, epoch: log.epoch, book: self }
    }

    /// `n` new items.
    pub fn items(&'static self, n: usize) -> Vec<Item> {
        (0..n).map(|_| self.item()).collect()
    }

    /// Records that `item` reached the consumer, then drops it.
    pub fn deliver(&self, item: Item) {
        let mut log = self.fates();
        assert_eq!(log.epoch, item.epoch, "item {} of an earlier epoch delivered", item.id);
        log[item.id].delivered += 1;
        drop(log);
        self.order.lock().unwrap_or_else(PoisonError::into_inner).push(item.id);
        drop(item);
    }

    /// Ids in delivery order.
    pub fn delivered(&self) -> Vec<usize> {
        self.order.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn fate(&self, id: usize) -> Fate {
        self.fates()[id]
    }

    /// Ids dropped at least once.
    pub fn dropped(&self) -> Vec<usize> {
        let fates = self.fates();
        (0..fates.len()).filter(|&id| fates[id].dropped > 0).collect()
    }

    /// Ids neither delivered nor dropped.
    pub fn leaked(&self) -> Vec<usize> {
        let fates = self.fates();
        (0..fates.len()).filter(|&id| fates[id] == Fate::default()).collect()
    }

    /// No item delivered twice or dropped twice, and every delivered item
    /// dropped (the consumer never keeps one).
    pub fn assert_never_twice(&self) {
        for (id, fate) in self.fates().iter().enumerate() {
            assert!(fate.delivered <= 1, "item {id} delivered {} times", fate.delivered);
            assert!(fate.dropped <= 1, "item {id} dropped {} times", fate.dropped);
            assert!(fate.delivered <= fate.dropped, "item {id} delivered and kept");
        }
    }

    /// [`assert_never_twice`](Self::assert_never_twice), the delivery order,
    /// and exactly which items were leaked (neither delivered nor dropped).
    pub fn assert_outcome(&self, delivered: &[usize], leaked: &[usize], context: &str) {
        self.assert_never_twice();
        assert_eq!(self.delivered(), delivered, "{context}: delivered");
        assert_eq!(self.leaked(), leaked, "{context}: leaked");
    }
}

/// An item with an id; its drop is counted in its book.
#[derive(Debug)]
pub struct Item {
    pub id: usize,
    epoch: usize,
    book: &'static Book,
}

impl std::fmt::Debug for Book {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Book").finish_non_exhaustive()
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        let mut log = self.book.fates();
        if log.epoch == self.epoch {
            log[self.id].dropped += 1;
        }
    }
}

/// Never runs `value`'s destructor, as `mem::forget`, but keeps it (and the
/// memory it owns) reachable from a `static`, so that Miri's leak checker
/// does not report the leak the test makes on purpose.
pub fn leak<T: Send + 'static>(value: T) {
    static KEPT: Mutex<Vec<Box<dyn Any + Send>>> = Mutex::new(Vec::new());
    KEPT.lock().unwrap_or_else(PoisonError::into_inner).push(Box::new(value));
}
