#!/usr/bin/env python3
"""Cuts the text lines the engine read in generated photos, labelled, for fine-tuning the reader.

Usage: lines.py OUT DIR:TRACE_LOG ...

DIR holds photos and ground-truth.json from `finishline-bibgen race --split tuning`; TRACE_LOG is
`recognition-bench --files DIR/*.jpg --trace` over them (NO_COLOR=1). Each "text line read" is cut
from its photo by its four corners and scaled to 48 pixels high, as the engine does. A line that
covers a legible bib's digits (85% of the digits' box, at most 3.5 times its area) is labelled
with the bib's number and cut four times: as found and three times with its box moved and
resized a little. A line that touches no bib is labelled with what PP-OCRv6 reads there now, so
fine-tuning keeps reading signs and words as it did. Lines over part of a bib are left out.
Writes OUT.npy (the 48-pixel crops, uint8 RGB) and OUT.json (labels and kinds).
"""
import json
import random
import re
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

MODEL = "models/PP-OCRv6_rec_small.onnx"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(MODEL, options)
CHARS = [""] + session.get_modelmeta().custom_metadata_map["character"].split("\n") + [" "]


def cut(image, corners):
    tl, tr, br, bl = corners
    w = int(round(np.hypot(tr[0] - tl[0], tr[1] - tl[1])))
    h = int(round(np.hypot(bl[0] - tl[0], bl[1] - tl[1])))
    if w < 2 or h < 2:
        return None
    quad = (tl[0], tl[1], bl[0], bl[1], br[0], br[1], tr[0], tr[1])
    line = image.transform((w, h), Image.QUAD, data=quad, resample=Image.BILINEAR)
    width = max(8, min(1200, int(np.ceil(48 * line.width / line.height))))
    return np.asarray(line.resize((width, 48), Image.BILINEAR), dtype=np.uint8)


def read(crop):
    x = crop.astype(np.float32)[:, :, ::-1] / 127.5 - 1
    w = crop.shape[1]
    batch = np.zeros((1, 3, 48, (w + 7) // 8 * 8), np.float32)
    batch[0, :, :, :w] = x.transpose(2, 0, 1)
    probs = session.run(None, {"x": batch})[0][0]
    text, previous = "", -1
    for best in probs.argmax(1):
        if best != 0 and best != previous:
            text += CHARS[best]
        previous = best
    return text


def jitter(corners):
    c = np.array(corners, dtype=np.float64)
    centre = c.mean(0)
    across, down = c[1] - c[0], c[3] - c[0]
    height = np.linalg.norm(down)
    sx, sy = random.uniform(0.95, 1.15), random.uniform(0.95, 1.2)
    shift = (across / np.linalg.norm(across) * random.uniform(-0.08, 0.08) * height
             + down / height * random.uniform(-0.08, 0.08) * height)
    out = []
    for p in c:
        r = p - centre
        u, v = np.dot(r, across) / np.dot(across, across), np.dot(r, down) / np.dot(down, down)
        out.append((centre + u * sx * across + v * sy * down + shift).tolist())
    return out


def traced_lines(log):
    pending, lines = [], {}
    for raw in open(log, errors="replace"):
        s = ANSI.sub("", raw)
        m = re.match(r"^(\S+\.jpg): ", s)
        if m:
            lines[m.group(1).split("/")[-1]] = pending
            pending = []
        elif "text line read" in s:
            text = re.search(r"text=(.*?) corners=", s).group(1)
            corners = json.loads(re.search(r"corners=(\[\[.*?\]\])", s).group(1))
            pending.append((text, corners))
    return lines


def main():
    random.seed(1)
    crops, labels, kinds = [], [], []
    for arg in sys.argv[2:]:
        folder, log = arg.split(":")
        truth = {p["file"]: p for p in json.load(open(f"{folder}/ground-truth.json"))["photos"]}
        for name, lines in traced_lines(log).items():
            image = Image.open(f"{folder}/{name}").convert("RGB")
            for _, corners in lines:
                xs, ys = [p[0] for p in corners], [p[1] for p in corners]
                box = (min(xs), min(ys), max(xs), max(ys))
                area = (box[2] - box[0]) * (box[3] - box[1])
                label, part = None, False
                for bib in truth[name]["bibs"]:
                    d = bib["digitsBox"]
                    digits = (d["x"], d["y"], d["x"] + d["w"], d["y"] + d["h"])
                    inter = (max(0, min(box[2], digits[2]) - max(box[0], digits[0]))
                             * max(0, min(box[3], digits[3]) - max(box[1], digits[1])))
                    if inter >= 0.85 * d["w"] * d["h"] and area <= 3.5 * d["w"] * d["h"] \
                            and bib.get("legible", True):
                        label = str(bib["number"])
                    elif inter > 0.1 * d["w"] * d["h"]:
                        part = True
                if label is not None:
                    for k in range(4):
                        crop = cut(image, corners if k == 0 else jitter(corners))
                        if crop is not None:
                            crops.append(crop), labels.append(label), kinds.append("bib")
                elif not part:
                    crop = cut(image, corners)
                    if crop is not None:
                        crops.append(crop), labels.append(read(crop)), kinds.append("other")
    out = np.empty(len(crops), dtype=object)
    for i, c in enumerate(crops):
        out[i] = c
    np.save(sys.argv[1] + ".npy", out, allow_pickle=True)
    json.dump(dict(labels=labels, kinds=kinds), open(sys.argv[1] + ".json", "w"))
    print(f"{sys.argv[1]}: {len(labels)} lines, {kinds.count('bib')} over bibs")


if __name__ == "__main__":
    main()
