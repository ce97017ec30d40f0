#!/usr/bin/env bash
# Every criterion bench (the `acqrel-bench` package under bench/), built and
# run once as a test (no timing).
source "$(dirname "$0")/lib.sh"
cargo test --release -p acqrel-bench --benches
