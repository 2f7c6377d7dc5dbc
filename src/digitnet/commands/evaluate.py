"""``digitnet evaluate MODEL``: accuracy, per-class scores, top-2, confusion matrix, confident mistakes."""

from __future__ import annotations

import csv
import json
import os

import numpy as np

from digitnet.commands._common import add_data_options, formatter, load_model, load_split, model_inputs

EXAMPLES = """examples:
  digitnet evaluate runs/lenet5-20261121-101500          # a run folder (its model.npz)
  digitnet evaluate model.npz --json > report.json
  digitnet evaluate model.npz --images drawings/          # your own drawings: PNGs + labels.csv
"""


def register(sub):
    p = sub.add_parser("evaluate", help="score a model on the test set or a folder of labelled images",
                       formatter_class=formatter, epilog=EXAMPLES,
                       description="Accuracy, per-class precision/recall/F1, top-2 accuracy, the confusion matrix, "
                                   "the most confident mistakes and the accuracy on each half of the test set "
                                   "(MNIST's first and last 5,000 test images come from different writers).")
    p.add_argument("model", help="model file (.npz) or run folder")
    p.add_argument("--images", help="folder of image files with labels.csv (file,label) instead of the test set")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    add_data_options(p)
    p.set_defaults(func=run)


def load_image_folder(folder):
    """(images float (N, 28, 28) MNIST-style, labels (N,)) from FOLDER/labels.csv and its image files."""
    from digitnet.data.preprocess import load_image, to_mnist
    from digitnet.progress import progress

    index = os.path.join(folder, "labels.csv")
    if not os.path.exists(index):
        raise FileNotFoundError(f"{folder} has no labels.csv (expected lines 'file,label', as 'digitnet draw' saves)")
    images, labels = [], []
    with open(index, newline="") as f:
        for row in progress(list(csv.DictReader(f)), desc="loading images", unit="image"):
            try:
                label = int(row["label"])
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"{index}: bad row {row!r}; expected columns file,label with a digit label") from None
            images.append(to_mnist(load_image(os.path.join(folder, row["file"]))))
            labels.append(label)
    if not images:
        raise ValueError(f"{index} lists no images")
    return np.stack(images), np.array(labels)


def run(args) -> int:
    from digitnet import metrics

    model = load_model(args.model)
    if args.images:
        images, labels = load_image_folder(args.images)
        halves = False
    else:
        images, labels = load_split(args, "test")
        halves = True
    proba = model.predict_proba(model_inputs(images, model))
    rep = metrics.report(labels, proba, halves=halves)
    if args.json:
        print(json.dumps(rep, indent=1))
        return 0
    print_report(rep)
    return 0


def print_report(rep):
    print(f"accuracy {rep['accuracy']:.4f}  ({rep['n'] - rep['errors']}/{rep['n']}, {rep['errors']} errors)"
          f"   top-2 accuracy {rep['top2_accuracy']:.4f}")
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
        print(f"  image {m['index']:>5}: true {m['true']}, predicted {m['predicted']} ({m['confidence']:.1%})")
