"""The training loop behind ``Sequential.fit`` — the one copy every variant uses.

For each epoch: draw a permutation from the fit's generator, cut it into
mini-batches, optionally augment each batch, take one optimiser step per batch
(setting the learning rate from the schedule first), then evaluate on the
validation data and hand the epoch's figures to the callbacks.

A non-finite loss stops training at once with ``TrainingDiverged`` naming the
epoch and batch; checkpoint callbacks never see that epoch, so a good saved
model is never overwritten by a diverged one.
"""

from __future__ import annotations

import math
import time

import numpy as np

from digitnet.nn import callbacks as cb


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


def split_validation(x, y, validation, seed=None):
    """Hold out a validation set: ((x_train, y_train), (x_val, y_val)) — the one implementation.

    ``validation``: a count (int, 0 <= count < N) or a fraction in (0, 1) of N. Without ``seed``
    the LAST samples are the validation set (reproducible; the usual MNIST choice); with a seed (int
    or Generator), a seeded random subset, kept in original order. Training samples keep their order.
    """
    n = len(x)
    if len(y) != n:
        raise ValueError(f"got {n} samples but {len(y)} labels; expected the same count")
    if isinstance(validation, (float, np.floating)) and 0 < validation < 1:
        count = int(round(float(validation) * n))
    elif isinstance(validation, (int, np.integer)) and not isinstance(validation, bool) and 0 <= validation < n:
        count = int(validation)
    else:
        raise ValueError(f"validation must be a count in [0, {n}) or a fraction in (0, 1), got {validation!r}")
    if seed is None:
        val = np.arange(n - count, n)
    else:
        val = np.sort(np.random.default_rng(seed).permutation(n)[:count])
    is_val = np.zeros(n, dtype=bool)
    is_val[val] = True
    return (x[~is_val], y[~is_val]), (x[is_val], y[is_val])


def _split_validation(x, y, validation_data, validation_split):
    if validation_data is not None:
        if validation_split:
            raise ValueError("give validation_data or validation_split, not both")
        return x, y, validation_data
    if validation_split:
        if not 0 < validation_split < 1:
            raise ValueError(f"validation_split must be in (0, 1), got {validation_split!r}")
        (x, y), val = split_validation(x, y, float(validation_split))
        return x, y, val
    return x, y, None


def check_training_data(x, y, batch_size, epochs, n_outputs=None) -> None:
    """One-line ValueErrors for data ``fit`` cannot train on: x an (N, ...) real array with N >= 1 and only
    finite values; y (N,) integer labels in [0, n_outputs) or (N, C) finite target rows; batch_size and
    epochs ints (not bools), batch_size >= 1."""
    for name, value, kind in (("batch_size", batch_size, "a positive int"), ("epochs", epochs, "an int >= 0")):
        if (
            not isinstance(value, (int, np.integer))
            or isinstance(value, (bool, np.bool_))
            or value < (1 if name == "batch_size" else 0)
        ):
            raise ValueError(f"{name} must be {kind}, got {value!r}")
    if not hasattr(x, "shape") or len(x.shape) < 2 or x.shape[0] == 0:
        raise ValueError(f"x must be an array (N, ...) with at least one sample, got shape {getattr(x, 'shape', None)}")
    if not hasattr(y, "shape") or y.shape[:1] != x.shape[:1] or len(y.shape) not in (1, 2):
        raise ValueError(
            f"y must be (N,) labels or (N, C) targets for x of shape {tuple(x.shape)}, "
            f"got shape {getattr(y, 'shape', None)}"
        )
    if x.dtype.kind not in "fiub":
        raise ValueError(f"x must hold real numbers, got dtype {x.dtype}")
    if x.dtype.kind == "f" and not bool(np.isfinite(x).all()):
        raise ValueError("x holds NaN or infinite values; expected finite inputs")
    if y.ndim == 1:
        if y.dtype.kind not in "iu":
            raise ValueError(f"labels y must be integers, got dtype {y.dtype} (targets as rows need shape (N, C))")
        check_label_range(y, n_outputs)
    elif y.dtype.kind not in "fiub" or (y.dtype.kind == "f" and not bool(np.isfinite(y).all())):
        raise ValueError(f"targets y must be finite real numbers, got dtype {y.dtype}")


def check_label_range(y, n_outputs=None) -> None:
    """Integer labels must lie in [0, n_outputs) (only >= 0 checked without ``n_outputs``)."""
    low, high = int(y.min()), int(y.max())
    if low < 0 or (n_outputs is not None and high >= n_outputs):
        expected = f"0..{n_outputs - 1} for a model with {n_outputs} outputs" if n_outputs else "non-negative"
        raise ValueError(f"labels y must be {expected}, got {low}..{high}")


def fit(
    model,
    x,
    y,
    epochs: int = 1,
    batch_size: int = 32,
    validation_data=None,
    validation_split: float = 0.0,
    shuffle: bool = True,
    callbacks=(),
    rng=None,
    initial_epoch: int | None = None,
    augment=None,
    verbose: bool = True,
):
    """Train ``model`` on (x, y); returns the History callback.

    x: (N, ...) inputs; y: (N,) integer labels or (N, C) target rows.
    epochs is the index of the last epoch to run, Keras-style: with
    ``initial_epoch=2, epochs=4`` epochs 3 and 4 are run. ``initial_epoch``
    defaults to ``model.epochs_done``, so calling ``fit`` on a model loaded from
    a checkpoint continues where it stopped. ``rng``: a seed or Generator to
    use from now on (default: the model's own generator, restored by
    ``load``). ``augment(batch, rng) -> batch`` transforms each training batch.
    """
    if model.optimizer is None:
        raise RuntimeError("call model.compile(optimizer=..., loss=...) before fit()")
    if hasattr(x, "shape") and hasattr(y, "shape") and x.shape[:1] != y.shape[:1]:
        raise ValueError(f"x has {x.shape[0]} samples but y has {y.shape[0]}")
    check_training_data(x, y, batch_size, epochs)
    x, y, val = _split_validation(x, y, validation_data, validation_split)
    if validation_data is not None:
        check_training_data(val[0], val[1], batch_size, epochs)
    if rng is not None:
        model.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    for layer in model.layers:  # the layer contract's rng: what Dropout draws its masks from
        layer.rng = model.rng
    model._require_built(x)
    if y.ndim == 1 and model.layers and model.layers[-1].output_shape:
        check_label_range(y, int(np.prod(model.layers[-1].output_shape)))
    start_epoch = model.epochs_done if initial_epoch is None else int(initial_epoch)
    n = x.shape[0]
    steps = math.ceil(n / batch_size)
    history = cb.History()
    extra = [cb.ProgressBar()] if verbose else []
    callbacks = cb.CallbackList([history, *callbacks, *extra], model)
    model.stop_training = False
    callbacks.on_train_begin({"epochs": epochs, "steps": steps, "initial_epoch": start_epoch})
    for epoch in range(start_epoch, epochs):
        t0 = time.perf_counter()
        callbacks.on_epoch_begin(epoch, {})
        order = model.rng.permutation(n) if shuffle else np.arange(n)
        total_loss, correct = 0.0, 0
        for b in range(steps):
            idx = order[b * batch_size : (b + 1) * batch_size]
            xb, yb = x[idx], y[idx]
            if augment is not None:
                xb = augment(xb, model.rng)
            if model.schedule is not None:
                t = epoch if model.schedule.unit == "epoch" else epoch * steps + b
                model.optimizer.lr = model.schedule(t)
            loss, ok = model.train_step(xb, yb)
            if not math.isfinite(loss):
                callbacks.on_train_end({"diverged": True})
                raise TrainingDiverged(
                    f"training diverged: loss became {loss} at epoch {epoch + 1}, batch {b + 1}/{steps} "
                    f"(lr {model.optimizer.lr:g}); try a smaller learning rate"
                )
            total_loss += loss * len(idx)
            correct += ok
            callbacks.on_batch_end(b, {"loss": loss, "batch_size": len(idx)})
        logs = {"epoch": epoch + 1, "loss": total_loss / n, "accuracy": correct / n}
        if val is not None:
            v = model.evaluate(val[0], val[1])
            logs.update(val_loss=v["loss"], val_accuracy=v["accuracy"])
        logs.update(lr=float(model.optimizer.lr), seconds=time.perf_counter() - t0)
        model.epochs_done = epoch + 1
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end({})
    return history
