#!/usr/bin/env python3
"""Fine-tunes PP-OCRv6's small recogniser on labelled lines and writes the weight delta.

Usage: finetune.py OUT_DELTA.npz EPOCHS LEARNING_RATE LINES ...   (LINES: lines.py's OUT)

The ONNX model is converted to PyTorch with onnx2torch (its two SAME_UPPER paddings made
explicit first), trained with CTC over its own 18,710 characters, batch norms frozen, and
the change to every trained weight is written under the ONNX initializer's name, as float16,
for apply_delta.py. Only convolutions and batch norms are trainable after the conversion (the
matrix products and the output layer stay constants), which keeps the delta near 5 MB.
Brightness, contrast and noise are varied a little on each pass, and about a third of the
lines are smeared sideways (a runner's motion) and a sixth blurred both ways (focus).
Deterministic seeds, one or two threads (THREADS), about 0.7 s per batch of 16 on one core.
"""
import json
import os
import random
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from onnx2torch import convert

MODEL = "models/PP-OCRv6_rec_small.onnx"


def converted(model):
    """The model as PyTorch; the ONNX model's paddings are made explicit in place."""
    for node in model.graph.node:
        for attr in list(node.attribute):
            if attr.name == "auto_pad" and attr.s == b"SAME_UPPER":
                # Both are 2 x 2 windows with stride 1: one row and one column of padding after.
                node.attribute.remove(attr)
                node.attribute.append(onnx.helper.make_attribute("pads", [0, 0, 1, 1]))
    return convert(model).eval()


def names_of(net, model):
    """Each trainable tensor's ONNX initializer name, found by its (unique) value."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    names = {}
    for key, param in net.named_parameters():
        value = param.detach().numpy()
        match = [n for n, a in inits.items() if a.shape == value.shape and np.array_equal(a, value)]
        if len(match) != 1:
            sys.exit(f"error: {key} matches {len(match)} initializers")
        names[key] = match[0]
    return names, inits


def smear(x, n, axis):
    """A box blur n pixels long along axis (edge pixels repeated)."""
    if n < 2:
        return x
    pad = [(0, 0)] * x.ndim
    pad[axis] = (n // 2, n - 1 - n // 2)
    c = np.cumsum(np.pad(x, pad, mode="edge"), axis=axis, dtype=np.float64)
    c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
    hi = np.take(c, range(n, c.shape[axis]), axis=axis)
    lo = np.take(c, range(0, c.shape[axis] - n), axis=axis)
    return ((hi - lo) / n).astype(np.float32)


# How often a line is smeared sideways by 3-14 pixels of its 48 (a streak up to about half a
# digit); half as often it is box-blurred by 2-4 pixels both ways. On the development seeds'
# bib lines, 0.35 and 0.6 read about as many right (3,819 and 3,815 of 3,842; none: 3,807).
BLUR = 0.35


def vary(line):
    x = line.astype(np.float32)
    if random.random() < BLUR:
        x = smear(x, random.randint(3, 14), 1)
    if random.random() < BLUR * 0.5:
        n = random.randint(2, 4)
        x = smear(smear(x, n, 0), n, 1)
    if random.random() < 0.3:
        x = x * random.uniform(0.5, 1.2) + random.uniform(-30, 30)
    if random.random() < 0.3:
        x = x + np.random.normal(0, random.uniform(3, 15), x.shape)
    return np.clip(x, 0, 255)


def main():
    out, epochs, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    model = onnx.load(MODEL)
    metadata = {p.key: p.value for p in model.metadata_props}
    chars = [""] + metadata["character"].split("\n") + [" "]
    index = {}
    for i, c in enumerate(chars):
        if c and c not in index:
            index[c] = i
    lines, targets = [], []
    for path in sys.argv[4:]:
        crops = np.load(path + ".npy", allow_pickle=True)
        labels = json.load(open(path + ".json"))["labels"]
        for crop, label in zip(crops, labels):
            if crop.shape[1] <= 640 and all(c in index for c in label):
                lines.append(crop), targets.append([index[c] for c in label])
    print(f"{len(lines)} lines", flush=True)
    net = converted(model)
    names, inits = names_of(net, model)
    optimizer = torch.optim.AdamW(net.parameters(), lr=rate, weight_decay=0.0)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    by_width = sorted(range(len(lines)), key=lambda i: lines[i].shape[1])
    batches = [by_width[i:i + 16] for i in range(0, len(by_width), 16)]
    steps, step = int(len(batches) * epochs), 0
    while step < steps:
        random.shuffle(batches)
        for batch in batches:
            if step >= steps:
                break
            width = (max(lines[i].shape[1] for i in batch) + 7) // 8 * 8
            x = np.zeros((len(batch), 3, 48, width), np.float32)
            for j, i in enumerate(batch):
                v = vary(lines[i])
                x[j, :, :, :v.shape[1]] = (v[:, :, ::-1] / 127.5 - 1).transpose(2, 0, 1)
            for group in optimizer.param_groups:
                group["lr"] = rate * 0.5 * (1 + np.cos(np.pi * step / steps))
            probs = net(torch.from_numpy(x))
            log_probs = torch.log(probs.clamp_min(1e-8)).permute(1, 0, 2)
            loss = ctc(log_probs,
                       torch.tensor([c for i in batch for c in targets[i]], dtype=torch.long),
                       torch.full((len(batch),), log_probs.shape[0], dtype=torch.long),
                       torch.tensor([len(targets[i]) for i in batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % 50 == 0:
                print(f"step {step}/{steps} loss {float(loss):.4f}", flush=True)
    delta = {names[k]: (p.detach().numpy() - inits[names[k]]).astype(np.float16)
             for k, p in net.named_parameters()}
    np.savez_compressed(out, **delta)
    print(f"wrote {out}: {len(delta)} weights")


if __name__ == "__main__":
    main()
