"""Classification metrics on labels and predicted probabilities (NumPy, host side).

accuracy          mean(pred == y)
top_k_accuracy    mean(y in the k most probable classes)
confusion_matrix  C[t, p] = number of samples of true class t predicted as p
per_class         precision_c = C[c,c] / sum_t C[t,c], recall_c = C[c,c] / sum_p C[c,p],
                  F1_c = 2 P R / (P + R)   (0 where undefined)
reliability       per-bin confidence and accuracy (15 equal-width bins), the reliability diagram
expected_calibration_error   ECE = sum_b n_b/N |acc_b - conf_b|
selective_accuracy           accuracy vs share of inputs answered, most confident first
"""

from __future__ import annotations

import numpy as np


def accuracy(y, pred) -> float:
    y, pred = np.asarray(y), np.asarray(pred)
    return float((y == pred).mean()) if y.size else float("nan")


def top_k_accuracy(y, proba, k: int = 2) -> float:
    """Fraction of samples whose true class is among the k highest probabilities."""
    proba = np.asarray(proba)
    if not 1 <= k <= proba.shape[1]:
        raise ValueError(f"k must be in [1, {proba.shape[1]}], got {k}")
    top = np.argpartition(-proba, k - 1, axis=1)[:, :k]
    return float((top == np.asarray(y)[:, None]).any(axis=1).mean())


def confusion_matrix(y, pred, n_classes: int = 10) -> np.ndarray:
    """(n_classes, n_classes) int matrix, rows = true class, columns = predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return cm


def per_class(cm: np.ndarray) -> dict:
    """Precision, recall, F1 and support for each class of a confusion matrix."""
    tp = np.diag(cm).astype(np.float64)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"precision": precision.tolist(), "recall": recall.tolist(), "f1": f1.tolist(), "support": support.tolist()}


def confident_mistakes(y, proba, n: int = 10) -> list[dict]:
    """The n misclassified samples the model was most sure about, most confident first."""
    y, proba = np.asarray(y), np.asarray(proba)
    pred = proba.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    order = wrong[np.argsort(-proba[wrong, pred[wrong]], kind="stable")][:n]
    return [
        {"index": int(i), "true": int(y[i]), "predicted": int(pred[i]), "confidence": float(proba[i, pred[i]])}
        for i in order
    ]


def report(y, proba, halves: bool = True) -> dict:
    """Everything ``digitnet evaluate`` prints, as a JSON-able dict.

    With ``halves`` (the MNIST test set), accuracy is also given separately for the first
    and the last half: MNIST's first 5,000 and last 5,000 test images come from different
    writer populations.
    """
    y, proba = np.asarray(y).astype(np.int64), np.asarray(proba)
    pred = proba.argmax(axis=1)
    cm = confusion_matrix(y, pred, proba.shape[1])
    out = {
        "n": int(y.size),
        "accuracy": accuracy(y, pred),
        "top2_accuracy": top_k_accuracy(y, proba, 2),
        "errors": int((pred != y).sum()),
        "per_class": per_class(cm),
        "confusion_matrix": cm.tolist(),
        "confident_mistakes": confident_mistakes(y, proba),
    }
    if halves and y.size >= 2:
        h = y.size // 2
        out["halves"] = {"first": accuracy(y[:h], pred[:h]), "last": accuracy(y[h:], pred[h:]), "split_at": h}
    return out


# --- calibration and selective prediction -------------------------------------------------------------------
def _bin_index(confidence: np.ndarray, bins: int) -> np.ndarray:
    """Bin b holds confidences in (b/B, (b+1)/B]; a confidence of exactly 0 goes to bin 0."""
    return np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)


def reliability(y, proba, bins: int = 15) -> dict:
    """Reliability diagram data: per equal-width confidence bin, the count, mean confidence and accuracy.

    confidence_i = max_c proba[i, c]; bin b covers (b/B, (b+1)/B]. Empty bins have count 0 and
    confidence/accuracy None. ``ece`` is the expected calibration error of ``expected_calibration_error``.
    """
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    y, proba = np.asarray(y).astype(np.int64), np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[0] != y.shape[0]:
        raise ValueError(f"expected proba (N, C) for N={y.shape[0]} labels, got shape {proba.shape}")
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(np.float64)
    index = _bin_index(confidence, int(bins))
    count = np.bincount(index, minlength=bins)
    conf_sum = np.bincount(index, weights=confidence, minlength=bins)
    acc_sum = np.bincount(index, weights=correct, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf, mean_acc = conf_sum / count, acc_sum / count
    n = max(int(y.size), 1)
    ece = float(np.sum(np.abs(acc_sum - conf_sum)) / n)
    return {
        "bins": int(bins),
        "edges": np.linspace(0, 1, bins + 1).round(6).tolist(),
        "count": count.tolist(),
        "confidence": [None if c == 0 else float(v) for c, v in zip(count, mean_conf)],
        "accuracy": [None if c == 0 else float(v) for c, v in zip(count, mean_acc)],
        "ece": ece,
    }


def expected_calibration_error(y, proba, bins: int = 15) -> float:
    """ECE = sum_b (n_b / N) |acc_b - conf_b| over B equal-width bins of the top probability (Guo et al. 2017)."""
    return reliability(y, proba, bins)["ece"]


def selective_accuracy(y, proba, score=None, coverages=(1.0, 0.99, 0.98, 0.95, 0.9, 0.8, 0.7, 0.5)) -> list[dict]:
    """Accuracy on the share of inputs answered, answering the most confident first.

    ``score``: higher = more doubtful (default 1 - max probability). For each coverage c the
    ceil(c N) least doubtful samples are answered: [{"coverage", "answered", "accuracy", "threshold"}].
    """
    y, proba = np.asarray(y).astype(np.int64), np.asarray(proba, dtype=np.float64)
    doubt = 1.0 - proba.max(axis=1) if score is None else np.asarray(score, dtype=np.float64)
    order = np.argsort(doubt, kind="stable")
    correct = (proba.argmax(axis=1) == y)[order]
    cumulative = np.cumsum(correct)
    out = []
    for c in coverages:
        if not 0 < c <= 1:
            raise ValueError(f"coverages must be in (0, 1], got {c!r}")
        k = min(max(int(np.ceil(c * y.size)), 1), y.size) if y.size else 0
        out.append(
            {
                "coverage": float(c),
                "answered": int(k),
                "accuracy": float(cumulative[k - 1] / k) if k else float("nan"),
                "threshold": float(doubt[order[k - 1]]) if k else float("nan"),
            }
        )
    return out


def percent(p: float, decimals: int = 1) -> str:
    """A probability as a percentage with ``decimals`` decimals that never rounds up to 100% unless it is 1:
    percent(0.9996) -> "99.9%", percent(1.0) -> "100.0%", percent(0.622) -> "62.2%"."""
    if p >= 1:
        return f"{100:.{decimals}f}%"
    text = f"{p * 100:.{decimals}f}"
    if float(text) >= 100:
        text = f"{100 - 10**-decimals:.{decimals}f}"
    return text + "%"
