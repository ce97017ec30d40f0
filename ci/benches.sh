#!/usr/bin/env bash
# Every criterion bench, built and run once as a test (no timing).
source "$(dirname "$0")/lib.sh"
cargo test --release --benches
