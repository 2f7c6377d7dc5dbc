"""The drawing app's HTTP server: the standard library's ThreadingHTTPServer, JSON in and out.

    server = make_server(DrawingApp(models, ...), host="127.0.0.1", port=0)   # port 0: any free port
    print(url_of(server)); server.serve_forever()

Routes: ``GET /`` (the page), ``GET /static/<file>`` (its script and style), and the JSON API of
digitnet.app.api. Every answer that is not a page asset is JSON; every error is
``{"error": "..."}`` with a 4xx status naming the problem in one line (400 bad input, 408 too slow,
411/413/415 for a body that is not sized, too large or not JSON, 503 too many connections), or
500 when the server itself failed — only then is a traceback logged, and it keeps serving.
POSTs must be JSON and same-origin, so other web sites open in the browser cannot drive the API.
JSON answers never hold NaN or infinity (they become null).

Limits (``ServerLimits``; ``digitnet draw`` sets the save quotas, see digitnet.app.api.SaveLimits):

    max_body              2 MiB      request body bytes (Content-Length, ASCII digits only)
    max_json_depth        32         nesting of the request JSON
    request_seconds       30         total time to receive one request (line, headers, body)
    idle_seconds          10         silence allowed while waiting for a request on a kept-alive connection
    body_silence_seconds  2          silence allowed inside a body (a body shorter than its length: 400 fast)
    max_connections       64         connections served at once; more are answered 503 at once
    backlog               128        connections the kernel queues before accept
"""

from __future__ import annotations

import io
import json
import math
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from digitnet.app.api import ApiError, DrawingApp

STATIC_DIR = Path(__file__).with_name("static")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
MAX_BODY = 2 * 1024 * 1024  # bytes; a 280x280 canvas PNG is ~10 kB
MAX_DRAIN = 64 * 1024 * 1024  # a refused body up to this size is read and dropped before answering 413


@dataclass(frozen=True)
class ServerLimits:
    """How much one client may ask of the server (module docstring)."""

    max_body: int = MAX_BODY
    max_json_depth: int = 32
    request_seconds: float = 30.0
    idle_seconds: float = 10.0
    body_silence_seconds: float = 2.0
    max_connections: int = 64
    backlog: int = 128


class RequestTooSlow(TimeoutError):
    """The client took longer than the request's time limit."""


class _DeadlineSocketIO(socket.SocketIO):
    """A socket reader that gives each request a total deadline, not only a per-read silence limit."""

    def __init__(self, sock, handler):
        super().__init__(sock, "rb")
        sock._io_refs += 1  # as socket.makefile does; close() gives the reference back
        self.handler = handler

    def readinto(self, buffer):
        remaining = self.handler.deadline - time.monotonic()
        if remaining <= 0:
            raise RequestTooSlow(f"the request took longer than {self.handler.limits.request_seconds:g} s")
        self._sock.settimeout(min(remaining, self.handler.silence))
        try:
            return super().readinto(buffer)
        except (TimeoutError, socket.timeout):
            if time.monotonic() >= self.handler.deadline:
                raise RequestTooSlow(
                    f"the request took longer than {self.handler.limits.request_seconds:g} s"
                ) from None
            raise


LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
ROUTES = {  # path -> allowed methods (/static/<file> and /api/testset/<N> are matched in route())
    "/": ("GET", "HEAD"),
    "/index.html": ("GET", "HEAD"),
    "/api/models": ("GET",),
    "/api/predict": ("POST",),
    "/api/save": ("POST",),
    "/api/testset/mistakes": ("GET",),
    "/api/insides": ("POST",),
}


class Handler(BaseHTTPRequestHandler):
    """One request; ``self.server.app`` is the DrawingApp."""

    protocol_version = "HTTP/1.1"  # keep-alive: live prediction sends many small requests
    server_version = "digitnet-draw"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall

    def setup(self):
        self.limits: ServerLimits = self.server.limits
        self.timeout = self.limits.idle_seconds
        super().setup()
        self.rfile.close()
        self.rfile = io.BufferedReader(_DeadlineSocketIO(self.connection, self))
        self.deadline = time.monotonic() + self.limits.request_seconds
        self.silence = self.limits.idle_seconds

    def handle_one_request(self):
        """One request, received within ``request_seconds``; a too-slow one is answered 408."""
        self.deadline = time.monotonic() + self.limits.request_seconds
        self.silence = self.limits.idle_seconds
        try:
            super().handle_one_request()
        except (TimeoutError, socket.timeout) as exc:
            self.close_connection = True
            if getattr(self, "command", None) and not getattr(self, "_answered", False):
                try:
                    self.send_json(408, {"error": f"request timed out: {exc or 'the client went silent'}"})
                except OSError:
                    pass
        except (ConnectionError, OSError):
            self.close_connection = True

    # --- answers -------------------------------------------------------
    def send_json(self, status: int, obj) -> None:
        body = json.dumps(json_safe(obj), allow_nan=False, separators=(",", ":")).encode("utf-8")
        self.send_bytes(status, body, "application/json; charset=utf-8")

    def send_bytes(self, status: int, body: bytes, content_type: str, headers=()) -> None:
        self._answered = True
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
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # an unparsable request line: still answer with a status line
        self.send_json(code, {"error": " ".join(str(message or phrase).split())[:300]})

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if not self.server.quiet:
            text = (format % args).encode("ascii", "backslashreplace").decode("ascii")  # odd bytes in paths
            sys.stderr.write(f"{self.address_string()} - - [{self.log_date_time_string()}] {text}\n")

    # --- methods -------------------------------------------------------
    def do_GET(self):
        self.handle_safely()

    def do_POST(self):
        self.handle_safely()

    do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def handle_safely(self) -> None:
        self._answered = False
        try:
            status, obj = self.route()
            if obj is not None:
                self.send_json(status, obj)
        except ApiError as exc:
            self.send_json(exc.status, {"error": " ".join(exc.message.split())})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except (TimeoutError, socket.timeout) as exc:  # a client too slow: its fault, no traceback
            self.close_connection = True
            try:
                self.send_json(408, {"error": f"request timed out: {exc or 'the client went silent'}"})
            except OSError:
                pass
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
            return self.send_static(path[len("/static/") :])
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
        return 200, app.testset_item(path[len("/api/testset/") :])

    def check_host(self) -> None:
        """On a loopback address, refuse Host names other than loopback ones (DNS rebinding)."""
        if self.server.server_address[0] not in LOOPBACK_NAMES:
            return
        host = urlsplit("//" + self.headers.get("Host", "")).hostname
        if host not in LOOPBACK_NAMES:
            raise ApiError(
                403, f"Host {self.headers.get('Host')!r} is not this computer; open the app at http://127.0.0.1:<port>/"
            )

    def send_json_with_allow(self, allowed) -> None:
        body = json.dumps(
            {"error": f"method {self.command} is not allowed on {urlsplit(self.path).path}; use {' or '.join(allowed)}"}
        ).encode("utf-8")
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
        length_text = self.headers["Content-Length"].strip()
        if not (length_text.isascii() and length_text.isdigit() and len(length_text) <= 18):
            self.close_connection = True
            raise ApiError(
                400, f"Content-Length must be a non-negative integer in ASCII digits, got {length_text[:40]!r}"
            )
        length = int(length_text)
        max_body = self.limits.max_body
        if length > max_body:
            self.close_connection = True  # the unread body must not be taken as the next request
            if length <= MAX_DRAIN:
                self.drain(length)  # so the client, still sending, reads the answer instead of a reset
            raise ApiError(413, f"request body is {length} bytes; the limit is {max_body} bytes")
        raw = self.read_body(length)
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except RecursionError:
            raise ApiError(
                400, f"request JSON is nested too deeply; the limit is {self.limits.max_json_depth} levels"
            ) from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, f"request body is not valid JSON: {' '.join(str(exc).split())[:200]}") from None
        if json_depth(body, self.limits.max_json_depth) > self.limits.max_json_depth:
            raise ApiError(400, f"request JSON is nested more than {self.limits.max_json_depth} levels deep")
        return body

    def read_body(self, length: int) -> bytes:
        """Exactly ``length`` body bytes; 400 as soon as the client stops short (body_silence_seconds)."""
        self.silence = self.limits.body_silence_seconds
        parts, got = [], 0
        try:
            while got < length:
                chunk = self.rfile.read1(min(length - got, 1 << 16))
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
        except RequestTooSlow:
            raise
        except (TimeoutError, socket.timeout):
            pass
        finally:
            self.silence = self.limits.idle_seconds
        if got != length:
            self.close_connection = True
            raise ApiError(400, f"request body ended after {got} of {length} bytes")
        return b"".join(parts)

    def drain(self, length: int) -> None:
        """Read and drop ``length`` body bytes (stops early if the client goes quiet)."""
        self.silence = self.limits.body_silence_seconds
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


def json_depth(value, limit: int, depth: int = 0) -> int:
    """Nesting depth of parsed JSON (stops counting past ``limit``)."""
    if depth > limit or not isinstance(value, (list, dict)):
        return depth
    items = value.values() if isinstance(value, dict) else value
    return max((json_depth(v, limit, depth + 1) for v in items), default=depth + 1)


def json_safe(value):
    """``value`` with every NaN or infinity replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
    b"Connection: close\r\nContent-Length: 63\r\n\r\n"
    b'{"error":"too many connections at once; try again in a moment"}'
)


class DrawingServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the app; request threads never keep the process alive; at most
    ``limits.max_connections`` are served at once (more get 503 straight away)."""

    daemon_threads = True

    def __init__(self, address, app: DrawingApp, quiet: bool = True, limits: ServerLimits | None = None):
        self.app = app
        self.quiet = quiet
        self.limits = limits or ServerLimits()
        self.request_queue_size = self.limits.backlog
        self._slots = threading.BoundedSemaphore(self.limits.max_connections)
        super().__init__(address, Handler)

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(1)
                request.sendall(BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def make_server(
    app: DrawingApp, host: str = "127.0.0.1", port: int = 0, quiet: bool = True, limits: ServerLimits | None = None
) -> DrawingServer:
    """A bound, not yet serving, server (``port=0`` picks a free port: see ``url_of``)."""
    return DrawingServer((host, port), app, quiet=quiet, limits=limits)


def url_of(server: DrawingServer) -> str:
    host, port = server.server_address[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"
