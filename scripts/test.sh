#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the workspace once, then runs the unit,
# integration and end-to-end tests (real redis-server, real worker and gateway processes,
# real Socket.IO clients in Rust and in JS).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --with-js

echo "==> cargo build --workspace"
cargo build --workspace --all-targets --quiet

echo "==> cargo test --workspace"
cargo test --workspace --quiet -- --test-threads 2
