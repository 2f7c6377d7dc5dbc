"""``digitnet predict MODEL IMAGE...``: classify your own image files (through digitnet.Recognizer)."""

from __future__ import annotations

import json

import numpy as np

from digitnet.commands._common import formatter

EXAMPLES = """examples:
  digitnet predict runs/lenet5-20261121-101500 my-seven.png
  digitnet predict model.npz photos/*.jpg --json
Images may be any size, dark ink on light paper or light on dark: each is converted like MNIST
(crop to the ink, fit in 20x20 keeping the aspect ratio, centre by centre of mass in 28x28).
A model trained with rejection answers "not a digit (score S, reason)" for blanks, specks, letters,
shapes and the like; probabilities are temperature-calibrated when the model file has a temperature.
"""


def register(sub):
    p = sub.add_parser(
        "predict",
        help="classify image files (PNG/JPG, any size)",
        formatter_class=formatter,
        description="Classify image files with MNIST-style preprocessing.",
        epilog=EXAMPLES,
    )
    p.add_argument("model", help="model file (.npz) or run folder")
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("--json", action="store_true", help="one JSON object per image, in a list")
    p.set_defaults(func=run)


def line(file: str, r) -> str:
    """One text line for a Prediction (never prints NaN)."""
    if r.probabilities is None:
        return f"{file}: not a digit ({r.reason})"
    if r.not_a_digit and r.reason == "blank":
        return f"{file}: not a digit (blank)"
    if r.not_a_digit:
        score = "" if r.score is None else f"score {r.score:.2f}, "
        return f"{file}: not a digit ({score}{r.reason}; most like {r.digit} at {r.confidence:.1%})"
    top = np.argsort(r.probabilities)[::-1][:3]
    others = ", ".join(f"{d}: {r.probabilities[d]:.1%}" for d in top[1:])
    note = "  (blank image)" if r.blank else ""
    score = "" if r.score is None else f"; not-a-digit score {r.score:.2f}"
    return f"{file}: {r.digit} ({r.confidence:.1%}; next {others}{score}){note}"


def run(args) -> int:
    from digitnet.recognizer import Recognizer

    recognizer = Recognizer.load(args.model)
    results = recognizer.predict(list(args.images))
    if args.json:
        print(json.dumps([{"file": path, **r.to_dict()} for path, r in zip(args.images, results)], indent=1))
        return 0
    for path, r in zip(args.images, results):
        print(line(path, r))
    return 0
