"""Model cards: the Wilson interval, what the card says with and without test data, `digitnet info --card`."""

import json

import numpy as np
import pytest
from scipy import stats

from digitnet import cli, modelcard, nn, zoo


@pytest.mark.parametrize("k, n", [(0, 10), (7, 10), (10, 10), (9920, 10000), (1, 3)])
def test_wilson_interval_matches_scipy(k, n):
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = modelcard.wilson_interval(k, n)
    assert lo == pytest.approx(expected.low, abs=1e-6) and hi == pytest.approx(expected.high, abs=1e-6)


def test_wilson_interval_bad_counts():
    with pytest.raises(ValueError, match="successes must be in"):
        modelcard.wilson_interval(11, 10)
    assert np.isnan(modelcard.wilson_interval(0, 0)[0])


def trained_mlp(tmp_path, name="mlp-10"):
    """A zoo MLP with a header like 'digitnet train' writes, saved in a run folder."""
    model = zoo.build(name)
    model.preprocessing = {"scale": 1 / 255, "layout": "image"}
    model.training_config = {
        "model": name,
        "optimizer": "adam",
        "lr": 0.001,
        "epochs": 3,
        "validation": 5000,
        "dataset": "mnist",
        "augment": None,
        "hidden": [128],
        "activation": "relu",
    }
    model.metrics = {"test_accuracy": 0.9253, "val_accuracy": 0.93}
    model.epochs_done = 3
    return model, nn.save(model, tmp_path / "run-a" / "model.npz")


def synthetic_test(n=300, seed=0):
    """Images whose class is where a bright square sits: a model that reads positions can score well."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = np.zeros((n, 28, 28), np.uint8)
    for i, c in enumerate(labels):
        images[i, 2 * c : 2 * c + 4, 10:18] = 255
    return images, labels


def test_card_from_the_header_alone(tmp_path):
    model, path = trained_mlp(tmp_path)
    card = modelcard.model_card(model, path)
    lo, hi = modelcard.wilson_interval(9253, 10000)
    assert "# Model card: run-a" in card and model.summary() in card
    assert f"**92.53%** (9,253/10,000), 95% confidence interval {lo:.2%} - {hi:.2%}" in card
    assert "from the model file's header" in card
    assert "| lr | `0.001` |" in card and "hidden" not in card  # mlp-only options of a zoo model are left out
    assert "last 5,000 images of the training split" in card
    assert "Per-class F1\n\nNot available" in card
    assert "Robustness\n\nNot measured" in card and "Not calibrated" in card
    assert "Shifted digits: an MLP" in card and "Not a digit:" in card


def test_card_names_the_test_time_views(tmp_path):
    model, path = trained_mlp(tmp_path)
    model.training_config.update(tta=10, centre="mass", synthetic=8000)
    card = modelcard.model_card(model, path)
    assert "| tta | `10` |" in card and "| centre | `mass` |" in card and "| synthetic | `8000` |" in card
    assert "two copies rotated by ±10°" in card


def test_card_with_test_data_robustness_and_calibration(tmp_path):
    model, path = trained_mlp(tmp_path)
    images, labels = synthetic_test()
    x = images[:, None].astype(np.float32) / 255
    model.compile("adam", lr=0.05)
    for _ in range(60):
        model.train_step(x, labels)
    model.calibration = {
        "temperature": 1.7,
        "method": "temperature",
        "fitted_on": "validation",
        "ece_before": 0.031,
        "ece_after": 0.012,
    }
    model.rejection = {"method": "max_probability", "threshold": 0.6}
    pred = model.predict(x)
    f1 = [2 * ((pred == c) & (labels == c)).sum() / ((pred == c).sum() + (labels == c).sum()) for c in range(10)]
    robustness = {
        "run-a": {
            "shift": {
                "shifts": [0, 1, 2, 3, 4],
                "accuracy": {"right": [0.9, 0.8, 0.5, 0.3, 0.2], "left": [0.9, 0.7, 0.5, 0.3, 0.1]},
            },
            "fgsm": {"values": [0.0, 0.1], "accuracy": [0.9, 0.25], "method": "fgsm"},
        }
    }
    (tmp_path / "run-a" / "robustness").mkdir()
    (tmp_path / "run-a" / "robustness" / "results.json").write_text(json.dumps(robustness))
    (tmp_path / "run-a" / "robustness" / "sample.json").write_text(
        json.dumps({"n": 2000, "of": 10000, "seed": 0, "indices": [3, 1]})
    )
    card = modelcard.model_card(model, path, test=(images, labels))
    correct = int((pred == labels).sum())
    assert f"({correct:,}/300)" in card and "computed on the test set now" in card
    assert "| F1 | " + " | ".join(f"{v:.3f}" for v in f1) + " |" in card
    assert "0 px 90.0%, 1 px 75.0%, 2 px 50.0%, 3 px 30.0%, 4 px 15.0%" in card and "4 px to the right: 20.0%" in card
    assert "FGSM attack (L-inf eps): 0 -> 90.0%, 0.1 -> 25.0%" in card
    assert "on 2,000 of the 10,000 test images (random sample, seed 0)" in card
    assert "(measured: 20.0% at 4 px right)" in card
    assert "T = 1.7, fitted on the validation split; expected calibration error 0.0310 before, 0.0120 after" in card
    assert "Rejection ('not a digit'): method max_probability, threshold 0.6" in card
    assert "Not a digit: the model says so by its 'max_probability' rule" in card


def test_info_card_writes_model_card_md(tmp_path, capsys, monkeypatch):
    trained_mlp(tmp_path)
    monkeypatch.setenv("DIGITNET_DATA", str(tmp_path / "no-data"))  # the card falls back to the header
    assert cli.main(["info", "--card", str(tmp_path / "run-a")]) == 0
    out = capsys.readouterr().out
    card = tmp_path / "run-a" / "MODEL_CARD.md"
    assert "test data not found" in out and f"wrote {card}" in out
    assert "**92.53%**" in card.read_text()
    assert sorted(p.name for p in (tmp_path / "run-a").iterdir()) == ["MODEL_CARD.md", "model.npz"]


@pytest.mark.mnist
def test_info_card_on_mnist(tmp_path, capsys, mnist_path, mnist_test):
    model, path = trained_mlp(tmp_path)
    assert cli.main(["info", "--card", path, "--data-dir", str(mnist_path)]) == 0
    text = (tmp_path / "run-a" / "MODEL_CARD.md").read_text()
    images, labels = mnist_test
    correct = int((model.predict(images[:, None].astype(np.float32) / 255) == labels).sum())
    assert f"({correct:,}/10,000)" in text and "computed on the test set now" in text and "| F1 | " in text
