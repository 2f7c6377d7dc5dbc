"""Sequential: building, forward/backward through a whole model, fitting, prediction, description."""

import numpy as np
import pytest

from digitnet.nn import Adam, SGD, Sequential
from digitnet.nn.gradcheck import gradcheck
from digitnet.nn.layers import ELU, GELU, Dense, Dropout, Flatten, ReLU, Sigmoid, Tanh


def blobs(n=300, seed=0, classes=3, dim=6):
    """Well-separated Gaussian clusters: an easy problem every optimiser should solve."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, dim)) * 3
    y = rng.integers(0, classes, n)
    x = centres[y] + rng.standard_normal((n, dim))
    return x.astype(np.float32), y


def test_model_gradcheck_float64(rng):
    model = Sequential([Dense(5), Tanh(), Dense(4), ELU(), Dense(3), GELU()], input_shape=(6,), dtype="float64")
    errors = gradcheck(model, rng.standard_normal((3, 6)))
    assert set(errors) >= {"input", "0.weight", "0.bias", "2.weight", "4.bias"}
    assert max(errors.values()) < 1e-6, errors


def test_parameters_are_named_and_live(rng):
    model = Sequential([Flatten(), Dense(8), ReLU(), Dense(2)], input_shape=(2, 2))
    names = [n for n, _, _ in model.parameters()]
    assert names == ["1.weight", "1.bias", "3.weight", "3.bias"]
    _, p, g = model.parameters()[0]
    assert p is model.layers[1].params["weight"] and p.shape == g.shape == (4, 8)
    assert model.n_params() == 4 * 8 + 8 + 8 * 2 + 2


def test_fit_learns_and_history_has_every_metric():
    x, y = blobs()
    model = Sequential([Dense(16), ReLU(), Dense(3)], input_shape=(6,), seed=1)
    model.compile(Adam(lr=0.01), "cross_entropy")
    hist = model.fit(x, y, epochs=5, batch_size=32, validation_split=0.2, verbose=False)
    h = hist.history
    assert h["epoch"] == [1, 2, 3, 4, 5]
    assert h["loss"][-1] < h["loss"][0]
    assert h["val_accuracy"][-1] > 0.95
    assert set(h) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}
    assert model.evaluate(x, y)["accuracy"] > 0.95
    proba = model.predict_proba(x[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(proba.argmax(1), model.predict(x[:5]))


def test_fit_is_reproducible_from_the_seed():
    x, y = blobs()

    def run():
        m = Sequential([Dense(8), ReLU(), Dropout(0.3), Dense(3)], input_shape=(6,), seed=5)
        m.compile(SGD(lr=0.1), "cross_entropy")
        m.fit(x, y, epochs=2, batch_size=16, verbose=False)
        return m.layers[0].params["weight"].copy()

    np.testing.assert_array_equal(run(), run())


def test_mse_with_sigmoid_output_trains():
    x, y = blobs(seed=3)
    model = Sequential([Dense(16), Sigmoid(), Dense(3), Sigmoid()], input_shape=(6,), seed=0)
    model.compile(SGD(lr=2.0), "mse")
    model.fit(x, y, epochs=20, batch_size=16, verbose=False)
    assert model.evaluate(x, y)["accuracy"] > 0.9
    np.testing.assert_allclose(model.predict_proba(x[:3]).sum(1), 1, rtol=1e-6)


def test_float64_model_keeps_float64():
    model = Sequential([Dense(4), Tanh(), Dense(2)], input_shape=(3,), dtype="float64")
    assert all(p.dtype == np.float64 for _, p, _ in model.parameters())
    assert model.forward(np.ones((2, 3))).dtype == np.float64
    model.astype("float32")
    assert model.forward(np.ones((2, 3), np.float32)).dtype == np.float32


def test_summary_and_repr():
    model = Sequential([Flatten(), Dense(16), Sigmoid(), Dense(10)], input_shape=(1, 28, 28))
    text = model.summary()
    assert "(N, 784)" in text and "(N, 16)" in text and "12,730" in text
    assert "total parameters: 12,730" in text
    assert repr(model).startswith("Sequential([") and "Dense(units=16" in repr(model)


def test_config_round_trip_rebuilds_same_architecture():
    model = Sequential(
        [Flatten(), Dense(16, weight_init="he_normal"), ReLU(), Dropout(0.2), Dense(10)], input_shape=(1, 4, 4)
    )
    again = Sequential.from_config(model.get_config())
    assert again.get_config() == model.get_config()
    assert again.summary() == model.summary()


def test_errors_name_the_problem():
    with pytest.raises(TypeError, match="layer 1 is 'relu', expected a digitnet Layer"):
        Sequential([Dense(3), "relu"])
    with pytest.raises(ValueError, match="dtype must be float32 or float64, got 'int8'"):
        Sequential([Dense(3)], dtype="int8")
    with pytest.raises(ValueError, match=r"layer 0 \(Dense\).*Flatten"):
        Sequential([Dense(3)], input_shape=(1, 28, 28))
    model = Sequential([Dense(3)], input_shape=(4,))
    x, y = np.zeros((10, 4), np.float32), np.zeros(10, int)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y)
    model.compile("sgd", lr=0.1)
    with pytest.raises(ValueError, match="x has 10 samples but y has 9"):
        model.fit(x, y[:9])
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        model.fit(x, y, batch_size=0)
    with pytest.raises(ValueError, match="validation_split must be in"):
        model.fit(x, y, validation_split=1.5)


def test_lazy_build_from_first_batch():
    model = Sequential([Dense(4), ReLU(), Dense(2)])
    assert model.forward(np.ones((3, 5), np.float32)).shape == (3, 2)
    assert model.input_shape == (5,)


def test_backward_without_input_grad_gives_the_same_parameter_grads(rng):
    model = Sequential([Flatten(), Dense(6), ReLU(), Dense(3)], input_shape=(2, 2, 2), dtype="float64")
    x, dy = rng.standard_normal((4, 2, 2, 2)), rng.standard_normal((4, 3))
    model.forward(x, training=True)
    dx = model.backward(dy)
    full = [g.copy() for _, _, g in model.parameters()]
    model.forward(x, training=True)
    assert model.backward(dy, input_grad=False) is None
    for a, (_, _, b) in zip(full, model.parameters()):
        np.testing.assert_array_equal(a, b)
    assert dx.shape == x.shape and model.layers[1].needs_input_grad  # flag restored


def test_layers_get_the_rng_and_probability_flag_through_the_contract():
    """Generic code asks the contract, not the class: any layer gets the fit's generator, and any layer
    saying outputs_probabilities is normalised (not softmaxed) by predict_proba."""
    from digitnet.nn.layers.base import Layer

    class Noisy(Layer):  # a custom layer that draws random numbers in training
        def forward(self, x, training=False):
            self.drawn = self.rng.random() if training else None
            return x

        def backward(self, dy):
            return dy

    class Halves(Layer):  # a custom probability output
        outputs_probabilities = True

        def forward(self, x, training=False):
            return np.full((x.shape[0], 2), 0.25)

    rng = np.random.default_rng(0)
    x, y = rng.random((8, 3)), rng.integers(0, 2, 8)
    noisy = Noisy()
    model = Sequential([Dense(2), noisy], input_shape=(3,))
    model.compile(SGD(lr=0.1))
    generator = np.random.default_rng(7)
    model.fit(x, y, epochs=1, batch_size=8, rng=generator, verbose=False)
    assert noisy.rng is generator and noisy.drawn is not None
    probs = Sequential([Dense(2), Halves()], input_shape=(3,)).predict_proba(x)
    np.testing.assert_allclose(probs, 0.5)
