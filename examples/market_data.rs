//! A market-data feed on the Disruptor. A feed handler receives packets of
//! quotes and trades in venue ticks and publishes each packet into the ring
//! with one `publish_batch`. Stage 1 normalises every message in place:
//! ticks become prices, quotes get their mid price, crossed quotes and
//! empty trades are rejected, and a gap in the feed's sequence numbers
//! stops the program. Stage 2 runs three consumers side by side: the books
//! (best bid and offer per symbol), the VWAP per symbol, and a monitor that
//! is not a thread of the Disruptor but an `EventPoller` driven by the main
//! thread, which also reads the books while they change.
//!
//! Consumer threads are named `md-0`, `md-1`, … (`thread_name`), so a
//! failed check names the stage it failed in. At the end the books, the
//! VWAPs and the monitor's counts are compared with what the feed sent.
//!
//! ```text
//! cargo run --release --example market_data
//! ```
#![allow(clippy::disallowed_types)]

use acqrel::SpinLock;
use acqrel::disruptor::{Blocking, Builder, Polled};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering::Relaxed};
use std::thread;
use std::time::{Duration, Instant};

/// Symbols: name, tick size in millionths of the currency unit, and the
/// price level (in ticks) the feed quotes around.
const SYMBOLS: [(&str, i64, u32); 4] = [
    ("ACME", 10_000, 10_000),
    ("GLOBX", 5_000, 10_000),
    ("EURUSD", 10, 108_000),
    ("BUND", 10_000, 13_000),
];
const MESSAGES: u64 = 4_000_000;
/// The largest packet the venue sends; the ring holds many of them.
const MAX_PACKET: u64 = 16;
const RING: usize = 4096;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Kind {
    #[default]
    Quote,
    Trade,
}

/// What stage 1 decided about a message.
const PENDING: u8 = 0;
const ACCEPTED: u8 = 1;
const REJECTED: u8 = 2;

/// One slot of the ring. The feed handler writes the wire fields through
/// `&mut`; stage 1 writes its results into the atomic fields (handlers get
/// `&Tick`), and stage 2 reads them with `Relaxed` loads: it sees them
/// because it runs only after stage 1 has published its progress on this
/// event, with `Release`, and stage 2 waited for that with `Acquire`.
#[derive(Default)]
struct Tick {
    feed_sequence: u64,
    kind: Kind,
    symbol: usize,
    /// Quote: bid and ask in ticks; trade: price in ticks (in `bid_ticks`).
    bid_ticks: u32,
    ask_ticks: u32,
    /// Quote: size on the bid (ask size omitted); trade: size traded.
    size: u32,
    // Stage 1's results.
    status: AtomicU8,
    /// Quote: normalised bid; trade: normalised price.
    bid: AtomicI64,
    ask: AtomicI64,
    mid: AtomicI64,
}

/// The wire message number `n`: deterministic, so the check at the end can
/// recompute what was sent.
#[derive(Clone, Copy)]
struct Message {
    kind: Kind,
    symbol: usize,
    bid_ticks: u32,
    ask_ticks: u32,
    size: u32,
}

fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn message(n: u64) -> Message {
    let r = mix(n);
    let symbol = (r % SYMBOLS.len() as u64) as usize;
    let level = SYMBOLS[symbol].2 + ((r >> 8) % 200) as u32;
    let spread = ((r >> 16) % 4) as u32 + 1;
    let size = ((r >> 24) % 1000) as u32;
    // About one message in a hundred is bad: a crossed quote or an empty trade.
    let bad = (r >> 40) % 100 == 0;
    if (r >> 34) % 4 == 0 {
        Message {
            kind: Kind::Trade,
            symbol,
            bid_ticks: level,
            ask_ticks: 0,
            size: if bad { 0 } else { size + 1 },
        }
    } else {
        let ask = if bad { level - spread } else { level + spread };
        Message { kind: Kind::Quote, symbol, bid_ticks: level, ask_ticks: ask, size: size + 1 }
    }
}

/// How many messages the packet starting at message `first` carries.
fn packet_len(first: u64) -> u64 {
    (mix(first ^ 0xfeed) % MAX_PACKET + 1).min(MESSAGES - first)
}

/// Best bid and offer of one symbol, as the book stage keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Book {
    bid: i64,
    ask: i64,
    mid: i64,
    updates: u64,
}

/// Traded value and volume of one symbol, for its VWAP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Volume {
    notional: i128,
    shares: u64,
    trades: u64,
}

impl Volume {
    fn vwap(&self) -> f64 {
        self.notional as f64 / self.shares.max(1) as f64 / 1e6
    }
}

fn main() {
    // The books are read by the monitor while the book stage writes them:
    // one small lock per symbol, held for a few stores.
    let books: Arc<[SpinLock<Book>]> = (0..SYMBOLS.len()).map(|_| SpinLock::default()).collect();
    let volumes = Arc::new(SpinLock::new([Volume::default(); SYMBOLS.len()]));

    let book_stage = Arc::clone(&books);
    let vwap_stage = Arc::clone(&volumes);
    let mut expected_sequence = 0;
    let mut running = [Volume::default(); SYMBOLS.len()];
    let (builder, mut monitor) = Builder::single_producer(RING, Tick::default, Blocking::new())
        .thread_name("md")
        // Stage 1 (md-0): gap check, normalisation, validation, mid price.
        .handle_events_with(move |e, _, _| {
            assert_eq!(e.feed_sequence, expected_sequence, "gap in the feed");
            expected_sequence += 1;
            let tick = SYMBOLS[e.symbol].1;
            let (bid, ask) = (i64::from(e.bid_ticks) * tick, i64::from(e.ask_ticks) * tick);
            let valid = match e.kind {
                Kind::Quote => bid < ask && e.size > 0,
                Kind::Trade => bid > 0 && e.size > 0,
            };
            e.bid.store(bid, Relaxed);
            e.ask.store(ask, Relaxed);
            e.mid.store((bid + ask) / 2, Relaxed);
            e.status.store(if valid { ACCEPTED } else { REJECTED }, Relaxed);
        })
        // Stage 2 (md-1): the books, from accepted quotes.
        .then(move |e, _, _| {
            if e.kind == Kind::Quote && e.status.load(Relaxed) == ACCEPTED {
                let mut book = book_stage[e.symbol].lock();
                book.bid = e.bid.load(Relaxed);
                book.ask = e.ask.load(Relaxed);
                book.mid = e.mid.load(Relaxed);
                book.updates += 1;
            }
        })
        // Stage 2 (md-2): VWAP from accepted trades, kept locally and
        // published once per batch rather than once per trade.
        .and(move |e, _, end_of_batch| {
            if e.kind == Kind::Trade && e.status.load(Relaxed) == ACCEPTED {
                let v = &mut running[e.symbol];
                v.notional += i128::from(e.bid.load(Relaxed)) * i128::from(e.size);
                v.shares += u64::from(e.size);
                v.trades += 1;
            }
            if end_of_batch {
                *vwap_stage.lock() = running;
            }
        })
        // Stage 2, polled by this thread: the monitor.
        .poller();
    let (mut feed, consumers) = builder.build();

    let started = Instant::now();
    let (mut accepted, mut rejected, mut polls, mut book_reads) = (0u64, 0u64, 0u64, 0u64);
    thread::scope(|s| {
        // The feed handler: one packet, one claim and one publish.
        s.spawn(move || {
            let mut first = 0;
            while first < MESSAGES {
                let n = packet_len(first);
                feed.publish_batch(n as usize, |e, i| {
                    let m = message(first + i as u64);
                    e.feed_sequence = first + i as u64;
                    e.kind = m.kind;
                    e.symbol = m.symbol;
                    e.bid_ticks = m.bid_ticks;
                    e.ask_ticks = m.ask_ticks;
                    e.size = m.size;
                    *e.status.get_mut() = PENDING; // the slot held an older message
                })
                .expect("a stage failed");
                first += n;
            }
            // Dropping `feed` here shuts the Disruptor down once every
            // stage has drained what was published.
        });

        // The monitor: counts stage 1's verdicts, and between batches looks
        // at a book the way a trader's screen would.
        loop {
            let polled = monitor.poll_timeout(Duration::from_secs(10), |e, sequence, _| {
                assert_eq!(e.feed_sequence, sequence as u64);
                match e.status.load(Relaxed) {
                    ACCEPTED => accepted += 1,
                    REJECTED => rejected += 1,
                    _ => panic!("the monitor ran before stage 1 on {sequence}"),
                }
            });
            match polled {
                Polled::Events(_) => {
                    polls += 1;
                    let book = *books[polls as usize % SYMBOLS.len()].lock();
                    if book.updates > 0 {
                        assert!(book.bid < book.ask, "a crossed book: {book:?}");
                        book_reads += 1;
                    }
                }
                Polled::Idle | Polled::Timeout => {}
                Polled::Shutdown => break,
                Polled::Halted => panic!("a stage panicked"),
            }
        }
    });
    consumers.join().expect("a stage panicked");
    let elapsed = started.elapsed();

    // What the feed sent, recomputed.
    let mut expected_books = [Book::default(); SYMBOLS.len()];
    let mut expected_volumes = [Volume::default(); SYMBOLS.len()];
    let mut expected_rejected = 0;
    for n in 0..MESSAGES {
        let m = message(n);
        let tick = SYMBOLS[m.symbol].1;
        let (bid, ask) = (i64::from(m.bid_ticks) * tick, i64::from(m.ask_ticks) * tick);
        match m.kind {
            Kind::Quote if bid < ask => {
                let b = &mut expected_books[m.symbol];
                (b.bid, b.ask, b.mid, b.updates) = (bid, ask, (bid + ask) / 2, b.updates + 1);
            }
            Kind::Trade if m.size > 0 => {
                let v = &mut expected_volumes[m.symbol];
                v.notional += i128::from(bid) * i128::from(m.size);
                v.shares += u64::from(m.size);
                v.trades += 1;
            }
            _ => expected_rejected += 1,
        }
    }
    assert_eq!(accepted + rejected, MESSAGES, "the monitor missed a message");
    assert_eq!(rejected, expected_rejected);
    let volumes = *volumes.lock();
    for (i, (name, _, _)) in SYMBOLS.iter().enumerate() {
        let book = *books[i].lock();
        assert_eq!(book, expected_books[i], "{name}'s book");
        assert_eq!(volumes[i], expected_volumes[i], "{name}'s traded volume");
        println!(
            "{name:<7} bid {:>10.5}  ask {:>10.5}  mid {:>10.5}  {:>7} quotes  {:>7} trades  VWAP {:.5}",
            book.bid as f64 / 1e6,
            book.ask as f64 / 1e6,
            book.mid as f64 / 1e6,
            book.updates,
            volumes[i].trades,
            volumes[i].vwap()
        );
    }
    println!(
        "{MESSAGES} messages in {:.2} s ({:.1} M/s): {accepted} accepted, {rejected} rejected; \
         the monitor polled {polls} batches and saw {book_reads} uncrossed books",
        elapsed.as_secs_f64(),
        MESSAGES as f64 / elapsed.as_secs_f64() / 1e6
    );
    println!("books, VWAPs and counts match what the feed sent");
}
