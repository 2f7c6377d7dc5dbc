"""The tiers compute the same numbers: fast == reference to 1e-10 in float64 for every layer's
output and gradients and every optimiser's step sequence (odd shapes, strides, paddings, memory
layouts), loops == reference on small inputs, and a model's config and file do not depend on the tier."""

from __future__ import annotations

import numpy as np
import pytest

from digitnet import zoo
from digitnet.nn import Sequential, modelfile, optim, tiers
from digitnet.nn.layers.base import Layer

COMPARES_TIERS = True  # run once: each test compares the tiers itself (see conftest.py)
TOL = 1e-10
ODD_IMAGE = (3, 2, 7, 9)  # N, C, H, W

# (class name, constructor kwargs, per-sample input shape)
LAYERS = [
    ("Dense", {"units": 5}, (7,)),
    ("Dense", {"units": 3, "bias": False}, (4,)),
    ("Conv2D", {"in_channels": 2, "out_channels": 3, "kernel_size": 3}, (2, 7, 9)),
    (
        "Conv2D",
        {"in_channels": 2, "out_channels": 4, "kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 2)},
        (2, 7, 9),
    ),
    ("Conv2D", {"in_channels": 2, "out_channels": 5, "kernel_size": 4, "padding": "same", "bias": False}, (2, 7, 9)),
    ("Conv2D", {"in_channels": 2, "out_channels": 3, "kernel_size": 5, "stride": 3, "padding": 2}, (2, 7, 9)),
    (
        "Conv2D",
        {"in_channels": 2, "out_channels": 3, "kernel_size": (3, 2), "stride": (1, 2), "padding": (1, 0)},
        (2, 7, 9),
    ),
    (
        "Conv2D",
        {"in_channels": 16, "out_channels": 3, "kernel_size": (3, 4), "stride": (1, 2), "padding": 1},
        (16, 7, 9),
    ),
    ("Conv2D", {"in_channels": 22, "out_channels": 4, "kernel_size": 3, "padding": "same"}, (22, 7, 9)),
    ("Conv2D", {"in_channels": 2, "out_channels": 2, "kernel_size": (3, 2), "padding": "same"}, (2, 7, 9)),
    (
        "Conv2D",
        {
            "in_channels": 22,
            "out_channels": 3,
            "kernel_size": 3,
            "connections": [[(i + j) % 3 != 0 for i in range(22)] for j in range(3)],
        },
        (22, 7, 9),
    ),
    (
        "Conv2D",
        {
            "in_channels": 2,
            "out_channels": 3,
            "kernel_size": 3,
            "padding": "same",
            "connections": [[True, False], [True, True], [False, True]],
        },
        (2, 7, 9),
    ),
    ("MaxPool2D", {"kernel_size": 2}, (2, 7, 9)),
    ("MaxPool2D", {"kernel_size": 3, "stride": 2}, (2, 7, 9)),
    ("MaxPool2D", {"kernel_size": (2, 3), "stride": (3, 1)}, (2, 7, 9)),
    ("AvgPool2D", {"kernel_size": 2}, (2, 7, 9)),
    ("AvgPool2D", {"kernel_size": 3, "stride": 2}, (2, 7, 9)),
    ("GlobalAvgPool2D", {}, (2, 7, 9)),
    ("BatchNorm1D", {"num_features": 5}, (5,)),
    ("BatchNorm2D", {"num_channels": 2, "momentum": 0.3}, (2, 7, 9)),
    ("ReLU", {}, (2, 7, 9)),
    ("Sigmoid", {}, (2, 7, 9)),
    ("Tanh", {}, (6,)),
    ("LeakyReLU", {"slope": 0.1}, (6,)),
    ("ELU", {}, (6,)),
    ("GELU", {}, (6,)),
    ("Softmax", {}, (6,)),
    ("Flatten", {}, (2, 7, 9)),
    ("Reshape", {"target_shape": (9, 14)}, (2, 7, 9)),
    ("Dropout", {"rate": 0.4}, (6,)),
    ("Dropout2D", {"rate": 0.5}, (2, 7, 9)),
]
OPTIMISERS = [
    ("sgd", {"lr": 0.1}),
    ("momentum", {"lr": 0.05, "momentum": 0.8}),
    ("nesterov", {"lr": 0.05}),
    ("adagrad", {"lr": 0.1}),
    ("rmsprop", {"lr": 0.01}),
    ("adam", {"lr": 0.01}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.1}),
    ("adam", {"lr": 0.01, "weight_decay": 0.05, "clip_norm": 0.5}),
    ("sgd", {"lr": 0.1, "max_norm": 0.6, "decay_all": True, "weight_decay": 0.01}),
]


def batch_last(a):
    """The same values stored batch-last (what the fast Conv2D hands out)."""
    return np.ascontiguousarray(a.transpose(*range(1, a.ndim), 0)).transpose(a.ndim - 1, *range(a.ndim - 1))


LAYOUTS = {
    "c-order": np.ascontiguousarray,
    "batch-last": batch_last,
    "strided": lambda a: np.repeat(a, 2, axis=-1)[..., ::2],
}


def run(tier, name, kwargs, shape, x, dy, training, seed=3):
    layer = tiers.layer_class(name, tier)(**kwargs)
    layer.build(shape, np.random.default_rng(seed), np.float64)
    layer.rng = np.random.default_rng(9)  # the same dropout masks in every tier
    y = layer.forward(x, training=training)
    y_values = np.array(y)
    dx = layer.backward(dy(y.shape))
    return layer, y_values, np.array(dx), {k: np.array(g) for k, g in layer.grads.items()}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("name, kwargs, shape", LAYERS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LAYERS)])
def test_fast_equals_reference_for_every_layer(name, kwargs, shape, training, layout):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3,) + shape)
    if len(shape) == 3:
        x[0, 0, :2, :2] = 0.5  # ties inside pooling windows
    g = rng.standard_normal(1000)
    make = LAYOUTS[layout] if x.ndim == 4 else np.ascontiguousarray

    def dy(s):
        return make(np.resize(g, s))

    results = [run(t, name, kwargs, shape, make(x), dy, training) for t in ("reference", "fast")]
    (ref_layer, y0, dx0, g0), (fast_layer, y1, dx1, g1) = results
    assert type(fast_layer).tier in ("fast", "reference") and fast_layer.get_config() == ref_layer.get_config()
    np.testing.assert_allclose(y1, y0, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(dx1, dx0, rtol=TOL, atol=TOL)
    assert g1.keys() == g0.keys()
    for key in g0:
        np.testing.assert_allclose(g1[key], g0[key], rtol=TOL, atol=TOL, err_msg=key)
    for key in ref_layer.buffers:
        np.testing.assert_allclose(fast_layer.buffers[key], ref_layer.buffers[key], rtol=TOL, atol=TOL)


@pytest.mark.parametrize(
    "name, kwargs, shape",
    [case for case in LAYERS if case[0] in ("Dense", "Conv2D", "MaxPool2D", "AvgPool2D", "BatchNorm1D", "BatchNorm2D")],
    ids=lambda v: str(v)[:20],
)
@pytest.mark.parametrize("training", [True, False])
def test_loops_equal_reference(name, kwargs, shape, training):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2,) + shape)
    g = rng.standard_normal(1000)
    results = [run(t, name, kwargs, shape, x, lambda s: np.resize(g, s), training) for t in ("reference", "loops")]
    (_, y0, dx0, g0), (layer, y1, dx1, g1) = results
    assert type(layer).tier == "loops"
    np.testing.assert_allclose(y1, y0, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(dx1, dx0, rtol=TOL, atol=TOL)
    for key in g0:
        np.testing.assert_allclose(g1[key], g0[key], rtol=TOL, atol=TOL, err_msg=key)


@pytest.mark.parametrize("name, kwargs", OPTIMISERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMISERS)])
def test_fast_equals_reference_for_every_optimiser_step_sequence(name, kwargs):
    rng = np.random.default_rng(0)
    start = {"w": rng.standard_normal((5, 3)), "b": rng.standard_normal(3), "k": rng.standard_normal((2, 3, 3, 3))}
    grads = [{k: rng.standard_normal(v.shape) for k, v in start.items()} for _ in range(6)]
    params = {}
    for tier in ("reference", "fast"):
        opt = optim.get(name, tier=tier, **kwargs)
        assert type(opt).tier == tier
        p = {k: v.copy() for k, v in start.items()}
        for step in grads:
            opt.step([(k, p[k], step[k]) for k in p])
        params[tier] = (p, opt.state_dict())
    (p0, s0), (p1, s1) = params["reference"], params["fast"]
    for k in p0:
        np.testing.assert_allclose(p1[k], p0[k], rtol=TOL, atol=TOL, err_msg=k)
    assert s1["config"] == s0["config"] and s1["t"] == s0["t"] and s1["slots"].keys() == s0["slots"].keys()
    for k in s0["slots"]:
        np.testing.assert_allclose(s1["slots"][k], s0["slots"][k], rtol=TOL, atol=TOL, err_msg=k)


@pytest.mark.parametrize(
    "name, kwargs", [case for case in OPTIMISERS if case[0] in ("sgd", "adam", "adamw")], ids=lambda v: str(v)[:24]
)
def test_loops_optimisers_equal_reference(name, kwargs):
    rng = np.random.default_rng(1)
    start = {"w": rng.standard_normal((4, 3)), "k": rng.standard_normal((2, 2, 3, 3))}
    grads = [{k: rng.standard_normal(v.shape) for k, v in start.items()} for _ in range(4)]
    final = {}
    for tier in ("reference", "loops"):
        opt = optim.get(name, tier=tier, **kwargs)
        assert type(opt).tier == tier
        p = {k: v.copy() for k, v in start.items()}
        for step in grads:
            opt.step([(k, p[k], step[k]) for k in p])
        final[tier] = p
    for k in start:
        np.testing.assert_allclose(final["loops"][k], final["reference"][k], rtol=TOL, atol=TOL, err_msg=k)


@pytest.mark.parametrize("model_name", ["lenet5", "cnn", "mlp-100-100"])
def test_zoo_models_train_the_same_in_both_tiers_and_write_the_same_file(model_name, tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.random((6, 1, 28, 28)), rng.integers(0, 10, 6)
    files = {}
    for tier in ("reference", "fast"):
        model = zoo.build(model_name, dtype="float64", tier=tier, **({"width": 4} if model_name == "cnn" else {}))
        assert model.tier == tier
        model.compile("adam", lr=1e-3)
        assert type(model.optimizer).tier == tier
        for layer in model.layers:
            layer.rng = np.random.default_rng(5)
        model.rng = np.random.default_rng(5)
        model.train_step(x, y)
        files[tier] = (
            model.get_config(),
            [p.copy() for _, p, _ in model.parameters()],
            modelfile.save(model, tmp_path / f"{tier}.npz"),
        )
    (cfg0, p0, f0), (cfg1, p1, f1) = files["reference"], files["fast"]
    assert cfg0 == cfg1
    for a, b in zip(p0, p1):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-10)
    h0, h1 = modelfile.read_header(f0), modelfile.read_header(f1)
    assert h0 == h1  # same architecture, optimiser class and config, state: nothing records the tier
    with np.load(f0) as a, np.load(f1) as b:
        assert sorted(a.files) == sorted(b.files)


def test_untrained_models_are_identical_files_in_every_tier(tmp_path):
    paths = [modelfile.save(zoo.build("lenet5", tier=t), tmp_path / t) for t in tiers.TIERS]
    blobs = []
    for path in paths:
        with np.load(path) as data:
            blobs.append({k: data[k].tobytes() for k in data.files})
    assert blobs[0] == blobs[1] == blobs[2]


def test_tier_selection_and_conversion():
    fast = zoo.build("lenet5")
    assert fast.tier == "fast" and all("fast" in tiers.tiers_of(layer) for layer in fast.layers)
    ref = Sequential(fast.layers, tier="reference")
    assert ref.tier == "reference" and all(type(layer).tier == "reference" for layer in ref.layers)
    for a, b in zip(fast.parameters(), ref.parameters()):
        np.testing.assert_array_equal(a[1], b[1])
    loaded = Layer.from_config(fast.layers[0].to_config(), "reference")
    assert type(loaded) is type(ref.layers[0])
    with pytest.raises(ValueError, match="unknown tier 'quick'"):
        zoo.build("lenet5", tier="quick")
    with pytest.raises(ValueError, match="different tiers"):
        Sequential([tiers.namespace("fast").Conv2D(1, 2, 3), tiers.namespace("loops").Conv2D(2, 2, 3)])
    assert fast.to_tier("reference").tier == "reference"


def test_old_model_files_with_the_init_key_still_load():
    old = {"class": "Dense", "config": {"units": 3, "init": "he_normal", "bias": True, "in_features": None}}
    assert Layer.from_config(old).weight_init == "he_normal"
