"""Feeds out: absolute links come from NEWSWIRE_BASE_URL when it is set, whatever Host a client
sends; without it a Host-built response is never offered to shared caches; Last-Modified is never
in the future."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from fastapi.testclient import TestClient

from newswire.testing import LOOPBACK
from newswire.web.app import create_app
from test_api import T0, entry, ok, seed

FORMATS = ["atom", "rss", "json"]
BASE = "https://news.example.org/wire"
HOSTS = ("testserver", "evil.example")


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def client_for(store, **settings) -> TestClient:
    settings.setdefault("allowed_hosts", HOSTS)
    return TestClient(create_app(store, LOOPBACK.with_changes(**settings)), base_url="http://evil.example")


def our_links(body: str) -> list[str]:
    """Every absolute URL in a feed that is not an article's own link at its publisher."""
    return [u for u in re.findall(r"https?://[^\s\"'<>]+", body)
            if not u.startswith(("http://example.test", "http://www.w3.org", "http://purl.org",
                                 "https://jsonfeed.org"))]


@pytest.mark.parametrize("fmt", FORMATS)
def test_links_start_at_the_configured_base_url_whatever_the_host(store, fmt):
    seed(store)
    with client_for(store, base_url=BASE) as client:
        for path in (f"/feed.{fmt}?q=harbour", f"/sources/1/feed.{fmt}", f"/authors/Ada%20Moreau/feed.{fmt}"):
            response = client.get(path, headers={"X-Forwarded-Host": "evil.example"})
            assert response.status_code == 200, response.text
            links = our_links(response.text)
            assert links and all(u.startswith(BASE + "/") for u in links), links
            assert "evil.example" not in response.text
            assert response.headers["cache-control"] == "public, max-age=60"
        body = client.get(f"/feed.{fmt}?q=harbour").text
        assert f"{BASE}/feed.{fmt}?q=harbour" in body and f"{BASE}/articles/1" in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_story_feed_follows_the_base_url_too(store, fmt):
    seed(store)
    story = store.create_story("Harbour vote", T0)
    store.assign_stories([(1, story), (4, story)])
    with client_for(store, base_url=BASE) as client:
        response = client.get(f"/stories/{story}/feed.{fmt}")
        assert response.status_code == 200, response.text
        links = our_links(response.text)
        assert links and all(u.startswith(BASE + "/") for u in links), links
        assert f"{BASE}/stories/{story}" in response.text


@pytest.mark.parametrize("path", ["/feed.atom", "/sources/1/feed.rss", "/feed.json"])
def test_without_a_base_url_host_built_feeds_stay_out_of_shared_caches(store, path):
    seed(store)
    with client_for(store) as client:
        response = client.get(path)
        assert response.status_code == 200
        assert "http://evil.example/articles/1" in response.text  # the address it was asked at
        assert response.headers["cache-control"] == "private, max-age=60"
        assert "host" in response.headers["vary"].lower()
        again = client.get(path, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["cache-control"] == "private, max-age=60" and "host" in again.headers["vary"].lower()


def test_last_modified_is_never_in_the_future(store):
    source = store.add_source("http://example.test/future.xml", name="Future")
    store.save_refresh(source.id, ok(), [entry("f1", 0, updated=T0 + timedelta(days=365 * 3000))])
    with client_for(store) as client:
        response = client.get("/feed.atom")
        assert response.status_code == 200
        sent = parsedate_to_datetime(response.headers["last-modified"])
        assert sent <= datetime.now(timezone.utc)
        assert sent.year < 3000
        again = client.get("/feed.atom", headers={"If-Modified-Since": response.headers["last-modified"]})
        assert again.status_code == 304
        time.sleep(1.05)  # into another second: the same rendering keeps the same Last-Modified
        later = client.get("/feed.atom", headers={"If-Modified-Since": response.headers["last-modified"]})
        assert later.status_code == 304 and later.headers["last-modified"] == response.headers["last-modified"]
