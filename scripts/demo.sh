#!/usr/bin/env bash
# The main job: builds the WASM guests and runs the order-flow demo on the
# embedded default instance (SQLite; no database server needed).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release -p continuum-guest-build
cargo run --quiet -p continuum-cli --bin continuum -- --manifest instances.toml demo
