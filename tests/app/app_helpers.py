"""Helpers for the drawing app's tests: drawn digits as data URLs, tiny models, a synthetic test set, a live server."""

import base64
import http.client
import io
import json
import threading

import numpy as np
from PIL import Image, ImageDraw

from digitnet.app import AppModel, make_server, url_of
from digitnet.nn import Dense, Flatten, Sequential, Tanh, modelfile

SEVEN = [(70, 60), (210, 60), (120, 230)]  # a "7" on a 280x280 canvas


def digit_image(size=280, mode="L", transparent=False, points=SEVEN, width=18) -> Image.Image:
    """A digit drawn with PIL: dark ink on white (or on a transparent canvas)."""
    scale = size / 280
    if transparent:
        img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        ink = (17, 17, 17, 255)
    else:
        img = Image.new(mode, (size, size), "white")
        ink = "black" if mode != "L" else 17
    ImageDraw.Draw(img).line(
        [(x * scale, y * scale) for x, y in points], fill=ink, width=round(width * scale), joint="curve"
    )
    return img


def data_url(img: Image.Image, fmt="PNG") -> str:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def tiny_models(folder, seed=0):
    """Two untrained models saved and loaded back: 'linear' (image layout) and 'mlp' (flat layout, float64)."""
    rng = np.random.default_rng(seed)
    linear = Sequential([Flatten(), Dense(10)], input_shape=(1, 28, 28), seed=seed)
    linear.layers[1].params["bias"][...] = rng.normal(0, 0.5, 10)
    mlp = Sequential([Dense(16), Tanh(), Dense(10)], input_shape=(784,), dtype="float64", seed=seed + 1)
    paths = [modelfile.save(linear, folder / "linear" / "model.npz"), modelfile.save(mlp, folder / "mlp.npz")]
    return [AppModel.load("linear", paths[0]), AppModel.load("mlp", paths[1])]


def synthetic_testset(n=40, seed=0):
    """Blurry blobs with random labels: enough to check indexing and mistakes, no MNIST needed."""
    rng = np.random.default_rng(seed)
    images = (rng.random((n, 28, 28)) ** 4 * 255).astype(np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    return images, labels


class LiveServer:
    """A DrawingServer answering in a background thread; ``url`` is its address."""

    def __init__(self, app):
        self.app = app
        self.server = make_server(app, host="127.0.0.1", port=0)
        self.host, self.port = self.server.server_address[:2]
        self.url = url_of(self.server)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def call(live, method, path, body=None, headers=None, raw=None):
    """(status, headers, JSON body or raw bytes) of one request; ``body`` is sent as JSON."""
    conn = http.client.HTTPConnection(live.host, live.port, timeout=20)
    headers = dict(headers or {})
    if body is not None:
        raw = json.dumps(body).encode("utf-8")
    if raw is not None:
        headers.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=raw, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.getheader("Content-Type", "").startswith("application/json"):
        data = json.loads(data)
    return response.status, response, data


def predict(live, **body):
    status, _, data = call(live, "POST", "/api/predict", body)
    assert status == 200, data
    return data
