#!/usr/bin/env bash
# The test suite under Miri (sizes scaled down by tests/common::scaled), under
# both aliasing models: Stacked Borrows (Miri's default) and Tree Borrows.
# They reject different misuse of references made through raw pointers and
# cells (a `&mut` made while a `&` to the same place is alive, a write through
# a pointer derived from a shared reference), so each run can catch what the
# other lets through.
#
# Files reclaiming memory through crossbeam-epoch run with the flags that
# crate needs under Miri (permissive provenance, its global garbage leaked at
# exit), and under Tree Borrows only: crossbeam-epoch itself fails Stacked
# Borrows in every `pin` (SAFETY.md, "Sanitizers"); EPOCH_SB=1 runs them
# under it anyway. Everything else runs with strict provenance and every
# optional feature (the `lock_api` tests).
source "$(dirname "$0")/lib.sh"
ensure_component nightly miri rust-src
cargo +nightly miri setup
EPOCH_TESTS="${EPOCH_TESTS:-treiber_stack ms_queue epoch_handle epoch_handle_memory recycle_memory unwind_safety}"
strict=() epoch=()
for f in tests/*.rs; do
    name=$(basename "$f" .rs)
    case "$name" in loom_*|safety_refs|docs) continue ;; esac
    if [[ " $EPOCH_TESTS " == *" $name "* ]]; then epoch+=(--test "$name"); else strict+=(--test "$name"); fi
done
epoch_flags="-Zmiri-permissive-provenance -Zmiri-ignore-leaks"
for model in stacked tree; do
    aliasing=""
    [ "$model" = tree ] && aliasing="-Zmiri-tree-borrows"
    log "miri ($model borrows): lib + ${#strict[@]} test files (strict provenance)"
    MIRIFLAGS="-Zmiri-strict-provenance $aliasing" \
        cargo +nightly miri test --target-dir target/miri --all-features --lib "${strict[@]}"
    if [ ${#epoch[@]} -gt 0 ] && { [ "$model" = tree ] || [ "${EPOCH_SB:-0}" = 1 ]; }; then
        log "miri ($model borrows): ${#epoch[@]} epoch-based test files"
        MIRIFLAGS="$epoch_flags $aliasing" cargo +nightly miri test --target-dir target/miri "${epoch[@]}"
    fi
done
