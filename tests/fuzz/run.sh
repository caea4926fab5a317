#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each) with cargo-fuzz (libFuzzer).
# cargo-fuzz needs nightly features; on the stable toolchain RUSTC_BOOTSTRAP=1 enables them.
#   tests/fuzz/run.sh [seconds-per-target]
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
seconds="${1:-60}"
for target in ids job_payload enqueue_body; do
  echo "==> fuzzing $target for ${seconds}s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . "$target" -- -max_total_time="$seconds" 2>&1 | grep -E "^Done|SUMMARY|panicked|ERROR" || true
done
