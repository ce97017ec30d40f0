#!/usr/bin/env bash
# API docs build without warnings (broken links, missing docs).
source "$(dirname "$0")/lib.sh"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features
