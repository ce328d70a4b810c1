"""Run an ASGI app on a real socket on 127.0.0.1 in a background thread, for browser and API
tests that need a real server (Playwright, SSE, schemathesis against a live URL)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


class WebServer:
    """``with WebServer(app) as server: server.url("/")``."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0):
        if port == 0:
            with socket.socket() as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
        self.base_url = f"http://{host}:{port}"
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> "WebServer":
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("web server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
