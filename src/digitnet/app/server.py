"""The drawing app's HTTP server: the standard library's ThreadingHTTPServer, JSON in and out.

    server = make_server(DrawingApp(models, ...), host="127.0.0.1", port=0)   # port 0: any free port
    print(url_of(server)); server.serve_forever()

Routes: ``GET /`` (the page), ``GET /static/<file>`` (its script and style), and the JSON API of
digitnet.app.api. Every answer that is not a page asset is JSON; every error is
``{"error": "..."}`` with a 4xx status naming the problem (413 for a body over MAX_BODY bytes,
415 for a POST that is not application/json), or 500 when the server itself failed — it logs
the traceback and keeps serving. POSTs must be JSON and same-origin, so other web sites open in
the browser cannot drive the API.
"""

from __future__ import annotations

import json
import sys
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from digitnet.app.api import ApiError, DrawingApp

STATIC_DIR = Path(__file__).with_name("static")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
MAX_BODY = 2 * 1024 * 1024  # bytes; a 280x280 canvas PNG is ~10 kB
MAX_DRAIN = 64 * 1024 * 1024  # a refused body up to this size is read and dropped before answering 413
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
ROUTES = {  # path -> allowed methods (/static/<file> and /api/testset/<N> are matched in route())
    "/": ("GET", "HEAD"), "/index.html": ("GET", "HEAD"), "/api/models": ("GET",), "/api/predict": ("POST",),
    "/api/save": ("POST",), "/api/testset/mistakes": ("GET",), "/api/insides": ("POST",),
}


class Handler(BaseHTTPRequestHandler):
    """One request; ``self.server.app`` is the DrawingApp."""

    protocol_version = "HTTP/1.1"  # keep-alive: live prediction sends many small requests
    server_version = "digitnet-draw"
    timeout = 30  # seconds a silent connection may stay open
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall

    # --- answers -------------------------------------------------------
    def send_json(self, status: int, obj) -> None:
        body = json.dumps(obj, allow_nan=False, separators=(",", ":")).encode("utf-8")
        self.send_bytes(status, body, "application/json; charset=utf-8")

    def send_bytes(self, status: int, body: bytes, content_type: str, headers=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in headers:
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code, message=None, explain=None):
        """The base class's own errors (bad request line, unknown method, ...) as JSON too."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self.close_connection = True
        self.send_json(code, {"error": message or phrase})

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if not self.server.quiet:
            super().log_message(format, *args)

    # --- methods -------------------------------------------------------
    def do_GET(self):
        self.handle_safely()

    def do_POST(self):
        self.handle_safely()

    do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def handle_safely(self) -> None:
        try:
            status, obj = self.route()
            if obj is not None:
                self.send_json(status, obj)
        except ApiError as exc:
            self.send_json(exc.status, {"error": exc.message})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # the server must survive anything a request causes
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            try:
                self.send_json(500, {"error": f"internal server error: {type(exc).__name__}: {exc}"})
            except OSError:
                pass

    # --- routing -------------------------------------------------------
    def route(self) -> tuple[int, object]:
        url = urlsplit(self.path)
        path, app = url.path, self.server.app
        self.check_host()
        if path.startswith("/static/"):
            allowed = ("GET", "HEAD")
        elif path.startswith("/api/testset/") and path not in ROUTES:
            allowed = ("GET",)
        else:
            allowed = ROUTES.get(path)
        if allowed is None:
            raise ApiError(404, f"no such page or endpoint: {path!r}")
        if self.command not in allowed:
            self.close_connection = True
            self.send_json_with_allow(allowed)
            return 405, None
        if path in ("/", "/index.html"):
            return self.send_static("index.html")
        if path.startswith("/static/"):
            return self.send_static(path[len("/static/"):])
        if path == "/api/models":
            return 200, app.models_info()
        if path == "/api/predict":
            return 200, app.predict(self.read_json())
        if path == "/api/insides":
            return 200, app.insides(self.read_json())
        if path == "/api/save":
            return 200, app.save(self.read_json())
        if path == "/api/testset/mistakes":
            return 200, app.testset_mistakes(parse_qs(url.query))
        return 200, app.testset_item(path[len("/api/testset/"):])

    def check_host(self) -> None:
        """On a loopback address, refuse Host names other than loopback ones (DNS rebinding)."""
        if self.server.server_address[0] not in LOOPBACK_NAMES:
            return
        host = urlsplit("//" + self.headers.get("Host", "")).hostname
        if host not in LOOPBACK_NAMES:
            raise ApiError(403, f"Host {self.headers.get('Host')!r} is not this computer; open the app at "
                                "http://127.0.0.1:<port>/")

    def send_json_with_allow(self, allowed) -> None:
        body = json.dumps({"error": f"method {self.command} is not allowed on {urlsplit(self.path).path}; "
                                    f"use {' or '.join(allowed)}"}).encode("utf-8")
        self.send_bytes(405, body, "application/json; charset=utf-8", [("Allow", ", ".join(allowed))])

    def send_static(self, name: str) -> tuple[int, None]:
        files = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file()}  # exact names: no ../ tricks
        if name not in files or files[name].suffix not in CONTENT_TYPES:
            raise ApiError(404, f"no such file: /static/{name}")
        self.send_bytes(200, files[name].read_bytes(), CONTENT_TYPES[files[name].suffix])
        return 200, None

    def read_json(self):
        """The request body parsed as JSON, after checking origin, type and size."""
        origin = self.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != self.headers.get("Host"):
            raise ApiError(403, f"requests from origin {origin!r} are not allowed")
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self.close_connection = True
            raise ApiError(415, f"Content-Type must be application/json, got {content_type or 'none'!r}")
        if self.headers.get("Transfer-Encoding") or self.headers.get("Content-Length") is None:
            self.close_connection = True
            raise ApiError(411, "send the body with a Content-Length header (chunked bodies are not accepted)")
        length_text = self.headers["Content-Length"]
        if not length_text.isdigit():
            self.close_connection = True
            raise ApiError(400, f"Content-Length must be a non-negative integer, got {length_text!r}")
        length = int(length_text)
        if length > MAX_BODY:
            self.close_connection = True  # the unread body must not be taken as the next request
            if length <= MAX_DRAIN:
                self.drain(length)  # so the client, still sending, reads the answer instead of a reset
            raise ApiError(413, f"request body is {length} bytes; the limit is {MAX_BODY} bytes")
        raw = self.rfile.read(length)
        if len(raw) != length:
            self.close_connection = True
            raise ApiError(400, f"request body ended after {len(raw)} of {length} bytes")
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, f"request body is not valid JSON: {exc}") from None


    def drain(self, length: int) -> None:
        """Read and drop ``length`` body bytes (stops early if the client goes quiet)."""
        self.connection.settimeout(2)
        try:
            while length > 0:
                chunk = self.rfile.read(min(length, 1 << 16))
                if not chunk:
                    break
                length -= len(chunk)
        except OSError:
            pass


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed")


class DrawingServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the app; request threads never keep the process alive."""

    daemon_threads = True

    def __init__(self, address, app: DrawingApp, quiet: bool = True):
        self.app = app
        self.quiet = quiet
        super().__init__(address, Handler)


def make_server(app: DrawingApp, host: str = "127.0.0.1", port: int = 0, quiet: bool = True) -> DrawingServer:
    """A bound, not yet serving, server (``port=0`` picks a free port: see ``url_of``)."""
    return DrawingServer((host, port), app, quiet=quiet)


def url_of(server: DrawingServer) -> str:
    host, port = server.server_address[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"
