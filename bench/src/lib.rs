//! Criterion benchmarks of acqrel; the code is under `benches/`. Run one
//! family with `cargo bench -p acqrel-bench --bench spsc` from the
//! repository root.
