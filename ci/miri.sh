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
# commands cannot share one): the epoch-based files in one, the rest under
# both aliasing models in the other. MIRI_STREAMS=1 runs them in turn.
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

# Stream 1: the epoch-based files, under Tree Borrows (and, with EPOCH_SB=1,
# Stacked Borrows): about as long as the other stream's two passes together.
stream_epoch() {
    [ ${#epoch[@]} -gt 0 ] || return 0
    pass "tree borrows: $(( ${#epoch[@]} / 2 )) epoch-based test files" target/miri-epoch \
        "$epoch_flags -Zmiri-tree-borrows" "${epoch[@]}" || return 1
    if [ "${EPOCH_SB:-0}" = 1 ]; then
        pass "stacked borrows: $(( ${#epoch[@]} / 2 )) epoch-based test files" target/miri-epoch \
            "$epoch_flags" "${epoch[@]}" || return 1
    fi
}

# Stream 2: everything else, under each aliasing model in turn.
stream_strict() {
    local status=0 model aliasing
    for model in stacked tree; do
        aliasing=""
        [ "$model" = tree ] && aliasing="-Zmiri-tree-borrows"
        pass "$model borrows: lib + $(( ${#strict[@]} / 2 )) test files, strict provenance" \
            target/miri "-Zmiri-strict-provenance $aliasing" --all-features --lib "${strict[@]}" ||
            status=1
    done
    return $status
}

status=0
if [ "${MIRI_STREAMS:-2}" = 1 ]; then
    stream_epoch || status=1
    stream_strict || status=1
else
    stream_epoch &
    epoch_stream=$!
    stream_strict || status=1
    wait $epoch_stream || status=1
fi
for f in "$logs"/*.log; do
    log "output of miri (${f##*/})"
    cat "$f"
done
rm -rf "$logs"
exit $status
