"""Figures as PNG files (matplotlib, Agg backend — no display needed).

    learning_curves(runs, path)      loss and accuracy, train vs validation, one colour per run,
                                     read from each run's metrics.jsonl
    confusion(cm, path)              confusion matrix with counts
    mistakes_grid(images, ..., path) misclassified digits with true -> predicted labels
    first_layer(model, path)         first dense layer's weights as 28x28 images, or the first conv filters
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from digitnet.nn import backend  # noqa: E402


def read_log(path) -> list[dict]:
    """Rows of a metrics.jsonl file (or of RUN/metrics.jsonl when given a run folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"no metrics log at {path} (expected a run folder made by 'digitnet train')")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{path} holds no epochs yet")
    return rows


def _save(fig, path, dpi: int = 110, tight: bool = True) -> str:
    """Write ``fig`` as PNG through a temporary name, then close it; returns the path."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=dpi, bbox_inches="tight" if tight else None)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def learning_curves(runs, path) -> str:
    """Loss and accuracy vs epoch for each run folder (solid: train, dashed: validation)."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for i, run in enumerate(runs):
        rows = read_log(run)
        name = Path(run).name if Path(run).is_dir() else Path(run).parent.name
        colour = f"C{i % 10}"
        epochs = [r["epoch"] for r in rows]
        for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            ax.plot(epochs, [r[key] for r in rows], color=colour, label=f"{name} train")
            if f"val_{key}" in rows[0]:
                ax.plot(epochs, [r[f"val_{key}"] for r in rows], color=colour, ls="--", label=f"{name} validation")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path)


def confusion(cm, path, title="confusion matrix") -> str:
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(6, 5.5))
    shown = np.log1p(cm)  # log scale so the few errors are visible next to the big diagonal
    ax.imshow(shown, cmap="Blues")
    for t in range(cm.shape[0]):
        for p in range(cm.shape[1]):
            if cm[t, p]:
                ax.text(p, t, str(cm[t, p]), ha="center", va="center", fontsize=7,
                        color="white" if shown[t, p] > shown.max() * 0.6 else "black")
    ax.set(xlabel="predicted", ylabel="true", title=title, xticks=range(cm.shape[1]), yticks=range(cm.shape[0]))
    return _save(fig, path)


def mistakes_grid(images, y, pred, confidence, path, max_images: int = 36) -> str:
    """A grid of misclassified images titled 'true -> predicted (confidence)'."""
    n = min(len(images), max_images)
    cols = min(n, 9) or 1
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.4), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            ax.imshow(np.asarray(images[k]).reshape(28, 28), cmap="gray_r")
            ax.set_title(f"{y[k]}→{pred[k]} ({confidence[k]:.0%})", fontsize=7)
    fig.suptitle("most confident mistakes (true→predicted)", fontsize=9)
    return _save(fig, path)


def first_layer(model, path) -> str:
    """First-layer weights: a dense layer fed by 784 pixels as 28x28 maps, or conv filters."""
    for layer in model.layers:
        w = layer.params.get("weight")
        if w is None:
            continue
        w = backend.to_numpy(w)
        if w.ndim == 4:  # conv (O, I, kh, kw): show input channel 0 of each filter
            maps, title = w[:, 0], f"first conv layer: {w.shape[0]} filters {w.shape[2]}x{w.shape[3]}"
        elif w.ndim == 2 and w.shape[0] == 784:
            maps, title = w.T.reshape(-1, 28, 28)[:64], f"first dense layer: weights of {min(w.shape[1], 64)} units"
        else:
            raise ValueError(f"first weighted layer has weight shape {w.shape}; expected conv or a 784-input dense")
        n = len(maps)
        cols = min(n, 8)
        rows = -(-n // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.1), squeeze=False)
        for k, ax in enumerate(axes.flat):
            ax.axis("off")
            if k < n:
                lim = np.abs(maps[k]).max() or 1
                ax.imshow(maps[k], cmap="RdBu_r", vmin=-lim, vmax=lim)
        fig.suptitle(title, fontsize=9)
        return _save(fig, path)
    raise ValueError("the model has no weighted layer to show")


def sweep_curves(results: dict, path, xlabel: str, title: str) -> str:
    """Accuracy vs strength, one line per model: results = {model name: {"values": [...], "accuracy": [...]}}."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (name, r) in enumerate(results.items()):
        ax.plot(r["values"], r["accuracy"], marker="o", ms=3, color=f"C{i % 10}", label=name)
    ax.set(xlabel=xlabel, ylabel="test accuracy", title=title, ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def shift_grid(results: dict, path) -> str:
    """One panel per shift direction, accuracy vs shift in pixels, one line per model."""
    directions = list(next(iter(results.values()))["accuracy"])
    fig, axes = plt.subplots(2, 4, figsize=(13, 6), sharex=True, sharey=True)
    for ax, d in zip(axes.flat, directions):
        for i, (name, r) in enumerate(results.items()):
            ax.plot(r["shifts"], r["accuracy"][d], marker="o", ms=3, color=f"C{i % 10}", label=name)
        ax.set_title(f"shift {d}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.set_ylim(0, 1.02)
    for ax in axes[1]:
        ax.set_xlabel("pixels")
    for ax in axes[:, 0]:
        ax.set_ylabel("test accuracy")
    axes.flat[0].legend(fontsize=7)
    return _save(fig, path)


def adversarial_examples(originals, perturbations, adversarials, labels, pred_before, pred_after, path) -> str:
    """Rows of (original, perturbation, adversarial) with the predictions before and after the attack."""
    n = len(originals)
    fig, axes = plt.subplots(n, 3, figsize=(5, 1.7 * n), squeeze=False)
    for k in range(n):
        lim = np.abs(perturbations[k]).max() or 1
        panels = [(originals[k], "gray", None, f"label {labels[k]}, guess {pred_before[k]}"),
                  (perturbations[k], "RdBu_r", lim, "perturbation"),
                  (adversarials[k], "gray", None, f"guess {pred_after[k]}")]
        for ax, (img, cmap, vlim, title) in zip(axes[k], panels):
            kw = {"vmin": -vlim, "vmax": vlim} if vlim else {"vmin": 0, "vmax": 1}
            ax.imshow(np.asarray(img).reshape(28, 28), cmap=cmap, **kw)
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    return _save(fig, path)
