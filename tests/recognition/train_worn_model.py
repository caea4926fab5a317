#!/usr/bin/env python3
"""Fits the worn-number model (crates/finishline-media/src/worn/worn_model.json).

Run by tests/recognition/train-worn-model.sh, which makes the inputs: folders of tuning-split
photos, each with the generator's ground-truth.json and the recognition bench's --trace log
(trace.log). Every "bib decision" line of a log is one read number with its evidence
(`features=[...]`, in the order of FEATURES in worn/learned.rs). A number is labelled worn when
its digits' centre lies on a true bib's sheet (bibBox), legible or not; a misread bib is still
worn (what it reads is the recogniser's business, not this model's). Lone glyphs (lone=true)
are left to the rules, as the engine does, and are not fitted on.

The model: scikit-learn's HistGradientBoostingClassifier, 100 trees of depth ≤ 3, its score
constrained to rise with both person scores, so that a number with no person seen around it
is never judged more leniently. Before fitting on every
folder, each folder is held out in turn and the numbers reported (worn by the model at the
threshold) are compared with the rules' (the log's worn=true/false), per photo: legible bibs
reported, and numbers reported that are no bib of the photo. Folders of one seed (the same
scenes with their signs upright and turned) are held out together.
"""
import argparse
import collections
import json
import math
import os
import re
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

FEATURES = [
    "person", "above_p", "has_shape", "s_left", "s_right", "s_below", "s_above",
    "s_left_open", "s_right_open", "s_below_open", "s_above_open", "plain0", "plain1",
    "plain2", "patch_w", "patch_h", "corners", "rel_h", "glyph_aspect", "angle",
    "confidence", "box_score", "sr0", "sr1", "sr2", "sr3", "sr4", "sr5", "sr6", "sr7",
]
THRESHOLD = 0.7
PARAMS = dict(max_depth=3, max_iter=100, learning_rate=0.1, min_samples_leaf=20,
              l2_regularization=1.0, random_state=0)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def read_folder(folder):
    """(features, label, rule_worn, photo, text, truths) per read number."""
    truth = {p["file"]: p for p in json.load(open(f"{folder}/ground-truth.json"))["photos"]}
    rows, pending = [], []
    for raw in open(f"{folder}/trace.log", errors="replace"):
        line = ANSI.sub("", raw.rstrip("\n"))
        done = re.match(r"^(\S+\.jpg): ", line)
        if done:
            photo = truth[done.group(1).split("/")[-1]]
            rows += [row(line, photo, folder) for line in pending]
            pending = []
        elif "bib decision" in line:
            pending.append(line)
    return rows


def row(line, photo, folder):
    features = json.loads(re.search(r"features=(\[[^\]]*\])", line).group(1))
    assert len(features) == len(FEATURES), line
    center = re.search(r"center: \[([-\d.e]+), ([-\d.e]+)\]", line)
    x, y = float(center.group(1)), float(center.group(2))
    on_sheet = any(
        b["bibBox"]["x"] <= x <= b["bibBox"]["x"] + b["bibBox"]["w"]
        and b["bibBox"]["y"] <= y <= b["bibBox"]["y"] + b["bibBox"]["h"]
        for b in photo["bibs"]
    )
    return {
        "x": features,
        "label": int(on_sheet),
        "rule_worn": " rules_worn=true " in line,
        "lone": " lone=true " in line,
        "photo": (folder, photo["file"]),
        "text": re.search(r"text=(.*?) worn=", line).group(1).strip(),
        "truths": {str(b["number"]) for b in photo["bibs"] if b["legible"]},
    }


def fit(rows):
    rows = [r for r in rows if not r["lone"]]
    monotonic = [1 if name in ("person", "above_p") else 0 for name in FEATURES]
    model = HistGradientBoostingClassifier(monotonic_cst=monotonic, **PARAMS)
    return model.fit(np.array([r["x"] for r in rows]), np.array([r["label"] for r in rows]))


def reported(rows, keep):
    """Legible bibs reported and numbers reported that are no bib, over the photos."""
    by_photo = collections.defaultdict(set)
    truths = {}
    for r, k in zip(rows, keep):
        truths[r["photo"]] = r["truths"]
        if k:
            by_photo[r["photo"]].add(r["text"])
    read = sum(len(by_photo[p] & t) for p, t in truths.items())
    false = sum(len(by_photo[p] - t) for p, t in truths.items())
    return read, false


def export(model):
    trees = []
    for (predictor,) in model._predictors:
        nodes = []
        for n in predictor.nodes:
            if n["is_leaf"]:
                nodes.append([-1, 0.0, 0, 0, float(n["value"])])
            else:
                nodes.append([int(n["feature_idx"]), float(n["num_threshold"]),
                              int(n["left"]), int(n["right"]), 0.0])
        trees.append(nodes)
    return {"features": FEATURES, "baseline": float(np.ravel(model._baseline_prediction)[0]),
            "threshold": THRESHOLD, "trees": trees}


def probability(exported, x):
    raw = exported["baseline"]
    for tree in exported["trees"]:
        at = 0
        while tree[at][0] >= 0:
            feature, threshold, left, right, _ = tree[at]
            at = left if x[feature] <= threshold else right
        raw += tree[at][4]
    return 1.0 / (1.0 + math.exp(-raw))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*")
    parser.add_argument("--out", required=True)
    parser.add_argument("--check", action="store_true", help="do not write the model")
    parser.add_argument("--neutral-if-stale", action="store_true",
                        help="only write a model with no trees when --out has other features "
                        "(so that the engine builds and logs the new ones)")
    args = parser.parse_args()
    if args.neutral_if_stale:
        with open(args.out) as current:
            if json.load(current)["features"] != FEATURES:
                with open(args.out, "w") as out:
                    json.dump({"features": FEATURES, "baseline": 0.0, "threshold": THRESHOLD,
                               "trees": []}, out)
                    out.write("\n")
                print(f"{args.out} had other features: wrote a model with none of its trees")
        return
    data = {folder: read_folder(folder) for folder in args.folders}
    seeds = {folder: json.load(open(f"{folder}/ground-truth.json"))["seed"]
             for folder in args.folders}
    width = max(len(os.path.basename(f)) for f in args.folders)
    print(f"{'held out':<{width}} numbers  worn | rules read/false | model read/false")
    total = np.zeros(4, int)
    for held in args.folders:
        model = fit([r for f in args.folders if seeds[f] != seeds[held] for r in data[f]])
        rows = data[held]
        worn = model.predict_proba(np.array([r["x"] for r in rows]))[:, 1] >= THRESHOLD
        kept = [r["rule_worn"] if r["lone"] else w for r, w in zip(rows, worn)]
        rules, learned = reported(rows, [r["rule_worn"] for r in rows]), reported(rows, kept)
        total += np.array(rules + learned)
        print(f"{os.path.basename(held):<{width}} {len(rows):>7} "
              f"{sum(r['label'] for r in rows):>5} | "
              f"{rules[0]:>5} / {rules[1]:<4}      | {learned[0]:>5} / {learned[1]}")
    print(f"{'all, each seed held out':<{width + 14}} | {total[0]:>5} / {total[1]:<4}      | "
          f"{total[2]:>5} / {total[3]}")
    if args.check:
        return
    rows = [r for f in args.folders for r in data[f] if not r["lone"]]
    model = fit(rows)
    exported = export(model)
    ours = np.array([probability(exported, r["x"]) for r in rows])
    theirs = model.predict_proba(np.array([r["x"] for r in rows]))[:, 1]
    assert np.allclose(ours, theirs, atol=1e-9), "the exported trees disagree with scikit-learn"
    with open(args.out, "w") as out:
        json.dump(exported, out, separators=(",", ":"))
        out.write("\n")
    print(f"wrote {args.out}: {len(exported['trees'])} trees, "
          f"{sum(len(t) for t in exported['trees'])} nodes, from {len(rows)} numbers")


if __name__ == "__main__":
    sys.exit(main())
