//! An audio pipeline: a synthesiser thread renders a sine tone ahead of time
//! into an SPSC ring; a simulated sound-card callback pulls one block per
//! period and must never block, allocate or lock — if the ring runs dry it
//! plays silence and counts an underrun instead of waiting.
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

/// Sample `n` of the tone.
fn sample(n: u64) -> f32 {
    let phase = (n % SAMPLE_RATE as u64) as f32 / SAMPLE_RATE as f32;
    (TAU * TONE_HZ * phase).sin() * 0.5
}

fn main() {
    let (mut producer, mut consumer) = spsc::bounded::<f32>(RING);

    // The synthesiser: not real-time, free to wait. Renders 64 samples at a
    // time and copies them in with one commit each.
    let synth = thread::spawn(move || {
        let mut n: u64 = 0;
        let mut block = [0f32; 64];
        let total = (CALLBACKS * BLOCK) as u64;
        while n < total && !producer.is_abandoned() {
            let len = block.len().min((total - n) as usize);
            for (i, s) in block[..len].iter_mut().enumerate() {
                *s = sample(n + i as u64);
            }
            let mut written = 0;
            while written < len {
                written += producer.push_slice(&block[written..len]);
                if written < len {
                    // Ring full: the device is 43 ms behind us; nap a little.
                    thread::sleep(Duration::from_micros(500));
                }
            }
            n += len as u64;
        }
        n
    });

    // Let the synthesiser pre-roll before the device starts.
    while consumer.slots() < RING / 2 {
        thread::yield_now();
    }

    // The device: one callback per period, paced by the clock like a sound card.
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
        // --- the real-time callback: wait-free, no allocation ---
        let got = consumer.pop_slice(&mut out);
        if got < BLOCK {
            underruns += 1;
            out[got..].fill(0.0); // silence rather than a glitchy wait
        }
        // --- end of callback ---
        worst_callback = worst_callback.max(t0.elapsed());
        for s in &out[..got] {
            assert_eq!(*s, sample(played), "sample {played} lost, repeated or corrupted");
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
