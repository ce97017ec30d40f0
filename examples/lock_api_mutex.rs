//! A bank ledger on acqrel's locks through `lock_api`: tellers deposit into
//! and transfer between accounts held in a `SpinMutex` (short critical
//! sections, the case a spin lock is for), and append every change to a
//! journal behind a `TicketMutex`, which serves them in arrival order. Three
//! other `lock_api` features appear where a program would want them:
//!
//! - a mapped guard (`MappedSpinMutexGuard`) hands a deposit one account and
//!   nothing else, while the whole bank stays locked;
//! - an auditor takes the bank with `try_lock_for` and skips a round rather
//!   than wait long, and checks that money is conserved in every snapshot;
//! - a compactor folds the journal into a checkpoint under one long lock,
//!   calling `TicketMutexGuard::bump` every few hundred entries so that
//!   tellers queued behind it get their turn.
//!
//! At the end the checkpoint, replayed from the journal alone, must equal
//! the bank, and every teller's operations must appear in the journal once
//! each, in the order that teller made them.
//!
//! ```text
//! cargo run --release --example lock_api_mutex --features lock_api
//! ```
#![allow(clippy::disallowed_methods)]

use acqrel::lock_api::{
    MappedSpinMutexGuard, SpinMutex, SpinMutexGuard, TicketMutex, TicketMutexGuard,
};
use std::thread;
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 32;
const OPENING_BALANCE: i64 = 1_000;
const TELLERS: usize = 2;
const OPERATIONS: u64 = 250_000; // per teller
/// Entries the compactor folds between two `bump`s.
const FOLD_BETWEEN_BUMPS: usize = 256;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Account {
    balance: i64,
    /// Money deposited from outside: what the balances may exceed the
    /// opening balances by.
    deposited: i64,
}

/// One change, as journalled.
#[derive(Debug)]
struct Entry {
    teller: usize,
    /// The teller's own operation number.
    number: u64,
    /// `None` for a deposit.
    from: Option<usize>,
    to: usize,
    amount: i64,
}

/// One account of the bank, locked with the whole bank: the mapped guard
/// lets the caller touch this account and nothing else.
fn account(bank: &SpinMutex<[Account; ACCOUNTS]>, id: usize) -> MappedSpinMutexGuard<'_, Account> {
    SpinMutexGuard::map(bank.lock(), |accounts| &mut accounts[id])
}

/// Moves `amount` from `from` to `to` if `from` has it; true if it moved.
fn transfer(bank: &SpinMutex<[Account; ACCOUNTS]>, from: usize, to: usize, amount: i64) -> bool {
    let mut accounts = bank.lock();
    if accounts[from].balance < amount {
        return false;
    }
    accounts[from].balance -= amount;
    accounts[to].balance += amount;
    true
}

/// Checks the bank's invariant on one snapshot: balances add up to the
/// opening balances plus what was deposited.
fn audit(accounts: &[Account; ACCOUNTS]) {
    let balances: i64 = accounts.iter().map(|a| a.balance).sum();
    let deposited: i64 = accounts.iter().map(|a| a.deposited).sum();
    assert_eq!(balances, ACCOUNTS as i64 * OPENING_BALANCE + deposited, "money was lost or made");
    assert!(accounts.iter().all(|a| a.balance >= 0), "an account was overdrawn");
}

/// Folds journal entries into the checkpoint, checking that each teller's
/// entries come in the order the teller made them, with none missing.
struct Checkpoint {
    accounts: [Account; ACCOUNTS],
    next_number: [u64; TELLERS],
    entries: u64,
}

impl Checkpoint {
    fn fold(&mut self, entry: Entry) {
        assert_eq!(entry.number, self.next_number[entry.teller], "teller {}'s order", entry.teller);
        self.next_number[entry.teller] = entry.number + 1;
        match entry.from {
            Some(from) => self.accounts[from].balance -= entry.amount,
            None => self.accounts[entry.to].deposited += entry.amount,
        }
        self.accounts[entry.to].balance += entry.amount;
        self.entries += 1;
    }

    /// Folds the entries the journal holds now, under one lock, bumping
    /// every `FOLD_BETWEEN_BUMPS` entries so that waiting tellers go first.
    fn compact(&mut self, journal: &TicketMutex<Vec<Entry>>) {
        let mut entries = journal.lock();
        let mut left = entries.len();
        while left > 0 {
            let n = left.min(FOLD_BETWEEN_BUMPS);
            for entry in entries.drain(..n) {
                self.fold(entry);
            }
            left -= n;
            // Hands the lock to each queued teller and waits behind them (a
            // no-op when nobody waits); what they append is left for the
            // next compaction.
            TicketMutexGuard::bump(&mut entries);
        }
    }
}

/// A teller's deterministic stream of operations.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// One teller: returns (deposited, transfers made, transfers refused).
fn teller(
    id: usize,
    bank: &SpinMutex<[Account; ACCOUNTS]>,
    journal: &TicketMutex<Vec<Entry>>,
) -> (i64, u64, u64) {
    let mut rng = 0x2545_f491_4f6c_dd1d ^ (id as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let (mut deposited, mut moved, mut refused) = (0, 0, 0);
    for number in 0..OPERATIONS {
        let r = next_random(&mut rng);
        let to = (r % ACCOUNTS as u64) as usize;
        let amount = (r >> 32) as i64 % 500 + 1;
        let entry = if r >> 60 == 0 {
            // One operation in sixteen is a deposit.
            let mut account = account(bank, to);
            account.balance += amount;
            account.deposited += amount;
            drop(account);
            deposited += amount;
            Entry { teller: id, number, from: None, to, amount }
        } else {
            let from = ((r >> 8) % ACCOUNTS as u64) as usize;
            if !transfer(bank, from, to, amount) {
                refused += 1;
                // Journalled all the same, as a transfer of nothing, so that
                // the teller's numbering has no gaps.
                Entry { teller: id, number, from: Some(from), to, amount: 0 }
            } else {
                moved += 1;
                Entry { teller: id, number, from: Some(from), to, amount }
            }
        };
        journal.lock().push(entry);
    }
    (deposited, moved, refused)
}

fn main() {
    let bank = SpinMutex::new([Account { balance: OPENING_BALANCE, deposited: 0 }; ACCOUNTS]);
    let journal = TicketMutex::new(Vec::new());
    let mut checkpoint = Checkpoint {
        accounts: [Account { balance: OPENING_BALANCE, deposited: 0 }; ACCOUNTS],
        next_number: [0; TELLERS],
        entries: 0,
    };
    let (mut audits, mut skipped) = (0u64, 0u64);
    let started = Instant::now();
    let results: Vec<(i64, u64, u64)> = thread::scope(|s| {
        let tellers: Vec<_> = (0..TELLERS)
            .map(|id| {
                let (bank, journal) = (&bank, &journal);
                s.spawn(move || teller(id, bank, journal))
            })
            .collect();
        // This thread is the auditor and the compactor, until the tellers
        // are done.
        loop {
            let done = tellers.iter().all(|t| t.is_finished());
            match bank.try_lock_for(Duration::from_micros(50)) {
                Some(accounts) => {
                    audit(&accounts);
                    audits += 1;
                }
                None => skipped += 1,
            }
            checkpoint.compact(&journal);
            if done {
                break;
            }
            thread::yield_now();
        }
        tellers.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();

    let bank = bank.into_inner();
    audit(&bank);
    assert!(journal.lock().is_empty(), "the last compaction ran after the last append");
    let deposited: i64 = results.iter().map(|r| r.0).sum();
    let moved: u64 = results.iter().map(|r| r.1).sum();
    let refused: u64 = results.iter().map(|r| r.2).sum();
    assert_eq!(bank.iter().map(|a| a.deposited).sum::<i64>(), deposited);
    assert_eq!(checkpoint.entries, TELLERS as u64 * OPERATIONS, "a journal entry was lost");
    assert_eq!(checkpoint.next_number, [OPERATIONS; TELLERS]);
    assert_eq!(checkpoint.accounts, bank, "the journal does not replay to the bank");
    println!(
        "{TELLERS} tellers, {} operations in {:.2} s: {moved} transfers, {refused} refused for \
         want of funds, {deposited} deposited",
        TELLERS as u64 * OPERATIONS,
        elapsed.as_secs_f64()
    );
    println!(
        "{audits} audits (each saw money conserved), {skipped} skipped when the bank stayed \
         locked past 50 µs; the journal replays to the bank exactly"
    );
}
