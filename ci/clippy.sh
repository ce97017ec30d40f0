#!/usr/bin/env bash
# Clippy with warnings denied: the whole workspace (the library and the bench
# package) with default features, then no_std, and the loom build (the
# library and its tests: the benches' peers do not build under loom, and the
# examples use the slice views of the spsc chunks, which loom's cells cannot
# give).
source "$(dirname "$0")/lib.sh"
ensure_component stable clippy
log "clippy (std)"
cargo clippy --workspace --all-targets -- -D warnings
log "clippy (no_std + alloc)"
cargo clippy --lib --no-default-features -- -D warnings
log "clippy (--cfg loom)"
RUSTFLAGS="--cfg loom --cfg crossbeam_loom" cargo clippy --lib --tests --target-dir target/loom -- -D warnings
log "clippy + tests of the xtask crate"
cargo clippy --manifest-path xtask/Cargo.toml --all-targets -- -D warnings
cargo test --manifest-path xtask/Cargo.toml
