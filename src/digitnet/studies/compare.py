"""``compare(kind)``: train the same network on the same data with the same seeds, once per variant.

For every variant and seed the model is built (the seed fixes the initial weights
and the shuffling), evaluated before training (epoch 0), then trained with
``Sequential.fit``; after each epoch the training loss, validation loss and
accuracy and the wall time so far are kept. A run whose loss turns NaN/inf stops
(``TrainingDiverged``) and is reported as diverged.

Result (also written to OUT/results.json, with OUT/curves.png):

    {"study": kind, "config": {...}, "variants": [
        {"name", "label", "settings", "runs": [{"seed", "history": {"epoch": [0, 1, ..], "loss", "accuracy",
                                                "val_loss", "val_accuracy", "wall_seconds"}, "seconds",
                                                "final_val_accuracy", "diverged", "diverged_in_epoch"}],
         "final_val_accuracy": {"mean", "std", "values"}, "seconds": {"mean", "std"}, "diverged": k}]}

std is the sample standard deviation over seeds (ddof=1).
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from digitnet import machine
from digitnet.progress import progress
from digitnet.studies import report
from digitnet.studies.variants import BASE, variants

DEFAULTS = {"train_size": 10000, "val_size": 5000, "epochs": 5, "seeds": 3}


def load_subsets(train_size, val_size, dataset="mnist", data_dir=None, data_seed=0):
    """Disjoint random training / validation subsets of a dataset's training split (uint8 images, int labels)."""
    from digitnet.data import load

    images, labels = load(dataset, split="train", data_dir=data_dir)
    if train_size < 1 or val_size < 1 or train_size + val_size > len(images):
        raise ValueError(
            f"train size {train_size} + validation size {val_size} must be positive and at most the "
            f"{len(images)} training images"
        )
    order = np.random.default_rng(data_seed).permutation(len(images))
    tr, va = order[:train_size], order[train_size : train_size + val_size]
    return (images[tr], labels[tr].astype(np.int64)), (images[va], labels[va].astype(np.int64))


def build_model(settings: dict, seed: int):
    """The study's network: an MLP from ``hidden``/``activation``/``init`` (zoo.mlp), or a zoo model by name."""
    from digitnet import zoo

    if settings["model"] == "mlp":
        return zoo.mlp(
            hidden=settings["hidden"],
            activation=settings["activation"],
            weight_init=settings["init"],
            output_init=settings["init"],
            seed=seed,
            dtype=settings["dtype"],
        )
    return zoo.build(settings["model"], seed=seed, dtype=settings["dtype"])


def run_one(settings: dict, seed: int, epochs: int, train, val) -> dict:
    """Train one model; returns {"seed", "history", "seconds", "final_val_accuracy", "diverged"}."""
    from digitnet.data.inputs import model_inputs
    from digitnet.nn import History, TrainingDiverged, losses, optim

    model = build_model(settings, seed)
    x, y = model_inputs(train[0], model), train[1]
    xv, yv = model_inputs(val[0], model), val[1]
    opt = optim.get(settings["optimizer"], lr=settings["lr"], **settings.get("optimizer_kwargs", {}))
    model.compile(opt, losses.get(settings["loss"]))
    start_train, start_val = model.evaluate(x, y), model.evaluate(xv, yv)
    hist = {
        "epoch": [0],
        "loss": [start_train["loss"]],
        "accuracy": [start_train["accuracy"]],
        "val_loss": [start_val["loss"]],
        "val_accuracy": [start_val["accuracy"]],
        "wall_seconds": [0.0],
    }
    recorder = History()
    diverged = 0
    t0 = time.perf_counter()
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run overflows before the loss is NaN
            model.fit(
                x,
                y,
                epochs=epochs,
                batch_size=settings["batch_size"],
                validation_data=(xv, yv),
                callbacks=[recorder],
                verbose=False,
            )
    except TrainingDiverged:
        diverged = len(recorder.epochs) + 1  # the epoch in which the loss became NaN/inf
    seconds = time.perf_counter() - t0
    wall = 0.0
    for logs in recorder.epochs:
        wall += logs["seconds"]
        for key in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy"):
            hist[key].append(_finite_or_none(logs[key]))
        hist["wall_seconds"].append(wall)
    final = None if diverged else hist["val_accuracy"][-1]
    return {
        "seed": seed,
        "history": hist,
        "seconds": seconds,
        "final_val_accuracy": final,
        "diverged": bool(diverged),
        "diverged_in_epoch": diverged or None,
    }


def _check_settings(settings):
    """Fail before any training when a name in the settings is unknown."""
    from digitnet.nn import init, losses, optim
    from digitnet.nn.layers import activations

    optim.get(settings["optimizer"], lr=settings["lr"])
    losses.get(settings["loss"])
    if settings["model"] == "mlp":
        activations.get(settings["activation"])
        init.get(settings["init"])
    if not isinstance(settings["batch_size"], int) or settings["batch_size"] < 1:
        raise ValueError(f"batch size must be a positive integer, got {settings['batch_size']!r}")


def _finite_or_none(v):
    v = float(v)
    return v if math.isfinite(v) else None


def mean_std(values) -> dict:
    """{"mean", "std" (ddof=1; 0 for one value), "values"}; None entries (diverged runs) are left out."""
    kept = [v for v in values if v is not None]
    if not kept:
        return {"mean": None, "std": None, "values": list(values)}
    std = float(np.std(kept, ddof=1)) if len(kept) > 1 else 0.0
    return {"mean": float(np.mean(kept)), "std": std, "values": list(values)}


def compare(
    kind,
    train_size=DEFAULTS["train_size"],
    val_size=DEFAULTS["val_size"],
    epochs=DEFAULTS["epochs"],
    seeds=DEFAULTS["seeds"],
    base=None,
    variant_names=None,
    lr_fixed=False,
    data=None,
    dataset="mnist",
    data_dir=None,
    out=None,
    command=None,
    verbose=True,
) -> dict:
    """Run study ``kind`` (optimizers, activations, init, batch-size, lr); write OUT/results.json and curves.png.

    base: settings overriding ``variants.BASE`` (model, hidden, activation, init, optimizer, lr, batch_size,
    loss, dtype). data: ((train_images, train_labels), (val_images, val_labels)) instead of loading MNIST.
    """
    settings = {**BASE, **(base or {})}
    if settings["model"] != "mlp" and kind in ("activations", "init"):
        raise ValueError(f"the {kind} study changes the MLP's layers: use --model mlp, not {settings['model']!r}")
    for key, value in (("epochs", epochs), ("seeds", seeds)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")
    _check_settings(settings)
    chosen = variants(kind, settings, variant_names, lr_fixed)
    train, val = data if data is not None else load_subsets(train_size, val_size, dataset, data_dir)
    out = out or os.path.join("runs", f"compare-{kind}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(out, exist_ok=True)
    results = {
        "study": kind,
        "command": command,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "config": {
            "train_size": len(train[1]),
            "val_size": len(val[1]),
            "epochs": epochs,
            "seeds": list(range(seeds)),
            "base": settings,
            "machine": machine.summary(),
        },
        "variants": [],
    }
    total, done = len(chosen) * seeds, 0
    bar = progress(total=total, desc=f"compare {kind}", unit="run", enabled=None if verbose else False)
    for variant in chosen:
        run_settings = {**settings, **variant.changes}
        runs = []
        for seed in range(seeds):
            bar.set_postfix_str(f"{variant.label}, seed {seed}")
            runs.append(run_one(run_settings, seed, epochs, train, val))
            done += 1
            bar.update(1)
            if verbose:
                r = runs[-1]
                acc = "diverged" if r["diverged"] else f"val_accuracy {r['final_val_accuracy']:.4f}"
                bar.write(f"[{done}/{total}] {variant.label}, seed {seed}: {acc}  {r['seconds']:.1f}s")
        results["variants"].append(
            {
                "name": variant.name,
                "label": variant.label,
                "settings": run_settings,
                "runs": runs,
                "final_val_accuracy": mean_std([r["final_val_accuracy"] for r in runs]),
                "seconds": mean_std([r["seconds"] for r in runs]),
                "diverged": sum(r["diverged"] for r in runs),
            }
        )
    bar.close()
    results["files"] = {"results": "results.json", "curves": "curves.png"}
    return report.write(results, out, "curves.png", report.plot_curves, report.table, verbose)
