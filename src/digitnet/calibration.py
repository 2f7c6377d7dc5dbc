"""Temperature scaling (Guo et al. 2017): calibrated digit probabilities from a trained network's logits.

    p_T(c | x) = softmax(z / T)_c,   z = the 10 digit logits of x (an 11th "not a digit" logit is left out)

One scalar T > 0 is fitted on the validation split by minimising the negative log-likelihood

    NLL(T) = -1/N sum_i log p_T(y_i | x_i)

over log T (a bounded scalar search). T > 1 softens over-confident networks; the argmax, hence the
accuracy, never changes. The result is stored in ``model.calibration``:

    {"method": "temperature", "temperature": T, "fitted_on": "validation", "ece_before": ..., "ece_after": ...}

An absent or empty ``model.calibration`` means T = 1 (old model files behave as before).
"""

from __future__ import annotations

import math

import numpy as np

METHODS = ("temperature",)
T_RANGE = (0.05, 20.0)  # the search interval for T
DIGITS = 10


def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of logits / temperature, float64, (N, C) -> (N, C)."""
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=1, keepdims=True)


def nll(logits, labels, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of integer labels under softmax(logits / temperature)."""
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    labels = np.asarray(labels, dtype=np.int64)
    return float(-log_p[np.arange(labels.size), labels].mean())


def fit_temperature(logits, labels, bounds=T_RANGE) -> float:
    """The T in ``bounds`` minimising NLL(T) of (logits (N, C), labels (N,)); bounded search over log T."""
    from scipy.optimize import minimize_scalar

    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if logits.ndim != 2 or logits.shape[0] != labels.shape[0] or labels.size == 0:
        raise ValueError(f"expected logits (N, C) and N labels, N > 0; got {logits.shape} and {labels.shape}")
    if not np.isfinite(logits).all():
        raise ValueError("cannot fit a temperature: the logits contain NaN or infinity")
    lo, hi = (math.log(b) for b in bounds)
    result = minimize_scalar(
        lambda s: nll(logits, labels, math.exp(s)), bounds=(lo, hi), method="bounded", options={"xatol": 1e-5}
    )
    return float(math.exp(result.x))


def check(calibration) -> dict:
    """``calibration`` ({} or a dict as in the module docstring) validated; a one-line ValueError if not."""
    if calibration is None or calibration == {}:
        return {}
    if not isinstance(calibration, dict):
        raise ValueError(f"model calibration must be a JSON object, got {type(calibration).__name__}")
    method = calibration.get("method", "temperature")
    if method not in METHODS:
        raise ValueError(f"unknown calibration method {method!r}; expected one of: {', '.join(METHODS)}")
    t = calibration.get("temperature")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t <= 0:
        raise ValueError(f"calibration temperature must be a finite number > 0, got {t!r}")
    return calibration


def temperature(model) -> float:
    """The model's fitted temperature (1.0 when the model file has no calibration)."""
    calibration = check(getattr(model, "calibration", None) or {})
    return float(calibration.get("temperature", 1.0))


def digit_logits(logits) -> np.ndarray:
    """The 10 digit logits of (N, 10) or (N, 11) outputs (an 11th "not a digit" logit is dropped)."""
    logits = np.asarray(logits)
    return logits[:, :DIGITS]


def predict_digits(model, x) -> np.ndarray:
    """The most likely digit (N,) of a model with 10 or 11 outputs on prepared inputs ``x`` (its 11th
    "not a digit" output is ignored, as ``evaluate`` scores digits)."""
    return digit_logits(model.predict_logits(x)).argmax(axis=1)


def fit(logits, labels, bins: int = 15) -> dict:
    """Fit T on validation (logits (N, 10 or 11), digit labels (N,)); the record for ``model.calibration``."""
    from digitnet.metrics import expected_calibration_error

    z = digit_logits(logits)
    t = fit_temperature(z, labels)
    return {
        "method": "temperature",
        "temperature": round(t, 6),
        "fitted_on": "validation",
        "ece_before": round(expected_calibration_error(labels, softmax(z), bins), 6),
        "ece_after": round(expected_calibration_error(labels, softmax(z, t), bins), 6),
    }
