#!/usr/bin/env python3
"""Writes finishline's bib reader: PP-OCRv6's small recogniser with a fine-tuned weight delta.

Usage: apply_delta.py ORIGINAL.onnx DELTA.npz OUT.onnx

DELTA.npz maps initializer names of PP-OCRv6_rec_small.onnx (rapidocr 3.10.0) to float16
arrays: the change fine-tuning made to each convolution and batch norm (deploy/local/reader/train/).
Every name must exist with the same shape, or nothing is written. The graph, the character list
in the metadata and every other weight are the original's, so the reader costs the same CPU.
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    src, delta_path, dst = sys.argv[1:4]
    model = onnx.load(src)
    delta = dict(np.load(delta_path))
    applied = set()
    for i, init in enumerate(model.graph.initializer):
        if init.name not in delta:
            continue
        weights = numpy_helper.to_array(init)
        change = delta[init.name]
        if change.shape != weights.shape:
            print(f"error: {init.name}: the delta is {change.shape}, the model's weight "
                  f"{weights.shape}; is {src} PP-OCRv6_rec_small.onnx from rapidocr 3.10.0?",
                  file=sys.stderr)
            return 1
        tuned = (weights + change.astype(np.float32)).astype(weights.dtype)
        model.graph.initializer[i].CopyFrom(numpy_helper.from_array(tuned, init.name))
        applied.add(init.name)
    missing = sorted(set(delta) - applied)
    if missing:
        print(f"error: {len(missing)} weights of the delta are not in {src}, e.g. {missing[:3]}",
              file=sys.stderr)
        return 1
    onnx.save(model, dst)
    print(f"applied {len(applied)} weight deltas to {src}: wrote {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
