"""The main job's extras around training: generator digits and "not a digit" images in, calibration out.

``digitnet train`` calls three hooks (keys of its config, set by the zoo recipe or on the command line):

    training_images(x, y, cfg)       append cfg["synthetic"] generator digits (labels 0-9) and
                                     cfg["negatives"] non-digits (label 10) from the generator's
                                     TRAIN styles (digitnet.data.synth, split="train") to MNIST's
                                     training images (N, 28, 28) uint8
    model_options(cfg)               {"classes": 11} when negatives are trained, else {}
    preprocessing(spec, cfg)         the model file's input spec, with "centre": "mass" when cfg["centre"]
                                     asks (inputs re-centred by their centre of mass, see data.inputs),
                                     and test-time views at +-cfg["tta"] degrees when > 0 (test_time)
    fit_after_training(model, ...)   temperature on the validation digits (digitnet.calibration) and the
                                     rejection rule with its threshold (digitnet.rejection), stored in
                                     model.calibration and model.rejection before the final save

Validation images for the threshold are MNIST's validation split plus generator digits drawn from the
train styles with a different seed (never the held-out styles, which are for evaluation only).
"""

from __future__ import annotations

import os

import numpy as np

from digitnet import calibration, rejection, test_time

VALIDATION_SEED_OFFSET = 7919  # generator seeds for validation images differ from training ones
REJECT_TARGET = 0.005  # share of validation digits the threshold may reject
NEGATIVE_SHARES = {"shape": 2.0}  # shares of the n negatives per kind (others 1): shapes are the most varied kind
PARALLEL_MIN = 2000  # below this many pictures, starting two processes costs more than it saves


def _uint8(images) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.clip(np.rint(images.astype(np.float64) * 255), 0, 255).astype(np.uint8)


def synthetic_digits(n: int, seed: int):
    """(uint8 (n, 28, 28), labels (n,)) MNIST-style generator digits of the train styles."""
    from digitnet.data import synth

    images, labels = synth.mnist_style_digits(int(n), split="train", seed=int(seed))
    return _uint8(images), np.asarray(labels, dtype=np.int64)


def synthetic_negatives(n: int, seed: int) -> np.ndarray:
    """uint8 (n, 28, 28) MNIST-style non-digits of the train styles: each kind's share of n is
    NEGATIVE_SHARES.get(kind, 1) / (sum of all shares), rounded up."""
    from digitnet.data import synth

    kinds = list(synth.NEGATIVE_KINDS)
    shares = np.array([NEGATIVE_SHARES.get(kind, 1.0) for kind in kinds])
    counts = np.ceil(int(n) * shares / shares.sum()).astype(int)
    parts = []
    for k, (kind, count) in enumerate(zip(kinds, counts)):
        images = synth.mnist_style_negatives(kind, int(count), split="train", seed=int(seed) * 101 + k)
        parts.append(_uint8(images[0] if isinstance(images, tuple) else images))
    return np.concatenate(parts)[: int(n)]


CLASS_OPTION_MODELS = ("reader", "reader-large", "lenet-wide", "lenet5")  # zoo builders taking ``classes``


def model_options(cfg: dict) -> dict:
    """Extra zoo.build options for cfg: an 11th output exactly when "not a digit" images are trained."""
    if cfg.get("model") in CLASS_OPTION_MODELS:
        return {"classes": 11 if cfg.get("negatives") else 10}
    if cfg.get("negatives"):
        raise ValueError(
            f"negatives need a model with a 'not a digit' output ({', '.join(CLASS_OPTION_MODELS)}), "
            f"got {cfg.get('model')!r}"
        )
    return {}


def preprocessing(spec: dict, cfg: dict) -> dict:
    """``spec`` with cfg["centre"] ("none" or "mass") recorded when it is not "none", and the test-time
    rotations +-cfg["tta"] degrees when cfg["tta"] > 0."""
    from digitnet.data.inputs import CENTRES

    centre = cfg.get("centre") or "none"
    if centre not in CENTRES:
        raise ValueError(f"centre must be one of {', '.join(CENTRES)}, got {centre!r}")
    out = {**spec, "centre": centre} if centre != "none" else dict(spec)
    return {**out, **test_time.spec(cfg.get("tta") or 0)}


def _generate(n_syn: int, n_neg: int, seed: int, workers: int):
    """(digits uint8 (n_syn, 28, 28) or None, their labels, negatives uint8 (n_neg, 28, 28) or None).

    With workers >= 2 and both counts non-zero, the digits and the negatives are drawn at the same time in two
    fresh ("spawn") processes; every picture has its own seeded generator (synth.seeds), so the result is the
    same either way."""
    if workers >= 2 and n_syn and n_neg:
        import multiprocessing
        import warnings
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        try:
            with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
                digits, negatives = (
                    pool.submit(synthetic_digits, n_syn, seed),
                    pool.submit(synthetic_negatives, n_neg, seed),
                )
                (sx, sy), nx = digits.result(), negatives.result()
            return sx, sy, nx
        except BrokenProcessPool:  # e.g. a main module a fresh process cannot import (python reading stdin)
            warnings.warn("could not start worker processes; drawing the pictures in this process", stacklevel=3)
    sx, sy = synthetic_digits(n_syn, seed) if n_syn else (None, None)
    return sx, sy, synthetic_negatives(n_neg, seed) if n_neg else None


def generation_workers(cfg: dict) -> int:
    """Processes for drawing cfg's pictures: 2 when the machine has 2 or more cores and there are at least
    PARALLEL_MIN pictures, else 1. For callers whose main module is guarded (``if __name__ == "__main__"``),
    as ``digitnet train`` is: a "spawn" process imports the main module again."""
    total = int(cfg.get("synthetic") or 0) + int(cfg.get("negatives") or 0)
    return min(2, os.cpu_count() or 1) if total >= PARALLEL_MIN else 1


def training_images(x, y, cfg: dict, workers: int = 1):
    """MNIST training images (N, 28, 28) uint8 and labels with cfg's generator digits and negatives appended.

    ``workers``: processes drawing the pictures (1: in this process; 2: see ``generation_workers``)."""
    n_syn, n_neg, seed = int(cfg.get("synthetic") or 0), int(cfg.get("negatives") or 0), int(cfg.get("seed") or 0)
    if n_syn < 0 or n_neg < 0:
        raise ValueError(f"synthetic and negatives must be counts >= 0, got {n_syn} and {n_neg}")
    xs, ys = [np.asarray(x)], [np.asarray(y, dtype=np.int64)]
    sx, sy, nx = _generate(n_syn, n_neg, seed, workers)
    if sx is not None:
        xs.append(sx)
        ys.append(sy)
    if nx is not None:
        xs.append(nx)
        ys.append(np.full(len(nx), 10, dtype=np.int64))
    if len(xs) == 1:
        return x, y
    return np.concatenate([_uint8(a) for a in xs]), np.concatenate(ys)


def fit_after_training(model, val_images, val_labels, cfg: dict | None = None, target: float = REJECT_TARGET) -> dict:
    """Fit the temperature and the rejection threshold on validation digits; sets model.calibration/.rejection.

    val_images: MNIST validation images (N, 28, 28) uint8 or floats in [0, 1]; val_labels (N,) digits.
    With cfg["synthetic"] > 0, generator digits of the train styles (another seed) join the threshold's
    validation digits. Returns {"calibration": ..., "rejection": ...}.
    """
    from digitnet.recognizer import Recognizer, output_count

    cfg = cfg or {}
    method = "reject_class" if output_count(model) == 11 else "max_softmax"
    model.calibration = {}
    model.rejection = {"method": method, "threshold": 1.0, **({"reject_class": 10} if method == "reject_class" else {})}
    plain = Recognizer(model)  # T = 1, nothing rejected by score yet
    logits = plain.logits(val_images)
    model.calibration = calibration.fit(logits, np.asarray(val_labels))
    digits28 = [np.asarray(val_images)]
    if cfg.get("synthetic"):
        n = min(2000, int(cfg["synthetic"]))
        digits28.append(synthetic_digits(n, int(cfg.get("seed") or 0) + VALIDATION_SEED_OFFSET)[0])
        logits = np.concatenate([logits, plain.logits(digits28[-1])])
    t = calibration.temperature(model)
    digit_scores = rejection.scores(logits, {"method": method}, t)
    # the ink checks run on the MNIST-style image here; only digits passing them count against the target
    passes = np.array([rejection.ink_reason(im, {"method": "ink"}) is None for part in digits28 for im in part])
    model.rejection = rejection.config(method, digit_scores[passes], target=target)
    return {"calibration": model.calibration, "rejection": model.rejection}


def test_scores(model, images, labels) -> dict:
    """{"accuracy", "loss"} of the digit classes (an 11th output left out), at temperature 1, on (N, 28, 28)."""
    from digitnet.recognizer import Recognizer

    logits = calibration.digit_logits(Recognizer(model).logits(images))
    labels = np.asarray(labels, dtype=np.int64)
    return {"accuracy": float((logits.argmax(axis=1) == labels).mean()), "loss": calibration.nll(logits, labels)}
