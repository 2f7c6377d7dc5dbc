"""Figures: titles name the model, confusion matrices are per row with a colour bar, accuracy axes zoom,
epoch ticks are integers, first-layer grids say what they show and stay small, study bars carry error bars."""

import io
import json

import numpy as np
import pytest

from digitnet import plots
from digitnet.commands.robustness import describe_sample, sample_indices
from digitnet.nn import Conv2D, Dense, Flatten, ReLU, Sequential
from digitnet.progress import progress


@pytest.fixture
def figures(monkeypatch):
    """The figures the plotting functions save (still open for inspection), in order."""
    saved = []
    original = plots._save

    def keep(fig, path, **kwargs):
        saved.append(fig)  # closed by _save, still readable
        return original(fig, path, **kwargs)

    monkeypatch.setattr(plots, "_save", keep)
    return saved


def write_run(folder, accuracies):
    folder.mkdir(parents=True)
    rows = [
        {"epoch": e + 1, "loss": 1.0 / (e + 1), "accuracy": a, "val_loss": 1.2 / (e + 1), "val_accuracy": a - 0.002}
        for e, a in enumerate(accuracies)
    ]
    (folder / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    return folder


def test_learning_curves_zoom_name_runs_and_use_integer_epochs(tmp_path, figures):
    a = write_run(tmp_path / "lenet5-20261121-101500", [0.80, 0.97, 0.98, 0.985, 0.99])
    b = write_run(tmp_path / "cnn-plain", [0.85, 0.975, 0.983, 0.988, 0.992])
    plots.learning_curves([a, b], tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 5000
    fig = figures[-1]
    ax_loss, ax_acc = fig.axes
    assert fig._suptitle.get_text() == "learning curves: lenet5 (11-21 10:15), cnn-plain"
    low, high = ax_acc.get_ylim()
    assert 0.9 < low < 0.968 and high <= 1.0, "the axis starts near epoch 2's accuracy, not at epoch 1's 0.80"
    for ax in (ax_loss, ax_acc):
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 5]
        assert ticks and all(float(t).is_integer() for t in ticks)
    legend = [t.get_text() for t in ax_loss.get_legend().get_texts()]
    assert legend == ["lenet5 (11-21 10:15)", "cnn-plain"]  # one readable entry per run
    assert [t.get_text() for t in ax_acc.get_legend().get_texts()] == ["train", "validation"]


def test_zoomed_accuracy_range():
    assert plots.zoomed_accuracy_range([[0.5, 0.95, 0.97]]) == pytest.approx((0.948, 0.972))
    assert plots.zoomed_accuracy_range([[0.9]]) == pytest.approx((0.898, 0.902))
    assert plots.zoomed_accuracy_range([]) == (0.0, 1.0)


def test_confusion_is_per_row_with_muted_diagonal_and_colour_bar(tmp_path, figures):
    cm = np.array([[980, 15, 5], [2, 996, 2], [40, 0, 60]])
    plots.confusion(cm, tmp_path / "cm.png", "confusion matrix", model="lenet5")
    fig = figures[-1]
    ax, colour_bar = fig.axes
    assert ax.get_title().startswith("lenet5: confusion matrix")
    off, _diagonal = ax.get_images()
    share = cm / cm.sum(axis=1, keepdims=True)
    data = off.get_array()
    assert data.mask.diagonal().all() and not data.mask[0, 1]
    np.testing.assert_allclose(data[~data.mask], share[~np.eye(3, dtype=bool)])
    assert off.get_clim() == (0, pytest.approx(0.4))  # the scale is the errors', not the diagonal's
    assert "share" in colour_bar.get_ylabel()
    texts = {t.get_text() for t in ax.texts}
    assert "98.0" in texts and "1.5\n15" in texts and "40.0\n40" in texts


def test_first_layer_says_how_many_units_and_stays_small(tmp_path, figures):
    dense = Sequential([Dense(800), ReLU(), Dense(10)], input_shape=(784,), seed=0, name="mlp-800")
    path = plots.first_layer(dense, tmp_path / "w.png")
    assert "mlp-800: first dense layer, weights of 64 of 800 units" in figures[-1]._suptitle.get_text()
    assert (tmp_path / "w.png").stat().st_size < 120_000  # 64 maps of random weights, palette PNG
    conv = Sequential([Conv2D(1, 6, 5), ReLU(), Flatten(), Dense(10)], input_shape=(1, 28, 28), seed=0)
    plots.first_layer(conv, tmp_path / "c.png", name="lenet")
    assert figures[-1]._suptitle.get_text() == "lenet: first conv layer, 6 of 6 filters 5x5"
    width = figures[-1].get_size_inches()[0] * 100
    assert width >= 400, "small filter grids are still drawn large enough to read"
    assert path.endswith("w.png")


def test_final_accuracy_bars_have_error_bars_and_a_zoomed_axis(tmp_path, figures):
    fig, ax = plots.plt.subplots()
    plots.final_accuracy_bars(ax, ["SGD", "Adam", "broken"], [0.95, 0.97, None], [0.004, 0.002, None])
    assert len(ax.patches) == 2 and any(type(c).__name__ == "ErrorbarContainer" for c in ax.containers)
    low, high = ax.get_xlim()
    assert 0.9 < low < 0.946 and high > 0.972
    assert [t.get_text() for t in ax.get_yticklabels()] == ["SGD", "Adam", "broken"]
    assert any(t.get_text() == "diverged" for t in ax.texts) and any(
        "0.9700 ± 0.0020" in t.get_text() for t in ax.texts
    )
    plots.plt.close(fig)


def test_robustness_figures_name_models_and_epsilon(tmp_path, figures):
    results = {
        "mlp": {
            "shifts": [0, 1],
            "accuracy": {
                d: [0.9, 0.5] for d in ("right", "left", "up", "down", "up-right", "up-left", "down-right", "down-left")
            },
        }
    }
    plots.shift_grid(results, tmp_path / "s.png")
    assert "mlp" in figures[-1]._suptitle.get_text()
    x = np.zeros((2, 784))
    plots.adversarial_examples(x, x, x, [1, 2], [1, 2], [3, 4], tmp_path / "a.png", title="FGSM on mlp, epsilon 0.15")
    assert figures[-1]._suptitle.get_text() == "FGSM on mlp, epsilon 0.15"


def test_percent_never_rounds_up_to_100():
    assert [plots.percent(p) for p in (1.0, 0.99996, 0.9951, 0.62, 0.004)] == ["100%", "99.9%", "99.5%", "62%", "0%"]


def test_run_label():
    assert plots.run_label("runs/lenet5-20261121-101500") == "lenet5 (11-21 10:15)"
    assert plots.run_label("runs/my-model") == "my-model"


def test_robustness_sample_is_random_seeded_and_described():
    a, b = sample_indices(10000, 300, 0), sample_indices(10000, 300, 0)
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 300 and np.all(np.diff(a) > 0) and a.max() > 5000, "not the first 300"
    assert not np.array_equal(a, sample_indices(10000, 300, 1))
    np.testing.assert_array_equal(sample_indices(50, 50, 0), np.arange(50))
    assert describe_sample(300, 10000, 0, "rob").startswith(
        "using 300 of 10000 test images, a random sample with seed 0 (indices in rob/sample.json"
    )
    assert (
        describe_sample(10000, 10000, 0, "rob", pgd=True) == "using all 10000 test images; PGD uses the first "
        "1000 of them"
    )


def test_progress_is_silent_off_a_terminal():
    quiet, loud = io.StringIO(), io.StringIO()
    assert list(progress(range(3), desc="x", stream=quiet)) == [0, 1, 2]
    assert quiet.getvalue() == ""
    with progress(total=2, desc="task", stream=loud, enabled=True) as bar:
        bar.update(2)
    assert "task:" in loud.getvalue() and "/2" in loud.getvalue()


def test_view_percentages_never_round_up_to_100():
    from digitnet.metrics import percent as pct

    assert [pct(p) for p in (1.0, 0.99996, 0.9994, 0.622)] == ["100.0%", "99.9%", "99.9%", "62.2%"]
