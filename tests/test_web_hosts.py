"""Allowed hosts (DNS rebinding): a request whose Host header names this server by a name it
was not given answers a plain 400, on every path, before any route runs."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from newswire.testing import LOOPBACK
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from newswire.web.hosts import HostPolicy
from test_api import seed

PATHS = ["/", "/articles/1", "/sources", "/healthz", "/metrics", "/api/v1/articles", "/feed.atom",
         "/static/newswire.css", "/openapi.json", "/no/such/page"]


@pytest.fixture
def store(sqlite_store):
    seed(sqlite_store)
    return sqlite_store


def answer(store, host: str, path: str = "/healthz", settings=LOOPBACK, **kwargs) -> httpx.Response:
    with TestClient(create_app(store, settings, **kwargs), base_url="http://localhost") as client:
        return client.get(path, headers={"Host": host})


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:5000", "[::1]",
                                  "[::1]:8080", "LOCALHOST", "localhost."])
def test_loopback_names_are_allowed_by_default(store, host):
    assert answer(store, host).status_code == 200


@pytest.mark.parametrize("host", ["evil.test", "rebind.attacker.example:8080", "localhost.evil.test",
                                  "127.0.0.1.nip.io", "127.0.0.2", "[::2]", "", "localhost:x", "[::1", "a b",
                                  "localhost@evil.test", "evil.test#localhost"])
def test_other_hosts_get_a_plain_400_that_says_nothing_of_the_server(store, host):
    for path in PATHS:
        response = answer(store, host, path)
        assert response.status_code == 400, (host, path)
        assert response.headers["content-type"].startswith("text/plain")
        assert "Newswire" not in response.text and (not host or host not in response.text)
        assert response.headers["x-frame-options"] == "DENY"


def test_a_post_from_a_wrong_host_changes_nothing(store):
    source = store.list_sources()[0]
    with TestClient(create_app(store, LOOPBACK), base_url="http://localhost") as client:
        refused = client.post(f"/sources/{source.id}/pause", headers={"Host": "evil.test"})
    assert refused.status_code == 400 and store.get_source(source.id).enabled


def test_the_base_url_host_and_the_bound_address_are_allowed(store):
    settings = LOOPBACK.with_changes(base_url="https://news.example.org")
    assert answer(store, "news.example.org", settings=settings).status_code == 200
    assert answer(store, "news.example.org:443", settings=settings).status_code == 200
    assert answer(store, "other.example.org", settings=settings).status_code == 400
    assert answer(store, "192.168.1.20:8080", bound_hosts=("192.168.1.20",)).status_code == 200
    assert answer(store, "192.168.1.21:8080", bound_hosts=("192.168.1.20",)).status_code == 400
    assert answer(store, "[fd00::5]:8080", bound_hosts=("fd00::5",)).status_code == 200


def test_a_wildcard_bind_allows_nothing_more(store):
    for wildcard in ("0.0.0.0", "::", ""):
        assert answer(store, "192.168.1.20", bound_hosts=(wildcard,)).status_code == 400
        assert answer(store, "0.0.0.0", bound_hosts=(wildcard,)).status_code == 400


def test_configured_hosts_replace_the_defaults(store):
    settings = LOOPBACK.with_changes(allowed_hosts=("news.example.org", "wire.example.org:8443"))
    assert answer(store, "news.example.org:8080", settings=settings).status_code == 200
    assert answer(store, "wire.example.org:8443", settings=settings).status_code == 200
    assert answer(store, "wire.example.org:80", settings=settings).status_code == 400
    assert answer(store, "localhost", settings=settings).status_code == 400
    anything = LOOPBACK.with_changes(allowed_hosts=("*",))
    assert answer(store, "whatever.example", settings=anything).status_code == 200


def test_policy_matches_names_and_ports():
    policy = HostPolicy.of(LOOPBACK.with_changes(allowed_hosts=("News.Example.org", "[::1]:8080")))
    assert policy.allows("news.example.org") and policy.allows("NEWS.example.org.:443")
    assert policy.allows("[::1]:8080") and not policy.allows("[::1]:8081") and not policy.allows("[::1]")
    assert not policy.allows(None) and not policy.allows("news.example.org:99999")


def test_a_real_server_refuses_a_rebound_name(store):
    with WebServer(create_app(store, LOOPBACK)) as server, httpx.Client(timeout=10) as client:
        assert client.get(server.url("/healthz")).status_code == 200
        rebound = client.get(server.url("/sources"), headers={"Host": "attacker.example"})
        assert rebound.status_code == 400 and "Sources" not in rebound.text
