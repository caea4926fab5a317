#!/usr/bin/env bash
# Fine-tunes the bib reader from scratch and rewrites ../PP-OCRv6_rec_small.bibs-delta.npz.
# Not part of set-up or CI: the delta is committed, and install-models.sh applies it. Kept so
# the delta can be made again and its data checked: tuning-split photos only (DejaVu and
# Liberation fonts on scikit-image photographs; seeds 300-315, never used elsewhere), never the
# held-out split's fonts or backgrounds. About 35 minutes on 2 cores and 4 GB of pip packages
# (PyTorch's wheel pulls CUDA libraries it does not use here), all under $WORK.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
WORK="${WORK:-target/reader-train}"
SEEDS="${SEEDS:-$(seq 300 315)}"
EPOCHS="${EPOCHS:-1}"
RATE="${RATE:-2e-5}"
mkdir -p "$WORK"
deploy/local/install-models.sh
cargo build --release -q -p finishline-bibgen
cargo build --release -q -p finishline-tests --example recognition-bench
. deploy/local/find-pip.sh
pip_target "$WORK/pydeps" --only-binary=:all: torch==2.15.0 onnx2torch==1.5.15 onnx==1.23.2 \
  onnxruntime==1.32.0 pillow==13.0.0 numpy==2.4.6
export PYTHONPATH="$WORK/pydeps" PYTHONNOUSERSITE=1
sets=()
for s in $SEEDS; do
  dir="$WORK/tuning-$s"
  [ -s "$dir/ground-truth.json" ] || target/release/finishline-bibgen race --split tuning --n 200 \
    --seed "$s" --out "$dir" >/dev/null
  [ -s "$dir.trace" ] || NO_COLOR=1 FINISHLINE_MODELS_DIR=models \
    target/release/examples/recognition-bench --files "$dir"/*.jpg --trace >"$dir.trace" 2>&1
  [ -s "$dir.lines.json" ] || python3 deploy/local/reader/train/lines.py "$dir.lines" "$dir:$dir.trace"
  sets+=("$dir.lines")
done
python3 deploy/local/reader/train/finetune.py deploy/local/reader/PP-OCRv6_rec_small.bibs-delta.npz \
  "$EPOCHS" "$RATE" "${sets[@]}"
deploy/local/install-models.sh
