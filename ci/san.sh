#!/usr/bin/env bash
# Sanitizers (nightly, the standard library rebuilt with the same flags):
#
# - ThreadSanitizer over the std-thread stress tests: every tests/*.rs file
#   except the loom models, the ledger checker and the linearizability
#   checker's own (single-threaded) tests. TSan sees data races on non-atomic
#   memory (an `UnsafeCell` payload published with too weak an ordering); it
#   does not see stale reads of atomics, and it cannot see edges made by
#   standalone fences (see SAFETY.md, "Sanitizers").
# - AddressSanitizer (with LeakSanitizer) over the whole suite: library unit
#   tests and every integration test file (doctests excluded: rustdoc would
#   need its own sanitizer build of std).
#
# Sizes are scaled down (ACQREL_TEST_SCALE, default 10): the sanitizers slow
# every atomic and allocation down, and the interleavings stay the same shape.
# Suppressions, if ever needed, go in ci/tsan.supp (TSan's format), each
# listed in SAFETY.md ("Sanitizers") with its reason; today there are none.
source "$(dirname "$0")/lib.sh"
ensure_component nightly rust-src
export ACQREL_TEST_SCALE="${ACQREL_TEST_SCALE:-10}"
target=x86_64-unknown-linux-gnu
only="${1:-tsan asan}"

stress=()
for f in tests/*.rs; do
    name=$(basename "$f" .rs)
    case "$name" in loom_*|safety_refs|linearizability) continue ;; esac
    stress+=(--test "$name")
done

if [[ " $only " == *" tsan "* ]]; then
    log "ThreadSanitizer: ${#stress[@]} stress test files"
    supp=""
    [ -f ci/tsan.supp ] && supp="suppressions=$PWD/ci/tsan.supp"
    RUSTFLAGS="-Zsanitizer=thread" TSAN_OPTIONS="halt_on_error=1 $supp ${TSAN_OPTIONS:-}" \
        cargo +nightly test -Zbuild-std --target $target --target-dir target/tsan "${stress[@]}"
fi
if [[ " $only " == *" asan "* ]]; then
    log "AddressSanitizer: lib and every test file"
    RUSTFLAGS="-Zsanitizer=address" ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}" \
        cargo +nightly test -Zbuild-std --target $target --target-dir target/asan --lib --tests
fi
