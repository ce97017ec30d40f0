//! SPSC queues side by side: one producer and one consumer thread moving `u64`
//! items at capacity 1024 and 64 through `acqrel::spsc` (single-item and
//! chunk API), `rtrb` (single and chunk), `crossbeam_queue::ArrayQueue`,
//! `std::sync::mpsc::sync_channel`, `crossbeam-channel` bounded and `ringbuf`;
//! our two APIs at capacity 128 and 256; and a ping-pong round trip against
//! the raw floor of two cache-padded atomics. Throughput is items per second;
//! compare ratios within one run.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

//!
//! The peers are not dependencies of the loom build, so under `--cfg loom`
//! this bench is an empty program.

mod common;

#[cfg(not(loom))]
criterion::criterion_main!(imp::benches);

#[cfg(loom)]
fn main() {}

/// The benches (not built under loom).
#[cfg(not(loom))]
mod imp {

    use crate::common::run_threads;
    use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
    use crossbeam_utils::CachePadded;
    use std::hint::black_box;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering::Acquire, Ordering::Release};

    /// Waiting for the other thread: spin, yielding now and then so an
    /// oversubscribed machine does not burn whole time slices.
    #[inline]
    fn wait(spins: &mut u32) {
        *spins += 1;
        if *spins % 1024 == 0 {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }

    /// One SPSC queue implementation, driven by the same bench body.
    trait Queue {
        type P: Send;
        type C: Send;
        fn new(capacity: usize) -> (Self::P, Self::C);
        /// Pushes every value of `0..n`.
        fn produce(p: &mut Self::P, n: u64);
        /// Pops `n` values and returns their sum.
        fn consume(c: &mut Self::C, n: u64) -> u64;
    }

    /// A queue driven one item at a time, through a `try_push`/`try_pop` pair.
    trait Single {
        type P: Send;
        type C: Send;
        fn new(capacity: usize) -> (Self::P, Self::C);
        fn try_push(p: &mut Self::P, v: u64) -> bool;
        fn try_pop(c: &mut Self::C) -> Option<u64>;
    }

    /// [`Queue::produce`] for a [`Single`] queue.
    fn produce_single<S: Single>(p: &mut S::P, n: u64) {
        let mut spins = 0;
        for v in 0..n {
            while !S::try_push(p, v) {
                wait(&mut spins);
            }
        }
    }

    /// [`Queue::consume`] for a [`Single`] queue.
    fn consume_single<S: Single>(c: &mut S::C, n: u64) -> u64 {
        let (mut sum, mut got, mut spins) = (0u64, 0u64, 0);
        while got < n {
            match S::try_pop(c) {
                Some(v) => {
                    sum = sum.wrapping_add(v);
                    got += 1;
                }
                None => wait(&mut spins),
            }
        }
        sum
    }

    /// A [`Single`] queue from its constructor and `try_push`/`try_pop`
    /// expressions, run as a [`Queue`] by the single-item loops above.
    macro_rules! single {
        ($name:ident, $p:ty, $c:ty, |$cap:ident| $new:expr, |$pp:ident, $v:ident| $push:expr, |$cc:ident| $pop:expr) => {
            struct $name;
            impl Single for $name {
                type P = $p;
                type C = $c;
                fn new($cap: usize) -> ($p, $c) {
                    $new
                }
                #[inline]
                fn try_push($pp: &mut $p, $v: u64) -> bool {
                    $push
                }
                #[inline]
                fn try_pop($cc: &mut $c) -> Option<u64> {
                    $pop
                }
            }
            impl Queue for $name {
                type P = $p;
                type C = $c;
                fn new(capacity: usize) -> ($p, $c) {
                    <Self as Single>::new(capacity)
                }
                fn produce(p: &mut $p, n: u64) {
                    produce_single::<Self>(p, n)
                }
                fn consume(c: &mut $c, n: u64) -> u64 {
                    consume_single::<Self>(c, n)
                }
            }
        };
    }

    single!(
        Acqrel,
        acqrel::spsc::Producer<u64>,
        acqrel::spsc::Consumer<u64>,
        |cap| acqrel::spsc::bounded(cap),
        |p, v| p.push(v).is_ok(),
        |c| c.pop().ok()
    );
    // The same non-blocking calls on `Blocking`-mode handles: every publish
    // and every freed slot pays the wake-up check (a SeqCst fence).
    single!(
        AcqrelBlockingMode,
        acqrel::spsc::Producer<u64, acqrel::spsc::Heap, acqrel::spsc::Blocking>,
        acqrel::spsc::Consumer<u64, acqrel::spsc::Heap, acqrel::spsc::Blocking>,
        |cap| acqrel::spsc::bounded_blocking(cap),
        |p, v| p.push(v).is_ok(),
        |c| c.pop().ok()
    );
    single!(
        Rtrb,
        rtrb::Producer<u64>,
        rtrb::Consumer<u64>,
        |cap| rtrb::RingBuffer::new(cap),
        |p, v| p.push(v).is_ok(),
        |c| c.pop().ok()
    );
    single!(
        ArrayQueue,
        std::sync::Arc<crossbeam_queue::ArrayQueue<u64>>,
        std::sync::Arc<crossbeam_queue::ArrayQueue<u64>>,
        |cap| {
            let q = std::sync::Arc::new(crossbeam_queue::ArrayQueue::new(cap));
            (q.clone(), q)
        },
        |p, v| p.push(v).is_ok(),
        |c| c.pop()
    );
    single!(
        StdSyncChannel,
        std::sync::mpsc::SyncSender<u64>,
        std::sync::mpsc::Receiver<u64>,
        |cap| std::sync::mpsc::sync_channel(cap),
        |p, v| p.try_send(v).is_ok(),
        |c| c.try_recv().ok()
    );
    single!(
        CrossbeamChannel,
        crossbeam_channel::Sender<u64>,
        crossbeam_channel::Receiver<u64>,
        |cap| crossbeam_channel::bounded(cap),
        |p, v| p.try_send(v).is_ok(),
        |c| c.try_recv().ok()
    );
    single!(
        Ringbuf,
        ringbuf::HeapProd<u64>,
        ringbuf::HeapCons<u64>,
        |cap| ringbuf::traits::Split::split(ringbuf::HeapRb::<u64>::new(cap)),
        |p, v| ringbuf::traits::Producer::try_push(p, v).is_ok(),
        |c| ringbuf::traits::Consumer::try_pop(c)
    );

    /// `acqrel::spsc` through its chunk API: fill every free slot, publish once;
    /// read every readable item, free them once.
    struct AcqrelChunk;

    impl Queue for AcqrelChunk {
        type P = acqrel::spsc::Producer<u64>;
        type C = acqrel::spsc::Consumer<u64>;
        fn new(capacity: usize) -> (Self::P, Self::C) {
            acqrel::spsc::bounded(capacity)
        }
        fn produce(p: &mut Self::P, n: u64) {
            let (mut next, mut spins) = (0u64, 0);
            while next < n {
                // One chunk of every free slot, filled from a range, one commit.
                let filled = p.write_chunk(usize::MAX).fill_from_iter(next..n);
                if filled == 0 {
                    wait(&mut spins);
                }
                next += filled as u64;
            }
        }
        fn consume(c: &mut Self::C, n: u64) -> u64 {
            let (mut sum, mut got, mut spins) = (0u64, 0u64, 0);
            while got < n {
                // Every readable item, moved out by the chunk's iterator, one commit.
                let chunk = c.read_chunk(usize::MAX);
                if chunk.is_empty() {
                    wait(&mut spins);
                    continue;
                }
                got += chunk.len() as u64;
                sum = chunk.into_iter().fold(sum, u64::wrapping_add);
            }
            sum
        }
    }

    /// `rtrb` through its chunk API, the same shape as [`AcqrelChunk`].
    struct RtrbChunk;

    impl Queue for RtrbChunk {
        type P = rtrb::Producer<u64>;
        type C = rtrb::Consumer<u64>;
        fn new(capacity: usize) -> (Self::P, Self::C) {
            rtrb::RingBuffer::new(capacity)
        }
        fn produce(p: &mut Self::P, n: u64) {
            let (mut next, mut spins) = (0u64, 0);
            while next < n {
                let free = p.slots().min((n - next) as usize);
                if free == 0 {
                    wait(&mut spins);
                    continue;
                }
                let chunk = p.write_chunk_uninit(free).unwrap();
                let start = next;
                next += chunk.fill_from_iter(start..n) as u64;
            }
        }
        fn consume(c: &mut Self::C, n: u64) -> u64 {
            let (mut sum, mut got, mut spins) = (0u64, 0u64, 0);
            while got < n {
                let ready = c.slots();
                if ready == 0 {
                    wait(&mut spins);
                    continue;
                }
                let chunk = c.read_chunk(ready).unwrap();
                let (a, b) = chunk.as_slices();
                sum = a.iter().chain(b).fold(sum, |s, v| s.wrapping_add(*v));
                got += ready as u64;
                chunk.commit_all();
            }
            sum
        }
    }

    /// Both sides in blocking calls: park when full/empty, woken by the other.
    macro_rules! blocking {
        ($name:ident, $p:ty, $c:ty, |$cap:ident| $new:expr, |$pp:ident, $n:ident| $produce:expr, |$cc:ident, $m:ident| $consume:expr) => {
            struct $name;
            impl Queue for $name {
                type P = $p;
                type C = $c;
                fn new($cap: usize) -> ($p, $c) {
                    $new
                }
                fn produce($pp: &mut $p, $n: u64) {
                    $produce
                }
                fn consume($cc: &mut $c, $m: u64) -> u64 {
                    $consume
                }
            }
        };
    }

    type BlockingProducer = acqrel::spsc::Producer<u64, acqrel::spsc::Heap, acqrel::spsc::Blocking>;
    type BlockingConsumer = acqrel::spsc::Consumer<u64, acqrel::spsc::Heap, acqrel::spsc::Blocking>;

    blocking!(
        AcqrelBlocking,
        BlockingProducer,
        BlockingConsumer,
        |cap| acqrel::spsc::bounded_blocking(cap),
        |p, n| (0..n).for_each(|v| p.push_blocking(v).unwrap()),
        |c, n| (0..n).fold(0u64, |s, _| s.wrapping_add(c.pop_blocking().unwrap()))
    );
    blocking!(
        AcqrelBlockingChunk,
        BlockingProducer,
        BlockingConsumer,
        |cap| acqrel::spsc::bounded_blocking(cap),
        |p, n| {
            let mut next = 0;
            while next < n {
                next += p.write_chunk_blocking(usize::MAX).unwrap().fill_from_iter(next..n) as u64;
            }
        },
        |c, n| {
            let (mut sum, mut got) = (0u64, 0u64);
            while got < n {
                let chunk = c.read_chunk_blocking(usize::MAX).unwrap();
                got += chunk.len() as u64;
                sum = chunk.into_iter().fold(sum, u64::wrapping_add);
            }
            sum
        }
    );
    blocking!(
        StdSyncChannelBlocking,
        std::sync::mpsc::SyncSender<u64>,
        std::sync::mpsc::Receiver<u64>,
        |cap| std::sync::mpsc::sync_channel(cap),
        |p, n| (0..n).for_each(|v| p.send(v).unwrap()),
        |c, n| (0..n).fold(0u64, |s, _| s.wrapping_add(c.recv().unwrap()))
    );
    blocking!(
        CrossbeamChannelBlocking,
        crossbeam_channel::Sender<u64>,
        crossbeam_channel::Receiver<u64>,
        |cap| crossbeam_channel::bounded(cap),
        |p, n| (0..n).for_each(|v| p.send(v).unwrap()),
        |c, n| (0..n).fold(0u64, |s, _| s.wrapping_add(c.recv().unwrap()))
    );

    fn bench_one<Q: Queue>(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        capacity: usize,
    ) {
        group.bench_function(BenchmarkId::new(name, capacity), |b| {
            b.iter_custom(|iters| {
                let (p, c) = Q::new(capacity);
                let (p, c) = (Mutex::new(Some(p)), Mutex::new(Some(c)));
                run_threads(2, iters, |t, n| {
                    if t == 0 {
                        let mut p = p.lock().unwrap().take().unwrap();
                        Q::produce(&mut p, n);
                    } else {
                        let mut c = c.lock().unwrap().take().unwrap();
                        let sum = Q::consume(&mut c, n);
                        assert_eq!(sum, n.wrapping_mul(n.wrapping_sub(1)) / 2);
                    }
                })
            })
        });
    }

    fn throughput(c: &mut Criterion) {
        let mut group = c.benchmark_group("spsc_1p1c_u64");
        group.throughput(Throughput::Elements(1));
        for capacity in [1024usize, 64] {
            bench_one::<Acqrel>(&mut group, "acqrel_push_pop", capacity);
            bench_one::<AcqrelChunk>(&mut group, "acqrel_chunk", capacity);
            bench_one::<Rtrb>(&mut group, "rtrb_push_pop", capacity);
            bench_one::<RtrbChunk>(&mut group, "rtrb_chunk", capacity);
            bench_one::<Ringbuf>(&mut group, "ringbuf", capacity);
            bench_one::<ArrayQueue>(&mut group, "crossbeam_array_queue", capacity);
            bench_one::<CrossbeamChannel>(&mut group, "crossbeam_channel_bounded", capacity);
            bench_one::<StdSyncChannel>(&mut group, "std_sync_channel", capacity);
        }
        group.finish();
    }

    /// Both sides blocking (parking when full or empty), against the
    /// channels a user would otherwise pick; capacity 1024.
    fn blocking(c: &mut Criterion) {
        let mut group = c.benchmark_group("spsc_blocking_1p1c_u64");
        group.throughput(Throughput::Elements(1));
        bench_one::<AcqrelBlocking>(&mut group, "acqrel_push_pop_blocking", 1024);
        bench_one::<AcqrelBlockingChunk>(&mut group, "acqrel_chunk_blocking", 1024);
        bench_one::<StdSyncChannelBlocking>(&mut group, "std_sync_channel", 1024);
        bench_one::<CrossbeamChannelBlocking>(&mut group, "crossbeam_channel_bounded", 1024);
        group.finish();
    }

    /// Our two APIs at the capacities in between. A slot is reused only after
    /// a round trip between the cores, so `capacity / round trip` (the floor of
    /// `spsc_round_trip`) bounds every API's throughput: these show where that
    /// bound stops binding the chunk API.
    fn capacity(c: &mut Criterion) {
        let mut group = c.benchmark_group("spsc_capacity");
        group.throughput(Throughput::Elements(1));
        for capacity in [128usize, 256] {
            bench_one::<Acqrel>(&mut group, "acqrel_push_pop", capacity);
            bench_one::<AcqrelChunk>(&mut group, "acqrel_chunk", capacity);
        }
        group.finish();
    }

    /// One side sends `i` through a capacity-1 queue and waits for it to come
    /// back through a second one; the echo side returns what it receives.
    fn round_trip<S: Single>(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
    ) {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let (p1, c1) = S::new(1);
                let (p2, c2) = S::new(1);
                let ends = Mutex::new((Some((p1, c2)), Some((c1, p2))));
                run_threads(2, iters, |t, n| {
                    let mut spins = 0;
                    if t == 0 {
                        let (mut out, mut back) = ends.lock().unwrap().0.take().unwrap();
                        for i in 0..n {
                            while !S::try_push(&mut out, i) {
                                wait(&mut spins);
                            }
                            loop {
                                if let Some(v) = S::try_pop(&mut back) {
                                    black_box(v);
                                    break;
                                }
                                wait(&mut spins);
                            }
                        }
                    } else {
                        let (mut inbox, mut reply) = ends.lock().unwrap().1.take().unwrap();
                        for _ in 0..n {
                            let v = loop {
                                if let Some(v) = S::try_pop(&mut inbox) {
                                    break v;
                                }
                                wait(&mut spins);
                            };
                            while !S::try_push(&mut reply, v) {
                                wait(&mut spins);
                            }
                        }
                    }
                })
            })
        });
    }

    /// Round trips: the main side sends `i`, the echo side sends it back.
    fn ping_pong(c: &mut Criterion) {
        let mut group = c.benchmark_group("spsc_round_trip");
        group.throughput(Throughput::Elements(1));

        group.bench_function("raw_two_padded_atomics_floor", |b| {
            b.iter_custom(|iters| {
                let ping = CachePadded::new(AtomicU64::new(0));
                let pong = CachePadded::new(AtomicU64::new(0));
                run_threads(2, iters, |t, n| {
                    let mut spins = 0;
                    for i in 1..=n {
                        if t == 0 {
                            ping.store(i, Release);
                            while pong.load(Acquire) != i {
                                wait(&mut spins);
                            }
                        } else {
                            while ping.load(Acquire) != i {
                                wait(&mut spins);
                            }
                            pong.store(i, Release);
                        }
                    }
                })
            })
        });

        round_trip::<Acqrel>(&mut group, "acqrel_spsc");
        round_trip::<Rtrb>(&mut group, "rtrb");
        group.finish();
    }

    /// One thread fills the queue to capacity, then drains it: the cost of the
    /// code paths themselves, without cross-core traffic (and robust to an
    /// oversubscribed machine, where the two-thread figures measure the
    /// scheduler more than the queue).
    /// Fills a queue of `capacity` one item at a time, then drains it.
    fn fill_drain<S: Single>(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        capacity: usize,
    ) {
        let (mut p, mut c) = S::new(capacity);
        group.bench_function(name, |b| {
            b.iter(|| {
                for i in 0..capacity as u64 {
                    assert!(S::try_push(&mut p, black_box(i)));
                }
                let mut sum = 0u64;
                while let Some(v) = S::try_pop(&mut c) {
                    sum = sum.wrapping_add(v);
                }
                black_box(sum)
            })
        });
    }

    fn single_thread(c: &mut Criterion) {
        const CAP: usize = 1024;
        let mut group = c.benchmark_group("spsc_fill_drain_1_thread");
        group.throughput(Throughput::Elements(CAP as u64));

        fill_drain::<Acqrel>(&mut group, "acqrel_push_pop", CAP);
        fill_drain::<AcqrelBlockingMode>(&mut group, "acqrel_push_pop_blocking_mode", CAP);
        let (mut p, mut cons) = acqrel::spsc::bounded::<u64>(CAP);
        group.bench_function("acqrel_chunk", |b| {
            b.iter(|| {
                p.write_chunk(usize::MAX).fill_from_iter(black_box(0..CAP as u64));
                let sum = cons.read_chunk(usize::MAX).into_iter().fold(0u64, u64::wrapping_add);
                black_box(sum)
            })
        });
        fill_drain::<Rtrb>(&mut group, "rtrb_push_pop", CAP);
        let (mut p, mut cons) = rtrb::RingBuffer::<u64>::new(CAP);
        group.bench_function("rtrb_chunk", |b| {
            b.iter(|| {
                let chunk = p.write_chunk_uninit(CAP).unwrap();
                chunk.fill_from_iter(black_box(0..CAP as u64));
                let sum = cons.read_chunk(CAP).unwrap().into_iter().fold(0u64, u64::wrapping_add);
                black_box(sum)
            })
        });
        fill_drain::<Ringbuf>(&mut group, "ringbuf_push_pop", CAP);
        group.finish();
    }

    criterion_group!(benches, single_thread, throughput, blocking, capacity, ping_pong);
}
