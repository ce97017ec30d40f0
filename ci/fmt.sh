#!/usr/bin/env bash
# Formatting.
source "$(dirname "$0")/lib.sh"
ensure_component stable rustfmt
cargo fmt --all --check
