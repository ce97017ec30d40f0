#!/usr/bin/env bash
# The test suite under Miri (sizes scaled down by tests/common::scaled).
# Files reclaiming memory through crossbeam-epoch run with the flags that
# crate needs under Miri; everything else with strict provenance.
source "$(dirname "$0")/lib.sh"
ensure_component nightly miri rust-src
cargo +nightly miri setup
EPOCH_TESTS="${EPOCH_TESTS:-treiber_stack ms_queue}"
strict=() epoch=()
for f in tests/*.rs; do
    name=$(basename "$f" .rs)
    case "$name" in loom_*|safety_refs) continue ;; esac
    if [[ " $EPOCH_TESTS " == *" $name "* ]]; then epoch+=(--test "$name"); else strict+=(--test "$name"); fi
done
log "miri: lib + ${#strict[@]} test files (strict provenance)"
MIRIFLAGS="-Zmiri-strict-provenance" cargo +nightly miri test --target-dir target/miri --lib "${strict[@]}"
if [ ${#epoch[@]} -gt 0 ]; then
    log "miri: ${#epoch[@]} epoch-based test files"
    MIRIFLAGS="-Zmiri-tree-borrows -Zmiri-permissive-provenance -Zmiri-ignore-leaks" \
        cargo +nightly miri test --target-dir target/miri "${epoch[@]}"
fi
