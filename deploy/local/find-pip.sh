# Sourced (from the repository root) by the install scripts that fetch wheels from PyPI: sets
# PIP to a pip that runs (pip3, pip or python3 -m pip), installing Debian's python3-pip when
# there is none.
PIP=""
for candidate in pip3 pip; do
  if command -v "$candidate" >/dev/null 2>&1; then PIP="$candidate"; break; fi
done
if [ -z "$PIP" ]; then
  if python3 -m pip --version >/dev/null 2>&1; then PIP="python3 -m pip"; else
    SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "==> installing Debian package: python3-pip"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
    PIP="pip3"
  fi
fi

# pip_target DIR [PIP-OPTION...] PACKAGE...: installs the packages into DIR once
# (DIR/.complete marks a finished install; an interrupted one is redone from scratch). Options
# such as --only-binary=:all: pass through to pip install.
pip_target() {
  local dir="$1"; shift
  if [ ! -f "$dir/.complete" ]; then
    echo "==> installing $* into $dir"
    rm -rf "$dir"
    $PIP install --quiet --disable-pip-version-check --root-user-action=ignore \
      --no-warn-script-location --target "$dir" "$@"
    touch "$dir/.complete"
  fi
}
