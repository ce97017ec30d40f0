#!/usr/bin/env bash
# Every example runs to completion (they check their own results).
source "$(dirname "$0")/lib.sh"
cargo build --release --examples
for f in examples/*.rs; do
    name=$(basename "$f" .rs)
    log "example $name"
    timeout 300 cargo run --release --quiet --example "$name"
done
