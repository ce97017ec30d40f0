#!/usr/bin/env bash
# The library builds with the `rust-version` Cargo.toml declares.
source "$(dirname "$0")/lib.sh"
msrv=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml)
if ! rustup toolchain list | grep -q "^$msrv"; then
    rustup toolchain install "$msrv" --profile minimal
fi
cargo "+$msrv" check --lib --target-dir target/msrv
cargo "+$msrv" check --lib --no-default-features --target-dir target/msrv
