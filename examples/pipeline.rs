//! An order pipeline on the Disruptor: a receiver publishes raw wire
//! messages; stage 1 decodes them in place; stage 2 journals and replicates
//! them in parallel; stage 3 applies them to account positions. Every stage
//! counts and checks every event, and the totals are compared with what the
//! receiver sent.
//!
//! ```text
//! cargo run --release --example pipeline
//! ```
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use acqrel::disruptor::{Blocking, Builder, EventHandler};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the journal and the replicator report at shutdown: (stage, events, checksum).
type Report = Arc<Mutex<Vec<(&'static str, u64, u64)>>>;
/// What the business logic reports: (orders applied, positions, notional).
type Outcome = Arc<Mutex<Option<(u64, HashMap<u32, i64>, i128)>>>;

const ORDERS: u64 = 1_000_000;
const ACCOUNTS: u64 = 64;

/// One slot of the ring: the raw message as received, and the fields the
/// decoder fills in. Later stages see the decoder's (Relaxed) stores because
/// they wait for the decoder's sequence, which is published with Release and
/// read with Acquire.
#[derive(Default)]
struct OrderEvent {
    raw: [u8; 24],
    id: AtomicU64,
    account: AtomicU32,
    /// Signed quantity: buys positive, sells negative.
    quantity: AtomicI64,
    price: AtomicI64,
}

/// The wire format: id (8) | account (4) | side (1) | quantity (4) | price (6) | checksum (1).
fn encode(id: u64, raw: &mut [u8; 24]) {
    let account = (id % ACCOUNTS) as u32;
    let side = (id % 3 == 0) as u8; // 1 = sell
    let quantity = (id % 100 + 1) as u32;
    let price = 10_000 + (id % 500) as i64;
    raw[0..8].copy_from_slice(&id.to_le_bytes());
    raw[8..12].copy_from_slice(&account.to_le_bytes());
    raw[12] = side;
    raw[13..17].copy_from_slice(&quantity.to_le_bytes());
    raw[17..23].copy_from_slice(&price.to_le_bytes()[..6]);
    raw[23] = raw[..23].iter().fold(0u8, |a, b| a.wrapping_add(*b));
}

fn signed_quantity(id: u64) -> i64 {
    let q = (id % 100 + 1) as i64;
    if id % 3 == 0 { -q } else { q }
}

struct Decoder {
    decoded: u64,
}

impl EventHandler<OrderEvent> for Decoder {
    fn on_event(&mut self, e: &OrderEvent, sequence: i64, _: bool) {
        let raw = &e.raw;
        let sum = raw[..23].iter().fold(0u8, |a, b| a.wrapping_add(*b));
        assert_eq!(sum, raw[23], "corrupt message at sequence {sequence}");
        let id = u64::from_le_bytes(raw[0..8].try_into().unwrap());
        assert_eq!(id, sequence as u64, "message {id} out of order");
        let quantity = u32::from_le_bytes(raw[13..17].try_into().unwrap()) as i64;
        let mut price = [0u8; 8];
        price[..6].copy_from_slice(&raw[17..23]);
        e.id.store(id, Relaxed);
        e.account.store(u32::from_le_bytes(raw[8..12].try_into().unwrap()), Relaxed);
        e.quantity.store(if raw[12] == 1 { -quantity } else { quantity }, Relaxed);
        e.price.store(i64::from_le_bytes(price), Relaxed);
        self.decoded += 1;
    }
}

/// Journals the raw bytes (here: a running FNV-1a hash standing in for the file).
struct Journal {
    hash: u64,
    count: u64,
    report: Report,
}

impl EventHandler<OrderEvent> for Journal {
    fn on_event(&mut self, e: &OrderEvent, _: i64, end_of_batch: bool) {
        for b in e.raw {
            self.hash = (self.hash ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        self.count += 1;
        if end_of_batch {
            // A real journal would flush here: once per batch, not per event.
        }
    }
    fn on_shutdown(&mut self) {
        self.report.lock().unwrap().push(("journal", self.count, self.hash));
    }
}

/// Replicates to a standby (here: counts bytes "sent" in batches).
struct Replicator {
    pending: u64,
    sent: u64,
    count: u64,
    report: Report,
}

impl EventHandler<OrderEvent> for Replicator {
    fn on_event(&mut self, e: &OrderEvent, _: i64, end_of_batch: bool) {
        self.pending += e.raw.len() as u64;
        self.count += 1;
        if end_of_batch {
            self.sent += self.pending;
            self.pending = 0;
        }
    }
    fn on_shutdown(&mut self) {
        self.report.lock().unwrap().push(("replicate", self.count, self.sent));
    }
}

/// The business logic: positions and notional per account.
struct Positions {
    positions: HashMap<u32, i64>,
    notional: i128,
    next_id: u64,
    result: Outcome,
}

impl EventHandler<OrderEvent> for Positions {
    fn on_event(&mut self, e: &OrderEvent, _: i64, _: bool) {
        let id = e.id.load(Relaxed);
        assert_eq!(id, self.next_id, "business logic saw an undecoded or reordered order");
        self.next_id += 1;
        let q = e.quantity.load(Relaxed);
        *self.positions.entry(e.account.load(Relaxed)).or_default() += q;
        self.notional += (q * e.price.load(Relaxed)) as i128;
    }
    fn on_shutdown(&mut self) {
        let positions = std::mem::take(&mut self.positions);
        *self.result.lock().unwrap() = Some((self.next_id, positions, self.notional));
    }
}

fn main() {
    let report = Arc::new(Mutex::new(Vec::new()));
    let result = Arc::new(Mutex::new(None));
    let (mut receiver, consumers) =
        Builder::single_producer(4096, OrderEvent::default, Blocking::new())
            .handle_events_with_handler(Decoder { decoded: 0 })
            .then_handler(Journal {
                hash: 0xcbf2_9ce4_8422_2325,
                count: 0,
                report: Arc::clone(&report),
            })
            .and_handler(Replicator { pending: 0, sent: 0, count: 0, report: Arc::clone(&report) })
            .then_handler(Positions {
                positions: HashMap::new(),
                notional: 0,
                next_id: 0,
                result: Arc::clone(&result),
            })
            .build();

    let started = Instant::now();
    for id in 0..ORDERS {
        receiver.publish(|e| encode(id, &mut e.raw)).expect("pipeline halted");
    }
    drop(receiver); // shutdown: every stage drains what was published
    consumers.join().expect("a stage panicked");
    let elapsed = started.elapsed();

    // What the receiver sent, computed independently.
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut expected_positions: HashMap<u32, i64> = HashMap::new();
    let mut expected_notional = 0i128;
    let mut raw = [0u8; 24];
    for id in 0..ORDERS {
        encode(id, &mut raw);
        for b in raw {
            hash = (hash ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        let q = signed_quantity(id);
        *expected_positions.entry((id % ACCOUNTS) as u32).or_default() += q;
        expected_notional += (q * (10_000 + (id % 500) as i64)) as i128;
    }
    let mut report = report.lock().unwrap().clone();
    report.sort();
    assert_eq!(report, vec![("journal", ORDERS, hash), ("replicate", ORDERS, ORDERS * 24)]);
    let (count, positions, notional) = result.lock().unwrap().take().unwrap();
    assert_eq!(count, ORDERS);
    assert_eq!(positions, expected_positions);
    assert_eq!(notional, expected_notional);

    let threads = 5;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{ORDERS} orders through decode -> (journal | replicate) -> positions in {:.2} s: {:.1} M orders/s",
        elapsed.as_secs_f64(),
        ORDERS as f64 / elapsed.as_secs_f64() / 1e6
    );
    println!(
        "{threads} threads on {cores} cores{}; every stage checked every order",
        if threads > cores { " (oversubscribed)" } else { "" }
    );
}
