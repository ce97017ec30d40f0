#!/usr/bin/env bash
# Every loom model (tests/loom_*.rs), and a check that they all ran: a
# `#![cfg(loom)]` file is an empty binary in a normal build and would pass silently.
source "$(dirname "$0")/lib.sh"
export RUSTFLAGS="--cfg loom --cfg crossbeam_loom"
: "${LOOM_MAX_PREEMPTIONS:=3}"
export LOOM_MAX_PREEMPTIONS
files=(tests/loom_*.rs)
expected=$(count_tests "${files[@]}")
args=()
for f in "${files[@]}"; do args+=(--test "$(basename "$f" .rs)"); done
out=$(mktemp)
cargo test --release --target-dir target/loom "${args[@]}" 2>&1 | tee "$out"
ran=$(passed_in "$out")
echo "loom: $ran models passed, $expected defined"
if [ "$ran" -ne "$expected" ]; then
    echo "loom: expected $expected models to run, $ran passed" >&2
    exit 1
fi
