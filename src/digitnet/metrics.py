"""Classification metrics on labels and predicted probabilities (NumPy, host side).

    accuracy          mean(pred == y)
    top_k_accuracy    mean(y in the k most probable classes)
    confusion_matrix  C[t, p] = number of samples of true class t predicted as p
    per_class         precision_c = C[c,c] / sum_t C[t,c], recall_c = C[c,c] / sum_p C[c,p],
                      F1_c = 2 P R / (P + R)   (0 where undefined)
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
    return {"precision": precision.tolist(), "recall": recall.tolist(), "f1": f1.tolist(),
            "support": support.tolist()}


def confident_mistakes(y, proba, n: int = 10) -> list[dict]:
    """The n misclassified samples the model was most sure about, most confident first."""
    y, proba = np.asarray(y), np.asarray(proba)
    pred = proba.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    order = wrong[np.argsort(-proba[wrong, pred[wrong]], kind="stable")][:n]
    return [{"index": int(i), "true": int(y[i]), "predicted": int(pred[i]),
             "confidence": float(proba[i, pred[i]])} for i in order]


def report(y, proba, halves: bool = True) -> dict:
    """Everything ``digitnet evaluate`` prints, as a JSON-able dict.

    With ``halves`` (the MNIST test set), accuracy is also given separately for the first
    and the last half: MNIST's first 5,000 and last 5,000 test images come from different
    writer populations.
    """
    y, proba = np.asarray(y).astype(np.int64), np.asarray(proba)
    pred = proba.argmax(axis=1)
    cm = confusion_matrix(y, pred, proba.shape[1])
    out = {"n": int(y.size), "accuracy": accuracy(y, pred), "top2_accuracy": top_k_accuracy(y, proba, 2),
           "errors": int((pred != y).sum()), "per_class": per_class(cm), "confusion_matrix": cm.tolist(),
           "confident_mistakes": confident_mistakes(y, proba)}
    if halves and y.size >= 2:
        h = y.size // 2
        out["halves"] = {"first": accuracy(y[:h], pred[:h]), "last": accuracy(y[h:], pred[h:]), "split_at": h}
    return out
