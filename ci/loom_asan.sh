#!/usr/bin/env bash
# Every loom model again, under AddressSanitizer. Loom runs all model threads
# on one OS thread and does not track freed memory, so a handle that touches
# shared state after the read-modify-write that lets another handle free it
# passes every model; under ASan the same model reports the use-after-free on
# the first execution that frees first (SAFETY.md, "Sanitizers"). Nightly,
# explicit target, so build scripts and proc-macros are not instrumented.
#
# Leak checking is off: loom's coroutine runtime keeps one stack root per
# test thread for the life of the process. Leaks of the crate's own memory
# are checked by ci/san.sh (ASan + LeakSanitizer over every test file) and
# by Miri.
source "$(dirname "$0")/lib.sh"
ensure_component nightly rust-src
# `acqrel_loom_asan` marks the models ignored here (each says why: one that
# frees nothing while it runs, so ASan has nothing to check in it).
export RUSTFLAGS="--cfg loom --cfg crossbeam_loom --cfg acqrel_loom_asan -Zsanitizer=address"
export ASAN_OPTIONS="detect_leaks=0 ${ASAN_OPTIONS:-}"
# Preemption bound 2 (ci/loom.sh runs 3 without ASan): enough for the
# use-after-free shapes (the spsc drop-order models fail at 2 with the drop
# order broken), where 3 takes single models past ten minutes instrumented.
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
run_loom_models cargo +nightly test --release --target x86_64-unknown-linux-gnu --target-dir target/loom-asan
