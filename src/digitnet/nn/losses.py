"""Losses: ``loss(pred, target) -> float`` then ``loss.grad() -> dL/dpred``.

Targets may be integer class labels (N,) or one-hot / probability rows (N, C).
All losses average over the batch, so gradients carry the 1/N.

    MSE                     L = mean over all N*C entries of (pred - onehot)^2
                            dL/dpred = 2 (pred - onehot) / (N C)
    SoftmaxCrossEntropy     p = softmax(z),  q = (1 - s) onehot + s / C   (label smoothing s)
                            L = -1/N sum_n sum_c q log p,  log p = z - logsumexp(z)
                            dL/dz = (p - q) / N
    BinaryCrossEntropy      on logits z:  L = mean(max(z,0) - z y + log(1 + e^-|z|))
                            dL/dz = (sigmoid(z) - y) / numel
                            (from_logits=False: on probabilities p, clipped to [eps, 1-eps])

The model's last layer therefore outputs logits for cross-entropy; softmax is
fused into the loss, which is stable for any logit size.
"""

from __future__ import annotations

import inspect

import numpy as np

from digitnet.nn import backend


def one_hot(labels, n_classes, dtype=np.float32):
    """(N,) integer labels -> (N, n_classes) one-hot rows."""
    xp = backend.xp()
    labels = backend.to_device(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D class indices, got shape {tuple(labels.shape)}")
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(
            f"labels must lie in [0, {n_classes - 1}], got values {int(labels.min())}..{int(labels.max())}"
        )
    out = xp.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[xp.arange(labels.shape[0]), labels.astype(xp.int64)] = 1
    return out


def _target_rows(pred, target):
    target = backend.to_device(target)
    if target.ndim == 1 and pred.ndim == 2:
        if target.shape[0] != pred.shape[0]:
            raise ValueError(f"got {pred.shape[0]} predictions but {target.shape[0]} labels")
        return one_hot(target, pred.shape[1], pred.dtype)
    if target.shape != pred.shape:
        raise ValueError(f"target shape {tuple(target.shape)} does not match prediction shape {tuple(pred.shape)}")
    return target.astype(pred.dtype, copy=False)


class Loss:
    name = "loss"

    def __call__(self, pred, target) -> float:
        raise NotImplementedError

    def grad(self):
        return self._grad

    def get_config(self) -> dict:
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MSE(Loss):
    """Mean squared error against one-hot targets (the seeds' choice, with a sigmoid output layer)."""

    name = "mse"

    def __call__(self, pred, target):
        diff = pred - _target_rows(pred, target)
        self._grad = diff * (2.0 / diff.size)
        return float((diff * diff).mean())


class SoftmaxCrossEntropy(Loss):
    """Softmax + cross-entropy on logits, fused and stable; optional label smoothing."""

    name = "cross_entropy"

    def __init__(self, label_smoothing: float = 0.0):
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def __call__(self, logits, target):
        xp = backend.xp()
        if logits.ndim != 2:
            raise ValueError(f"cross-entropy expects logits (N, C), got shape {tuple(logits.shape)}")
        q = _target_rows(logits, target)
        if self.label_smoothing:
            q = q * (1 - self.label_smoothing) + self.label_smoothing / logits.shape[1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        sum_e = e.sum(axis=1, keepdims=True)
        log_p = shifted - xp.log(sum_e)
        n = logits.shape[0]
        e /= sum_e  # now softmax probabilities
        e -= q
        e *= 1.0 / n
        self._grad = e
        return float(-(q * log_p).sum() / n)

    def get_config(self):
        return {"label_smoothing": self.label_smoothing}


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy per output unit, on logits (default) or probabilities."""

    name = "bce"

    def __init__(self, from_logits: bool = True, eps: float = 1e-7):
        self.from_logits = bool(from_logits)
        self.eps = float(eps)

    def __call__(self, pred, target):
        xp = backend.xp()
        y = _target_rows(pred, target)
        n = pred.size
        if self.from_logits:
            z = pred
            loss = xp.maximum(z, 0) - z * y + xp.log1p(xp.exp(-xp.abs(z)))
            sig = 0.5 * xp.tanh(0.5 * z) + 0.5
            self._grad = (sig - y) / n
        else:
            p = xp.clip(pred, self.eps, 1 - self.eps)
            loss = -(y * xp.log(p) + (1 - y) * xp.log(1 - p))
            self._grad = (p - y) / (p * (1 - p)) / n
            self._grad = self._grad * ((pred > self.eps) & (pred < 1 - self.eps))
        return float(loss.mean())

    def get_config(self):
        return {"from_logits": self.from_logits, "eps": self.eps}


LOSSES = {
    "mse": MSE,
    "cross_entropy": SoftmaxCrossEntropy,
    "crossentropy": SoftmaxCrossEntropy,
    "ce": SoftmaxCrossEntropy,
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "bce": BinaryCrossEntropy,
    "binary_cross_entropy": BinaryCrossEntropy,
}


def get(loss, **kwargs) -> Loss:
    """A loss object from a name (any alias: "cross_entropy", "ce", "mse", "bce", ...) or an existing Loss.

    ``kwargs`` go to the loss class whatever alias named it; one the class does not take is an error
    (never silently dropped).
    """
    if isinstance(loss, Loss):
        if kwargs:
            raise ValueError(f"got a loss object and extra arguments {sorted(kwargs)}")
        return loss
    cls = LOSSES.get(str(loss).lower().replace("-", "_"))
    if cls is None:
        raise ValueError(f"unknown loss {loss!r}; expected one of: {', '.join(sorted(LOSSES))}")
    accepted = [p for p in inspect.signature(cls).parameters if p != "self"]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"loss {loss!r} ({cls.__name__}) takes no {', '.join(unknown)}; "
            f"it takes: {', '.join(accepted) or 'no options'}"
        )
    return cls(**kwargs)
