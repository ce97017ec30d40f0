#!/usr/bin/env bash
# Every example runs to completion (they check their own results), the tour
# (examples/tour/) included. Each runs with the command its module docs give
# (`//! cargo run --release --example NAME [--features ...]`), so an example
# that needs a feature (`required-features` in Cargo.toml) runs with it, and
# the documented command is the one tested.
source "$(dirname "$0")/lib.sh"
log "build: default features, then every feature"
cargo build --release --examples
cargo build --release --examples --all-features
for f in examples/*.rs examples/*/main.rs; do
    name=$(basename "$f" .rs)
    [ "$name" = main ] && name=$(basename "$(dirname "$f")")
    cmd=$(sed -n '\|^//![[:space:]]*cargo run --release --example |{s|^//![[:space:]]*||p;q;}' "$f")
    read -r -a args <<<"$cmd"
    if [ "${args[4]:-}" != "$name" ]; then
        echo "$f: its module docs give no 'cargo run --release --example $name' command" >&2
        exit 1
    fi
    log "$cmd"
    timeout 300 "${args[@]}" --quiet
done
