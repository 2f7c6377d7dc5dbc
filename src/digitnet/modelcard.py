"""Model cards: a MODEL_CARD.md next to a model file, from what the model and its run folder record.

    card = model_card(model, "runs/lenet5-x/model.npz", test=(images, labels))   # markdown text
    write_card(model, "runs/lenet5-x/model.npz", test=...)                         # -> runs/lenet5-x/MODEL_CARD.md

Sections: architecture (``model.summary()``), training recipe and data (the header's training config),
test accuracy with a 95% Wilson interval, per-class F1 (computed on ``test`` when given, else from the
header's metrics if recorded), robustness (RUN/robustness/results.json and sample.json, as
``digitnet robustness RUN --out RUN/robustness`` writes them), calibration and rejection
(``model.calibration`` / ``model.rejection``), intended use and known failure modes. Nothing is
invented: what was not measured is said to be so.

Wilson score interval for k successes in n trials, z = 1.96 for 95%:

    centre = (p + z^2 / 2n) / (1 + z^2 / n)        half = z sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n)
"""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np

import atomicfile

from digitnet import __version__, metrics
from digitnet.data.inputs import model_inputs

Z95 = 1.959964
STANDARD_TEST_SIZE = {"mnist": 10000, "fashion-mnist": 10000}  # the test splits 'digitnet train' scores on
RECIPE_KEYS = (
    "model",
    "optimizer",
    "lr",
    "schedule",
    "epochs",
    "batch_size",
    "weight_decay",
    "loss",
    "label_smoothing",
    "augment",
    "synthetic",
    "negatives",
    "centre",
    "tta",
    "patience",
    "seed",
    "dtype",
)
MLP_KEYS = ("hidden", "activation", "dropout", "init")  # options of 'digitnet train --model mlp' only


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """(low, high) Wilson score interval of a proportion; (nan, nan) for n = 0."""
    if n <= 0:
        return float("nan"), float("nan")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, {n}], got {successes}")
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def evaluate(model, images, labels) -> dict:
    """Accuracy and per-class F1 of ``model`` on uint8 images (N, 28, 28) with digit labels (N,)."""
    proba = model.predict_proba(model_inputs(images, model))
    pred = proba.argmax(axis=1)
    labels = np.asarray(labels).astype(np.int64)
    cm = metrics.confusion_matrix(labels, pred, proba.shape[1])
    scores = metrics.per_class(cm)
    n_digits = int(labels.max()) + 1 if labels.size else 10
    return {
        "n": int(labels.size),
        "correct": int((pred == labels).sum()),
        "f1": scores["f1"][:n_digits],
        "rejected": int((pred >= n_digits).sum()),
        "source": "computed on the test set now",
    }


def _json_file(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def robustness_results(folder: str, name: str):
    """(this model's entry of FOLDER/robustness/results.json, that folder's sample.json or {}), else None."""
    results = _json_file(os.path.join(folder, "robustness", "results.json"))
    if not isinstance(results, dict) or not results:
        return None
    entry = results.get(name, next(iter(results.values())) if len(results) == 1 else None)
    if not isinstance(entry, dict):
        return None
    sample = _json_file(os.path.join(folder, "robustness", "sample.json"))
    return entry, sample if isinstance(sample, dict) else {}


def _recipe(training: dict) -> list[str]:
    keys = RECIPE_KEYS + (MLP_KEYS if training.get("model") == "mlp" else ())
    rows = [f"| {k} | `{training[k]}` |" for k in keys if training.get(k) not in (None, "", [])]
    return ["| option | value |", "|---|---|"] + rows if rows else ["No training configuration was recorded."]


def _data(training: dict, n_test) -> list[str]:
    dataset = training.get("dataset", "mnist")
    val = training.get("validation")
    lines = [f"- Dataset: **{dataset}** (training split for training, test split for the figures below)."]
    if isinstance(val, (int, float)) and val:
        held = f"{val:.0%} of" if 0 < val < 1 else f"the last {int(val):,} images of"
        lines.append(
            f"- Model selection: the epoch with the best accuracy on {held} the training split, "
            "held out from training (validation); the test set was not used for selection."
        )
    if training.get("train_size"):
        lines.append(f"- Trained on the first {int(training['train_size']):,} training images only.")
    if training.get("augment"):
        lines.append(f"- On-the-fly augmentation: `{training['augment']}`.")
    if training.get("tta"):
        lines.append(
            f"- Answers average the picture and two copies rotated by ±{training['tta']:g}° (test-time "
            "views, recorded in the model file); the test accuracy includes them."
        )
    if n_test:
        lines.append(f"- Test set: {n_test:,} images, never seen in training or selection.")
    return lines


def _accuracy(model, dataset, scores) -> tuple[list[str], float | None]:
    if scores is not None:
        n, k = scores["n"], scores["correct"]
        source = scores["source"]
    else:
        acc = (model.metrics or {}).get("test_accuracy")
        n = (model.metrics or {}).get("test_n") or STANDARD_TEST_SIZE.get(dataset)
        if not isinstance(acc, (int, float)):
            return ["Test accuracy was not measured (no test_accuracy in the model file, no test data found)."], None
        if not n:
            return [f"Test accuracy **{acc:.2%}** (from the model file; test-set size unknown, no interval)."], acc
        k, source = round(acc * n), "from the model file's header"
    lo, hi = wilson_interval(k, n)
    text = [
        (
            f"Test accuracy **{k / n:.2%}** ({k:,}/{n:,}), 95% confidence interval {lo:.2%} - {hi:.2%} "
            f"(Wilson score interval; {source})."
        )
    ]
    if scores is not None and scores.get("rejected"):
        text.append(f"{scores['rejected']:,} test digits were answered 'not a digit' (counted as errors).")
    return text, k / n


def _f1(model, scores) -> list[str]:
    f1, source = None, None
    if scores is not None:
        f1, source = scores["f1"], scores["source"]
    else:
        m = model.metrics or {}
        recorded = m.get("per_class_f1") or (m.get("per_class") or {}).get("f1")
        if isinstance(recorded, list) and recorded:
            f1, source = recorded, "from the model file's header"
    if f1 is None:
        return ["Not available: no test data was found and the model file records no per-class scores."]
    worst = int(np.argmin(f1))
    return [
        "| digit | " + " | ".join(str(c) for c in range(len(f1))) + " |",
        "|---" * (len(f1) + 1) + "|",
        "| F1 | " + " | ".join(f"{v:.3f}" for v in f1) + " |",
        "",
        f"Lowest F1: digit {worst} ({f1[worst]:.3f}); {source}.",
    ]


def _robustness(found) -> list[str]:
    if not found:
        return ["Not measured. Run `digitnet robustness RUN --out RUN/robustness` and regenerate the card."]
    result, sample = found
    if isinstance(sample.get("n"), int) and isinstance(sample.get("of"), int):
        images = f"{sample['n']:,} of the {sample['of']:,} test images (random sample, seed {sample.get('seed')})"
    else:
        images = "the test images it was given (--n)"
    lines = [f"From `robustness/results.json` (`digitnet robustness`, on {images}).", ""]
    if "shift" in result:
        s = result["shift"]
        mean = np.mean([acc for acc in s["accuracy"].values()], axis=0)
        lines.append(
            "- Shifted digits (mean accuracy over 8 directions): "
            + ", ".join(f"{px} px {a:.1%}" for px, a in zip(s["shifts"], mean))
            + "."
        )
        if "right" in s["accuracy"] and len(s["accuracy"]["right"]) > 4:
            lines.append(f"- 4 px to the right: {s['accuracy']['right'][4]:.1%}.")
    names = {
        "rotation": "Rotation (degrees)",
        "noise": "Gaussian noise (sigma)",
        "thickness": "Stroke thickness (px)",
        "fgsm": "FGSM attack (L-inf eps)",
        "pgd": "PGD attack (L-inf eps)",
    }
    for kind, title in names.items():
        if kind in result and "values" in result[kind]:
            pairs = zip(result[kind]["values"], result[kind]["accuracy"])
            lines.append(f"- {title}: " + ", ".join(f"{v:g} -> {a:.1%}" for v, a in pairs) + ".")
    return lines if len(lines) > 2 else ["The robustness results hold no sweep this card knows."]


def _calibration(model) -> list[str]:
    cal, rej = getattr(model, "calibration", None) or {}, getattr(model, "rejection", None) or {}
    lines = []
    if cal:
        line = f"Temperature scaling: T = {cal.get('temperature', 1.0):g}"
        if cal.get("fitted_on"):
            line += f", fitted on the {cal['fitted_on']} split"
        if isinstance(cal.get("ece_before"), (int, float)) and isinstance(cal.get("ece_after"), (int, float)):
            line += f"; expected calibration error {cal['ece_before']:.4f} before, {cal['ece_after']:.4f} after"
        lines.append(f"- {line}.")
    else:
        lines.append("- Not calibrated: the probabilities are the raw softmax outputs and may be overconfident.")
    if rej:
        detail = ", ".join(f"{k} {v}" for k, v in rej.items())
        lines.append(f"- Rejection ('not a digit'): {detail}.")
    return lines


def _failure_modes(model, training, robustness) -> list[str]:
    kinds = {layer.to_config()["class"] for layer in model.layers}
    modes = [
        (
            "- Inputs must look like MNIST: a white digit on black, about 20x20 px centred by mass in 28x28. "
            "Photos or scans need the preprocessing of `digitnet predict` (digitnet.data.preprocess) first."
        )
    ]
    augment = training.get("augment") or ""
    if "Conv2D" not in kinds:
        shift = ""
        if robustness and "shift" in robustness and len(robustness["shift"]["accuracy"].get("right", [])) > 4:
            shift = f" (measured: {robustness['shift']['accuracy']['right'][4]:.1%} at 4 px right)"
        modes.append(
            "- Shifted digits: an MLP sees each pixel at a fixed position, so digits moved a few pixels "
            f"off centre are often misread{shift}."
        )
    elif "shift" not in augment:
        modes.append("- Trained without shift augmentation: accuracy falls for digits far off centre.")
    rejection = getattr(model, "rejection", None) or {}
    if not rejection:
        modes.append(
            "- Not a digit: letters, scribbles or empty images still get one of the ten digits, often "
            "with high probability (the model has no rejection)."
        )
    else:
        modes.append(
            f"- Not a digit: the model says so by its '{rejection.get('method')}' rule; inputs unlike "
            "anything in training can still get a confident digit."
        )
    modes.append("- Adversarial perturbations (FGSM/PGD) far smaller than a stroke can change the answer.")
    if training.get("dataset", "mnist") != "mnist":
        modes.append(f"- Trained on {training['dataset']}, not on handwritten digits.")
    return modes


def _intended_use(dataset: str) -> str:
    what = (
        "single handwritten digits 0-9 in 28x28 grey images (MNIST style)"
        if dataset == "mnist"
        else f"28x28 grey images into the 10 classes of {dataset}"
    )
    return (
        f"Recognising {what}, for teaching, demonstrations and experiments. Not evaluated for, and not "
        "meant for, decisions about people (cheques, forms, identity)."
    )


def model_card(model, model_path, test=None) -> str:
    """The markdown card of ``model`` (loaded from ``model_path``); ``test`` = (images, labels) or None."""
    folder = os.path.dirname(os.path.abspath(model_path))
    base = os.path.basename(os.path.abspath(model_path))
    name = os.path.basename(folder) if base == "model.npz" else os.path.splitext(base)[0]
    training = model.training_config or {}
    scores = evaluate(model, *test) if test is not None else None
    found = robustness_results(folder, name)
    robustness = found[0] if found else None
    accuracy, _ = _accuracy(model, training.get("dataset", "mnist"), scores)
    n_test = (
        scores["n"]
        if scores
        else (model.metrics or {}).get("test_n") or STANDARD_TEST_SIZE.get(training.get("dataset", "mnist"))
    )
    written = (
        f"Written by `digitnet info --card` (digitnet {__version__}) on {time.strftime('%Y-%m-%d')} from "
        f"`{base}`. Every figure below was measured on the data its section names."
    )
    out = (
        [
            f"# Model card: {name}",
            "",
            written,
            "",
            "## Intended use",
            "",
            _intended_use(training.get("dataset", "mnist")),
            "",
            "## Architecture",
            "",
            "```",
            model.summary(),
            "```",
            "",
            "## Training recipe",
            "",
        ]
        + _recipe(training)
        + ["", f"Epochs trained: {model.epochs_done}.", "", "## Data", ""]
        + _data(training, n_test)
        + ["", "## Test accuracy", ""]
        + accuracy
        + ["", "## Per-class F1", ""]
        + _f1(model, scores)
        + ["", "## Robustness", ""]
        + _robustness(found)
        + ["", "## Calibration", ""]
        + _calibration(model)
        + ["", "## Known failure modes", ""]
        + _failure_modes(model, training, robustness)
    )
    return "\n".join(out) + "\n"


def write_card(model, model_path, test=None) -> str:
    """Write MODEL_CARD.md next to ``model_path`` (temporary file + rename); returns its path."""
    folder = os.path.dirname(os.path.abspath(model_path))
    path = os.path.join(folder, "MODEL_CARD.md")
    text = model_card(model, model_path, test)
    data = text.encode("utf-8")
    return atomicfile.write(path, lambda f: f.write(data))
