"""``digitnet evaluate MODEL``: accuracy, per-class scores, calibration, selective accuracy, rejections."""

from __future__ import annotations

import csv
import json
import os

import numpy as np

from digitnet import test_time
from digitnet.commands._common import add_data_options, formatter, load_split
from digitnet.metrics import percent

EXAMPLES = """examples:
  digitnet evaluate runs/lenet5-20261121-101500          # a run folder (its model.npz)
  digitnet evaluate model.npz --json > report.json
  digitnet evaluate model.npz --images drawings/          # your own drawings: PNGs + labels.csv
  digitnet evaluate model.npz --images heldout/           # label -1 rows are non-digits (counted as rejections)
"""


def register(sub):
    p = sub.add_parser(
        "evaluate",
        help="score a model on the test set or a folder of labelled images",
        formatter_class=formatter,
        epilog=EXAMPLES,
        description="Accuracy, per-class precision/recall/F1, top-2 accuracy, the confusion matrix, "
        "the most confident mistakes, the accuracy on each half of the test set "
        "(MNIST's first and last 5,000 test images come from different writers), the "
        "expected calibration error (15 bins) with a reliability table, accuracy vs share "
        "answered, and how many inputs the model called 'not a digit'.",
    )
    p.add_argument("model", help="model file (.npz) or run folder")
    p.add_argument(
        "--images",
        help="folder of image files with labels.csv (file,label[,kind]; label -1 = not a "
        "digit) instead of the test set",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--no-tta",
        action="store_true",
        help="answer from each image alone, without the model file's test-time views (rotated copies)",
    )
    add_data_options(p)
    p.set_defaults(func=run)


def load_image_folder(folder):
    """(MNIST-style float images (N, 28, 28), labels (N,)) from FOLDER/labels.csv (label -1: not a digit)."""
    images, labels, _, _ = read_image_folder(folder, raw=False)
    return images, labels


def read_image_folder(folder, raw: bool = True):
    """(MNIST-style float images (N, 28, 28), labels (N,), kinds [str], pictures as read (with ``raw``, else []))
    from FOLDER/labels.csv; the pictures as read are for the ink checks, which look before scaling."""
    from digitnet.data.preprocess import load_image, to_mnist
    from digitnet.progress import progress

    index = os.path.join(folder, "labels.csv")
    if not os.path.exists(index):
        raise FileNotFoundError(f"{folder} has no labels.csv (expected lines 'file,label', as 'digitnet draw' saves)")
    images, labels, kinds, raws = [], [], [], []
    with open(index, newline="") as f:
        for row in progress(list(csv.DictReader(f)), desc="loading images", unit="image"):
            try:
                label = int(row["label"])
                if not -1 <= label <= 9:
                    raise ValueError
            except (KeyError, TypeError, ValueError):
                raise ValueError(
                    f"{index}: bad row {row!r}; expected columns file,label with a digit label 0-9 or -1 (not a digit)"
                ) from None
            image = load_image(os.path.join(folder, row["file"]))
            images.append(to_mnist(image))
            if raw:
                raws.append(image)
            labels.append(label)
            kinds.append(row.get("kind") or ("digit" if label >= 0 else "not a digit"))
    if not images:
        raise ValueError(f"{index} lists no images")
    return np.stack(images), np.array(labels), kinds, raws


def build_report(recognizer, images28, labels, kinds=None, raw_images=None, halves=False) -> dict:
    """The report as a JSON-able dict: digits scored as before, plus calibration, selective accuracy, rejection."""
    from digitnet import calibration, metrics

    labels = np.asarray(labels).astype(np.int64)
    kinds = kinds or ["digit"] * len(labels)
    v = recognizer.verdicts(images28, raw_images)
    digit = labels >= 0
    if not digit.any():
        raise ValueError("the images have no digit labels (0-9) to score")
    y, proba = labels[digit], v["proba"][digit]
    rep = metrics.report(y, proba, halves=halves)
    logits = v["logits"][digit]
    raw = calibration.softmax(calibration.digit_logits(logits))
    rel = metrics.reliability(y, proba)
    rep["calibration"] = {
        "temperature": recognizer.temperature,
        "ece": rel["ece"],
        "ece_uncalibrated": metrics.expected_calibration_error(y, raw),
        "reliability": rel,
    }
    rep["selective_accuracy"] = metrics.selective_accuracy(y, proba)
    rejected = v["rejected"]
    rej = {
        "method": recognizer.rejection.get("method"),
        "threshold": recognizer.rejection.get("threshold"),
        "digits_rejected": float(rejected[digit].mean()),
        "digits_rejected_count": int(rejected[digit].sum()),
        "accuracy_on_accepted": metrics.accuracy(y[~rejected[digit]], proba[~rejected[digit]].argmax(axis=1))
        if (~rejected[digit]).any()
        else None,
        "reasons": {},
    }
    for r in v["reason"]:
        if r:
            rej["reasons"][r] = rej["reasons"].get(r, 0) + 1
    negative_kinds = sorted({k for k, lab in zip(kinds, labels) if lab < 0})
    if negative_kinds:
        kinds_arr = np.array(kinds)
        rej["negatives"] = {
            k: {
                "n": int(((kinds_arr == k) & ~digit).sum()),
                "rejected": float(rejected[(kinds_arr == k) & ~digit].mean()),
            }
            for k in negative_kinds
        }
        rej["negatives_rejected"] = float(rejected[~digit].mean())
    rep["rejection"] = rej
    return rep


def run(args) -> int:
    from digitnet.recognizer import Recognizer

    recognizer = Recognizer.load(args.model, views=not args.no_tta)
    if args.images:
        images, labels, kinds, raws = read_image_folder(args.images)
        rep = build_report(recognizer, images, labels, kinds, raws)
    else:
        images, labels = load_split(args, "test")
        rep = build_report(recognizer, images, labels, halves=True)
    rep["test_time_rotations"] = list(recognizer.rotations)
    if args.json:
        print(json.dumps(rep, indent=1))
        return 0
    print_report(rep)
    return 0


def print_report(rep):
    print(
        f"accuracy {rep['accuracy']:.4f}  ({rep['n'] - rep['errors']}/{rep['n']}, {rep['errors']} errors)"
        f"   top-2 accuracy {rep['top2_accuracy']:.4f}"
    )
    if rep.get("test_time_rotations"):
        angles = test_time.describe(rep["test_time_rotations"])
        print(f"answers average each image with its copies rotated by {angles} degrees (--no-tta: without)")
    if "halves" in rep:
        h = rep["halves"]
        print(f"first {h['split_at']} images {h['first']:.4f}   last {rep['n'] - h['split_at']} images {h['last']:.4f}")
    pc = rep["per_class"]
    print("\nclass  precision  recall     f1  support")
    for c in range(len(pc["f1"])):
        print(f"{c:>5}  {pc['precision'][c]:9.4f}  {pc['recall'][c]:6.4f}  {pc['f1'][c]:.4f}  {pc['support'][c]:>7}")
    print("\nconfusion matrix (rows: true, columns: predicted)")
    cm = rep["confusion_matrix"]
    print("      " + "".join(f"{c:>6}" for c in range(len(cm))))
    for t, row in enumerate(cm):
        print(f"{t:>6}" + "".join(f"{v:>6}" for v in row))
    print("\nmost confident mistakes")
    for m in rep["confident_mistakes"]:
        print(f"  image {m['index']:>5}: true {m['true']}, predicted {m['predicted']} ({percent(m['confidence'])})")
    if "calibration" in rep:
        print_calibration(rep)


def print_calibration(rep):
    cal = rep["calibration"]
    print(
        f"\ncalibration: ECE (15 bins) {cal['ece']:.4f} at temperature {cal['temperature']:.3f}"
        f"   (uncalibrated, T=1: {cal['ece_uncalibrated']:.4f})"
    )
    rel = cal["reliability"]
    print("  confidence bin    count  mean conf  accuracy")
    edges = rel["edges"]
    for b, n in enumerate(rel["count"]):
        if n:
            conf, acc = rel["confidence"][b], rel["accuracy"][b]
            print(f"  ({edges[b]:.3f}, {edges[b + 1]:.3f}]  {n:>6}  {conf:9.4f}  {acc:8.4f}")
    print("\nselective accuracy (answer the most confident share first)")
    print("  answered  accuracy")
    for s in rep["selective_accuracy"]:
        print(f"  {s['coverage']:7.0%}  {s['accuracy']:8.4f}")
    rej = rep["rejection"]
    if rej["method"] is None:
        print("\nrejection: this model never answers 'not a digit' (no rejection settings in the model file)")
        return
    answered = "none answered" if rej["accuracy_on_accepted"] is None else f"{rej['accuracy_on_accepted']:.4f}"
    print(
        f"\nrejection ({rej['method']}, threshold {rej['threshold']}): {rej['digits_rejected_count']} digits "
        f"rejected ({rej['digits_rejected']:.2%}); accuracy on the digits answered {answered}"
    )
    for kind, row in (rej.get("negatives") or {}).items():
        print(f"  not a digit, {kind:<14} {row['rejected']:7.2%} rejected of {row['n']}")
    if rej["reasons"]:
        print("  reasons: " + ", ".join(f"{k} {v}" for k, v in sorted(rej["reasons"].items())))
