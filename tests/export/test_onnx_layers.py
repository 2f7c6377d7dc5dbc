"""Every layer kind and activation, the connection table, preprocessing, temperature and errors, through ONNX."""

import json

import numpy as np
import pytest
from export_helpers import exported, run_session

from digitnet import nn, zoo
from digitnet.data.inputs import model_inputs
from digitnet.export import EXPORTERS, ExportError, build, to_onnx

TOLERANCE = 1e-5
# LeCun et al. 1998, table I: the S2 maps (of 6) each C3 map (of 16) reads.
C3_INPUTS = (
    (0, 1, 2),
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 5),
    (4, 5, 0),
    (5, 0, 1),
    (0, 1, 2, 3),
    (1, 2, 3, 4),
    (2, 3, 4, 5),
    (3, 4, 5, 0),
    (4, 5, 0, 1),
    (5, 0, 1, 2),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def randomise_batchnorms(model, rng):
    """Running statistics and gamma/beta away from their initial 0/1 (as after training)."""
    for layer in model.layers:
        if "running_var" in layer.buffers:
            c = layer.buffers["running_var"].shape[0]
            layer.buffers["running_mean"][...] = rng.normal(0, 0.5, c)
            layer.buffers["running_var"][...] = rng.uniform(0.2, 3.0, c)
            layer.params["gamma"][...] = rng.uniform(0.5, 2.0, c)
            layer.params["beta"][...] = rng.normal(0, 0.5, c)
    return model


def every_layer_model():
    """An image model using every layer kind and every activation, in awkward settings."""
    layers = [
        nn.BatchNorm2D(1),  # first layer: a standalone batch norm
        nn.Conv2D(1, 4, 3, stride=2, padding=[1, 2]),  # stride 2, unequal padding -> 14 x 15
        nn.BatchNorm2D(4),  # folded into the conv
        nn.LeakyReLU(0.1),
        nn.Conv2D(4, 6, 4, padding="same"),  # even kernel: the extra pad at the end
        nn.ELU(0.7),
        nn.Dropout2D(0.3),
        nn.MaxPool2D(3, stride=2),  # overlapping windows -> 6 x 7
        nn.Conv2D(6, 8, 3, padding="valid", bias=False),  # -> 4 x 5
        nn.GELU(),
        nn.AvgPool2D(2),  # 5 does not divide: last column dropped -> 2 x 2
        nn.Tanh(),
        nn.BatchNorm2D(8),  # after an activation: standalone
        nn.Flatten(),
        nn.Dense(20),
        nn.BatchNorm1D(20),  # folded into the dense layer
        nn.Sigmoid(),
        nn.Dropout(0.2),
        nn.Reshape((4, 5)),
        nn.Softmax(axis=-1),  # inside the network, on a 3-D tensor
        nn.Reshape((20,)),
        nn.Identity(),
        nn.BatchNorm1D(20),
        nn.ReLU(),
        nn.Dense(10, bias=False),
    ]
    model = nn.Sequential(layers, input_shape=(1, 28, 28), seed=1)
    model.layers[-1].params["weight"] *= 30  # peaked probabilities: a small error upstream shows at the output
    return model


def global_pool_model():
    layers = [nn.Conv2D(1, 5, 5), nn.ReLU(), nn.GlobalAvgPool2D(), nn.Dense(10), nn.Softmax()]  # ends in Softmax
    return nn.Sequential(layers, input_shape=(1, 28, 28), seed=2)


def assert_matches(model, images, expected=None):
    _, session = exported(model)
    out = run_session(session, images)
    expected = model.predict_proba(model_inputs(images, model)) if expected is None else expected
    assert out["probabilities"].shape == expected.shape
    assert np.abs(out["probabilities"] - expected).max() < TOLERANCE
    logits = model.predict_logits(model_inputs(images, model))
    assert np.abs(out["logits"] - logits).max() < 1e-5 * max(1.0, np.abs(logits).max())
    return out


def test_every_layer_kind_has_an_exporter():
    kinds = set(nn.layers.__all__) - {"Layer"}
    assert kinds <= set(EXPORTERS), f"layers without an ONNX exporter: {sorted(kinds - set(EXPORTERS))}"


def test_custom_models_cover_every_layer_kind():
    used = {layer.to_config()["class"] for m in (every_layer_model(), global_pool_model()) for layer in m.layers}
    assert used == set(nn.layers.__all__) - {"Layer"}


def test_every_layer_model_matches(random_images):
    model = randomise_batchnorms(every_layer_model(), np.random.default_rng(0))
    proto, _ = exported(model)
    ops = [node.op_type for node in proto.graph.node]
    assert ops.count("BatchNormalization") == 0 and ops.count("Conv") == 3 and ops.count("Gemm") == 2
    assert_matches(model, random_images)


def test_batchnorm_folding_changes_nothing_in_float64(random_images):
    model = randomise_batchnorms(every_layer_model(), np.random.default_rng(5)).astype("float64")
    assert_matches(model, random_images)


def test_global_pool_and_softmax_output(random_images):
    assert_matches(global_pool_model(), random_images)


def test_lenet5_connection_table_is_exported_as_masked_weights(random_images):
    model = zoo.lenet5(c3_table=True)
    conv = model.layers[3]
    mask = np.array([[i in inputs for i in range(6)] for inputs in C3_INPUTS])
    assert conv.get_config()["connections"] == mask.tolist() and mask.sum() == 60
    conv.params["weight"][~mask] = 5.0  # digitnet masks these in forward; the export must drop them too
    proto, _ = exported(model)
    weight = next(t for t in proto.graph.initializer if t.name == "3.weight")
    from onnx import numpy_helper

    w = numpy_helper.to_array(weight)
    assert w.shape == (16, 6, 5, 5) and np.all(w[~mask] == 0) and np.all(w[mask] == conv.params["weight"][mask])
    assert_matches(model, random_images)


@pytest.mark.parametrize("layout", ["image", "flat"])
def test_preprocessing_with_mean_and_std(layout, random_images):
    if layout == "flat":  # a model that reads flat (N, 784) vectors: the graph reshapes the image
        model = nn.Sequential([nn.Dense(32), nn.Tanh(), nn.Dense(10)], input_shape=(784,), seed=3)
    else:
        model = nn.Sequential(
            [nn.Conv2D(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Dense(10)], input_shape=(1, 28, 28), seed=3
        )
    model.preprocessing = {"scale": 1 / 255, "mean": 0.1307, "std": 0.3081, "layout": layout, "augment": "shift=1"}
    plain = model_inputs(random_images, model)
    assert plain.min() < -0.4  # the spec is applied: centred and scaled inputs
    assert_matches(model, random_images)


def test_temperature_divides_the_logits(random_images):
    model = zoo.build("mlp-30", seed=4)
    logits = model.predict_logits(model_inputs(random_images, model)).astype(np.float64)
    model.calibration = {"temperature": 2.5, "method": "temperature", "fitted_on": "validation"}
    z = logits / 2.5
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert np.abs(expected - model.predict_proba(model_inputs(random_images, model))).max() > 1e-2  # T matters
    out = assert_matches(model, random_images, expected)
    assert np.abs(out["logits"] - logits).max() < 1e-4  # logits stay raw


def test_temperature_on_a_softmax_output(random_images):
    model = global_pool_model()
    model.calibration = {"temperature": 0.5}
    p = model.predict_proba(model_inputs(random_images, model)) ** 2.0  # softmax(log p / T), T = 0.5
    assert_matches(model, random_images, p / p.sum(axis=1, keepdims=True))


def test_not_a_digit_output_gives_eleven_probabilities(random_images):
    model = nn.Sequential([nn.Flatten(), nn.Dense(16), nn.ReLU(), nn.Dense(11)], input_shape=(1, 28, 28), seed=5)
    model.layers[-1].params["weight"] *= 10
    model.rejection = {"method": "reject_class", "threshold": 0.5, "reject_class": 10}
    model.calibration = {"temperature": 1.5}
    proto = build(model)
    assert [o.name for o in proto.graph.output] == [
        "logits",
        "probabilities",
        "digit_probabilities",
        "not_a_digit_score",
    ]
    assert [d.dim_value for d in proto.graph.output[1].type.tensor_type.shape.dim[1:]] == [11]
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["classes"])[-1] == "not a digit" and len(json.loads(props["classes"])) == 11
    assert json.loads(props["digitnet.rejection"])["threshold"] == 0.5
    z = model.predict_logits(model_inputs(random_images, model)).astype(np.float64)

    def softmax(a):
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    assert_matches(model, random_images, softmax(z / 1.5))  # all 11, calibrated
    _, session = exported(model)
    digits, score = session.run(
        ["digit_probabilities", "not_a_digit_score"], {"image": random_images[:, None].astype(np.float32)}
    )
    assert np.abs(digits - softmax(z[:, :10] / 1.5)).max() < TOLERANCE  # as the Recognizer reports digits
    assert score.shape == (len(random_images),) and np.abs(score - softmax(z)[:, 10]).max() < TOLERANCE
    assert score.std() > 1e-3  # not a constant: the comparison means something


def test_names_shapes_opset_and_metadata():
    model = zoo.build("mlp-16-16")
    model.metrics = {"test_accuracy": 0.9468}
    model.training_config = {"model": "mlp-16-16", "epochs": 15, "dataset": "mnist"}
    proto = build(model)
    assert [o.domain for o in proto.opset_import] == [""] and proto.opset_import[0].version == 13
    (image,) = proto.graph.input
    assert image.name == "image"
    assert [d.dim_param or d.dim_value for d in image.type.tensor_type.shape.dim] == ["N", 1, 28, 28]
    assert [o.name for o in proto.graph.output] == ["logits", "probabilities"]
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["digitnet.architecture"]) == model.get_config()
    assert json.loads(props["digitnet.training"])["epochs"] == 15
    assert float(props["test_accuracy"]) == 0.9468 and "0..255" in props["input"]
    assert json.loads(props["digitnet.calibration"]) == {} and props["temperature"] == "1.0"


class SquareForExportTest(nn.Layer):
    """y = x^2: a user's layer that has no ONNX exporter."""

    def forward(self, x, training=False):
        return x * x


def test_unsupported_layer_is_a_one_line_error_naming_it(tmp_path):
    model = nn.Sequential([nn.Flatten(), nn.Dense(8), SquareForExportTest(), nn.Dense(10)], input_shape=(1, 28, 28))
    target = tmp_path / "m.onnx"
    with pytest.raises(ExportError, match=r"layer 2 \(SquareForExportTest\)") as info:
        to_onnx(model, target)
    assert "\n" not in str(info.value) and "supported layers: " in str(info.value)
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("temperature", [0, -1.0, float("nan"), "2"])
def test_bad_temperature_is_refused(temperature):
    model = zoo.build("mlp-10")
    model.calibration = {"temperature": temperature}
    with pytest.raises(ExportError, match="temperature must be a finite number > 0"):
        build(model)


def test_non_flat_output_and_unbuilt_model_are_refused():
    with pytest.raises(ExportError, match=r"output is per-sample shape \(2, 26, 26\)"):
        build(nn.Sequential([nn.Conv2D(1, 2, 3)], input_shape=(1, 28, 28)))
    with pytest.raises(ValueError, match="not built"):
        build(nn.Sequential([nn.Dense(10)]))


def test_to_onnx_writes_a_file_onnxruntime_reads(tmp_path, random_images):
    from digitnet.export.verify import compare

    model = zoo.build("mlp-10")
    path = to_onnx(model, tmp_path / "sub" / "model.onnx")
    result = compare(model, path, random_images)
    assert result["max_abs_diff"] < TOLERANCE and result["same_predictions"] == len(random_images)
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["model.onnx"]  # no temporary file left


class CubeForExportTest(nn.Layer):
    """y = x^3: a user's layer, given an exporter of its own below."""

    def forward(self, x, training=False):
        return x * x * x


def test_a_user_exporter_is_used(monkeypatch, random_images):
    from digitnet.export import layers

    def cube(g, spec, x):
        return g.node("Mul", [g.node("Mul", [x, x], spec.label), x], spec.label)

    monkeypatch.setitem(layers.EXPORTERS, "CubeForExportTest", cube)  # what @exporter("CubeForExportTest") does
    model = nn.Sequential([nn.Flatten(), nn.Dense(8), CubeForExportTest(), nn.Dense(10)], input_shape=(1, 28, 28))
    assert_matches(model, random_images)
