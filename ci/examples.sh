#!/usr/bin/env bash
# Every example runs to completion (they check their own results), the tour
# (examples/tour/) included.
source "$(dirname "$0")/lib.sh"
cargo build --release --examples
for f in examples/*.rs examples/*/main.rs; do
    name=$(basename "$f" .rs)
    [ "$name" = main ] && name=$(basename "$(dirname "$f")")
    log "example $name"
    timeout 300 cargo run --release --quiet --example "$name"
done
