//! An audio pipeline: a synthesiser thread renders a sine tone ahead of time
//! into an SPSC ring; a simulated sound-card callback pulls one block per
//! period and must never wait for it — if the ring runs dry it plays
//! silence and counts an underrun instead.
//!
//! Both sides work on the ring's memory in place: the synthesiser renders
//! straight into free slots (`write_chunk_blocking` + `fill_in_place`,
//! parking while the ring is full), and the callback applies the volume
//! while copying readable samples out of a `read_chunk` into the device's
//! buffer, then frees them with one commit. Neither needs `unsafe`.
//!
//! The ring is in blocking mode so that the synthesiser sleeps while it is
//! far enough ahead. The callback itself never blocks, allocates or waits;
//! its commit wakes the synthesiser when that is parked, which takes the
//! ring's mutex for a moment. A callback that must never touch a mutex at
//! all would use `spsc::bounded` and have the synthesiser poll on a timer.
//!
//! The callback checks that the samples it plays are exactly the ones
//! rendered, in order, with none lost or repeated.
//!
//! ```text
//! cargo run --release --example spsc_audio
//! ```
#![allow(clippy::disallowed_methods)]

use acqrel::spsc;
use std::f32::consts::TAU;
use std::thread;
use std::time::{Duration, Instant};

const SAMPLE_RATE: u32 = 48_000;
const TONE_HZ: f32 = 440.0;
/// Samples the device asks for per callback (5.3 ms at 48 kHz).
const BLOCK: usize = 256;
/// The ring holds eight device blocks: 43 ms of audio rendered ahead.
const RING: usize = 8 * BLOCK;
/// Callbacks to simulate (about one second of audio).
const CALLBACKS: usize = 190;
/// The device's volume, applied as samples leave the ring.
const VOLUME: f32 = 0.8;

/// Sample `n` of the tone.
fn sample(n: u64) -> f32 {
    let phase = (n % SAMPLE_RATE as u64) as f32 / SAMPLE_RATE as f32;
    (TAU * TONE_HZ * phase).sin() * 0.5
}

fn main() {
    let (mut producer, mut consumer) = spsc::bounded_blocking::<f32>(RING);
    let total = (CALLBACKS * BLOCK) as u64;

    // The synthesiser: not real-time, free to wait. Renders up to 64
    // samples at a time straight into the ring, parking while it is full.
    let synth = thread::spawn(move || {
        let mut n: u64 = 0;
        while n < total {
            let max = 64.min(total - n) as usize;
            let Ok(chunk) = producer.write_chunk_blocking(max) else {
                break; // the device is gone
            };
            n += chunk.fill_in_place(|first, second| {
                for (i, s) in first.iter_mut().chain(second.iter_mut()).enumerate() {
                    *s = sample(n + i as u64);
                }
                first.len() + second.len()
            }) as u64;
        }
        n
    });

    // Let the synthesiser pre-roll before the device starts.
    while consumer.len() < RING / 2 {
        thread::yield_now();
    }

    // The device: one callback per period, paced by the clock like a sound
    // card (the sleep stands in for the hardware's interrupt).
    let period = Duration::from_secs_f64(BLOCK as f64 / SAMPLE_RATE as f64);
    let start = Instant::now();
    let mut out = [0f32; BLOCK];
    let mut played: u64 = 0;
    let mut underruns = 0;
    let mut worst_callback = Duration::ZERO;
    for k in 0..CALLBACKS {
        let due = start + period * k as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let t0 = Instant::now();
        // --- the real-time callback: no waiting, no allocation ---
        let chunk = consumer.read_chunk(BLOCK);
        let (first, second) = chunk.as_slices();
        let got = first.len() + second.len();
        for (o, s) in out.iter_mut().zip(first.iter().chain(second)) {
            *o = s * VOLUME;
        }
        chunk.commit_all();
        if got < BLOCK {
            underruns += 1;
            out[got..].fill(0.0); // silence rather than a glitchy wait
        }
        // --- end of callback ---
        worst_callback = worst_callback.max(t0.elapsed());
        for s in &out[..got] {
            assert_eq!(*s, sample(played) * VOLUME, "sample {played} lost, repeated or corrupted");
            played += 1;
        }
    }
    drop(consumer);
    let rendered = synth.join().unwrap();

    println!(
        "played {played} samples ({:.2} s of {TONE_HZ} Hz) in {CALLBACKS} callbacks of {BLOCK}",
        played as f64 / SAMPLE_RATE as f64
    );
    println!("rendered {rendered}, underruns {underruns}, slowest callback {worst_callback:?}");
    // An underrun plays silence and skips nothing: the next callback resumes
    // at the next rendered sample.
    assert!(played <= rendered);
    if underruns == 0 {
        assert_eq!(played, (CALLBACKS * BLOCK) as u64);
    }
    println!("every sample played was the one rendered, in order");
}
