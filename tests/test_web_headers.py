"""Security headers on every response the web edge writes: pages, errors, static files, the
API, feeds, the live stream. No inline script anywhere, so the policy needs no 'unsafe-inline'."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from newswire.testing import LOOPBACK
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from test_api import seed

TEMPLATES = Path(__file__).resolve().parent.parent / "src" / "newswire" / "web" / "templates"


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def assert_hardened(response: httpx.Response, what: str) -> None:
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    directives = {d.strip().split()[0]: d.strip().split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("script-src") == ["'self'"], (what, csp)
    assert directives.get("frame-ancestors") == ["'none'"], (what, csp)
    assert directives.get("default-src") == ["'none'"] and directives.get("object-src") == ["'none'"], (what, csp)
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, (what, csp)
    assert headers.get("x-frame-options") == "DENY", what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("referrer-policy") == "same-origin", what


def test_every_kind_of_response_carries_the_security_headers(store, monkeypatch):
    seed(store)
    with TestClient(create_app(store, LOOPBACK), base_url="http://localhost") as client:
        for path in ("/", "/articles/1", "/sources", "/search?q=ferry", "/stories",
                     "/static/newswire.js", "/static/newswire.css", "/static/missing.js", "/api/v1/articles",
                     "/api/v1/articles/999999", "/feed.atom", "/healthz", "/metrics", "/openapi.json",
                     "/no/such/page", "/?before=x"):
            assert_hardened(client.get(path), path)
        assert_hardened(client.post("/sources/1/pause", headers={"Origin": "http://evil.test"}), "403")
        assert_hardened(client.delete("/"), "405")

        def bug(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(store, "list_articles", bug)
        crashed = client.get("/")
        assert crashed.status_code == 500
        assert_hardened(crashed, "500")


def test_the_live_stream_carries_the_security_headers(store):
    seed(store)
    app = create_app(store, LOOPBACK)
    app.state.live_poll_seconds = 0.05
    with WebServer(app) as server, httpx.Client(timeout=10) as client:
        with client.stream("GET", server.url("/live")) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert_hardened(stream, "/live")


def test_api_docs_load_nothing_from_elsewhere(store):
    """The interactive docs pulled their JavaScript from a CDN; they are gone, the document stays."""
    with TestClient(create_app(store, LOOPBACK), base_url="http://localhost") as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").json()["info"]["title"] == "Newswire"


def test_images_load_only_from_here_when_the_media_proxy_is_on(store):
    with TestClient(create_app(store, LOOPBACK), base_url="http://localhost") as client:
        assert "img-src 'self' data: https: http:" in client.get("/").headers["content-security-policy"]
    proxied = LOOPBACK.with_changes(media_proxy=True)
    with TestClient(create_app(store, proxied), base_url="http://localhost") as client:
        assert "img-src 'self' data:;" in client.get("/").headers["content-security-policy"] + ";"


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_hold_no_inline_script_or_handlers(template):
    text = (TEMPLATES / template).read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text, flags=re.I), template
    assert not re.search(r"\son[a-z]+\s*=", text, flags=re.I), template
    assert "javascript:" not in text.lower() and "style=" not in text, template
