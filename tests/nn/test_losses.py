"""Losses: gradient checks, stability, label forms."""

import numpy as np
import pytest

from digitnet.nn import losses
from digitnet.nn.gradcheck import gradcheck_loss

TOL = 1e-6


@pytest.mark.parametrize(
    "loss",
    [
        losses.MSE(),
        losses.SoftmaxCrossEntropy(),
        losses.SoftmaxCrossEntropy(0.1),
        losses.BinaryCrossEntropy(),
        losses.BinaryCrossEntropy(from_logits=False),
    ],
    ids=repr,
)
@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("one_hot_target", [False, True])
def test_loss_gradcheck(loss, batch, one_hot_target, rng):
    labels = rng.integers(0, 4, batch)
    target = np.eye(4)[labels] if one_hot_target else labels
    pred = rng.standard_normal((batch, 4))
    if isinstance(loss, losses.BinaryCrossEntropy) and not loss.from_logits:
        pred = rng.uniform(0.05, 0.95, (batch, 4))
    assert gradcheck_loss(loss, pred, target) < TOL


def test_cross_entropy_is_stable_for_huge_logits():
    ce = losses.SoftmaxCrossEntropy()
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]])
    assert ce(logits, np.array([0, 0])) == pytest.approx(1000.0)  # second row: 2000 / 2
    assert np.all(np.isfinite(ce.grad()))
    np.testing.assert_allclose(ce.grad(), [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-12)


def test_cross_entropy_matches_definition(rng):
    z = rng.standard_normal((6, 10))
    y = rng.integers(0, 10, 6)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    expected = -np.log(p[np.arange(6), y]).mean()
    assert losses.SoftmaxCrossEntropy()(z, y) == pytest.approx(expected, rel=1e-12)
    s = 0.2
    q = np.eye(10)[y] * (1 - s) + s / 10
    assert losses.SoftmaxCrossEntropy(s)(z, y) == pytest.approx(-(q * np.log(p)).sum(1).mean(), rel=1e-12)


def test_mse_and_bce_values(rng):
    pred = rng.uniform(size=(3, 4))
    y = np.array([0, 3, 1])
    assert losses.MSE()(pred, y) == pytest.approx(((pred - np.eye(4)[y]) ** 2).mean())
    z = rng.standard_normal((3, 4))
    t = np.eye(4)[y]
    sig = 1 / (1 + np.exp(-z))
    expected = -(t * np.log(sig) + (1 - t) * np.log(1 - sig)).mean()
    assert losses.BinaryCrossEntropy()(z, t) == pytest.approx(expected, rel=1e-10)


def test_loss_errors():
    ce = losses.SoftmaxCrossEntropy()
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\], got values 0..5"):
        ce(np.zeros((2, 3)), np.array([0, 5]))
    with pytest.raises(ValueError, match="got 2 predictions but 3 labels"):
        ce(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        losses.get("hinge")
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        losses.SoftmaxCrossEntropy(1.5)


@pytest.mark.parametrize("alias", ["cross_entropy", "crossentropy", "ce", "softmax_cross_entropy", "Cross-Entropy"])
def test_label_smoothing_reaches_the_loss_whatever_alias_names_it(alias):
    assert losses.get(alias, label_smoothing=0.1).label_smoothing == 0.1


def test_an_option_the_loss_does_not_take_is_an_error_not_dropped():
    with pytest.raises(ValueError, match="takes no label_smoothing"):
        losses.get("mse", label_smoothing=0.1)
