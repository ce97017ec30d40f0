#!/usr/bin/env bash
# Optional features: the test suite and clippy with every feature enabled
# (today `lock_api`, whose tests are compiled only with it), and the no_std
# build with `lock_api` on.
source "$(dirname "$0")/lib.sh"
ensure_component stable clippy
log "clippy (--all-features)"
cargo clippy --all-targets --all-features -- -D warnings
log "tests (--all-features)"
cargo test --all-features --lib --tests
log "no_std + lock_api"
cargo build --lib --no-default-features --features lock_api
