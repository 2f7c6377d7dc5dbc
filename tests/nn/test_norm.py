"""BatchNorm1D / BatchNorm2D: gradients in both modes, running statistics, PyTorch agreement, errors."""

import json

import numpy as np
import pytest

from digitnet.nn.gradcheck import gradcheck
from digitnet.nn.layers.base import Layer
from digitnet.nn.layers.norm import BatchNorm1D, BatchNorm2D

TOL = 1e-6
SHAPES = [(BatchNorm1D, (6, 4)), (BatchNorm1D, (3, 3)), (BatchNorm2D, (3, 4, 5, 6)), (BatchNorm2D, (1, 2, 3, 3))]


def built(cls, shape, rng, dtype=np.float64, **kwargs):
    layer = cls(shape[1], **kwargs)
    layer.build(shape[1:], np.random.default_rng(0), dtype)
    if dtype == np.float64:
        layer.params["gamma"][:] = rng.uniform(0.5, 2.0, shape[1])
        layer.params["beta"][:] = rng.standard_normal(shape[1])
    return layer


@pytest.mark.parametrize("cls, shape", SHAPES, ids=str)
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck(cls, shape, training, rng):
    layer = built(cls, shape, rng)
    layer.buffers["running_mean"][:] = rng.standard_normal(shape[1])
    layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, shape[1])
    errors = gradcheck(layer, rng.standard_normal(shape) * 3 + 1, training=training)
    assert set(errors) == {"input", "gamma", "beta"}
    assert max(errors.values()) < TOL, errors


def test_training_normalises_per_channel(rng):
    x = rng.standard_normal((8, 3, 4, 4)) * [[[[5.0]], [[0.5]], [[2.0]]]] + 7
    layer = built(BatchNorm2D, x.shape, rng)
    layer.params["gamma"][:] = 1.0
    layer.params["beta"][:] = 0.0
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, rtol=1e-3)


def test_running_statistics_and_inference(rng):
    layer = built(BatchNorm1D, (10, 2), rng, momentum=0.5)
    x = rng.standard_normal((10, 2)) * 2 + 3
    layer.forward(x, training=True)
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.5 * x.mean(axis=0))
    np.testing.assert_allclose(layer.buffers["running_var"], 0.5 + 0.5 * x.var(axis=0, ddof=1))
    y = layer.forward(x, training=False)  # inference: the running estimates, buffers unchanged
    rm, rv = layer.buffers["running_mean"], layer.buffers["running_var"]
    expected = (x - rm) / np.sqrt(rv + layer.eps) * layer.params["gamma"] + layer.params["beta"]
    np.testing.assert_allclose(y, expected)
    np.testing.assert_allclose(layer.buffers["running_mean"], rm)


@pytest.mark.parametrize("cls, shape", SHAPES, ids=str)
def test_against_torch(cls, shape, rng):
    torch = pytest.importorskip("torch")
    layer = built(cls, shape, rng, momentum=0.2, eps=1e-3)
    gamma = torch.tensor(layer.params["gamma"], requires_grad=True)
    beta = torch.tensor(layer.params["beta"], requires_grad=True)
    running_mean, running_var = torch.zeros(shape[1], dtype=torch.float64), torch.ones(shape[1], dtype=torch.float64)
    for step in range(3):
        x = rng.standard_normal(shape) * 2 + step
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.batch_norm(
            xt, running_mean, running_var, gamma, beta, training=True, momentum=0.2, eps=1e-3
        )
        y = layer.forward(x, training=True)
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        dy = rng.standard_normal(shape)
        gamma.grad = beta.grad = None
        yt.backward(torch.tensor(dy))
        np.testing.assert_allclose(layer.backward(dy), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(layer.grads["gamma"], gamma.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.grads["beta"], beta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_mean"], running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_var"], running_var.numpy(), rtol=1e-12)
    x = rng.standard_normal(shape)
    yt = torch.nn.functional.batch_norm(
        torch.tensor(x), running_mean, running_var, gamma, beta, training=False, eps=1e-3
    )
    np.testing.assert_allclose(layer.forward(x, training=False), yt.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_float32_and_layout(rng):
    layer = built(BatchNorm2D, (4, 3, 5, 5), rng, dtype=np.float32)
    assert set(layer.params) == {"gamma", "beta"} and set(layer.buffers) == {"running_mean", "running_var"}
    x = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    y = layer.forward(x, training=True)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == layer.grads["gamma"].dtype == layer.buffers["running_var"].dtype == np.float32
    assert layer.n_params() == 6


def test_config_round_trip(tier):
    for layer in (BatchNorm1D(7, momentum=0.3, eps=1e-4), BatchNorm2D(5)):
        clone = Layer.from_config(json.loads(json.dumps(layer.to_config())), tier)
        assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"num_features": 0}, "num_features"),
        ({"num_features": 3, "momentum": 0}, "momentum"),
        ({"num_features": 3, "momentum": 1.5}, "1.5"),
        ({"num_features": 3, "eps": -1.0}, "-1.0"),
    ],
)
def test_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        BatchNorm1D(**kwargs)


def test_bad_inputs(rng):
    with pytest.raises(ValueError, match=r"\(4, 5, 5\)"):
        BatchNorm2D(3).build((4, 5, 5))
    with pytest.raises(ValueError, match=r"\(3, 5, 5\)"):
        BatchNorm1D(3).build((3, 5, 5))
    layer = built(BatchNorm2D, (2, 3, 4, 4), rng)
    with pytest.raises(ValueError, match=r"\(2, 4, 4, 4\)"):
        layer.forward(np.zeros((2, 4, 4, 4)))
