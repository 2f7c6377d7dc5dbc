"""Open-set rejection: saying "not a digit" for blanks, specks, scribbles, letters, shapes, clothes, noise.

Two stages, both configured by ``model.rejection`` (absent or {} => never rejects, as old model files did):

1. ink checks on the raw image, BEFORE ``to_mnist`` scales the ink's bounding box to 20 px (after that a
   speck looks like a bold "0"). With ink = ``preprocess.ink_map(image)`` (bright on black, peak 1):

       blank            no stroke stands out from the paper (ink is None)
       too little ink   shape ratio  L / W < min_shape_ratio,  L = longer side of the ink's bounding box,
                        W = stroke width = 2 max(distance transform of ink > half its peak) - 1   (a dot: L ~ W)

2. a score on the network's outputs, higher = less like a digit, rejected when score > threshold:

       reject_class     p(not a digit) = softmax(z)_10 over all 11 outputs (a network trained with a
                        "not a digit" class on synthetic negatives; needs ``reject_class: 10``)
       max_softmax      1 - max_c softmax(z / T)_c over the 10 digit logits
       energy           -T logsumexp(z / T) over the 10 digit logits (Liu et al. 2020)

The threshold is fitted on validation digits (``fit_threshold``: the smallest threshold that rejects at
most ``target`` of them). The record kept in the model file:

    {"method": "reject_class", "threshold": 0.62, "reject_class": 10, "min_shape_ratio": 1.6,
     "target": 0.005, "fitted_on": "validation"}
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

METHODS = ("reject_class", "max_softmax", "energy", "ink")
REASONS = {
    "reject_class": "looks like no digit",
    "max_softmax": "unsure between digits",
    "energy": "unlike the digits it learned",
}
MIN_SHAPE_RATIO = 1.6


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"rejection {what} must be a finite number, got {value!r}")
    return float(value)


def check(rejection, n_outputs: int | None = None) -> dict:
    """``rejection`` ({} or a dict as in the module docstring) validated; a one-line ValueError if not."""
    if rejection is None or rejection == {}:
        return {}
    if not isinstance(rejection, dict):
        raise ValueError(f"model rejection must be a JSON object, got {type(rejection).__name__}")
    method = rejection.get("method")
    if method not in METHODS:
        raise ValueError(f"unknown rejection method {method!r}; expected one of: {', '.join(METHODS)}")
    if method != "ink":
        _number(rejection.get("threshold"), "threshold")
    _number(rejection.get("min_shape_ratio", MIN_SHAPE_RATIO), "min_shape_ratio")
    reject_class = rejection.get("reject_class")
    if method == "reject_class" and reject_class != 10:
        raise ValueError(f"rejection method 'reject_class' needs reject_class 10, got {reject_class!r}")
    if reject_class is not None and reject_class != 10:
        raise ValueError(f"rejection reject_class must be 10 (the 11th output) or absent, got {reject_class!r}")
    if n_outputs is not None:
        expected = 11 if reject_class == 10 else 10
        if n_outputs != expected:
            raise ValueError(
                f"a digit model with rejection {rejection.get('method')!r} has {expected} outputs, "
                f"this one has {n_outputs}"
            )
    return rejection


def ink_features(image) -> dict:
    """{"blank": bool, "longer_side": px, "stroke_width": px, "shape_ratio": L / W} of a raw image."""
    from digitnet.data.preprocess import ink_map

    ink = ink_map(image)
    if ink is None:
        return {"blank": True, "longer_side": 0, "stroke_width": 0.0, "shape_ratio": 0.0}
    solid = ink > 0.5 * ink.max()  # the peak is 1 unless to_mnist's speck removal dropped it with a speck
    rows, cols = np.flatnonzero(solid.any(axis=1)), np.flatnonzero(solid.any(axis=0))
    longer = int(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))
    width = 2.0 * float(ndimage.distance_transform_edt(solid).max()) - 1.0
    width = max(width, 1.0)
    return {
        "blank": False,
        "longer_side": longer,
        "stroke_width": round(width, 3),
        "shape_ratio": round(longer / width, 4),
    }


def ink_reason(image, rejection: dict) -> str | None:
    """ "blank", "too little ink" or None (passes the ink checks). Never rejects without a rejection config."""
    if not rejection:
        return None
    f = ink_features(image)
    if f["blank"]:
        return "blank"
    if f["shape_ratio"] < float(rejection.get("min_shape_ratio", MIN_SHAPE_RATIO)):
        return "too little ink"
    return None


def scores(logits, rejection: dict, temperature: float = 1.0) -> np.ndarray:
    """Not-a-digit score (N,) of outputs (N, 10 or 11), higher = less like a digit; zeros without a method."""
    z = np.asarray(logits, dtype=np.float64)
    method = (rejection or {}).get("method")
    if method == "reject_class":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e[:, 10] / e.sum(axis=1)
    digits = z[:, :10] / float(temperature)
    top = digits.max(axis=1, keepdims=True)
    if method == "max_softmax":
        e = np.exp(digits - top)
        return 1.0 - 1.0 / e.sum(axis=1)
    if method == "energy":
        return -float(temperature) * (top[:, 0] + np.log(np.exp(digits - top).sum(axis=1)))
    return np.zeros(len(z))


def reason(method: str) -> str:
    """The words shown when the score stage rejects."""
    return REASONS.get(method, "not a digit")


def fit_threshold(digit_scores, target: float = 0.005) -> float:
    """The smallest threshold t with mean(digit_scores > t) <= target (validation digits; higher = doubtful)."""
    s = np.sort(np.asarray(digit_scores, dtype=np.float64))
    if s.size == 0 or not np.isfinite(s).all():
        raise ValueError("fit_threshold needs finite scores of at least one validation digit")
    if not 0 <= target < 1:
        raise ValueError(f"target rejection share must be in [0, 1), got {target!r}")
    allowed = int(math.floor(target * s.size))  # this many digits may lie above t
    return float(s[s.size - 1 - allowed])


def config(method: str, digit_scores, target: float = 0.005, **params) -> dict:
    """A ``model.rejection`` record with the threshold fitted on validation digits' scores."""
    record = {"method": method}
    if method != "ink":
        record["threshold"] = round(fit_threshold(digit_scores, target), 6)
    if method == "reject_class":
        record["reject_class"] = 10
    record.update({"min_shape_ratio": MIN_SHAPE_RATIO, "target": target, "fitted_on": "validation", **params})
    return check(record)
