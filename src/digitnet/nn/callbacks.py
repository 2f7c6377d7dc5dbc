"""Callbacks: code that runs at fixed points of ``Sequential.fit``.

Hooks (all optional): on_train_begin(logs), on_epoch_begin(epoch, logs),
on_batch_end(batch, logs), on_epoch_end(epoch, logs), on_train_end(logs).
Epoch logs hold: epoch (1-based), loss, accuracy, val_loss, val_accuracy
(with validation data), lr, seconds. A callback may set
``self.model.stop_training = True`` to end training after the epoch.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys


class Callback:
    model = None

    def on_train_begin(self, logs): ...
    def on_epoch_begin(self, epoch, logs): ...
    def on_batch_end(self, batch, logs): ...
    def on_epoch_end(self, epoch, logs): ...
    def on_train_end(self, logs): ...


class CallbackList:
    """Calls each hook of every callback in order."""

    def __init__(self, callbacks, model):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.model = model

    def __getattr__(self, hook):
        def call(*args):
            for c in self.callbacks:
                getattr(c, hook)(*args)

        return call


class History(Callback):
    """Records every epoch's logs: ``history.history["val_accuracy"]`` is a list, one value per epoch."""

    def __init__(self):
        self.epochs: list[dict] = []

    def on_epoch_end(self, epoch, logs):
        self.epochs.append(dict(logs))

    @property
    def history(self) -> dict:
        keys = {k for e in self.epochs for k in e}
        return {k: [e.get(k) for e in self.epochs] for k in sorted(keys)}


class ProgressBar(Callback):
    """A tqdm bar during each epoch on a terminal, then one line per epoch (only the lines off a terminal)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.bar = None

    def on_train_begin(self, logs):
        self.epochs, self.steps = logs["epochs"], logs["steps"]
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def on_epoch_begin(self, epoch, logs):
        if self.tty:
            from tqdm.auto import tqdm  # imported lazily: only terminals need it

            width = shutil.get_terminal_size((100, 20)).columns or 100  # a 0-wide pty would hide the bar
            self.bar = tqdm(
                total=self.steps,
                desc=f"epoch {epoch + 1}/{self.epochs}",
                file=self.stream,
                leave=False,
                ncols=min(width, 120),
            )

    def on_batch_end(self, batch, logs):
        if self.bar is not None:
            self.bar.update(1)
            if batch % 20 == 0:
                self.bar.set_postfix(loss=f"{logs['loss']:.4f}")

    def on_epoch_end(self, epoch, logs):
        if self.bar is not None:  # the bar disappears; the epoch's line stays, as off a terminal
            self.bar.close()
            self.bar = None
        print(f"epoch {epoch + 1}/{self.epochs}  {format_logs(logs)}", file=self.stream, flush=True)

    def on_train_end(self, logs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def format_logs(logs) -> str:
    parts = []
    for k in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if k in logs:
            parts.append(f"{k} {logs[k]:.4f}")
    if "seconds" in logs:
        parts.append(f"{logs['seconds']:.1f}s")
    return "  ".join(parts)


class JSONLinesLogger(Callback):
    """Appends one JSON object per epoch to ``path`` (epoch, loss, accuracy, val metrics, lr, seconds)."""

    def __init__(self, path, append: bool = False):
        self.path = os.fspath(path)
        self.append = append

    def on_train_begin(self, logs):
        if not self.append:
            open(self.path, "w").close()

    def on_epoch_end(self, epoch, logs):
        with open(self.path, "a") as f:
            f.write(json.dumps({k: _plain(v) for k, v in logs.items()}) + "\n")


def _plain(v):
    return float(v) if isinstance(v, float) or hasattr(v, "dtype") else v


def _improved(mode, value, best, min_delta):
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _mode(monitor, mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best=True`` the weights of the best epoch are put back at the end.
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto", restore_best=True):
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.mode = _mode(monitor, mode)
        self.restore_best = restore_best
        self.best, self.best_weights, self.wait, self.stopped_epoch = None, None, 0, None

    def on_epoch_end(self, epoch, logs):
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, but the logs only have {sorted(logs)}")
        value = logs[self.monitor]
        if _improved(self.mode, value, self.best, self.min_delta):
            self.best, self.wait = value, 0
            if self.restore_best:
                self.best_weights = [(p, p.copy()) for _, p, _ in self.model.parameters()] + [
                    (b, b.copy()) for _, b in self.model.buffers()
                ]
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.model.stop_training = True
                self.stopped_epoch = epoch + 1

    def on_train_end(self, logs):
        if self.restore_best and self.best_weights is not None and self.stopped_epoch is not None:
            for live, saved in self.best_weights:
                live[...] = saved


class ModelCheckpoint(Callback):
    """Save the model (with optimiser and rng state) to ``path`` after each epoch, or only when
    ``monitor`` improves (``save_best_only``). Never saves a model whose loss is not finite."""

    def __init__(self, path, monitor="val_accuracy", save_best_only=True, mode="auto"):
        self.path = os.fspath(path)
        self.monitor, self.save_best_only = monitor, save_best_only
        self.mode = _mode(monitor, mode)
        self.best = None

    def on_epoch_end(self, epoch, logs):
        if not math.isfinite(logs.get("loss", float("nan"))):
            return
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                raise ValueError(f"ModelCheckpoint monitors {self.monitor!r}, but the logs only have {sorted(logs)}")
            if not _improved(self.mode, value, self.best, 0.0):
                return
            self.best = value
        self.model.metrics.update({k: v for k, v in logs.items() if k != "seconds"})
        self.model.save(self.path)
