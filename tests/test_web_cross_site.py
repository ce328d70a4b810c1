"""Cross-site requests cannot change anything: every state-changing route (found by walking the
app's route table, so a new one cannot be forgotten) refuses a request another site could make."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from newswire.testing import LOOPBACK
from newswire.testing.signin import sign_in
from newswire.web.app import create_app
from test_api import seed

SAFE = {"GET", "HEAD", "OPTIONS"}
HOST = "localhost:8080"
CROSS_SITE = [
    {"Origin": "http://evil.test"},
    {"Origin": "null"},  # sandboxed frames, data: pages, some redirects
    {"Origin": "http://localhost:3000"},  # another service on this machine: same site, not same origin
    {"Origin": "https://localhost:8080"},
    {"Origin": "http://127.0.0.1:8080"},  # an allowed name, but not the origin this request was sent to
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Referer": "http://evil.test/page"},
    {"Referer": "http://localhost:3000/"},
    {"Origin": f"http://{HOST}", "Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-origin", "Referer": "http://evil.test/"},
]
SAME_ORIGIN = [
    {"Origin": f"http://{HOST}", "Sec-Fetch-Site": "same-origin", "Referer": f"http://{HOST}/sources"},
    {"Sec-Fetch-Site": "none"},  # typed into the address bar
    {"Referer": f"http://{HOST}/sources"},
    {},  # no browser signals at all (curl): passes here; the permission checks decide
]


@pytest.fixture
def store(sqlite_store):
    seed(sqlite_store)
    return sqlite_store


def mutating_routes(app) -> list[tuple[str, str]]:
    """(method, path with every parameter filled) for each state-changing route of the app,
    included routers and mounts too (a mount answers any method)."""
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            found += [(method, route.path + "/anything") for method in ("POST", "PUT", "PATCH", "DELETE")]
            continue
        for method in sorted(set(route.methods or ()) - SAFE):
            found.append((method, re.sub(r"\{[^}]+\}", "1", route.path)))
    return found


def snapshot(store) -> list[tuple]:
    return [(s.id, s.enabled, s.merge_stories, s.article_count) for s in store.list_sources()]


def test_every_mutating_route_refuses_a_cross_site_request(store):
    app = create_app(store, LOOPBACK)
    routes = mutating_routes(app)
    assert {("POST", "/sources"), ("POST", "/sources/1/remove")} <= set(routes)  # the walk finds them
    before = snapshot(store)
    with TestClient(app, base_url=f"http://{HOST}") as client:
        for method, path in routes:
            for headers in CROSS_SITE:
                response = client.request(method, path, headers=headers, data={"url": "http://evil.test/feed"})
                assert response.status_code == 403, (method, path, headers, response.status_code)
    assert snapshot(store) == before


def test_refusals_speak_the_path_s_language(store):
    with TestClient(create_app(store, LOOPBACK), base_url=f"http://{HOST}") as client:
        page = client.post("/sources/1/pause", headers={"Origin": "null"})
        assert page.status_code == 403 and "<h1>Forbidden</h1>" in page.text
        api = client.post("/api/v1/articles", headers={"Origin": "null"})
        assert api.status_code == 403 and api.json()["status"] == 403


@pytest.mark.parametrize("headers", SAME_ORIGIN)
def test_same_origin_forms_still_work(store, headers):
    source = store.list_sources()[0]
    with TestClient(create_app(store, LOOPBACK), base_url=f"http://{HOST}") as client:
        sign_in(client, store)
        paused = client.post(f"/sources/{source.id}/pause", headers=headers, follow_redirects=False)
    assert paused.status_code == 303 and store.get_source(source.id).enabled is False


def test_behind_a_proxy_the_public_origin_is_this_site(store):
    """A reverse proxy forwards to 127.0.0.1 with its own Host; the browser's Origin is the base URL."""
    settings = LOOPBACK.with_changes(base_url="https://news.example.org")
    source = store.list_sources()[0]
    with TestClient(create_app(store, settings), base_url="http://127.0.0.1:8080") as client:
        sign_in(client, store)
        ok = client.post(f"/sources/{source.id}/pause", follow_redirects=False,
                         headers={"Origin": "https://news.example.org", "Referer": "https://news.example.org/sources"})
        assert ok.status_code == 303
        other = client.post(f"/sources/{source.id}/resume", headers={"Origin": "https://evil.example.org"})
        assert other.status_code == 403
    assert store.get_source(source.id).enabled is False
