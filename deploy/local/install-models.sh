#!/usr/bin/env bash
# Installs the bib-recognition files into models/ at the repo root (or $FINISHLINE_MODELS_DIR):
# the PP-OCRv4 text detection model (from the PyPI wheel rapidocr-onnxruntime 1.4.4), the
# PP-OCRv6 small text recognition model (from the PyPI wheel rapidocr 3.10.0; the character
# list is inside the model) and libonnxruntime.so (from the PyPI wheel onnxruntime 1.32.0),
# plus MediaPipe's person model selfie_segmentation.onnx, converted from the .tflite file
# inside the PyPI wheel mediapipe 0.10.14 (Apache-2.0) by deploy/local/tflite_to_onnx.py, whose
# Python dependencies (tflite, onnx, numpy) go into a private folder in the wheel cache, so
# nothing system-wide changes. Wheels and packages come from PyPI through pip; nothing from a
# model hub. The detector the worker runs by
# default, ch_PP-OCRv4_det_infer.int8.onnx, is quantized here from the float one by
# deploy/local/quantize_detector.py (onnxruntime's static quantization, calibrated on the
# scikit-image 0.25.2 wheel's sample photographs with digits drawn on them). The reader the
# worker runs, PP-OCRv6_rec_small.bibs.onnx, is PP-OCRv6's with the weight delta committed in
# deploy/local/reader/ (fine-tuned on generated bib photos of the tuning split) added by
# deploy/local/reader/apply_delta.py; the graph and every other weight are the original's.
# Safe to run again: skips when every file is present.
set -euo pipefail
cd "$(dirname "$0")/../.."

MODELS_DIR="${FINISHLINE_MODELS_DIR:-models}"
CACHE_DIR="${FINISHLINE_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/finishline/wheels}"
RAPIDOCR_WHEEL="rapidocr_onnxruntime-1.4.4-py3-none-any.whl"
RAPIDOCR3_WHEEL="rapidocr-3.10.0-py3-none-any.whl"
ORT_WHEEL="onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl"
MEDIAPIPE_WHEEL="mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
# The converter's dependencies, pinned; installed with --target into this folder only.
CONVERTER_DEPS=(tflite==2.18.0 onnx==1.23.2 numpy==2.4.6)
PYDEPS_DIR="$CACHE_DIR/pydeps-tflite_to_onnx"
# The quantizer's dependencies (onnxruntime from the wheel above), in a folder of their own.
QUANTIZER_DEPS=(onnx==1.23.2 numpy==2.4.6 pillow==13.0.0)
QUANTIZER_DIR="$CACHE_DIR/pydeps-quantize_detector"
SKIMAGE_WHEEL="scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
PERSON_MODELS=(selfie_segmentation)
READER_DELTA=deploy/local/reader/PP-OCRv6_rec_small.bibs-delta.npz
FILES=(ch_PP-OCRv4_det_infer.onnx PP-OCRv6_rec_small.onnx libonnxruntime.so.1.32.0
  selfie_segmentation.onnx ch_PP-OCRv4_det_infer.int8.onnx PP-OCRv6_rec_small.bibs.onnx)

READER="$MODELS_DIR/PP-OCRv6_rec_small.bibs.onnx"
# A reader written from an older delta (a pull that changed the .npz) is written again.
reader_stale() { [ ! -s "$READER" ] || [ "$READER_DELTA" -nt "$READER" ]; }

all_present=1
for f in "${FILES[@]}"; do [ -s "$MODELS_DIR/$f" ] || all_present=0; done
if reader_stale; then all_present=0; fi
if [ "$all_present" = 1 ]; then
  exit 0
fi

if ! command -v unzip >/dev/null 2>&1; then
  SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "==> installing Debian package: unzip"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq unzip >/dev/null
fi
. deploy/local/find-pip.sh

mkdir -p "$CACHE_DIR" "$MODELS_DIR"
if [ ! -s "$CACHE_DIR/$RAPIDOCR_WHEEL" ] || [ ! -s "$CACHE_DIR/$RAPIDOCR3_WHEEL" ] \
  || [ ! -s "$CACHE_DIR/$ORT_WHEEL" ]; then
  echo "==> downloading the recognition wheels from PyPI into $CACHE_DIR"
  $PIP download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_28_x86_64 --dest "$CACHE_DIR" \
    rapidocr-onnxruntime==1.4.4 rapidocr==3.10.0 onnxruntime==1.32.0
fi

echo "==> extracting the PP-OCR models and libonnxruntime into $MODELS_DIR"
unzip -o -j -q "$CACHE_DIR/$RAPIDOCR_WHEEL" \
  'rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx' -d "$MODELS_DIR"
unzip -o -j -q "$CACHE_DIR/$RAPIDOCR3_WHEEL" 'rapidocr/models/PP-OCRv6_rec_small.onnx' -d "$MODELS_DIR"
unzip -o -j -q "$CACHE_DIR/$ORT_WHEEL" 'onnxruntime/capi/libonnxruntime.so.1.32.0' -d "$MODELS_DIR"
ln -sf libonnxruntime.so.1.32.0 "$MODELS_DIR/libonnxruntime.so"

if [ ! -s "$CACHE_DIR/$MEDIAPIPE_WHEEL" ]; then
  echo "==> downloading the mediapipe 0.10.14 wheel from PyPI into $CACHE_DIR"
  # 0.10.14 ships only a manylinux_2_17 (manylinux2014) x86_64 wheel, and pip does not widen
  # --platform manylinux_2_28_x86_64 to older glibc tags, so this one names its own tag.
  $PIP download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_17_x86_64 --dest "$CACHE_DIR" mediapipe==0.10.14
fi
pip_target "$PYDEPS_DIR" --only-binary=:all: "${CONVERTER_DEPS[@]}"
TFLITE_TMP="$(mktemp -d)"
trap 'rm -rf "$TFLITE_TMP"' EXIT
for m in "${PERSON_MODELS[@]}"; do
  [ -s "$MODELS_DIR/$m.onnx" ] && continue
  echo "==> converting mediapipe $m.tflite to $MODELS_DIR/$m.onnx"
  unzip -o -j -q "$CACHE_DIR/$MEDIAPIPE_WHEEL" "mediapipe/modules/$m/$m.tflite" -d "$TFLITE_TMP"
  rm -f "$MODELS_DIR/$m.onnx.tmp"
  PYTHONPATH="$PYDEPS_DIR" PYTHONNOUSERSITE=1 python3 deploy/local/tflite_to_onnx.py \
    "$TFLITE_TMP/$m.tflite" "$MODELS_DIR/$m.onnx.tmp" >/dev/null
  [ -s "$MODELS_DIR/$m.onnx.tmp" ] || { echo "error: converting $m.tflite wrote nothing" >&2; exit 1; }
  mv "$MODELS_DIR/$m.onnx.tmp" "$MODELS_DIR/$m.onnx"
done
if [ ! -s "$MODELS_DIR/ch_PP-OCRv4_det_infer.int8.onnx" ]; then
  pip_target "$QUANTIZER_DIR" --only-binary=:all: "$CACHE_DIR/$ORT_WHEEL" "${QUANTIZER_DEPS[@]}"
  if [ ! -s "$CACHE_DIR/$SKIMAGE_WHEEL" ]; then
    echo "==> downloading the scikit-image wheel (calibration photographs) into $CACHE_DIR"
    $PIP download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
      --platform manylinux_2_17_x86_64 --dest "$CACHE_DIR" scikit-image==0.25.2
  fi
  CALIBRATION="$TFLITE_TMP/calibration"
  mkdir -p "$CALIBRATION"
  unzip -o -j -q "$CACHE_DIR/$SKIMAGE_WHEEL" 'skimage/data/astronaut.png' 'skimage/data/coffee.png' \
    'skimage/data/chelsea.png' 'skimage/data/rocket.jpg' 'skimage/data/motorcycle_left.png' \
    'skimage/data/brick.png' 'skimage/data/grass.png' 'skimage/data/gravel.png' \
    'skimage/data/camera.png' 'skimage/data/color.png' -d "$CALIBRATION"
  echo "==> quantizing the text detector to int8 (about a minute)"
  rm -f "$MODELS_DIR/ch_PP-OCRv4_det_infer.int8.onnx.tmp"
  PYTHONPATH="$QUANTIZER_DIR" PYTHONNOUSERSITE=1 python3 deploy/local/quantize_detector.py \
    "$MODELS_DIR/ch_PP-OCRv4_det_infer.onnx" "$MODELS_DIR/ch_PP-OCRv4_det_infer.int8.onnx.tmp" \
    "$CALIBRATION" >"$TFLITE_TMP/quantize.log" 2>&1 \
    || { cat "$TFLITE_TMP/quantize.log" >&2; echo "error: quantizing the text detector failed" >&2; exit 1; }
  mv "$MODELS_DIR/ch_PP-OCRv4_det_infer.int8.onnx.tmp" "$MODELS_DIR/ch_PP-OCRv4_det_infer.int8.onnx"
fi
if reader_stale; then
  pip_target "$QUANTIZER_DIR" --only-binary=:all: "$CACHE_DIR/$ORT_WHEEL" "${QUANTIZER_DEPS[@]}"
  echo "==> writing the bib reader: PP-OCRv6's recogniser plus $READER_DELTA"
  rm -f "$READER.tmp"
  PYTHONPATH="$QUANTIZER_DIR" PYTHONNOUSERSITE=1 python3 deploy/local/reader/apply_delta.py \
    "$MODELS_DIR/PP-OCRv6_rec_small.onnx" "$READER_DELTA" "$READER.tmp"
  mv "$READER.tmp" "$READER"
fi
for f in "${FILES[@]}"; do
  [ -s "$MODELS_DIR/$f" ] || { echo "error: $MODELS_DIR/$f is missing after extraction" >&2; exit 1; }
done
echo "==> recognition and person models ready in $MODELS_DIR"
