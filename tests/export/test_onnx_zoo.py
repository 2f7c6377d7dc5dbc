"""Every zoo model, briefly trained, exported to ONNX: onnxruntime equals digitnet on 1,000 MNIST test images."""

import numpy as np
import pytest
from export_helpers import exported, run_session

from digitnet import zoo
from digitnet.data.inputs import model_inputs

TOLERANCE = 1e-5  # max abs difference in probabilities


def briefly_trained(name, train_images, train_labels, rng):
    """A zoo model after a few Adam steps, with non-trivial batch-norm statistics and affine parameters."""
    model = zoo.build(name, seed=0)
    model.preprocessing = {"scale": 1 / 255, "layout": "image"}
    model.compile("adam", lr=2e-3 if name == "cnn" else 1e-2)
    convolutional = any(layer.to_config()["class"] == "Conv2D" for layer in model.layers)
    # few steps where steps are slow: enough to move every weight off its initial value
    steps, batch = {"cnn": (2, 32), "mlp-800-800": (16, 64)}.get(name, (6, 32) if convolutional else (48, 64))
    x = model_inputs(train_images, model)
    for i in range(steps):
        rows = np.arange(i * batch, (i + 1) * batch) % len(x)
        model.train_step(x[rows], train_labels[rows])
    spread = model.predict_logits(x[:64]).std(axis=1).mean()
    for value in model.layers[-1].params.values():  # confident answers, so that a small error upstream shows
        value *= max(1.0, 3.0 / spread)
    for layer in model.layers:
        if "running_var" in layer.buffers:  # move every statistic and affine parameter off its initial value
            c = layer.buffers["running_var"].shape[0]
            layer.buffers["running_mean"] += rng.normal(0, 0.3, c).astype(np.float32)
            layer.buffers["running_var"] *= rng.uniform(0.3, 3.0, c).astype(np.float32)
            layer.params["gamma"] *= rng.uniform(0.5, 1.5, c).astype(np.float32)
            layer.params["beta"] += rng.normal(0, 0.3, c).astype(np.float32)
    return model


@pytest.fixture(scope="module")
def data(mnist_train, mnist_test):
    (train_images, train_labels), (test_images, _) = mnist_train, mnist_test
    return train_images[:1024], train_labels[:1024].astype(np.int64), test_images[:1000]


@pytest.mark.mnist
@pytest.mark.parametrize("name", zoo.NAMES)
def test_zoo_model_matches_digitnet(name, data):
    train_images, train_labels, test_images = data
    model = briefly_trained(name, train_images, train_labels, np.random.default_rng(3))
    norms = [layer for layer in model.layers if "running_var" in layer.buffers]
    assert all(not np.allclose(layer.buffers["running_var"], 1) for layer in norms)  # non-trivial statistics
    _, session = exported(model)
    out = run_session(session, test_images)
    expected = model.predict_proba(model_inputs(test_images, model))
    diff = np.abs(out["probabilities"] - expected).max()
    print(f"{name}: max abs difference {diff:.2e} over {len(test_images)} test images")
    assert diff < TOLERANCE
    logits = model.predict_logits(model_inputs(test_images[:100], model))  # 100 are enough: the cnn is slow
    assert np.abs(out["logits"][:100] - logits).max() < 1e-4 * max(1.0, np.abs(logits).max())
    assert (out["probabilities"].argmax(axis=1) == expected.argmax(axis=1)).mean() > 0.999
    assert expected.max(axis=1).mean() > 0.2  # the trained model is not a near-uniform guess
