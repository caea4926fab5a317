#!/usr/bin/env python3
"""Trains the bib map (crates/finishline-media/src/ppocr/bib_map.onnx), never on held-out photos.

Run by tests/recognition/train-bib-map.sh, which generates the photos. The map is a small
fully convolutional network: the photo scaled to 640 pixels on its long side (RGB, x/255 −
0.5) in, one logit per 4 × 4 pixels out, high where a bib's digits are. The target is each
legible bib's digits box (`digitsBox` in ground-truth.json) shrunk by a tenth on every side;
a cell's ring around it and illegible bibs are left out of the loss. Signs, banners, clocks
and vehicles with numbers are in the photos and are what it learns to leave dark.

Training takes random 320 × 320 crops (60% centred near a bib) of the photos scaled to
0.75–1.05 of the engine's scale, with brightness, colour, grey, noise and channel-order
changes; weighted cross-entropy plus a Dice term; AdamW with a cosine schedule for a fixed
time. `--check DIR...` prints, for generated folders it was not trained on, how many legible
bibs the map sees and how many regions it lights off any bib.

Usage: train_bib_map.py --out MODEL.onnx --minutes M DIR...
       train_bib_map.py --check MODEL.onnx DIR...
"""
import argparse
import json
import math
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

STORED_LONG = 720  # photos are kept at this size in memory, then scaled per sample
LONG = 640  # the engine's input (bib_map.rs: LONG_SIDE)
CROP = 320
WIDTH = 32
THRESHOLD = 0.5  # bib_map.rs: THRESHOLD


def cbr(cin, cout, k=3, s=1, d=1, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, s, padding=d * (k // 2), dilation=d, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def sep(cin, cout, s=1, d=1):
    """Depthwise 3 × 3, then pointwise."""
    return nn.Sequential(cbr(cin, cin, 3, s, d, groups=cin), cbr(cin, cout, 1))


class BibMap(nn.Module):
    """Encoder to 1/16 (dilated at the bottom for context), decoder back to 1/4 with skips."""

    def __init__(self, w=WIDTH):
        super().__init__()
        self.e1 = cbr(3, w, 3, 2)
        self.e2 = nn.Sequential(sep(w, w, 2), sep(w, w))
        self.e3 = nn.Sequential(sep(w, 2 * w, 2), sep(2 * w, 2 * w))
        self.e4 = nn.Sequential(sep(2 * w, 3 * w, 2), sep(3 * w, 3 * w), sep(3 * w, 3 * w, d=2),
                                sep(3 * w, 3 * w, d=4))
        self.d3 = nn.Sequential(cbr(5 * w, 2 * w, 1), sep(2 * w, 2 * w))
        self.d2 = nn.Sequential(cbr(3 * w, w, 1), sep(w, w))
        self.out = nn.Conv2d(w, 1, 1)

    def forward(self, x):
        x2 = self.e2(self.e1(x))
        x3 = self.e3(x2)
        x4 = self.e4(x3)
        y = self.d3(torch.cat([F.interpolate(x4, scale_factor=2.0, mode="nearest"), x3], 1))
        y = self.d2(torch.cat([F.interpolate(y, scale_factor=2.0, mode="nearest"), x2], 1))
        return self.out(y)


def load(folders):
    """Every photo of the folders at STORED_LONG, with its bibs' digit boxes scaled alike."""
    images, boxes = [], []
    for folder in folders:
        for photo in json.load(open(f"{folder}/ground-truth.json"))["photos"]:
            image = Image.open(f"{folder}/{photo['file']}")
            s = STORED_LONG / max(image.size)
            size = (round(image.size[0] * s), round(image.size[1] * s))
            image = image.convert("RGB").resize(size, Image.BILINEAR)
            images.append(np.asarray(image, dtype=np.uint8))
            boxes.append(np.array([[b["digitsBox"]["x"] * s, b["digitsBox"]["y"] * s,
                                    (b["digitsBox"]["x"] + b["digitsBox"]["w"]) * s,
                                    (b["digitsBox"]["y"] + b["digitsBox"]["h"]) * s,
                                    1.0 if b["legible"] else 0.0] for b in photo["bibs"]],
                                  dtype=np.float32).reshape(-1, 5))
    return images, boxes


def sample(image, boxes):
    """One augmented crop, its target and its loss weight (both at 1/4)."""
    bx = boxes.copy()
    height, width = image.shape[:2]
    s = random.uniform(0.75, 1.05) * LONG / STORED_LONG
    t = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255.0
    h2, w2 = max(CROP, round(height * s)), max(CROP, round(width * s))
    t = F.interpolate(t, size=(h2, w2), mode="bilinear", align_corners=False)[0]
    bx[:, [0, 2]] *= w2 / width
    bx[:, [1, 3]] *= h2 / height
    if len(bx) and random.random() < 0.6:
        b = bx[random.randrange(len(bx))]
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        x0 = int(np.clip(cx - random.uniform(0.2, 0.8) * CROP, 0, w2 - CROP))
        y0 = int(np.clip(cy - random.uniform(0.2, 0.8) * CROP, 0, h2 - CROP))
    else:
        x0, y0 = random.randint(0, w2 - CROP), random.randint(0, h2 - CROP)
    t = t[:, y0:y0 + CROP, x0:x0 + CROP]
    if random.random() < 0.8:
        t = t * random.uniform(0.5, 1.4) + random.uniform(-0.15, 0.15)
        t = t * torch.tensor([random.uniform(0.85, 1.15) for _ in range(3)])[:, None, None]
    if random.random() < 0.15:
        t = t.mean(0, keepdim=True).expand(3, -1, -1)
    if random.random() < 0.3:
        t = t + torch.randn_like(t) * random.uniform(0.01, 0.06)
    t = t.clamp(0, 1)
    if random.random() < 0.5:
        t = t[[2, 1, 0]]
    q = CROP // 4
    target, weight = torch.zeros(q, q), torch.ones(q, q)
    for b in bx:
        x0b, y0b, x1b, y1b = (b[0] - x0) / 4, (b[1] - y0) / 4, (b[2] - x0) / 4, (b[3] - y0) / 4
        if x1b < 0 or y1b < 0 or x0b >= q or y0b >= q:
            continue
        g0, g1 = int(max(0, math.floor(x0b - 1))), int(min(q, math.ceil(x1b + 1)))
        h0, h1 = int(max(0, math.floor(y0b - 1))), int(min(q, math.ceil(y1b + 1)))
        weight[h0:h1, g0:g1] = 0
        if b[4] > 0:
            mx, my = (x1b - x0b) * 0.1, (y1b - y0b) * 0.1
            a0, a1 = int(max(0, math.floor(x0b + mx))), int(min(q, math.ceil(x1b - mx)))
            c0, c1 = int(max(0, math.floor(y0b + my))), int(min(q, math.ceil(y1b - my)))
            target[c0:max(c1, c0 + 1), a0:max(a1, a0 + 1)] = 1
            weight[c0:max(c1, c0 + 1), a0:max(a1, a0 + 1)] = 1
    return t - 0.5, target, weight


def train(folders, minutes, out):
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    images, boxes = load(folders)
    print(f"{len(images)} photos from {len(folders)} folders", flush=True)
    net = BibMap()
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    start, step, smooth = time.time(), 0, None
    while (elapsed := time.time() - start) < minutes * 60:
        lr = 3e-3 * 0.5 * (1 + math.cos(math.pi * elapsed / (minutes * 60)))
        for group in opt.param_groups:
            group["lr"] = lr
        picked = [random.randrange(len(images)) for _ in range(16)]
        batch = [sample(images[i], boxes[i]) for i in picked]
        x, y, w = (torch.stack([b[k] for b in batch]) for k in range(3))
        y, w = y[:, None], w[:, None]
        logit = net(x)
        bce = F.binary_cross_entropy_with_logits(logit, y, weight=w * (1 + 4 * y),
                                                 reduction="sum") / (w.sum() + 1)
        p = torch.sigmoid(logit) * w
        loss = bce + 1 - (2 * (p * y).sum() + 1) / (p.sum() + y.sum() + 1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        step += 1
        if step % 100 == 0:
            print(f"step {step}, {elapsed:.0f} s, loss {smooth:.4f}", flush=True)
    net.eval()
    torch.onnx.export(net, torch.randn(1, 3, 480, 640), out, input_names=["photo"],
                      output_names=["bib_logit"], opset_version=17, dynamo=False,
                      dynamic_axes={"photo": {2: "height", 3: "width"},
                                    "bib_logit": {2: "height4", 3: "width4"}})
    print(f"wrote {out} after {step} steps", flush=True)


def check(model, folders):
    import onnxruntime as ort
    from scipy import ndimage
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model, options)
    seen = legible = off = free = free_lit = 0
    for folder in folders:
        for photo in json.load(open(f"{folder}/ground-truth.json"))["photos"]:
            image = Image.open(f"{folder}/{photo['file']}").convert("RGB")
            s = LONG / max(image.size)
            size = (max(32, round(image.size[0] * s / 32) * 32),
                    max(32, round(image.size[1] * s / 32) * 32))
            x = np.asarray(image.resize(size, Image.BILINEAR), dtype=np.float32) / 255.0 - 0.5
            logit = session.run(None, {"photo": x.transpose(2, 0, 1)[None]})[0][0, 0]
            lit = 1 / (1 + np.exp(-logit)) > THRESHOLD
            labels, count = ndimage.label(lit)
            sx, sy = lit.shape[1] / image.size[0], lit.shape[0] / image.size[1]
            on_bib = set()
            for bib in photo["bibs"]:
                d = bib["digitsBox"]
                x0, y0 = int(d["x"] * sx), int(d["y"] * sy)
                x1, y1 = int((d["x"] + d["w"]) * sx) + 1, int((d["y"] + d["h"]) * sy) + 1
                on_bib |= set(np.unique(labels[y0:y1, x0:x1])) - {0}
                if bib["legible"]:
                    legible += 1
                    seen += bool(lit[y0:y1, x0:x1].any())
            off += count - len(on_bib)
            if not photo["bibs"]:
                free += 1
                free_lit += count > 0
    print(f"legible bibs seen: {seen} of {legible}; regions off any bib: {off}; "
          f"bib-free photos with a region: {free_lit} of {free}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="write the trained model (ONNX) here")
    parser.add_argument("--minutes", type=float, default=40.0, help="training time")
    parser.add_argument("--check", metavar="MODEL", help="only score MODEL on the folders")
    parser.add_argument("folders", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    if args.check:
        check(args.check, args.folders)
    elif args.out:
        train(args.folders, args.minutes, args.out)
    else:
        parser.error("give --out or --check")


if __name__ == "__main__":
    main()
