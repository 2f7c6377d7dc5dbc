"""Preprocessing inside the graph: scale, mean/std, layout, centre by mass, and refused unknown keys."""

import numpy as np
import pytest
from export_helpers import exported, run_session

from digitnet import nn
from digitnet.data import inputs
from digitnet.export import ExportError, build


def centre_by_mass_reference(stack):
    """The documented rule (export/preprocess.py), element by element: move each image by whole pixels."""
    n, h, w = stack.shape
    out = np.zeros_like(stack)
    for k in range(n):
        mass = stack[k].sum(dtype=np.float32)
        if mass <= 0:
            out[k] = stack[k]
            continue
        r = (stack[k].sum(axis=1) @ np.arange(h, dtype=stack.dtype)) / mass
        c = (stack[k].sum(axis=0) @ np.arange(w, dtype=stack.dtype)) / mass
        dr, dc = int(np.clip(np.rint(h / 2 - r), -h, h)), int(np.clip(np.rint(w / 2 - c), -w, w))
        for i in range(h):
            for j in range(w):
                if 0 <= i - dr < h and 0 <= j - dc < w:
                    out[k, i, j] = stack[k, i - dr, j - dc]
    return out


def identity_model(spec):
    """logits = the preprocessed input itself (Dense with an identity weight), to look at preprocessing alone."""
    model = nn.Sequential([nn.Flatten(), nn.Dense(784, bias=False)], input_shape=(1, 28, 28))
    model.layers[1].params["weight"][...] = np.eye(784, dtype=np.float32)
    model.preprocessing = spec
    return model


def off_centre_digits(rng, n=60):
    images = np.zeros((n, 28, 28), np.uint8)
    for k in range(n - 2):
        r, c, size = rng.integers(0, 22), rng.integers(0, 22), rng.integers(3, 10)
        images[k, r : r + size, c : c + size // 2 + 1] = rng.integers(50, 256)
        images[k, r + size // 2, c : c + size] = 255
    images[-2] = 0  # blank: left as it is
    images[-1, 0:3, 25:28] = 255  # in a corner: moved far, partly out of the frame
    return images


def test_centre_by_mass_matches_the_rule(random_images):
    images = np.concatenate([off_centre_digits(np.random.default_rng(0)), random_images[:20]])
    spec = {"scale": 1 / 255, "centre": "mass", "mean": 0.1, "std": 0.3, "layout": "image"}
    _, session = exported(identity_model(spec))
    got = run_session(session, images)["logits"].reshape(-1, 28, 28)
    expected = (centre_by_mass_reference(images.astype(np.float32) * np.float32(1 / 255)) - 0.1) / 0.3
    assert np.abs(got - expected).max() < 1e-5
    assert np.abs(got[:58] - ((images[:58] / 255 - 0.1) / 0.3)).max() > 1  # the images did move


@pytest.mark.skipif(not hasattr(inputs, "centre_by_mass"), reason="digitnet.data.inputs has no centre_by_mass yet")
def test_centre_by_mass_matches_apply_spec(random_images):
    images = np.concatenate([off_centre_digits(np.random.default_rng(1)), random_images[:20]])
    model = identity_model({"scale": 1 / 255, "centre": "mass", "layout": "image"})
    _, session = exported(model)
    expected = inputs.model_inputs(images, model).reshape(len(images), -1)
    assert np.abs(run_session(session, images)["logits"] - expected).max() < 1e-6


def test_scale_mean_std_and_flat_layout(random_images):
    spec = {"scale": 1 / 255, "mean": 0.1307, "std": 0.3081, "layout": "flat", "augment": "shift=2"}
    model = nn.Sequential([nn.Dense(784, bias=False)], input_shape=(784,))
    model.layers[0].params["weight"][...] = np.eye(784, dtype=np.float32)
    model.preprocessing = spec
    _, session = exported(model)
    expected = inputs.apply_spec(random_images, spec)
    assert np.abs(run_session(session, random_images)["logits"] - expected).max() < 1e-6


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"scale": 1 / 255, "invert": True}, "cannot export preprocessing key\\(s\\) 'invert'"),
        ({"scale": 1 / 255, "std": 0}, "std must be positive"),
        ({"scale": "1/255"}, "scale must be a finite number"),
        ({"layout": "columns"}, "layout must be one of"),
        ({"centre": "box"}, "centre must be one of"),
    ],
)
def test_bad_preprocessing_is_refused(spec, message):
    with pytest.raises(ExportError, match=message):
        build(identity_model(spec))
