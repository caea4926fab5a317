#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the workspace once, then runs the unit,
# integration and end-to-end tests (real redis-server, real worker and gateway processes,
# real Socket.IO clients in Rust and in JS).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/local/install-deps.sh --with-js

# One build from scratch gains nothing from incremental state, which doubled the target dir.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

echo "==> cargo fmt --check, cargo clippy -D warnings"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cargo deny check licenses bans sources"
deploy/local/cargo-deny.sh check licenses bans sources

echo "==> the vendored engineioxide's own tests (vendor/engineioxide/PATCH.md)"
CARGO_TARGET_DIR=target/vendor cargo test --quiet --manifest-path vendor/engineioxide/Cargo.toml \
  --features __test_harness --tests

echo "==> cargo build --workspace"
cargo build --workspace --all-targets --quiet

echo "==> cargo test --workspace"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --all-targets -- --test-threads 2 2>&1 | tee "$log" || status=$?
# The benchmark harness in smoke mode (tiny N, two rounds, debug binaries), so it never rots:
# each fails unless both sides delivered the same number of messages of each name and every
# ratio is finite.
if [ "$status" -eq 0 ]; then
  echo "==> benchmark smoke run (tests/bench/queue.mjs --smoke)"
  node tests/bench/queue.mjs --smoke --out target/bench-smoke.json || status=$?
fi
if [ "$status" -eq 0 ]; then
  echo "==> benchmark smoke run (tests/bench/socket.mjs --smoke)"
  node tests/bench/socket.mjs --smoke --out target/bench-socket-smoke.json || status=$?
fi
# The deployment files, for real: the Kubernetes base renders and validates; both images build
# with podman (from the debug binaries just built) and the stack in them passes the photo
# scenario with a worker killed mid-run (deploy/images/test.sh --help).
if [ "$status" -eq 0 ]; then
  echo "==> deploy/k8s/check.sh"
  deploy/k8s/check.sh || status=$?
fi
if [ "$status" -eq 0 ]; then
  echo "==> deploy/images/test.sh --bin-dir target/debug"
  images_started=$SECONDS
  deploy/images/test.sh --bin-dir target/debug || status=$?
  echo "==> deploy/images/test.sh took $((SECONDS - images_started))s"
fi
# One closing line for the whole run (cargo prints one result line per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
