#!/usr/bin/env bash
# The crate builds without `std` for a bare-metal target (no OS, alloc only).
source "$(dirname "$0")/lib.sh"
ensure_target stable aarch64-unknown-none
cargo build --lib --no-default-features --target aarch64-unknown-none
