#!/usr/bin/env bash
# The test suite and the benches (run once as tests) cross-compiled for
# aarch64 and run under qemu-user. qemu on an x86 host shows only x86's
# reorderings: this proves the code builds and works there, not that its
# orderings are right (loom and Miri do that).
source "$(dirname "$0")/lib.sh"
setup_aarch64
export ACQREL_TEST_SCALE="${ACQREL_TEST_SCALE:-20}"
target=aarch64-unknown-linux-gnu
log "tests on $target (qemu)"
cargo test --target $target --target-dir target/cross --lib --tests
log "benches as tests on $target (qemu; figures meaningless)"
cargo test --target $target --target-dir target/cross -p acqrel-bench --benches
