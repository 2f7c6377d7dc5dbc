"""``digitnet plot RUN...``: learning curves, confusion matrix, mistakes and first-layer weights as PNG files."""

from __future__ import annotations

import os

import numpy as np

from digitnet.commands._common import add_data_options, formatter, load_model, load_split

EXAMPLES = """examples:
  digitnet plot runs/lenet5-20261121-101500                  # all figures into that run's plots/ folder
  digitnet plot runs/mlp-a runs/mlp-b --out compare/         # learning curves of several runs on one figure
  digitnet plot runs/cnn-x --only curves
"""
FIGURES = ("curves", "confusion", "mistakes", "weights", "reliability")


def register(sub):
    p = sub.add_parser(
        "plot",
        help="draw learning curves and other figures of runs",
        formatter_class=formatter,
        epilog=EXAMPLES,
        description="Learning curves (loss and accuracy, train vs validation) of one or several run "
        "folders; for each run's model also the confusion matrix, a grid of the most "
        "confident mistakes and the first layer's weights or filters.",
    )
    p.add_argument("runs", nargs="+", help="run folders made by 'digitnet train'")
    p.add_argument("--out", help="folder for the PNG files (default RUN/plots for one run, ./plots for several)")
    p.add_argument("--only", choices=FIGURES, action="append", help="draw only these figures (repeatable)")
    add_data_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from digitnet import metrics, plots
    from digitnet.recognizer import Recognizer

    wanted = args.only or FIGURES
    out = args.out or (os.path.join(args.runs[0], "plots") if len(args.runs) == 1 else "plots")
    written = []
    if "curves" in wanted:
        written.append(plots.learning_curves(args.runs, os.path.join(out, "learning_curves.png")))
    per_model = [f for f in wanted if f != "curves"]
    test = load_split(args, "test") if {"confusion", "mistakes", "reliability"} & set(per_model) else None
    for run_dir in args.runs if per_model else []:
        model = load_model(run_dir)
        name = plots.run_label(run_dir)
        tag = os.path.basename(os.path.normpath(run_dir)) if len(args.runs) > 1 else ""
        prefix = os.path.join(out, f"{tag}-" if tag else "")
        if test is not None:
            images, labels = test
            recognizer = Recognizer(model)
            proba = recognizer.probabilities(images)
            pred = proba.argmax(axis=1)
            if "confusion" in wanted:
                cm = metrics.confusion_matrix(labels, pred)
                acc = metrics.accuracy(labels, pred)
                written.append(
                    plots.confusion(
                        cm,
                        prefix + "confusion.png",
                        f"confusion matrix on {len(labels)} test images (accuracy {acc:.2%})",
                        model=name,
                    )
                )
            if "mistakes" in wanted:
                worst = metrics.confident_mistakes(labels, proba, n=36)
                idx = np.array([m["index"] for m in worst], dtype=int)
                written.append(
                    plots.mistakes_grid(
                        images[idx], labels[idx], pred[idx], proba[idx, pred[idx]], prefix + "mistakes.png", model=name
                    )
                )
        if "reliability" in wanted:
            from digitnet.plots_calibration import reliability_figures

            written += reliability_figures(model, test[0], test[1], prefix)
        if "weights" in wanted:
            written.append(plots.first_layer(model, prefix + "weights.png", name=name))
    for path in written:
        print(path)
    return 0
