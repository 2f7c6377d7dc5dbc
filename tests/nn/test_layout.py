"""Memory layout: the fast Conv2D hands out NCHW views of batch-last (C, H, W, N) memory.

The values every layer sees are NCHW whatever the memory order; these tests check that
(1) each image layer, in both tiers, gives the same forward values and gradients for both orders, and
(2) in the fast tier the layers after a Conv2D keep the batch-last order, forward and backward, so the
next Conv2D needs no transposing copy (the speed-up this layout exists for).
"""

from __future__ import annotations

import numpy as np
import pytest

from digitnet import zoo
from digitnet.nn.fast.conv import batch_last_as_nchw
from digitnet.nn.layers import activations
from digitnet.nn.layers.conv import Conv2D
from digitnet.nn.layers.dropout import Dropout2D
from digitnet.nn.layers.norm import BatchNorm2D
from digitnet.nn.layers.pool import AvgPool2D, MaxPool2D
from digitnet.nn.layers.reshape import Flatten


def batch_last(a):
    """The same NCHW values as ``a``, stored batch-last."""
    return batch_last_as_nchw(np.ascontiguousarray(a.transpose(1, 2, 3, 0)))


def is_batch_last(a):
    return a.transpose(1, 2, 3, 0).flags.c_contiguous and not a.flags.c_contiguous


def built(layer, shape):
    layer.build(shape, np.random.default_rng(0), np.float64)
    return layer


LAYERS = {
    "batchnorm": lambda: built(BatchNorm2D(3), (3, 6, 6)),
    "relu": lambda: built(activations.get("relu"), (3, 6, 6)),
    "sigmoid": lambda: built(activations.get("sigmoid"), (3, 6, 6)),
    "maxpool": lambda: built(MaxPool2D(2), (3, 6, 6)),
    "maxpool-overlap": lambda: built(MaxPool2D(3, stride=2), (3, 6, 6)),
    "avgpool": lambda: built(AvgPool2D(2), (3, 6, 6)),
    "dropout2d": lambda: built(Dropout2D(0.5, seed=3), (3, 6, 6)),
    "conv": lambda: built(Conv2D(3, 4, 3, padding="same"), (3, 6, 6)),
}


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_same_values_and_gradients_for_both_memory_orders(name, training):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3, 6, 6))
    x[0, 0, :2, :2] = 0.25  # ties inside a pooling window
    results = []
    for make_input in (np.ascontiguousarray, batch_last):
        layer = LAYERS[name]()
        y = layer.forward(make_input(x), training=training)
        dy = np.random.default_rng(2).standard_normal(y.shape)
        dx = layer.backward(make_input(dy))
        results.append((y, dx, {k: g.copy() for k, g in layer.grads.items()}))
    (y0, dx0, g0), (y1, dx1, g1) = results
    np.testing.assert_allclose(y1, y0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx1, dx0, rtol=1e-12, atol=1e-12)
    for key in g0:
        np.testing.assert_allclose(g1[key], g0[key], rtol=1e-12, atol=1e-12)


@pytest.mark.tiers("fast")
@pytest.mark.parametrize("name", ["batchnorm", "relu", "maxpool", "avgpool", "conv"])
def test_batch_last_memory_is_kept_forward_and_backward(name):
    rng = np.random.default_rng(1)
    layer = LAYERS[name]()
    y = layer.forward(batch_last(rng.standard_normal((5, 3, 6, 6))), training=True)
    dx = layer.backward(batch_last(rng.standard_normal(y.shape)))
    assert is_batch_last(y) and is_batch_last(dx), (type(layer), y.strides, dx.strides)


@pytest.mark.tiers("fast")
def test_conv_outputs_batch_last_even_from_nchw_input():
    conv = LAYERS["conv"]()
    x = np.random.default_rng(0).standard_normal((5, 3, 6, 6))
    y = conv.forward(x, training=True)
    assert is_batch_last(y) and is_batch_last(conv.backward(np.ones(y.shape)))


@pytest.mark.tiers("fast")
def test_flatten_gives_nchw_order_and_hands_back_the_input_layout():
    x = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    flatten = Flatten()
    flat = flatten.forward(batch_last(x))
    np.testing.assert_array_equal(flat, x.reshape(2, -1))  # same features in the same order as PyTorch
    dx = flatten.backward(flat * 2)
    assert is_batch_last(dx)
    np.testing.assert_array_equal(dx, 2 * x)


def test_cnn_training_step_matches_an_nchw_only_run():
    """The whole zoo cnn: one step's loss and every gradient equal a run that forces NCHW copies."""
    rng = np.random.default_rng(0)
    x = rng.random((4, 1, 28, 28))
    y = rng.integers(0, 10, 4)
    grads = []
    for force_nchw in (False, True):
        model = zoo.build("cnn", dtype="float64")
        model.compile(loss="cross_entropy")  # only the loss is used: no optimiser step
        for layer in model.layers:
            if hasattr(layer, "rng"):
                layer.rng = np.random.default_rng(5)  # the same dropout masks in both runs
        h = x
        for layer in model.layers:
            h = layer.forward(h, training=True)
            if force_nchw and h.ndim == 4:
                h = np.ascontiguousarray(h)
        loss = model.loss(h, y)
        d = model.loss.grad()
        for layer in reversed(model.layers):
            d = layer.backward(d)
            if force_nchw and d is not None and d.ndim == 4:
                d = np.ascontiguousarray(d)
        grads.append((loss, [g.copy() for _, _, g in model.parameters()]))
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-12)
    for a, b in zip(grads[0][1], grads[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
