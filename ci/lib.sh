# Shared helpers for the CI job scripts (sourced, not run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0

log() { printf '\n=== %s\n' "$*"; }

# rustup components for a toolchain, installed only when missing.
ensure_component() { # toolchain component...
    local tc=$1; shift
    for c in "$@"; do
        if ! rustup "+$tc" component list --installed 2>/dev/null | grep -q "^$c"; then
            rustup "+$tc" component add "$c"
        fi
    done
}

ensure_target() { # toolchain target
    if ! rustup "+$1" target list --installed | grep -qx "$2"; then
        rustup "+$1" target add "$2"
    fi
}

# Debian packages, installed only when a command they provide is missing.
ensure_apt() { # command package...
    local cmd=$1; shift
    if ! command -v "$cmd" >/dev/null 2>&1; then
        if [ -z "${ACQREL_APT_UPDATED:-}" ]; then
            apt-get update -qq
            export ACQREL_APT_UPDATED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    fi
}

# Everything needed to build for aarch64 and run the result under qemu-user.
setup_aarch64() {
    ensure_target stable aarch64-unknown-linux-gnu
    ensure_apt aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross
    ensure_apt qemu-aarch64 qemu-user
    ensure_apt aarch64-linux-gnu-objdump binutils-aarch64-linux-gnu
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
}

# Number of `#[test]` functions in the given files.
count_tests() {
    cat "$@" | grep -c '^[[:space:]]*#\[test\]' || true
}

# Sum of "N passed" over cargo test's result lines in a log file.
passed_in() {
    grep -Eo 'test result: ok\. [0-9]+ passed' "$1" | awk '{s += $4} END {print s + 0}'
}

# Sum of "N ignored" over cargo test's result lines in a log file.
ignored_in() {
    grep -Eo 'test result: ok\. [0-9]+ passed; [0-9]+ failed; [0-9]+ ignored' "$1" | awk '{s += $8} END {print s + 0}'
}

# Runs every loom model file (tests/loom_*.rs) with the given cargo test
# command (RUSTFLAGS set by the caller) and fails unless every model ran:
# a `#![cfg(loom)]` file built without `--cfg loom` is an empty binary that
# passes silently.
run_loom_models() { # cargo test command and options...
    : "${LOOM_MAX_PREEMPTIONS:=3}"
    export LOOM_MAX_PREEMPTIONS
    local files=(tests/loom_*.rs) args=() out expected ran ignored
    expected=$(count_tests "${files[@]}")
    for f in "${files[@]}"; do args+=(--test "$(basename "$f" .rs)"); done
    out=$(mktemp)
    "$@" "${args[@]}" 2>&1 | tee "$out"
    ran=$(passed_in "$out")
    ignored=$(ignored_in "$out")
    echo "loom: $ran models passed, $ignored ignored (named above with their reason), $expected defined"
    if [ $((ran + ignored)) -ne "$expected" ]; then
        echo "loom: expected $expected models to run or be ignored, $ran passed, $ignored ignored" >&2
        return 1
    fi
}
