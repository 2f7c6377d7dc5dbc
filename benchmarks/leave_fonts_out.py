"""Screening lab for the main job: unseen writers without the held-out test set.

Four train font families are left out of training and then read as writers the network has never
seen. That gives a validation figure for "other writers" that touches neither the held-out styles nor
the MNIST test set (docs/handwriting.md, "Fifth round"). The four families stay train fonts; this only
hides them from one screening run.

    # train without the four families (any `digitnet train` options after "train"):
    LFO_MODE=train python benchmarks/leave_fonts_out.py train --seed 0 --out runs/lfo-s0
    # score runs on generator digits drawn with only those families (and on MNIST validation):
    LFO_MODE=val python benchmarks/leave_fonts_out.py runs/lfo-s0 [RUN ...]

The module hides or exposes the families when it is imported, so the "spawn" worker processes that
draw the generator pictures (they import the main module again) see the same fonts.
"""

import dataclasses
import os
import sys

from digitnet.data.synth import fonts

LEFT_OUT = ("Dancing Script", "Havana", "Klee One", "Kiloji")
MODE = os.environ.get("LFO_MODE", "train")


def _split(family) -> str:
    if MODE == "train":  # the four are no split's fonts: training never draws them
        return "left-out" if family.name in LEFT_OUT else family.split
    # val: the four are the only train fonts, so the train-style generator draws just them
    if family.name in LEFT_OUT:
        return "train"
    return "unused" if family.split == "train" else family.split


if MODE not in ("train", "val"):
    raise SystemExit(f"LFO_MODE must be train or val, got {MODE!r}")
fonts.FAMILIES = tuple(dataclasses.replace(f, split=_split(f)) for f in fonts.FAMILIES)


def score(runs, n=6000, seed=4242):
    """Print, per run, the 10-digit accuracy (with the model's views) on the font-drawn generator digits of
    the four families (pen-stroke digits dropped), per family, and on MNIST validation (55,000-59,999)."""
    import numpy as np

    import digitnet
    from digitnet.data import datasets
    from digitnet.data.preprocess import to_mnist
    from digitnet.data.synth import handwritten

    pictures, labels, sources = handwritten.generate(n, "train", seed, handwritten.SIZES)
    keep = [i for i, s in enumerate(sources) if s in LEFT_OUT]
    images = np.stack([np.rint(to_mnist(pictures[i]) * 255).astype(np.uint8) for i in keep])
    labels, sources = np.asarray(labels)[keep], np.asarray(sources)[keep]
    train = datasets.load("mnist", "train", download=False)
    val_x = np.asarray(train[0]).reshape(-1, 28, 28)[55000:]
    val_y = np.asarray(train[1])[55000:]
    for run in runs:
        rec = digitnet.Recognizer.load(run)
        right = rec.logits(images)[:, :10].argmax(1) == labels
        by_family = ", ".join(f"{f} {100 * right[sources == f].mean():.1f}%" for f in LEFT_OUT)
        val = 100 * (rec.logits(val_x)[:, :10].argmax(1) == val_y).mean()
        print(f"{run}: left-out fonts {100 * right.mean():.2f}% of {len(labels)} ({by_family}); MNIST val {val:.2f}%")


if __name__ == "__main__":
    if MODE == "train":
        from digitnet.cli import main

        sys.exit(main(sys.argv[1:]))
    score(sys.argv[1:])
