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
#
# Miri interprets on one host thread, so the passes run as two streams side
# by side (one per core, each with its own target directory, as two cargo
# commands cannot share one); MIRI_STREAMS=1 runs them one after another.
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
logs=$(mktemp -d)

# One pass: name, target directory, MIRIFLAGS, then `cargo miri test` arguments.
pass() {
    local name=$1 dir=$2 flags=$3 t0
    shift 3
    t0=$(date +%s)
    log "miri ($name) started"
    if MIRIFLAGS="$flags" cargo +nightly miri test --target-dir "$dir" "$@" >"$logs/$name.log" 2>&1; then
        log "miri ($name): ok ($(( $(date +%s) - t0 ))s)"
    else
        log "miri ($name): FAILED ($(( $(date +%s) - t0 ))s)"
        return 1
    fi
}

# Stream 1: Stacked Borrows (and, with EPOCH_SB=1, the epoch files under it).
stream_stacked() {
    pass "stacked borrows: lib + ${#strict[@]} test files, strict provenance" target/miri \
        "-Zmiri-strict-provenance" --all-features --lib "${strict[@]}" || return 1
    if [ "${EPOCH_SB:-0}" = 1 ] && [ ${#epoch[@]} -gt 0 ]; then
        pass "stacked borrows: ${#epoch[@]} epoch-based test files" target/miri \
            "$epoch_flags" "${epoch[@]}" || return 1
    fi
}

# Stream 2: Tree Borrows.
stream_tree() {
    local status=0
    pass "tree borrows: lib + ${#strict[@]} test files, strict provenance" target/miri-tree \
        "-Zmiri-strict-provenance -Zmiri-tree-borrows" --all-features --lib "${strict[@]}" || status=1
    if [ ${#epoch[@]} -gt 0 ]; then
        pass "tree borrows: ${#epoch[@]} epoch-based test files" target/miri-tree \
            "$epoch_flags -Zmiri-tree-borrows" "${epoch[@]}" || status=1
    fi
    return $status
}

status=0
if [ "${MIRI_STREAMS:-2}" = 1 ]; then
    stream_stacked || status=1
    stream_tree || status=1
else
    stream_stacked &
    stacked=$!
    stream_tree || status=1
    wait $stacked || status=1
fi
for f in "$logs"/*.log; do
    log "output of miri (${f##*/})"
    cat "$f"
done
rm -rf "$logs"
exit $status
