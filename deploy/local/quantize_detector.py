"""Makes the int8 text detector the worker runs by default: PP-OCRv4's DB detector with its
weights (per channel) and activations quantized to 8 bits by ONNX Runtime's static
quantization (QDQ), so its convolutions run on the CPU's integer units.

Calibration (the activation ranges) uses made-up photos, never the evaluation's: the
scikit-image sample photographs (the tuning split's backgrounds) at the detector's input size,
with light patches, digits and words drawn in Pillow's own font. Seeded, so a re-run writes the
same model.

usage: quantize_detector.py <fp32.onnx> <out.onnx> <folder of background images>
"""

import glob
import os
import random
import sys
import tempfile

import numpy as np
import onnx
from onnx import version_converter
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image, ImageDraw, ImageFont

LONG_SIDE = 864  # the worker's detector input (crates/finishline-media/src/ppocr/detect.rs)
PHOTOS = 40
WORDS = ["RUN", "FINISH", "START", "KM", "CITY", "MARATHON", "WATER", "GATE", "2026", "SPORT"]


def calibration_photo(rng, backgrounds):
    background = Image.open(rng.choice(backgrounds)).convert("RGB")
    landscape = rng.random() < 0.7
    w, h = (LONG_SIDE, rng.choice([480, 576, 640])) if landscape else (rng.choice([480, 576, 640]), LONG_SIDE)
    photo = background.resize((w, h), Image.BILINEAR)
    draw = ImageDraw.Draw(photo)
    for _ in range(rng.randint(2, 8)):
        size = rng.randint(10, 110)
        font = ImageFont.load_default(size=size)
        digits = rng.random() < 0.7
        text = str(rng.randint(1, 99999)) if digits else rng.choice(WORDS)
        x, y = rng.randint(0, max(1, w - size * 3)), rng.randint(0, max(1, h - size))
        ink = tuple(rng.randint(0, 80) for _ in range(3))
        if rng.random() < 0.6:  # a light patch behind the digits, like a bib or a sign
            paper = tuple(rng.randint(170, 255) for _ in range(3))
            box = draw.textbbox((x, y), text, font=font)
            pad = size // 3
            draw.rectangle((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad), fill=paper)
        else:
            ink = tuple(rng.randint(0, 255) for _ in range(3))
        draw.text((x, y), text, font=font, fill=ink)
    w32, h32 = max(32, round(w / 32) * 32), max(32, round(h / 32) * 32)
    pixels = np.asarray(photo.resize((w32, h32), Image.BILINEAR), dtype=np.float32)[:, :, ::-1]
    # As the worker feeds it: BGR, scaled to -1..1, NCHW.
    return (pixels / 127.5 - 1.0).transpose(2, 0, 1)[None].copy()


class Photos(CalibrationDataReader):
    def __init__(self, input_name, backgrounds):
        self.input_name = input_name
        self.rng = random.Random(20261202)
        self.backgrounds = backgrounds
        self.left = PHOTOS

    def get_next(self):
        if self.left == 0:
            return None
        self.left -= 1
        return {self.input_name: calibration_photo(self.rng, self.backgrounds)}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    source, out, folder = sys.argv[1:]
    backgrounds = sorted(
        p for p in glob.glob(os.path.join(folder, "*")) if p.lower().endswith((".png", ".jpg"))
    )
    if not backgrounds:
        sys.exit(f"error: no .png or .jpg background images in {folder}")
    with tempfile.TemporaryDirectory() as work:
        # Per-channel DequantizeLinear needs opset 13; the wheel's model is opset 12.
        opset13 = os.path.join(work, "opset13.onnx")
        onnx.save(version_converter.convert_version(onnx.load(source), 13), opset13)
        prepared = os.path.join(work, "prepared.onnx")
        quant_pre_process(opset13, prepared, skip_symbolic_shape=True)
        input_name = onnx.load(prepared).graph.input[0].name
        quantize_static(
            prepared,
            out,
            Photos(input_name, backgrounds),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
