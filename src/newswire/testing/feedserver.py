"""A real HTTP server on 127.0.0.1 that serves feeds from memory.

Tests, benchmarks and the demo use it so that the fetcher talks to a real socket: conditional
GET, redirects, slow and endless bodies, gzip and wrong charsets behave as they do on the web.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    # sent after ``headers``: a header repeated on several lines (two Content-Encoding, say)
    repeated_headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    peer: tuple[str, int] | None = None  # the client's address and port: one per connection


Handler = Callable[[Request], Response]


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a fetcher refusing a huge body, a timeout) is no error here.

    Its listen backlog is a web server's (nginx: 511), not socketserver's 5: a fetcher opening
    16 connections at once found all but a few of its SYNs dropped, each retried a second later
    by the kernel, and an unchanged pass of 400 feeds (bench/ingest.py) measured that second."""

    request_queue_size = 512

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FeedServer:
    """Serve documents on 127.0.0.1:<port>. ``add`` publishes a static document with ETag and
    Last-Modified (answering 304 when they match); ``route`` installs any handler."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, record: bool = True):
        self._routes: dict[str, Handler] = {}
        self.requests: list[Request] = []  # every request, in order (unless ``record`` is False:
        self._record = record              # a server meant to run for hours keeps none)
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._serve(self)

            def do_HEAD(self) -> None:
                server._serve(self)

        self._httpd = _QuietServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> "FeedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "FeedServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def route(self, path: str, handler: Handler) -> str:
        with self._lock:
            self._routes[path] = handler
        return self.url(path)

    def add(self, path: str, body: bytes | str, content_type: str = "application/rss+xml; charset=utf-8",
            *, headers: dict[str, str] | None = None, gzip_body: bool = False,
            last_modified: float | None = None) -> str:
        """Publish a static document with validators; replaces what was at ``path``."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(last_modified or time.time(), usegmt=True)
        extra = dict(headers or {})

        def handler(request: Request) -> Response:
            if request.headers.get("if-none-match") == etag:
                return Response(304, b"", {"ETag": etag, **extra})
            out = {"Content-Type": content_type, "ETag": etag, "Last-Modified": modified, **extra}
            payload = data
            if gzip_body and "gzip" in request.headers.get("accept-encoding", ""):
                payload = gzip.compress(data)
                out["Content-Encoding"] = "gzip"
            return Response(200, payload, out)

        return self.route(path, handler)

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        request = Request(h.command, h.path, {k.lower(): v for k, v in h.headers.items()},
                          tuple(h.client_address[:2]))  # type: ignore[arg-type]
        with self._lock:
            if self._record:
                self.requests.append(request)
            handler = self._routes.get(h.path.split("?", 1)[0]) or self._routes.get(h.path)
        response = handler(request) if handler else Response(404, b"not found", {"Content-Type": "text/plain"})
        if response.delay:
            time.sleep(response.delay)
        try:
            self._write(h, response)
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _write(h: BaseHTTPRequestHandler, response: Response) -> None:
        h.send_response(response.status)
        streamed = not isinstance(response.body, (bytes, bytearray))
        for name, value in [*response.headers.items(), *response.repeated_headers]:
            h.send_header(name, value)
        if streamed:
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(len(response.body)))  # type: ignore[arg-type]
        h.end_headers()
        if h.command == "HEAD":
            return
        if not streamed:
            h.wfile.write(response.body)  # type: ignore[arg-type]
            return
        for chunk in response.body:  # type: ignore[union-attr]
            if chunk:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                h.wfile.flush()
        h.wfile.write(b"0\r\n\r\n")
