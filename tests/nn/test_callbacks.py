"""Callbacks: JSON-lines log, early stopping, checkpointing, divergence, progress output."""

import io as stdio
import json

import numpy as np
import pytest

from digitnet.nn import SGD, EarlyStopping, JSONLinesLogger, ModelCheckpoint, ProgressBar, Sequential, TrainingDiverged
from digitnet.nn.layers import Dense, ReLU


def problem(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    return x, y


def model(lr=0.1, seed=0):
    m = Sequential([Dense(8), ReLU(), Dense(2)], input_shape=(4,), seed=seed)
    return m.compile(SGD(lr=lr), "cross_entropy")


def test_jsonl_log_has_one_object_per_epoch(tmp_path):
    x, y = problem()
    log = tmp_path / "metrics.jsonl"
    model().fit(x, y, epochs=3, batch_size=20, validation_split=0.25, callbacks=[JSONLinesLogger(log)], verbose=False)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    for r in rows:
        assert set(r) >= {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}
        assert r["lr"] == pytest.approx(0.1)


def test_early_stopping_stops_and_restores_best():
    x, y = problem()
    m = model(lr=0.5)
    stop = EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)  # nothing improves by 10
    hist = m.fit(x, y, epochs=20, batch_size=20, validation_split=0.25, callbacks=[stop], verbose=False)
    assert len(hist.epochs) == 2 and stop.stopped_epoch == 2
    best = [s.copy() for _, s in stop.best_weights]
    np.testing.assert_array_equal(m.parameters()[0][1], best[0])  # epoch-1 weights put back


def test_early_stopping_unknown_metric():
    x, y = problem()
    with pytest.raises(ValueError, match="monitors 'val_f1'"):
        model().fit(x, y, epochs=1, callbacks=[EarlyStopping(monitor="val_f1")], verbose=False)


def test_checkpoint_keeps_best_only(tmp_path):
    x, y = problem()
    path = tmp_path / "best.npz"
    ckpt = ModelCheckpoint(path, monitor="val_accuracy")
    m = model()
    hist = m.fit(x, y, epochs=4, batch_size=20, validation_split=0.25, callbacks=[ckpt], verbose=False)
    saved = Sequential.load(path)
    assert saved.metrics["val_accuracy"] == pytest.approx(max(hist.history["val_accuracy"]))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_stops_with_epoch_and_batch_and_keeps_good_checkpoint(tmp_path):
    x, y = problem()
    path = tmp_path / "best.npz"
    m = model(lr=0.1)
    m.fit(x, y, epochs=1, batch_size=20, validation_split=0.25, callbacks=[ModelCheckpoint(path)], verbose=False)
    good = Sequential.load(path).parameters()[0][1].copy()
    m.optimizer.lr = 1e38  # guaranteed overflow
    with pytest.raises(TrainingDiverged, match=r"at epoch 2, batch \d+/8"):
        m.fit(
            x * 1e30,
            y,
            epochs=3,
            batch_size=20,
            validation_split=0.25,
            callbacks=[ModelCheckpoint(path)],
            verbose=False,
        )
    np.testing.assert_array_equal(Sequential.load(path).parameters()[0][1], good)


def test_progress_bar_prints_one_line_per_epoch_when_not_a_terminal():
    x, y = problem()
    out = stdio.StringIO()
    model().fit(x, y, epochs=2, batch_size=50, callbacks=[ProgressBar(stream=out)], verbose=False)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2  loss ")
