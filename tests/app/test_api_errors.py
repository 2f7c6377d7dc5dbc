"""Every kind of bad request to the drawing app gets a 4xx (or, for a server fault, 500) answer with a
JSON {"error": ...} naming the problem, and the server keeps serving."""

import base64
import http.client
import json
import socket

import pytest
from PIL import Image

from app_helpers import call, data_url, digit_image, predict
from digitnet.app.server import MAX_BODY

# --- every kind of bad request: 4xx with a JSON error naming the problem ------
TINY = data_url(Image.new("L", (4, 4), "white"))
HUGE = data_url(Image.new("L", (3000, 10), "white"))
TIFF = "data:image/png;base64," + data_url(digit_image(size=40), "TIFF").split(",", 1)[1]
NOT_IMAGE = "data:image/png;base64," + base64.b64encode(b"hello, this is not a picture").decode()
TRUNCATED = "data:image/png;base64," + base64.b64encode(base64.b64decode(data_url(digit_image())[22:])[:300]).decode()
OK_IMAGE = data_url(digit_image(size=40))
PIXELS = [[0] * 28] * 28

BAD_BODIES = [
    ("/api/predict", b"{not json", "not valid JSON"),
    ("/api/predict", b'{"pixels": NaN}', "not valid JSON"),
    ("/api/predict", b"\xff\xfe", "not valid JSON"),
    ("/api/predict", b"[1, 2]", "must be a JSON object"),
    ("/api/predict", b"{}", "exactly one of 'image'"),
    ("/api/predict", {"image": OK_IMAGE, "pixels": PIXELS}, "exactly one of 'image'"),
    ("/api/predict", {"image": OK_IMAGE, "colour": "red"}, "unknown field"),
    ("/api/predict", {"image": 5}, "must be a string data URL"),
    ("/api/predict", {"image": "hello"}, "must be a data URL"),
    ("/api/predict", {"image": "data:text/plain;base64,aGk="}, "must be a data URL"),
    ("/api/predict", {"image": "data:image/png;base64,@@@"}, "valid base64"),
    ("/api/predict", {"image": NOT_IMAGE}, "not a readable image"),
    ("/api/predict", {"image": TRUNCATED}, "damaged"),
    ("/api/predict", {"image": TIFF}, "is a TIFF file"),
    ("/api/predict", {"image": TINY}, "is 4x4 pixels"),
    ("/api/predict", {"image": HUGE}, "is 3000x10 pixels"),
    ("/api/predict", {"pixels": "abc"}, "list of rows"),
    ("/api/predict", {"pixels": []}, "list of rows"),
    ("/api/predict", {"pixels": [[0] * 28, [0] * 27] + [[0] * 28] * 26}, "row 1 has 27 values"),
    ("/api/predict", {"pixels": [[[0]] * 28] * 28}, "numbers only"),
    ("/api/predict", {"pixels": [["a"] * 28] * 28}, "numbers only"),
    ("/api/predict", {"pixels": [[True] * 28] * 28}, "numbers only"),
    ("/api/predict", {"pixels": [[-1] * 28] * 28}, "value -1 is out of range"),
    ("/api/predict", {"pixels": [[300] * 28] * 28}, "value 300 is out of range"),
    ("/api/predict", {"pixels": [[0] * 5] * 5}, "is 5x5 pixels"),
    (
        "/api/predict",
        b'{"pixels": [' + b",".join([b"[" + b",".join([b"1e400"] * 28) + b"]"] * 28) + b"]}",
        "non-finite",
    ),
    ("/api/predict", {"pixels": PIXELS, "threshold": 2}, "'threshold' must be a number between 0 and 1"),
    ("/api/predict", {"pixels": PIXELS, "threshold": "high"}, "'threshold' must be"),
    ("/api/save", {"image": OK_IMAGE, "label": 10}, "'label' must be an integer digit 0-9, got 10"),
    ("/api/save", {"image": OK_IMAGE, "label": "7"}, "'label' must be an integer"),
    ("/api/save", {"image": OK_IMAGE, "label": True}, "'label' must be an integer"),
    ("/api/save", {"image": OK_IMAGE}, "send {'image'"),
    ("/api/save", {"image": OK_IMAGE, "label": 1, "x": 0}, "unknown field"),
    ("/api/save", {"image": NOT_IMAGE, "label": 1}, "not a readable image"),
    ("/api/save", [], "must be a JSON object"),
]


@pytest.mark.parametrize("path,body,message", BAD_BODIES, ids=[m for _, _, m in BAD_BODIES])
def test_bad_bodies_get_400_naming_the_problem(live, path, body, message):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, response, data = call(live, "POST", path, raw=raw)
    assert status == 400, data
    assert response.getheader("Content-Type").startswith("application/json")
    assert message in data["error"]


BAD_REQUESTS = [
    ("GET", "/nope", {}, 404, "no such page"),
    ("GET", "/api/nope", {}, 404, "no such page or endpoint: '/api/nope'"),
    ("GET", "/api/testset/abc", {}, 400, "non-negative integer, got 'abc'"),
    ("GET", "/api/testset/-1", {}, 400, "non-negative integer"),
    ("GET", "/api/testset/40", {}, 404, "index 40 is out of range; expected 0..39"),
    ("GET", "/api/testset/mistakes", {}, 400, "exactly one model"),
    ("GET", "/api/testset/mistakes?model=a&model=b", {}, 400, "exactly one model"),
    ("GET", "/api/testset/mistakes?model=nope", {}, 404, "unknown model 'nope'"),
    ("GET", "/api/predict", {}, 405, "use POST"),
    ("POST", "/api/models", {}, 405, "use GET"),
    ("DELETE", "/api/save", {}, 405, "method DELETE is not allowed"),
    ("PUT", "/", {}, 405, "not allowed"),
    ("GET", "/api/models", {"Host": "evil.example:80"}, 403, "is not this computer"),
]


@pytest.mark.parametrize(
    "method,path,headers,code,message", BAD_REQUESTS, ids=[r[1] + " " + r[0] for r in BAD_REQUESTS]
)
def test_bad_paths_and_methods_get_json_errors(live, method, path, headers, code, message):
    status, response, data = call(live, method, path, headers=headers)
    assert status == code and message in data["error"]
    if code == 405:
        assert response.getheader("Allow") in ("GET", "POST", "GET, HEAD")


def raw_post(live, headers, body=b""):
    """POST /api/predict with exactly these headers (no defaults), returning (status, JSON)."""
    conn = http.client.HTTPConnection(live.host, live.port, timeout=20)
    conn.putrequest("POST", "/api/predict", skip_accept_encoding=True)
    for key, value in headers.items():
        conn.putheader(key, value)
    conn.endheaders(body or None)
    response = conn.getresponse()
    status, data = response.status, json.loads(response.read())
    conn.close()
    return status, data


JSON_TYPE = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "headers,code,message",
    [
        ({**JSON_TYPE, "Content-Length": str(10**9)}, 413, f"the limit is {MAX_BODY} bytes"),
        (JSON_TYPE, 411, "Content-Length"),
        ({**JSON_TYPE, "Transfer-Encoding": "chunked"}, 411, "chunked"),
        ({**JSON_TYPE, "Content-Length": "lots"}, 400, "Content-Length must be a non-negative integer"),
        ({"Content-Type": "text/plain", "Content-Length": "2"}, 415, "must be application/json, got 'text/plain'"),
        ({**JSON_TYPE, "Origin": "http://evil.example", "Content-Length": "2"}, 403, "origin"),
    ],
)
def test_bad_headers_get_json_errors(live, headers, code, message):
    status, data = raw_post(live, headers, b"{}" if headers.get("Content-Length") == "2" else b"")
    assert status == code and message in data["error"]


def test_oversized_body_is_refused_with_413(live):
    pixels = [[255] * 1200] * 1200  # about 5 MB of JSON
    status, _, data = call(live, "POST", "/api/predict", {"pixels": pixels})
    assert status == 413 and "limit" in data["error"]


def raw_exchange(live, request: bytes) -> str:
    with socket.create_connection((live.host, live.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("latin-1")


def test_malformed_requests_get_json_errors(live):
    reply = raw_exchange(live, b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n")
    assert reply.startswith("HTTP/1.1 431")
    assert "too long" in json.loads(reply.split("\r\n\r\n", 1)[1])["error"].lower()
    reply = raw_exchange(live, b"NONSENSE\r\n\r\n")  # no HTTP version: still a status line, then JSON
    assert reply.startswith("HTTP/1.1 400")
    assert "Bad request syntax" in json.loads(reply.split("\r\n\r\n", 1)[1])["error"]


def test_a_failing_model_gives_500_json_and_the_server_keeps_serving(live, models, monkeypatch, capsys):
    def broken(image28):
        raise RuntimeError("boom")

    monkeypatch.setattr(models[0], "_forward", broken)  # every answer of the model goes through its forward pass
    status, _, data = call(live, "POST", "/api/predict", {"image": data_url(digit_image())})
    assert status == 500 and data["error"] == "internal server error: RuntimeError: boom"
    assert "RuntimeError: boom" in capsys.readouterr().err  # the traceback is logged
    monkeypatch.undo()
    assert predict(live, image=data_url(digit_image()))["models"][0]["name"] == "linear"
