#!/usr/bin/env bash
# API docs build without warnings (broken links, missing docs), also the way
# docs.rs builds them (nightly, every feature, `--cfg docsrs`); and the crate
# is ready to publish: `cargo publish --dry-run` packages it and builds the
# packaged copy on its own.
source "$(dirname "$0")/lib.sh"
log "cargo doc (stable, every feature)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features
log "cargo doc as docs.rs builds it"
RUSTDOCFLAGS="--cfg docsrs -D warnings" cargo +nightly doc --no-deps --all-features --target-dir target/docsrs
log "cargo publish --dry-run"
# --allow-dirty: earlier jobs leave generated files behind; the package
# contents are what `include`/`exclude` in Cargo.toml say, whatever is dirty.
cargo publish --dry-run --allow-dirty -p acqrel
