#!/usr/bin/env bash
# Every loom model (tests/loom_*.rs), and a check that they all ran: a
# `#![cfg(loom)]` file is an empty binary in a normal build and would pass silently.
source "$(dirname "$0")/lib.sh"
export RUSTFLAGS="--cfg loom --cfg crossbeam_loom"
run_loom_models cargo test --release --target-dir target/loom
