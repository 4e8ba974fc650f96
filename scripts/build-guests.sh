#!/usr/bin/env sh
# Builds every crate in examples-wasm/ into a WebAssembly component in
# examples-wasm/components/<crate_name>.wasm (see tools/guest-build).
# Extra arguments are passed to the tool, e.g. --print-wit.
set -eu
cd "$(dirname "$0")/.."
exec cargo run -p continuum-guest-build --release -- "$@"
