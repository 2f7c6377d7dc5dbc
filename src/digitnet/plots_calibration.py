"""Calibration figures (matplotlib, Agg): the reliability diagram and the selective-accuracy curve.

reliability_diagram(reports, path)   per confidence bin (15 equal-width bins), accuracy vs mean confidence
                                     as bars, the diagonal of perfect calibration, ECE in the legend;
                                     ``reports``: {label: metrics.reliability(...) dict}, e.g. T=1 and fitted T
selective_curve(points, path)        accuracy vs share answered, from metrics.selective_accuracy
"""

from __future__ import annotations

import numpy as np

from digitnet.plots import _save, plt


def reliability_diagram(reports: dict, path, title: str = "reliability diagram") -> str:
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    width = 1.0 / max(r["bins"] for r in reports.values())
    for k, (label, rel) in enumerate(reports.items()):
        edges = np.asarray(rel["edges"])
        acc = np.array([np.nan if a is None else a for a in rel["accuracy"]])
        offset = (k - (len(reports) - 1) / 2) * width / (len(reports) + 0.5)
        ax.bar(
            edges[:-1] + width / 2 + offset,
            np.nan_to_num(acc),
            width=width / (len(reports) + 0.5),
            alpha=0.75,
            label=f"{label} (ECE {rel['ece']:.2%})",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy in the bin")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)


def selective_curve(points: list, path, title: str = "selective accuracy") -> str:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot([p["coverage"] for p in points], [p["accuracy"] for p in points], marker="o")
    ax.set_xlabel("share of inputs answered (most confident first)")
    ax.set_ylabel("accuracy on those answered")
    ax.invert_xaxis()
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def reliability_figures(model, images, labels, prefix: str) -> list[str]:
    """reliability.png (T = 1 and the model's fitted T) and selective.png for (N, 28, 28) test images."""
    from digitnet import calibration, metrics
    from digitnet.recognizer import Recognizer

    recognizer = Recognizer(model)
    z = calibration.digit_logits(recognizer.logits(images))
    reports = {"T = 1": metrics.reliability(labels, calibration.softmax(z))}
    if recognizer.temperature != 1.0:
        reports[f"T = {recognizer.temperature:.3g}"] = metrics.reliability(
            labels, calibration.softmax(z, recognizer.temperature)
        )
    proba = calibration.softmax(z, recognizer.temperature)
    return [
        reliability_diagram(reports, prefix + "reliability.png"),
        selective_curve(metrics.selective_accuracy(labels, proba), prefix + "selective.png"),
    ]
