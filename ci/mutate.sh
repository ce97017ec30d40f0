#!/usr/bin/env bash
# Ordering mutation (`cargo xtask mutate-orderings`): every ordering site the
# tests execute is weakened in every permitted way, one mutant at a time, and
# must be killed by the primitive's loom models or, for loom survivors, by
# Miri over several seeds (or be justified in SAFETY.md). Regenerates the
# mutation tables in SAFETY.md and the score in README.md; fails on an
# unexplained survivor or an ordering site no test executes.
# Extra arguments go to the tool (e.g. `--primitive spsc`, `--no-miri`).
source "$(dirname "$0")/lib.sh"
ensure_component nightly miri rust-src
cargo +nightly miri setup
cargo xtask mutate-orderings "$@"
