"""Dense, reshape, dropout and activation layers: gradient checks and behaviour."""

import numpy as np
import pytest

from digitnet.nn.gradcheck import gradcheck
from digitnet.nn.layers import (
    ELU,
    GELU,
    Dense,
    Dropout,
    Dropout2D,
    Flatten,
    Identity,
    LeakyReLU,
    ReLU,
    Reshape,
    Sigmoid,
    Softmax,
    Tanh,
)
from digitnet.nn.layers.base import Layer

TOL = 1e-6


def built(layer, shape, seed=0):
    layer.build(shape, np.random.default_rng(seed), np.float64)
    return layer


ACTIVATIONS = [Identity(), Sigmoid(), Tanh(), ReLU(), LeakyReLU(0.1), ELU(1.3), GELU(), Softmax()]


@pytest.mark.parametrize("layer", ACTIVATIONS, ids=lambda l: type(l).__name__)
@pytest.mark.parametrize("shape", [(1, 7), (5, 3), (4, 2, 3, 3)])
def test_activation_gradcheck(layer, shape, rng):
    x = rng.standard_normal(shape) * 2
    # keep ReLU-like kinks away from the finite-difference step
    x[np.abs(x) < 1e-3] = 0.5
    built(layer, shape[1:])
    errors = gradcheck(layer, x)
    assert errors["input"] < TOL, errors


@pytest.mark.parametrize("layer", ACTIVATIONS, ids=lambda l: type(l).__name__)
def test_activation_extreme_inputs_are_finite(layer):
    x = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    for dtype in (np.float32, np.float64):
        y = layer.forward(x.astype(dtype), training=True)
        dx = layer.backward(np.ones_like(y))
        assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx)), type(layer).__name__
        assert y.dtype == dtype


def test_sigmoid_and_softmax_values_at_extremes():
    y = Sigmoid().forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(y, [0.0, 0.5, 1.0])
    p = Softmax().forward(np.array([[1000.0, 0.0, -1000.0]]))
    np.testing.assert_allclose(p, [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("batch", [1, 6])
@pytest.mark.parametrize("bias", [True, False])
def test_dense_gradcheck(batch, bias, rng):
    layer = built(Dense(4, bias=bias), (5,))
    errors = gradcheck(layer, rng.standard_normal((batch, 5)))
    assert set(errors) == {"input", "weight"} | ({"bias"} if bias else set())
    assert max(errors.values()) < TOL, errors


def test_dense_layout_and_errors(rng):
    layer = Dense(3)
    layer.build((4,), rng)
    assert layer.params["weight"].shape == (4, 3) and layer.params["weight"].dtype == np.float32
    x = rng.standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(layer.forward(x), x @ layer.params["weight"] + layer.params["bias"], rtol=1e-6)
    with pytest.raises(ValueError, match="units must be a positive int, got 0"):
        Dense(0)
    with pytest.raises(ValueError, match="unknown initialiser 'bogus'"):
        Dense(3, weight_init="bogus")
    with pytest.raises(ValueError, match=r"add Flatten\(\)"):
        Dense(3).build((1, 28, 28))
    with pytest.raises(ValueError, match=r"expected input \(N, 4\), got \(2, 5\)"):
        layer.forward(np.zeros((2, 5), np.float32))


def test_flatten_and_reshape_gradcheck(rng):
    x = rng.standard_normal((3, 2, 4, 4))
    assert gradcheck(built(Flatten(), (2, 4, 4)), x)["input"] < TOL
    assert built(Flatten(), (2, 4, 4)).output_shape == (32,)
    r = built(Reshape((2, 16)), (2, 4, 4))
    assert r.forward(x).shape == (3, 2, 16)
    assert gradcheck(r, x)["input"] < TOL
    with pytest.raises(ValueError, match="cannot reshape"):
        Reshape((5,)).build((2, 4, 4))


@pytest.mark.parametrize("cls,shape", [(Dropout, (6, 10)), (Dropout2D, (4, 3, 5, 5))])
def test_dropout_gradcheck_with_fixed_mask(cls, shape, rng):
    layer = built(cls(0.4), shape[1:])

    def reseed():
        layer.rng = np.random.default_rng(7)

    errors = gradcheck(layer, rng.standard_normal(shape), training=True, before_forward=reseed)
    assert errors["input"] < TOL


def test_dropout_is_inverted_and_train_only():
    layer = Dropout(0.25, seed=3)
    x = np.ones((2000, 50), np.float32)
    y = layer.forward(x, training=True)
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02  # expectation preserved
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    with pytest.raises(ValueError, match="rate must be in"):
        Dropout(1.0)


def test_dropout2d_drops_whole_channels():
    layer = Dropout2D(0.5, seed=0)
    y = layer.forward(np.ones((8, 6, 4, 4)), training=True)
    per_channel = y.reshape(8, 6, -1)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel != 0).all(axis=2))


def test_layer_config_round_trip(tier):
    for layer in [
        Dense(7, weight_init="he_normal", bias=False),
        LeakyReLU(0.2),
        ELU(0.5),
        Dropout(0.3, seed=1),
        Reshape((1, 28, 28)),
        Softmax(axis=1),
    ]:
        again = Layer.from_config(layer.to_config(), tier)
        assert type(again) is type(layer) and again.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="unknown layer class 'Nope'"):
        Layer.from_config({"class": "Nope"})


def test_activation_by_name():
    from digitnet.nn.layers import activations

    assert isinstance(activations.get("leaky-relu"), LeakyReLU)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        activations.get("swish")
