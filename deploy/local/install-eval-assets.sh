#!/usr/bin/env bash
# Installs what `finishline-bibgen race` draws its held-out evaluation photos with:
#   tuning split:  fonts DejaVu (fonts-dejavu-core, fonts-dejavu-extra) and Liberation
#                  (fonts-liberation); backgrounds = the real photographs shipped in the
#                  scikit-image 0.25.2 wheel (skimage/data/*), extracted into
#                  $FINISHLINE_MODELS_DIR/eval-assets/skimage (default models/).
#   heldout split: fonts FreeFont (fonts-freefont-ttf) and Roboto (fonts-roboto-unhinted);
#                  backgrounds = the nature photographs of Debian's mate-backgrounds
#                  (/usr/share/backgrounds/mate/nature).
#   training split (with --training; photos the bib map is trained on, not used by tests):
#                  the tuning split's assets plus the Debian font packages below; none is
#                  FreeFont, Roboto or derived from them.
# Debian packages come through apt-get, the wheel from PyPI through pip; nothing else.
# Safe to run again: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

MODELS_DIR="${FINISHLINE_MODELS_DIR:-models}"
CACHE_DIR="${FINISHLINE_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/finishline/wheels}"
SKIMAGE_WHEEL="scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
SKIMAGE_DIR="$MODELS_DIR/eval-assets/skimage"
SKIMAGE_FILES=(astronaut.png brick.png camera.png chelsea.png coffee.png grass.png gravel.png
  rocket.jpg motorcycle_left.png motorcycle_right.png)
SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

case "${1:-}" in
  --training) TRAINING=1 ;;
  "") TRAINING=0 ;;
  -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
  *) echo "error: unknown argument $1 (usage: $0 [--training])" >&2; exit 2 ;;
esac

# Debian packages, each checked by a file it ships.
declare -A PACKAGE_FILES=(
  [fonts-dejavu-core]=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
  [fonts-dejavu-extra]=/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf
  [fonts-liberation]=/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf
  [fonts-freefont-ttf]=/usr/share/fonts/truetype/freefont/FreeSansBold.ttf
  [fonts-roboto-unhinted]=/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/Roboto-Bold.ttf
  [mate-backgrounds]=/usr/share/backgrounds/mate/nature/Dune.jpg
)
if [ "$TRAINING" = 1 ]; then
  PACKAGE_FILES+=(
    [fonts-open-sans]=/usr/share/fonts/truetype/open-sans/OpenSans-CondBold.ttf
    [fonts-lato]=/usr/share/fonts/truetype/lato/Lato-Black.ttf
    [fonts-cantarell]=/usr/share/fonts/opentype/cantarell/Cantarell-Bold.otf
    [fonts-inter]=/usr/share/fonts/opentype/inter/Inter-Bold.otf
    [fonts-cabin]=/usr/share/fonts/opentype/cabin/Cabin-Bold.otf
    [fonts-crosextra-carlito]=/usr/share/fonts/truetype/crosextra/Carlito-Bold.ttf
    [fonts-league-spartan]=/usr/share/fonts/opentype/league-spartan/LeagueSpartan-Bold.otf
    [fonts-bebas-neue]=/usr/share/fonts/opentype/bebas-neue/BebasNeue-Bold.otf
    [fonts-dosis]=/usr/share/fonts/opentype/dosis/Dosis-Bold.otf
    [fonts-hack]=/usr/share/fonts/truetype/hack/Hack-Bold.ttf
    [fonts-adf-gillius]=/usr/share/fonts/truetype/adf/GilliusADF-BoldCond.otf
  )
fi
missing=()
for package in "${!PACKAGE_FILES[@]}"; do
  [ -s "${PACKAGE_FILES[$package]}" ] || missing+=("$package")
done
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> installing Debian packages for the evaluation photos: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

all_present=1
for f in "${SKIMAGE_FILES[@]}"; do [ -s "$SKIMAGE_DIR/$f" ] || all_present=0; done
if [ "$all_present" = 1 ]; then
  exit 0
fi
. deploy/local/find-pip.sh
mkdir -p "$CACHE_DIR" "$SKIMAGE_DIR"
if [ ! -s "$CACHE_DIR/$SKIMAGE_WHEEL" ]; then
  echo "==> downloading the scikit-image wheel (its sample photographs) from PyPI into $CACHE_DIR"
  $PIP download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_17_x86_64 --dest "$CACHE_DIR" scikit-image==0.25.2
fi
echo "==> extracting the scikit-image sample photographs into $SKIMAGE_DIR"
members=()
for f in "${SKIMAGE_FILES[@]}"; do members+=("skimage/data/$f"); done
unzip -o -j -q "$CACHE_DIR/$SKIMAGE_WHEEL" "${members[@]}" -d "$SKIMAGE_DIR"
for f in "${SKIMAGE_FILES[@]}"; do
  [ -s "$SKIMAGE_DIR/$f" ] || { echo "error: $SKIMAGE_DIR/$f is missing after extraction" >&2; exit 1; }
done
echo "==> evaluation photo assets ready"
