"""The drawing app's HTTP API answering good requests, through a real server on a free port and the
standard library's client (bad requests: test_api_errors.py; the command: test_draw_command.py)."""

import base64
import http.client
import json
import re
import threading

import numpy as np
import pytest
from PIL import Image

from app_helpers import LiveServer, call, data_url, digit_image, predict
from digitnet.app import DrawingApp, TestSet
from digitnet.commands._common import model_inputs
from digitnet.data.preprocess import to_mnist


# --- page and assets --------------------------------------------------------
def test_page_and_its_assets_are_served_locally(live):
    status, response, page = call(live, "GET", "/")
    assert status == 200 and response.getheader("Content-Type").startswith("text/html")
    page = page.decode("utf-8")
    assert 'id="pad"' in page and "/static/app.js" in page and "/static/style.css" in page
    assert "://" not in page, "the page must not load anything from another site (works offline)"
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert len(assets) == 6  # style.css and five scripts
    for path in assets:
        status, response, body = call(live, "GET", path)
        kind = "text/css" if path.endswith(".css") else "text/javascript"
        assert status == 200 and response.getheader("Content-Type").startswith(kind) and len(body) > 1000
        assert b"://" not in body


@pytest.mark.parametrize(
    "path", ["/static/../server.py", "/static/%2e%2e/server.py", "/static/nope.js", "/static/", "/static/__init__.py"]
)
def test_static_files_outside_the_asset_folder_are_refused(live, path):
    status, _, data = call(live, "GET", path)
    assert status == 404 and "error" in data


# --- models -----------------------------------------------------------------
def test_models_lists_every_model_and_the_settings(live, models):
    status, _, data = call(live, "GET", "/api/models")
    assert status == 200
    assert [m["name"] for m in data["models"]] == ["linear", "mlp"]
    assert data["models"][0]["input_shape"] == [1, 28, 28] and data["models"][1]["input_shape"] == [784]
    assert data["models"][1]["parameters"] == models[1].model.n_params() == 784 * 16 + 16 + 16 * 10 + 10
    assert data["threshold"] == 0.6
    assert data["testset"] == {"available": True, "size": 40, "error": None}


# --- predict ----------------------------------------------------------------
def test_predict_runs_the_same_preprocessing_and_model_as_digitnet_predict(live, models):
    img = digit_image()
    data = predict(live, image=data_url(img))
    expected_input = to_mnist(img)
    assert data["blank"] is False
    np.testing.assert_allclose(data["input"], expected_input, atol=1e-3)
    assert len(data["models"]) == 2
    for answer, model in zip(data["models"], models):
        expected = model.model.predict_proba(model_inputs(expected_input[None], model.model))[0]
        assert answer["name"] == model.name
        np.testing.assert_allclose(answer["probabilities"], expected, atol=1e-4)
        assert answer["prediction"] == int(expected.argmax())
        assert answer["confidence"] == pytest.approx(expected.max())
        assert answer["unsure"] == (expected.max() < 0.6)
        assert np.asarray(answer["saliency"]).shape == (28, 28)


def test_saliency_of_a_linear_model_is_the_weight_column_of_its_top_class(live, models):
    data = predict(live, image=data_url(digit_image()))
    answer = data["models"][0]
    weights = models[0].model.layers[1].params["weight"]  # (784, 10)
    expected = weights[:, answer["prediction"]].reshape(28, 28)
    np.testing.assert_allclose(answer["saliency"], expected, atol=1e-3 * np.abs(expected).max())


def test_saliency_of_an_mlp_matches_central_differences(live, models):
    data = predict(live, image=data_url(digit_image()))
    answer, net = data["models"][1], models[1].model
    x = np.asarray(data["input"], dtype=np.float64).reshape(1, 784)
    top, eps = answer["prediction"], 1e-5
    numeric = np.empty(784)
    for i in range(784):
        step = np.zeros((1, 784))
        step[0, i] = eps
        numeric[i] = (net.forward(x + step)[0, top] - net.forward(x - step)[0, top]) / (2 * eps)
    np.testing.assert_allclose(np.ravel(answer["saliency"]), numeric, atol=1e-3 * np.abs(numeric).max())


def test_transparent_rgba_and_opaque_drawings_give_the_same_input(live):
    opaque = predict(live, image=data_url(digit_image()))
    transparent = predict(live, image=data_url(digit_image(transparent=True)))
    np.testing.assert_allclose(transparent["input"], opaque["input"], atol=0.02)


def test_other_image_formats_and_sizes_are_accepted(live):
    png = predict(live, image=data_url(digit_image()))
    for img, fmt in (
        (digit_image(size=100, mode="RGB"), "JPEG"),
        (digit_image(size=600), "PNG"),
        (digit_image(size=64, mode="RGB"), "BMP"),
    ):
        data = predict(live, image=data_url(img, fmt))
        assert data["blank"] is False
        assert np.abs(np.subtract(data["input"], png["input"])).mean() < 0.08


def test_pixels_in_0_1_and_0_255_scales_agree_at_any_size(live):
    img = np.asarray(digit_image(size=90), dtype=np.float64)
    unit = predict(live, pixels=(img / 255).tolist())
    bytes_ = predict(live, pixels=img.tolist())
    np.testing.assert_allclose(unit["input"], bytes_["input"], atol=1e-3)
    assert [m["prediction"] for m in unit["models"]] == [m["prediction"] for m in bytes_["models"]]
    assert np.asarray(unit["input"]).shape == (28, 28)
    rectangular = predict(live, pixels=np.asarray(digit_image(size=120))[10:70].tolist())
    assert np.asarray(rectangular["input"]).shape == (28, 28) and not rectangular["blank"]


def test_blank_drawing_is_not_a_digit(live):
    data = predict(live, image=data_url(Image.new("L", (280, 280), "white")))
    assert data["blank"] is True
    assert all(m["unsure"] for m in data["models"])
    assert np.count_nonzero(data["input"]) == 0
    assert predict(live, pixels=[[0.0] * 28] * 28)["blank"] is True


def test_threshold_in_the_request_decides_unsure(live):
    sure = predict(live, image=data_url(digit_image()), threshold=0)
    unsure = predict(live, image=data_url(digit_image()), threshold=1)
    assert sure["threshold"] == 0 and not any(m["unsure"] for m in sure["models"])
    assert all(m["unsure"] for m in unsure["models"] if m["confidence"] < 1)


def test_concurrent_predictions_agree(live):
    body = {"image": data_url(digit_image())}
    results, errors = [], []

    def worker():
        try:
            results.append(call(live, "POST", "/api/predict", body)[2]["models"])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 8
    assert all(r == results[0] for r in results)


def test_keep_alive_connection_serves_several_requests(live):
    conn = http.client.HTTPConnection(live.host, live.port, timeout=20)
    body = json.dumps({"image": data_url(digit_image())})
    for _ in range(3):
        conn.request("POST", "/api/predict", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200 and len(json.loads(response.read())["models"]) == 2
    conn.close()


# --- save -------------------------------------------------------------------
def test_save_writes_the_original_png_and_appends_labels_csv(models, tmp_path):
    server = LiveServer(DrawingApp(models, None, save_dir=tmp_path / "mine"))
    try:
        url = data_url(digit_image())
        first = call(server, "POST", "/api/save", {"image": url, "label": 7})[2]
        second = call(server, "POST", "/api/save", {"image": url, "label": 1})[2]
        jpeg = call(server, "POST", "/api/save", {"image": data_url(digit_image(mode="RGB"), "JPEG"), "label": 3})[2]
    finally:
        server.close()
    assert re.fullmatch(r"\d{8}-\d{6}-\d{6}(-\d+)?_7\.png", first["file"])
    assert second["file"].endswith("_1.png") and second["count"] == 2 and jpeg["count"] == 3
    folder = tmp_path / "mine"
    assert (folder / first["file"]).read_bytes() == base64.b64decode(url.split(",", 1)[1])
    assert Image.open(folder / jpeg["file"]).format == "PNG"
    lines = (folder / "labels.csv").read_text().splitlines()
    assert lines == ["file,label", f"{first['file']},7", f"{second['file']},1", f"{jpeg['file']},3"]


# --- test set ---------------------------------------------------------------
def test_testset_item_has_image_label_and_every_models_guess(live, models, testset_arrays):
    images, labels = testset_arrays
    status, _, data = call(live, "GET", "/api/testset/3")
    assert status == 200
    assert data["index"] == 3 and data["size"] == 40 and data["label"] == labels[3]
    assert np.array_equal(data["image"], images[3])
    for answer, model in zip(data["models"], models):
        p = model.model.predict_proba(model_inputs(images[3:4], model.model))[0]
        assert answer["prediction"] == p.argmax() and answer["correct"] == (p.argmax() == labels[3])
        np.testing.assert_allclose(answer["probabilities"], p, atol=1e-4)


def test_testset_mistakes_are_the_indices_the_model_gets_wrong(live, models, testset_arrays):
    images, labels = testset_arrays
    for model in models:
        status, _, data = call(live, "GET", f"/api/testset/mistakes?model={model.name}")
        guesses = model.model.predict_proba(model_inputs(images, model.model)).argmax(axis=1)
        assert status == 200 and data["model"] == model.name
        assert data["indices"] == np.flatnonzero(guesses != labels).tolist()
        assert data["accuracy"] == pytest.approx(np.mean(guesses == labels))


def test_missing_mnist_makes_the_testset_endpoints_say_so(models, tmp_path):
    server = LiveServer(DrawingApp(models, TestSet.from_mnist(tmp_path / "empty")))
    try:
        info = call(server, "GET", "/api/models")[2]["testset"]
        item = call(server, "GET", "/api/testset/0")
        mistakes = call(server, "GET", "/api/testset/mistakes?model=mlp")
        drawing = call(server, "POST", "/api/predict", {"image": data_url(digit_image())})
    finally:
        server.close()
    assert info["available"] is False and "MNIST" in info["error"]
    assert item[0] == 503 and "MNIST test set is not available" in item[2]["error"]
    assert mistakes[0] == 503 and "MNIST" in mistakes[2]["error"]
    assert drawing[0] == 200  # drawing still works


def test_real_mnist_testset(models, mnist_path):
    testset = TestSet.from_mnist(mnist_path)
    assert testset.status() == {"available": True, "size": 10000, "error": None}
    item = testset.item(0, models)
    assert item["label"] == 7 and len(item["models"]) == 2 and np.asarray(item["image"]).shape == (28, 28)
