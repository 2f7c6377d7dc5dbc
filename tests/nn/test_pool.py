"""Pooling layers: numerical gradients, tie handling, PyTorch agreement, shapes and errors."""

import json

import numpy as np
import pytest

from digitnet.nn.gradcheck import gradcheck
from digitnet.nn.layers.base import Layer
from digitnet.nn.layers.pool import AvgPool2D, GlobalAvgPool2D, MaxPool2D

TOL = 1e-6

# (input shape, kernel, stride): tiling, odd sizes (last row dropped), overlapping, gaps, rectangular
CASES = [
    ((1, 1, 4, 4), 2, None),
    ((2, 3, 7, 5), 2, None),
    ((2, 2, 7, 7), 3, 2),
    ((1, 2, 9, 8), 2, 3),
    ((2, 1, 6, 9), (2, 3), None),
    ((2, 2, 6, 6), 3, 1),
]


def built(layer, shape, dtype=np.float64):
    layer.build(shape[1:], np.random.default_rng(0), dtype)
    return layer


def distinct(shape, rng):
    """Inputs without ties (a random permutation, scaled), so max-pool gradients are well defined."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 3.0


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("shape, k, s", CASES, ids=str)
def test_pool_gradcheck(cls, shape, k, s, rng):
    layer = built(cls(k, s), shape)
    errors = gradcheck(layer, distinct(shape, rng), max_entries=None)
    assert errors["input"] < TOL, errors


def test_global_avg_pool_gradcheck_and_values(rng):
    x = rng.standard_normal((3, 4, 5, 6))
    layer = built(GlobalAvgPool2D(), x.shape)
    assert layer.output_shape == (4,)
    np.testing.assert_allclose(layer.forward(x), x.mean(axis=(2, 3)))
    assert gradcheck(layer, x)["input"] < TOL


def test_max_pool_values_and_output_shape():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    layer = built(MaxPool2D(2), x.shape)
    np.testing.assert_array_equal(layer.forward(x)[0, 0], [[5, 7], [13, 15]])
    assert built(MaxPool2D(2), (2, 6, 24, 24)).output_shape == (6, 12, 12)
    assert built(MaxPool2D(3, 2), (2, 6, 7, 7)).output_shape == (6, 3, 3)
    assert built(AvgPool2D(2), (2, 1, 5, 5)).output_shape == (1, 2, 2)
    np.testing.assert_allclose(built(AvgPool2D(2), x.shape).forward(x)[0, 0], [[2.5, 4.5], [10.5, 12.5]])


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("k, s", [(2, None), (3, 2), (2, 1), (3, None)])
def test_max_pool_ties_route_to_the_first_maximum(k, s, training):
    """All-equal windows (background, zeros after ReLU): one input per window gets the gradient."""
    x = np.zeros((1, 1, 6, 6))
    layer = built(MaxPool2D(k, s), x.shape)
    y = layer.forward(x, training=training)
    dx = layer.backward(np.ones_like(y))
    assert dx.sum() == y.size  # no gradient duplicated across tied inputs
    stride = k if s is None else s
    expected = np.zeros_like(x)
    for r in range(y.shape[2]):
        for q in range(y.shape[3]):
            expected[0, 0, r * stride, q * stride] += 1  # the window's top-left element
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize("training", [False, True])
def test_max_pool_partial_ties_route_to_the_first_maximum_in_row_major_order(training):
    windows = [
        [[1, 3], [2, 3]],
        [[0, 0], [5, 5]],
        [[4, 1], [4, 4]],
        [[2, 2], [2, 7]],
    ]  # first max: (0,1) (1,0) (0,0) (1,1)
    x = np.concatenate([np.array(w, dtype=float) for w in windows], axis=1)[None, None]  # (1, 1, 2, 8)
    layer = built(MaxPool2D(2), x.shape)
    np.testing.assert_array_equal(layer.forward(x, training=training)[0, 0], [[3, 5, 4, 7]])
    dx = layer.backward(np.array([[[[1.0, 2.0, 3.0, 4.0]]]]))
    np.testing.assert_array_equal(dx[0, 0], [[0, 1, 0, 0, 3, 0, 0, 0], [0, 0, 2, 0, 0, 0, 0, 4]])


@pytest.mark.parametrize("shape, k, s", CASES, ids=str)
def test_against_torch(shape, k, s, rng):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    x = rng.standard_normal(shape)
    x[..., ::3] = 0.0  # some ties too: torch also routes to the first maximum
    for cls, fn in [(MaxPool2D, functional.max_pool2d), (AvgPool2D, functional.avg_pool2d)]:
        layer = built(cls(k, s), shape)
        xt = torch.tensor(x, requires_grad=True)
        yt = fn(xt, k, s)
        y = layer.forward(x, training=True)
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        dy = rng.standard_normal(y.shape)
        yt.backward(torch.tensor(dy))
        np.testing.assert_allclose(layer.backward(dy), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_float32_stays_float32(rng):
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    for layer in (MaxPool2D(), AvgPool2D(), GlobalAvgPool2D()):
        y = built(layer, x.shape, np.float32).forward(x, training=True)
        assert y.dtype == layer.backward(np.ones_like(y)).dtype == np.float32


def test_config_round_trip(tier):
    for layer in (MaxPool2D(3, 2), AvgPool2D((2, 3)), GlobalAvgPool2D()):
        clone = Layer.from_config(json.loads(json.dumps(layer.to_config())), tier)
        assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    assert MaxPool2D(3).stride == (3, 3)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"kernel_size": 0}, "kernel_size"),
        ({"kernel_size": -2}, "-2"),
        ({"kernel_size": 2, "stride": 0}, "stride"),
        ({"kernel_size": "2"}, "'2'"),
    ],
)
def test_bad_arguments(kwargs, word):
    for cls in (MaxPool2D, AvgPool2D):
        with pytest.raises(ValueError, match=word):
            cls(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        built(MaxPool2D(4), (1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"\(5,\)"):
        built(MaxPool2D(2), (1, 5))
    with pytest.raises(ValueError, match=r"\(2, 5\)"):
        MaxPool2D(2).forward(np.zeros((2, 5)))
