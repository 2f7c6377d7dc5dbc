"""The layer view's numbers (digitnet.app.insides and POST /api/insides): one entry per layer, named as
in summary(), maps that decode to the layer's own output, bars equal to the layer's output values."""

import base64
import io

import numpy as np
import pytest
from app_helpers import call, data_url, digit_image
from PIL import Image

from digitnet.app import AppModel
from digitnet.app.insides import activations, describe_output, forward_each, layer_names
from digitnet.data.preprocess import to_mnist
from digitnet.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential


def decode(url):
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


@pytest.fixture(scope="module")
def conv_model():
    model = Sequential([Conv2D(1, 4, 5), ReLU(), MaxPool2D(2), Flatten(), Dense(10)], input_shape=(1, 28, 28), seed=3)
    return AppModel("conv", model)


def test_one_entry_per_layer_named_as_in_summary(conv_model):
    image = to_mnist(digit_image())
    layers = activations(conv_model, image)
    summary = conv_model.model.summary()
    assert [entry["index"] for entry in layers] == list(range(5))
    assert [entry["name"] for entry in layers] == layer_names(conv_model.model)
    for entry in layers:
        index, described = entry["name"].split("  ", 1)
        assert described in summary and int(index) == entry["index"]
    assert [entry["kind"] for entry in layers] == ["maps", "maps", "maps", "bars", "bars"]
    assert [entry["shape"] for entry in layers] == [[4, 24, 24], [4, 24, 24], [4, 12, 12], [576], [10]]


def test_maps_are_the_layers_output_on_one_scale_and_bars_its_values(conv_model):
    image = to_mnist(digit_image())
    layers = activations(conv_model, image)
    outputs = forward_each(conv_model.model, conv_model.inputs(image[None]))
    conv = outputs[0][0]
    tiles = np.stack([decode(url) for url in layers[0]["maps"]])
    assert tiles.shape == (4, 24, 24) and tiles.dtype == np.uint8
    lo, hi = layers[0]["range"]
    assert lo == pytest.approx(conv.min()) and hi == pytest.approx(conv.max())
    np.testing.assert_allclose(tiles, np.round(255 * (conv - lo) / (hi - lo)), atol=1)
    assert tiles.max() == 255 and tiles.min() == 0  # the layer's extremes land on black and white
    logits = conv_model.model.forward(conv_model.inputs(image[None]))[0]
    np.testing.assert_allclose(layers[-1]["values"], logits, rtol=1e-3, atol=1e-6)
    assert layers[-1]["shown"] == layers[-1]["total"] == 10


def test_big_layers_are_cut_and_say_so():
    y = np.arange(80 * 3 * 3, dtype=np.float32).reshape(80, 3, 3)
    entry = describe_output(0, "0  X()", "X", y, max_maps=16)
    assert entry["shown"] == 16 and entry["total"] == 80 and len(entry["maps"]) == 16
    flat = describe_output(1, "1  Y()", "Y", np.linspace(-1, 1, 3000), max_values=100)
    assert flat["shown"] == 100 and flat["total"] == 3000 and flat["range"] == [-1.0, 1.0]
    constant = describe_output(2, "2  Z()", "Z", np.zeros((2, 4, 4)))
    assert all(decode(url).max() == 0 for url in constant["maps"])  # a flat map, no division by zero


def test_wrong_image_shape_is_refused(conv_model):
    with pytest.raises(ValueError, match="28x28"):
        activations(conv_model, np.zeros((27, 28)))


def test_insides_endpoint_answers_for_each_model(live, models):
    for model in models:
        status, _, data = call(live, "POST", "/api/insides", {"image": data_url(digit_image()), "model": model.name})
        assert status == 200, data
        assert data["model"] == model.name and len(data["layers"]) == len(model.model.layers)
        assert [entry["name"] for entry in data["layers"]] == layer_names(model.model)
        assert np.asarray(data["input"]).shape == (28, 28) and data["blank"] is False


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"image": "x"}, 400, "'model'"),
        ({"pixels": [[0] * 28] * 28, "model": "nope"}, 404, "unknown model 'nope'"),
        ({"pixels": [[0] * 28] * 28, "model": "mlp", "extra": 1}, 400, "unknown field"),
        ({"model": "mlp"}, 400, "exactly one of"),
    ],
)
def test_insides_endpoint_names_bad_requests(live, body, status, words):
    got, _, data = call(live, "POST", "/api/insides", body)
    assert got == status and words in data["error"]


def test_mistakes_page_carries_thumbnails(live, models, testset_arrays):
    images, labels = testset_arrays
    status, _, data = call(live, "GET", "/api/testset/mistakes?model=mlp&offset=1")
    assert status == 200 and data["offset"] == 1
    assert [m["index"] for m in data["page"]] == data["indices"][1 : 1 + len(data["page"])]
    for m in data["page"]:
        assert m["label"] == labels[m["index"]] and m["prediction"] != m["label"] and 0 < m["confidence"] <= 1
        np.testing.assert_array_equal(decode(m["image"]), images[m["index"]])
    assert call(live, "GET", "/api/testset/mistakes?model=mlp&offset=-1")[0] == 400
