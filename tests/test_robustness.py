"""Robustness helpers: FGSM/PGD increase the loss and stay in the eps-ball; sweeps have the right structure."""

import numpy as np
import pytest

from digitnet import robustness as rb
from digitnet.nn import SGD, Sequential, losses
from digitnet.nn.layers import Dense, Flatten, ReLU


@pytest.fixture(scope="module")
def toy():
    """A small MLP trained on synthetic 28x28 'digits': class = which third of the image holds a bar."""
    rng = np.random.default_rng(0)
    n = 600
    y = rng.integers(0, 3, n)
    images = np.zeros((n, 28, 28), np.float32)
    for i, c in enumerate(y):
        images[i, 4:24, 3 + 9 * c : 6 + 9 * c] = 1.0
    images += rng.uniform(0, 0.1, images.shape).astype(np.float32)
    model = Sequential([Flatten(), Dense(32), ReLU(), Dense(3)], input_shape=(1, 28, 28), seed=0)
    model.compile(SGD(lr=0.1), "cross_entropy")
    model.fit(images[:, None], y, epochs=5, batch_size=32, verbose=False)
    return model, images, y


def test_fgsm_increases_loss_and_respects_eps(toy):
    model, images, y = toy
    x = images[:100, None]
    ce = losses.SoftmaxCrossEntropy()
    clean = ce(model.forward(x), y[:100])
    adv = rb.fgsm(model, x, y[:100], 0.1)
    assert ce(model.forward(adv), y[:100]) > clean
    assert np.abs(adv - x).max() <= 0.1 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    pgd = rb.pgd(model, x, y[:100], 0.1, steps=5)
    assert np.abs(pgd - x).max() <= 0.1 + 1e-6
    assert ce(model.forward(pgd), y[:100]) >= ce(model.forward(adv), y[:100]) - 1e-6


def test_input_gradient_matches_finite_difference(toy):
    model, images, y = toy
    model64 = Sequential.from_config(model.get_config()).astype("float64")
    for (_, a, _), (_, b, _) in zip(model64.parameters(), model.parameters()):
        a[...] = b
    x = images[:2, None].astype(np.float64)
    g = rb.input_gradient(model64, x, y[:2])
    ce = losses.SoftmaxCrossEntropy()
    i = (0, 0, 10, 5)
    xp, xm = x.copy(), x.copy()
    xp[i] += 1e-6
    xm[i] -= 1e-6
    numeric = (ce(model64.forward(xp), y[:2]) - ce(model64.forward(xm), y[:2])) / 2e-6
    assert g[i] == pytest.approx(numeric, rel=1e-5, abs=1e-9)


def test_sweeps_structure(toy):
    model, images, y = toy
    s = rb.shift_sweep(model, images[:50], y[:50], max_shift=3, directions=["right", "up"])
    assert s["shifts"] == [0, 1, 2, 3] and set(s["accuracy"]) == {"right", "up"}
    assert all(len(v) == 4 for v in s["accuracy"].values())
    assert s["accuracy"]["right"][0] == rb.accuracy(model, images[:50], y[:50])
    for kind, values in (("rotation", [-10, 0, 10]), ("noise", [0, 0.3]), ("thickness", [-1, 0, 1])):
        r = rb.sweep(model, images[:50], y[:50], kind, values)
        assert r["values"] == values and len(r["accuracy"]) == len(values)
    a = rb.attack_sweep(model, images[:50], y[:50], [0.0, 0.2], "fgsm")
    assert a["accuracy"][0] >= a["accuracy"][1]
    with pytest.raises(ValueError, match="unknown sweep 'blur'"):
        rb.sweep(model, images, y, "blur", [1])
    with pytest.raises(ValueError, match="unknown direction 'north'"):
        rb.shift_sweep(model, images, y, directions=["north"])


def test_thicken_grows_and_shrinks_ink():
    img = np.zeros((1, 28, 28), np.float32)
    img[0, 10:18, 13:15] = 1
    assert rb.thicken(img, 1).sum() > img.sum() > rb.thicken(img, -1).sum()
