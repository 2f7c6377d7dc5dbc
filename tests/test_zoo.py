"""The model zoo: every model builds, has the documented shape, summarises, trains, and has a recipe."""

import json

import numpy as np
import pytest

from digitnet import zoo
from digitnet.nn import Sequential
from digitnet.nn.layers import Conv2D, MaxPool2D


@pytest.mark.parametrize("name", zoo.NAMES)
def test_every_model_builds_and_outputs_ten_logits(name, rng):
    model = zoo.build(name, seed=0)
    x = rng.random((3, 1, 28, 28)).astype(np.float32)
    y = model.forward(x)
    classes = 11 if name.startswith("reader") else 10  # the readers have a "not a digit" output
    assert y.shape == (3, classes) and y.dtype == np.float32 and np.all(np.isfinite(y))
    text = model.summary()
    assert name in text and f"{model.n_params():,}" in text
    clone = Sequential.from_config(json.loads(json.dumps(model.get_config())))
    assert clone.n_params() == model.n_params()


@pytest.mark.parametrize("name", zoo.NAMES)
def test_a_few_train_steps_reduce_the_loss_on_a_tiny_batch(name, rng):
    model = zoo.build(name, seed=1)
    cfg = zoo.recipe(name)
    model.compile(optimizer=cfg["optimizer"], loss="cross_entropy", lr=cfg["lr"])
    x = rng.random((16, 1, 28, 28)).astype(np.float32)
    y = np.arange(16) % 10
    losses = [model.train_step(x, y)[0] for _ in range(8)]
    assert np.all(np.isfinite(losses))
    assert min(losses[-3:]) < losses[0], losses


def test_known_sizes():
    lenet = zoo.build("lenet5")
    assert [layer.output_shape for layer in lenet.layers if isinstance(layer, (Conv2D, MaxPool2D))] == [
        (6, 24, 24),
        (6, 12, 12),
        (16, 8, 8),
        (16, 4, 4),
    ]
    assert lenet.n_params() == 150 + 6 + 2400 + 16 + 256 * 120 + 120 + 120 * 84 + 84 + 84 * 10 + 10
    assert zoo.build("lenet5", c3_table=True).n_params() == lenet.n_params() - 2400 + 1500
    assert zoo.build("mlp-16-16").n_params() == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10
    assert zoo.build("mlp-10").n_params() == 7850
    assert zoo.build("mlp-800-800").n_params() == 784 * 800 + 800 + 800 * 800 + 800 + 8010


def test_options_and_float64():
    model = zoo.build("lenet5", activation="tanh", pool="avg", dtype="float64")
    names = [type(layer).__name__ for layer in model.layers]
    assert names[:3] == ["Conv2D", "Tanh", "AvgPool2D"] and model.dtype == np.float64
    assert [type(layer).__name__ for layer in zoo.build("lenet5").layers][:3] == ["Conv2D", "MaxPool2D", "ReLU"]
    mlp = zoo.mlp([32], activation="tanh", dropout=0.1)
    assert [type(layer).__name__ for layer in mlp.layers] == ["Flatten", "Dense", "Tanh", "Dropout", "Dense"]


def test_max_pool_then_activation_is_the_same_function(rng):
    """The zoo's conv -> max-pool -> act equals conv -> act -> max-pool, gradients included."""
    from digitnet.nn.layers import ReLU, Sigmoid

    for act in (ReLU, Sigmoid):
        conv = Conv2D(1, 2, 3)
        a = Sequential([conv, MaxPool2D(2), act()], input_shape=(1, 8, 8), dtype="float64", seed=0)
        b = Sequential([Conv2D(1, 2, 3), act(), MaxPool2D(2)], input_shape=(1, 8, 8), dtype="float64", seed=0)
        x = rng.standard_normal((2, 1, 8, 8))
        np.testing.assert_allclose(a.forward(x), b.forward(x), rtol=1e-12)
        dy = rng.standard_normal((2, 2, 3, 3))
        np.testing.assert_allclose(a.backward(dy), b.backward(dy), rtol=1e-12)
        np.testing.assert_allclose(a.layers[0].grads["weight"], b.layers[0].grads["weight"], rtol=1e-12)


def test_recipes_and_errors():
    for name in zoo.NAMES:
        cfg = zoo.recipe(name)
        assert {"optimizer", "lr", "epochs", "batch_size"} <= set(cfg)
    assert "augment" in zoo.recipe("cnn", augmented=True)
    with pytest.raises(ValueError, match="'resnet'"):
        zoo.build("resnet")
    with pytest.raises(ValueError, match="'resnet'"):
        zoo.recipe("resnet")
    with pytest.raises(ValueError, match="'median'"):
        zoo.build("lenet5", pool="median")


@pytest.mark.mnist
def test_lenet5_learns_real_digits_quickly(mnist_train, mnist_test):
    """Two epochs on 3000 real MNIST images already classify held-out digits well."""
    (x_train, y_train), (x_test, y_test) = mnist_train, mnist_test
    model = zoo.build("lenet5", seed=0)
    model.compile(optimizer="adam", loss="cross_entropy", lr=2e-3)
    x = (x_train[:3000].astype(np.float32) / 255)[:, None]
    model.fit(x, y_train[:3000].astype(np.int64), epochs=2, batch_size=64)
    result = model.evaluate((x_test[:1000].astype(np.float32) / 255)[:, None], y_test[:1000].astype(np.int64))
    assert result["accuracy"] > 0.9, result
