#!/usr/bin/env bash
# Differential fuzzing (fuzz/, cargo-fuzz on nightly; optimised, with debug
# assertions and AddressSanitizer, cargo-fuzz's defaults): builds every
# target, then runs each for a short smoke time (FUZZ_SECONDS, default 20)
# from its corpus under target/fuzz-corpus. A crash, a failed comparison with
# the model, an overflow or (for targets that start no threads) a leak fails
# the job; the failing input is left
# under fuzz/artifacts/<target>/.
source "$(dirname "$0")/lib.sh"
ensure_apt c++ g++ # libfuzzer-sys compiles libFuzzer
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    log "installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi
seconds="${FUZZ_SECONDS:-20}"
# Targets whose inputs start and end threads. A finished thread frees some of
# its std allocations (its `Thread` handle, TLS destructor records) in TLS
# destructors that may still be running when `join` has returned, and
# LeakSanitizer (libFuzzer's per-input check, and ASan's at exit) reports them
# as leaks at random. For these targets leaks are left to ci/san.sh, whose
# tests exit only after their threads are gone.
threaded=" counter "
targets=$(cargo +nightly fuzz list)
log "build: $(echo $targets)"
cargo +nightly fuzz build
out=$(mktemp)
for t in $targets; do
    log "fuzz $t for ${seconds}s"
    corpus="target/fuzz-corpus/$t"
    mkdir -p "$corpus"
    flags=(-max_total_time="$seconds" -print_final_stats=1) asan="${ASAN_OPTIONS:-}"
    if [[ "$threaded" == *" $t "* ]]; then
        flags+=(-detect_leaks=0) # per input
        asan="detect_leaks=0 $asan" # and at exit
    fi
    if ! ASAN_OPTIONS="$asan" cargo +nightly fuzz run "$t" "$corpus" -- "${flags[@]}" >"$out" 2>&1; then
        tail -n 60 "$out"
        echo "fuzz: $t failed" >&2
        exit 1
    fi
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added)|cov: ' "$out" | tail -n 5
done
