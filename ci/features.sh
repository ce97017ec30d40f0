#!/usr/bin/env bash
# Optional features: the test suite and clippy with every feature enabled
# (today `lock_api` and `metrics`, whose tests are compiled only with them),
# `metrics` alone, and the no_std build with `lock_api` on
# (`metrics` needs `std`). ci/doc.sh builds the docs with every feature, as
# docs.rs does.
source "$(dirname "$0")/lib.sh"
ensure_component stable clippy
log "clippy (--all-features)"
cargo clippy --all-targets --all-features -- -D warnings
log "tests (--all-features)"
cargo test --all-features --lib --tests
log "metrics alone, without default features (it must bring in std)"
cargo test --no-default-features --features metrics --test metrics
log "no_std + lock_api"
cargo build --lib --no-default-features --features lock_api
