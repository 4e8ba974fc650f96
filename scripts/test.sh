#!/usr/bin/env bash
# Runs every test: makes sure PostgreSQL is up (starting or installing it)
# and Chromium is installed (for the web UI's browser test),
# builds the WASM guests (installing the wasm toolchain if needed), then
# runs the whole workspace's tests against real Postgres, SQLite, guests and
# the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
scripts/ensure-chromium.sh
cargo run --quiet --release -p continuum-guest-build
cargo build --quiet -p continuum-cli --bin continuum
cargo test --workspace "$@"
