"""Figures as PNG files (matplotlib, Agg backend — no display needed).

    learning_curves(runs, path)      loss and accuracy, train vs validation, one colour per run,
                                     read from each run's metrics.jsonl
    confusion(cm, path, model=...)   confusion matrix normalised per row (recall), diagonal muted, colour bar
    mistakes_grid(images, ..., path) misclassified digits with true -> predicted labels
    first_layer(model, path)         first dense layer's weights as 28x28 images, or the first conv filters
    sweep_curves / shift_grid / adversarial_examples    robustness figures
    final_accuracy_bars(ax, ...)     mean final accuracy per variant with error bars (comparison studies)

Every figure names its model(s) in its title; epoch axes have integer ticks.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from digitnet import metrics  # noqa: E402
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


def _save(fig, path, dpi: int = 110, tight: bool = True, colours: int | None = None) -> str:
    """Write ``fig`` as PNG through a temporary name, then close it; returns the path.

    ``colours``: store the PNG with a palette of that many colours (much smaller for grids of maps).
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.png"
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight" if tight else None)
        if colours:
            from PIL import Image

            with Image.open(tmp) as img:
                small = img.convert("RGB").quantize(colors=colours)
            small.save(tmp, format="PNG", optimize=True)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def percent(p: float) -> str:
    """A probability for a figure: whole percent, one decimal from 99.5% (never rounded up to 100% unless it is 1)."""
    return metrics.percent(p, 1 if 0.995 <= p < 1 else 0)


def run_label(run) -> str:
    """A readable name for a run folder: "lenet5-20261121-101500" -> "lenet5 (11-21 10:15)"."""
    path = Path(run)
    name = path.name if path.is_dir() or path.suffix != ".jsonl" else path.parent.name
    m = re.fullmatch(r"(.+)-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})", name)
    return f"{m[1]} ({m[3]}-{m[4]} {m[5]}:{m[6]})" if m else name


def zoomed_accuracy_range(series) -> tuple[float, float]:
    """(low, high) for an accuracy axis: from the lowest value after the first epoch, with a margin.

    The first epoch is often far below the rest and would squeeze the epochs that matter into a line.
    """
    later = [v for ys in series for v in (ys[1:] if len(ys) > 1 else ys) if v is not None]
    if not later:
        return 0.0, 1.0
    lo, hi = min(later), max(later)
    margin = max(0.1 * (hi - lo), 0.002)
    return max(0.0, lo - margin), min(1.0, hi + margin)


def learning_curves(runs, path, title=None) -> str:
    """Loss and accuracy vs epoch for each run folder (solid: train, dashed: validation).

    The accuracy axis zooms to the range from the second epoch on (the first is marked where it
    falls below); each run has one colour and one legend entry.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    names, accuracy_series, handles = [], [], []
    for i, run in enumerate(runs):
        rows = read_log(run)
        name = run_label(run)
        names.append(name)
        colour = f"C{i % 10}"
        epochs = [r["epoch"] for r in rows]
        for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            ax.plot(epochs, [r[key] for r in rows], color=colour, marker="o", ms=3)
            if f"val_{key}" in rows[0]:
                ax.plot(epochs, [r[f"val_{key}"] for r in rows], color=colour, ls="--", marker="o", ms=3)
        accuracy_series += [[r["accuracy"] for r in rows]] + (
            [[r["val_accuracy"] for r in rows]] if "val_accuracy" in rows[0] else []
        )
        handles.append(Line2D([], [], color=colour, label=name))
    low, high = zoomed_accuracy_range(accuracy_series)
    ax_loss.set(xlabel="epoch", ylabel="loss (log scale)", title="loss", yscale="log")
    ax_acc.set(
        xlabel="epoch",
        ylabel="accuracy",
        ylim=(low, high),
        title="accuracy" + (" (zoomed: from epoch 2's range)" if low > 0 else ""),
    )
    styles = [Line2D([], [], color="0.3", label="train"), Line2D([], [], color="0.3", ls="--", label="validation")]
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for axis in (ax_loss.yaxis.set_major_formatter, ax_loss.yaxis.set_minor_formatter):
        axis(lambda v, _: f"{v:g}")
    ax_loss.legend(handles=handles, fontsize=8, title="run", title_fontsize=8)
    ax_acc.legend(handles=styles, fontsize=8, loc="lower right")
    fig.suptitle(title or f"learning curves: {', '.join(names)}", fontsize=11)
    return _save(fig, path)


def confusion(cm, path, title="confusion matrix", model=None) -> str:
    """Rows normalised to 100% (each true digit's recall and where its errors go), diagonal in grey.

    Cells show percentages of the row (counts under them); the colour bar covers the off-diagonal
    cells only, so the few errors are readable next to the diagonal's ~99%.
    """
    cm = np.asarray(cm)
    row = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, row, out=np.zeros(cm.shape, float), where=row > 0)
    off = np.ma.masked_where(np.eye(*cm.shape, dtype=bool), share)
    diag = np.ma.masked_where(~np.eye(*cm.shape, dtype=bool), share)
    fig, ax = plt.subplots(figsize=(6.6, 5.6))
    vmax = max(float(off.max()) if off.count() else 0, 1e-3)
    shown = ax.imshow(off, cmap="Reds", vmin=0, vmax=vmax)
    ax.imshow(diag, cmap=ListedColormap(["#e5e7eb"]), vmin=0, vmax=1)
    for t in range(cm.shape[0]):
        for p in range(cm.shape[1]):
            if cm[t, p]:
                dark = t != p and share[t, p] > 0.6 * vmax
                ax.text(
                    p,
                    t,
                    f"{100 * share[t, p]:.1f}" if t == p else f"{100 * share[t, p]:.1f}\n{cm[t, p]}",
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if dark else "black",
                )
    bar = fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label("share of the true digit's images (off-diagonal)")
    bar.ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.1f}%")
    ax.set(
        xlabel="predicted",
        ylabel="true",
        xticks=range(cm.shape[1]),
        yticks=range(cm.shape[0]),
        title=(f"{model}: " if model else "") + title + "\nrow %, count below; diagonal (recall) in grey",
    )
    return _save(fig, path)


def mistakes_grid(images, y, pred, confidence, path, max_images: int = 36, model=None) -> str:
    """A grid of misclassified images titled 'true -> predicted (confidence)'."""
    n = min(len(images), max_images)
    cols = min(n, 9) or 1
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.4), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            ax.imshow(np.asarray(images[k]).reshape(28, 28), cmap="gray_r")
            ax.set_title(f"{y[k]}→{pred[k]} ({percent(confidence[k])})", fontsize=7)
    fig.suptitle((f"{model}: " if model else "") + f"{n} most confident mistakes (true→predicted)", fontsize=9)
    return _save(fig, path)


def first_layer(model, path, name=None, max_maps: int = 64) -> str:
    """First-layer weights: a dense layer fed by 784 pixels as 28x28 maps, or conv filters (input channel 0).

    At most ``max_maps`` maps; the title says how many of how many units or filters are shown.
    Red is a positive weight, blue a negative one, each map on its own symmetric scale.
    """
    label = name or getattr(model, "name", None) or "model"
    for layer in model.layers:
        w = layer.params.get("weight")
        if w is None:
            continue
        w = backend.to_numpy(w)
        if w.ndim == 4:  # conv (O, I, kh, kw): show input channel 0 of each filter
            maps = w[:max_maps, 0]
            title = f"{label}: first conv layer, {len(maps)} of {w.shape[0]} filters {w.shape[2]}x{w.shape[3]}" + (
                " (input channel 0)" if w.shape[1] > 1 else ""
            )
        elif w.ndim == 2 and w.shape[0] == 784:
            maps = w.T.reshape(-1, 28, 28)[:max_maps]
            title = f"{label}: first dense layer, weights of {len(maps)} of {w.shape[1]} units as 28x28"
        else:
            raise ValueError(f"first weighted layer has weight shape {w.shape}; expected conv or a 784-input dense")
        n = len(maps)
        cols = min(n, 8)
        rows = -(-n // cols)
        side = 0.8
        fig, axes = plt.subplots(rows, cols, figsize=(max(cols * side, 4.8), rows * side + 0.5), squeeze=False)
        for k, ax in enumerate(axes.flat):
            ax.axis("off")
            if k < n:
                lim = np.abs(maps[k]).max() or 1
                ax.imshow(maps[k], cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
                ax.set_title(str(k), fontsize=6, pad=1)
        height = rows * side + 0.5
        fig.suptitle(title, fontsize=8, y=1 - 0.08 / height)
        fig.subplots_adjust(wspace=0.08, hspace=0.25, top=1 - 0.4 / height, bottom=0.02, left=0.02, right=0.98)
        return _save(fig, path, dpi=100, colours=64)
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


def shift_grid(results: dict, path, title=None) -> str:
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
    fig.suptitle(title or f"accuracy under shifts: {', '.join(results)}", fontsize=11)
    return _save(fig, path)


def adversarial_examples(
    originals, perturbations, adversarials, labels, pred_before, pred_after, path, title=None
) -> str:
    """Rows of (original, perturbation, adversarial) with the predictions before and after the attack."""
    n = len(originals)
    fig, axes = plt.subplots(n, 3, figsize=(5, 1.7 * n), squeeze=False)
    for k in range(n):
        lim = np.abs(perturbations[k]).max() or 1
        panels = [
            (originals[k], "gray", None, f"label {labels[k]}, guess {pred_before[k]}"),
            (perturbations[k], "RdBu_r", lim, "perturbation"),
            (adversarials[k], "gray", None, f"guess {pred_after[k]}"),
        ]
        for ax, (img, cmap, vlim, caption) in zip(axes[k], panels):
            kw = {"vmin": -vlim, "vmax": vlim} if vlim else {"vmin": 0, "vmax": 1}
            ax.imshow(np.asarray(img).reshape(28, 28), cmap=cmap, **kw)
            ax.set_title(caption, fontsize=8)
            ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def final_accuracy_bars(ax, labels, means, stds, xlabel="accuracy") -> None:
    """Horizontal bars of mean final accuracy per variant with ±1 std error bars, axis zoomed to the bars.

    Variants are listed top to bottom in the order given; the best mean is drawn darker and each bar
    carries its "mean ± std" figure.
    """
    y = np.arange(len(labels))
    means = np.array([np.nan if m is None else m for m in means], dtype=float)
    stds = np.array([0.0 if s is None else s for s in stds], dtype=float)
    ok = np.isfinite(means)
    best = int(np.nanargmax(means)) if ok.any() else -1
    colours = ["C0" if i == best else "#9db4d8" for i in range(len(labels))]
    ax.barh(y[ok], means[ok], xerr=stds[ok], color=[c for c, o in zip(colours, ok) if o], capsize=3, error_kw={"lw": 1})
    if ok.any():
        lo = float(np.min(means[ok] - stds[ok]))
        hi = float(np.max(means[ok] + stds[ok]))
        margin = max(0.15 * (hi - lo), 0.002)
        ax.set_xlim(max(0.0, lo - margin), min(1.0, hi + 3 * margin))
    for i in np.flatnonzero(ok):
        ax.text(means[i] + stds[i], i, f" {means[i]:.4f} ± {stds[i]:.4f}", va="center", fontsize=7)
    for i in np.flatnonzero(~ok):
        ax.text(0.5, i, "diverged", va="center", ha="center", fontsize=7, transform=ax.get_yaxis_transform())
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel=xlabel + ", mean ± std over seeds")
    ax.grid(alpha=0.3, axis="x")
