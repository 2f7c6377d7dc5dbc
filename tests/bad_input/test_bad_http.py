"""Bad HTTP requests to the drawing app: every one a 4xx JSON answer with one line, no traceback logged,
limits on time, size, depth, connections and saving; the server keeps serving."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

from badinput_helpers import tiny_model
from digitnet.app import AppModel, DrawingApp, TestSet, make_server
from digitnet.app.api import SaveLimits
from digitnet.app.server import ServerLimits

LIMITS = ServerLimits(
    request_seconds=3.0, idle_seconds=2.0, body_silence_seconds=0.5, max_connections=8, max_json_depth=32
)


class Live:
    def __init__(self, app, limits=LIMITS):
        self.server = make_server(app, port=0, limits=limits)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _app(tmp_path, save_limits=None, weights_scale=None):
    model = tiny_model(optimizer=False)
    if weights_scale is not None:
        for _, p, _ in model.parameters():
            p[...] = weights_scale
    path = model.save(tmp_path / "m.npz")
    rng = np.random.default_rng(0)
    testset = TestSet((rng.random((20, 28, 28)) * 255).astype(np.uint8), rng.integers(0, 10, 20).astype(np.uint8))
    return DrawingApp([AppModel.load("m", path)], testset, save_dir=tmp_path / "drawings", save_limits=save_limits)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = Live(_app(tmp_path_factory.mktemp("app")))
    yield server
    server.close()


def exchange(port, raw: bytes, timeout=10.0) -> tuple[int, dict, float]:
    """Send raw bytes, read the whole answer: (status, JSON body, seconds taken)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = [
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            ]
            if length and len(body) >= length[0]:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body), time.monotonic() - start


def post(path, body: bytes, headers=None) -> bytes:
    headers = {
        "Host": "127.0.0.1",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Connection": "close",
        **(headers or {}),
    }
    head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    try:
        return head.encode("latin-1") + body  # as http.server decodes header bytes
    except UnicodeEncodeError:
        return head.encode("utf-8") + body


def get(path: bytes) -> bytes:
    return b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def data_url(img, fmt="PNG"):
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()


def drawing(mode="L", size=64):
    img = Image.new("L", (size, size), 255)
    ImageDraw.Draw(img).line([(20, 10), (20, 54)], fill=0, width=8)
    return img.convert(mode)


def bomb_png(width, height):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def _pixels_with(value):
    return ('{"pixels": [' + ",".join(["[" + ",".join([value] + ["0"] * 27) + "]"] * 28) + "]}").encode()


DEEP = b"[" * 100_000 + b"]" * 100_000
BAD_REQUESTS = [  # (id, raw request, status, fragment)
    ("json-100k-deep", post("/api/predict", DEEP), 400, "nested too deeply"),
    ("json-40-deep", post("/api/predict", b'{"pixels": ' + b"[" * 40 + b"]" * 40 + b"}"), 400, "nested more than"),
    ("pixel-1e400", post("/api/predict", _pixels_with("1e400")), 400, "non-finite"),
    ("pixel-huge-int", post("/api/predict", _pixels_with("9" * 400)), 400, "too large"),
    ("pixel-5000-digit-int", post("/api/predict", _pixels_with("9" * 5000)), 400, "not valid JSON"),
    ("pixel-negative", post("/api/predict", _pixels_with("-3")), 400, "out of range"),
    ("pixel-string", post("/api/predict", _pixels_with('"a"')), 400, "numbers only"),
    ("pixel-nan", post("/api/predict", _pixels_with("NaN")), 400, "not valid JSON"),
    ("content-length-superscript", post("/api/predict", b"{}", {"Content-Length": "\u00b2"}), 400, "ASCII digits"),
    ("content-length-arabic", post("/api/predict", b"{}", {"Content-Length": "\u0663"}), 400, "ASCII digits"),
    ("content-length-negative", post("/api/predict", b"{}", {"Content-Length": "-2"}), 400, "ASCII digits"),
    ("content-length-float", post("/api/predict", b"{}", {"Content-Length": "2.0"}), 400, "ASCII digits"),
    ("content-length-hex", post("/api/predict", b"{}", {"Content-Length": "0x2"}), 400, "ASCII digits"),
    ("content-length-huge", post("/api/predict", b"{}", {"Content-Length": "9" * 40}), 400, "ASCII digits"),
    ("content-length-over-limit", post("/api/predict", b"{}", {"Content-Length": str(10**9)}), 413, "the limit is"),
    ("body-shorter", post("/api/predict", b'{"pix', {"Content-Length": "500"}), 400, "ended after 5 of 500"),
    ("body-empty", post("/api/predict", b"", {"Content-Length": "100"}), 400, "ended after 0 of 100"),
    ("no-content-type", post("/api/predict", b"{}", {"Content-Type": "text/plain"}), 415, "application/json"),
    ("chunked", post("/api/predict", b"{}", {"Transfer-Encoding": "chunked"}), 411, "Content-Length"),
    ("body-not-utf8", post("/api/predict", b'{"a": "\xff"}'), 400, "not valid JSON"),
    ("body-array", post("/api/predict", b"[]"), 400, "JSON object"),
    ("path-non-utf8", get(b"/api/\xff\xfe"), 404, "no such page"),
    ("path-non-utf8-testset", get(b"/api/testset/\xff"), 400, "non-negative integer"),
    ("path-percent", get(b"/api/testset/%FF%00"), 400, "non-negative integer"),
    ("testset-5000-digits", get(b"/api/testset/" + b"9" * 5000), 404, "out of range"),
    ("testset-10-digits", get(b"/api/testset/1234567890"), 404, "out of range"),
    ("testset-superscript", get("/api/testset/\u00b2".encode("utf-8")), 400, "non-negative integer"),
    ("testset-negative", get(b"/api/testset/-1"), 400, "non-negative integer"),
    ("testset-past-end", get(b"/api/testset/20"), 404, "out of range"),
    ("mistakes-no-model", get(b"/api/testset/mistakes"), 400, "exactly one model"),
    ("bad-method", b"BREW / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 501, "Unsupported method"),
    ("bad-request-line", b"GARBAGE\r\n\r\n", 400, "Bad request"),
    ("bad-http-version", b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 505, "Invalid HTTP version"),
    ("header-line-too-long", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431, ""),
    (
        "foreign-host",
        b"GET /api/models HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
        403,
        "not this computer",
    ),
    ("foreign-origin", post("/api/predict", b"{}", {"Origin": "http://evil.example"}), 403, "origin"),
    (
        "image-bomb",
        post(
            "/api/predict",
            json.dumps(
                {"image": "data:image/png;base64," + base64.b64encode(bomb_png(18000, 18000)).decode()}
            ).encode(),
        ),
        400,
        "too many pixels",
    ),
    (
        "image-too-big",
        post(
            "/api/predict",
            json.dumps({"image": "data:image/png;base64," + base64.b64encode(bomb_png(4000, 4000)).decode()}).encode(),
        ),
        400,
        "4000x4000",
    ),
    (
        "save-bad-label",
        post("/api/save", json.dumps({"image": data_url(drawing()), "label": 1.5}).encode()),
        400,
        "'label' must be",
    ),
    (
        "save-huge-label",
        post("/api/save", json.dumps({"image": data_url(drawing()), "label": 10**400}).encode()),
        400,
        "'label' must be an integer digit 0-9, got 1000000",
    ),
]


@pytest.mark.parametrize("raw,status,fragment", [c[1:] for c in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS])
def test_bad_requests_get_one_line_json_errors(live, capfd, raw, status, fragment):
    got, body, seconds = exchange(live.port, raw)
    assert got == status, body
    assert fragment in body["error"] and "\n" not in body["error"]
    assert seconds < 2.5  # answered at once, or after body_silence_seconds for a short body
    assert "Traceback" not in capfd.readouterr().err
    assert exchange(live.port, get(b"/api/models"))[0] == 200  # still serving


def test_slow_client_is_cut_off_by_the_total_time_limit(live, capfd):
    """One byte every 0.3 s never trips the silence limit (0.5 s); the total limit (3 s) ends it with 408."""
    body = json.dumps({"pixels": [[0] * 28] * 28}).encode()
    start, answer = time.monotonic(), b""
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sock.sendall(post("/api/predict", b"", {"Content-Length": str(len(body))}))
        for byte in body:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.3)
            sock.setblocking(False)
            try:
                answer += sock.recv(65536)
            except (BlockingIOError, ConnectionResetError):
                pass
            sock.setblocking(True)
            if answer or time.monotonic() - start > 8:
                break
    assert time.monotonic() - start < 6
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert "Traceback" not in capfd.readouterr().err


def test_slow_headers_are_cut_off(live):
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sock.sendall(b"GET /api/models HTTP/1.1\r\n")
        closed = False
        while time.monotonic() - start < 8:
            try:
                sock.sendall(b"X-a: b\r\n")
                time.sleep(0.25)
            except OSError:
                closed = True
                break
    assert closed and time.monotonic() - start < 6


def test_many_waiting_clients_do_not_block_others(live):
    """Idle connections beyond max_connections are answered 503 at once; the backlog is large."""
    assert live.server.request_queue_size == LIMITS.backlog
    idle = [socket.create_connection(("127.0.0.1", live.port), timeout=5) for _ in range(LIMITS.max_connections)]
    try:
        time.sleep(0.5)
        status, body, seconds = exchange(live.port, get(b"/api/models"))
        assert status == 503 and "too many connections" in body["error"] and seconds < 1
    finally:
        for s in idle:
            s.close()
    deadline = time.monotonic() + 5  # the slots come back as the idle handlers see their sockets close
    while exchange(live.port, get(b"/api/models"))[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_cmyk_and_odd_modes_can_be_saved(tmp_path):
    server = Live(_app(tmp_path))
    try:
        for mode, fmt in (
            ("CMYK", "JPEG"),
            ("YCbCr", "JPEG"),
            ("I;16", "PNG"),
            ("LA", "PNG"),
            ("P", "GIF"),
            ("1", "BMP"),
            ("RGBA", "WEBP"),
        ):
            raw = post("/api/save", json.dumps({"image": data_url(drawing(mode), fmt), "label": 3}).encode())
            status, body, _ = exchange(server.port, raw)
            assert status == 200, (mode, body)
            assert status == 200 and body["label"] == 3
        assert len(list((tmp_path / "drawings").glob("*.png"))) == 7
        assert not list((tmp_path / "drawings").glob(".tmp-*"))
    finally:
        server.close()


def test_save_rate_limit(tmp_path):
    server = Live(_app(tmp_path, SaveLimits(per_minute=3)))
    try:
        raw = post("/api/save", json.dumps({"image": data_url(drawing()), "label": 1}).encode())
        statuses = [exchange(server.port, raw)[0] for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        assert "per minute" in exchange(server.port, raw)[1]["error"]
    finally:
        server.close()


def test_save_disk_and_file_quotas(tmp_path):
    server = Live(_app(tmp_path, SaveLimits(max_files=2)))
    big = Live(_app(tmp_path / "b", SaveLimits(quota_bytes=100)))
    small = Live(_app(tmp_path / "c", SaveLimits(max_file_bytes=50)))
    try:
        raw = post("/api/save", json.dumps({"image": data_url(drawing()), "label": 1}).encode())
        assert [exchange(server.port, raw)[0] for _ in range(3)] == [200, 200, 507]
        status, body, _ = exchange(big.port, raw)
        assert status == 507 and "quota" in body["error"]
        status, body, _ = exchange(small.port, raw)
        assert status == 413 and "limit per saved drawing" in body["error"]
        assert not (tmp_path / "c" / "drawings").exists() or not list((tmp_path / "c" / "drawings").glob("*.png"))
    finally:
        for s in (server, big, small):
            s.close()


def test_saving_turned_off_with_zero_rate(tmp_path):
    server = Live(_app(tmp_path, SaveLimits(per_minute=0)))
    try:
        raw = post("/api/save", json.dumps({"image": data_url(drawing()), "label": 1}).encode())
        assert exchange(server.port, raw)[0] == 429
    finally:
        server.close()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_overflowing_model_never_sends_nan(tmp_path):
    """Weights of 1e30 overflow to inf/NaN inside the network; the answer is still valid JSON."""
    server = Live(_app(tmp_path, weights_scale=1e30))
    try:
        raw = post("/api/predict", json.dumps({"pixels": [[1] * 28] * 28}).encode())
        status, body, _ = exchange(server.port, raw)
        assert status in (200, 500)
        text = json.dumps(body)
        assert "NaN" not in text and "Infinity" not in text
    finally:
        server.close()


def test_nan_metric_does_not_break_the_models_endpoint(tmp_path):
    app = _app(tmp_path)
    app.models[0].model.metrics["val_loss"] = float("nan")
    server = Live(app)
    try:
        status, body, _ = exchange(server.port, get(b"/api/models"))
        assert status == 200 and body["models"][0]["metrics"]["val_loss"] is None
    finally:
        server.close()
