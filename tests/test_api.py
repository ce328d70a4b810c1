"""The JSON API, /api/v1/...: shapes, filters, cursor paging while news arrives, JSON errors; on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from newswire.testing import LOOPBACK
from newswire.errors import StorageError
from newswire.models import Enclosure, Entry, SourceUpdate
from newswire.store import Store
from newswire.web.app import create_app

T0 = datetime(2025, 9, 17, 18, 56, tzinfo=timezone.utc)
DETAIL_KEYS = {"id", "title", "url", "source", "authors", "published_at", "updated_at", "summary",
               "content_html", "story_id", "duplicate_of"}
LIST_KEYS = DETAIL_KEYS - {"content_html"} | {"snippet"}
SOURCE_KEYS = {"id", "name", "feed_url", "site_url", "category", "enabled", "last_fetched_at", "last_status",
               "last_error", "consecutive_failures", "next_due_at", "article_count"}


def entry(guid: str, minutes: int, authors=("Ada Moreau",), text="harbour budget vote", **changes) -> Entry:
    values = dict(guid=guid, url=f"http://example.test/{guid}", title=f"Story {guid}", authors=authors,
                  published=T0 + timedelta(minutes=minutes), summary=f"Summary of {guid}",
                  content_html=f"<p>{text}</p>", text=text, snippet=text)
    values.update(changes)
    return Entry(**values)


def ok(at: datetime = T0, **changes) -> SourceUpdate:
    return SourceUpdate(fetched_at=at, status="ok", next_due_at=at + timedelta(minutes=30), **changes)


def seed(store: Store) -> dict[str, int]:
    """Two sources: the Gazette (3 articles, two authors on one) and the Post (1 article)."""
    a = store.add_source("http://example.test/gazette.xml", name="The Gazette", site_url="http://example.test/",
                         category="Local")
    b = store.add_source("http://example.test/post.xml", name="The Post")
    store.save_refresh(a.id, ok(), [
        entry("a1", 1, ("Ada Moreau", "Liam Okafor"), categories=("Local",),
              enclosures=(Enclosure("http://example.test/a1.jpg", "image/jpeg", 1234),), language="en"),
        entry("a2", 2, ("Omar Iqbal",), text="ferry schedule delayed"),
        entry("a3", 3, ()),
    ])
    store.save_refresh(b.id, ok(), [entry("b1", 4, ("ada  MOREAU",), text="harbour ferry vote")])
    return {"gazette": a.id, "post": b.id}


def guids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["url"].rsplit("/", 1)[1] for item in response.json()["items"]]


# articles

def test_list_shape_newest_first(store, client):
    ids = seed(store)
    body = client.get("/api/v1/articles").json()
    assert set(body) == {"items", "next"} and body["next"] is None
    assert [item["title"] for item in body["items"]] == ["Story b1", "Story a3", "Story a2", "Story a1"]
    for item in body["items"]:
        assert LIST_KEYS <= set(item) and "content_html" not in item
    last = body["items"][-1]
    assert last["source"] == {"id": ids["gazette"], "name": "The Gazette"}
    assert last["authors"] == ["Ada Moreau", "Liam Okafor"]
    assert last["published_at"] == "2025-09-17T18:57:00+00:00"
    assert (last["summary"], last["snippet"], last["story_id"], last["duplicate_of"]) == \
        ("Summary of a1", "harbour budget vote", None, None)
    assert datetime.fromisoformat(last["published_at"]).utcoffset() == timedelta(0)


def test_detail_has_exactly_the_documented_keys_and_content(store, client):
    seed(store)
    first = client.get("/api/v1/articles").json()["items"][-1]
    response = client.get(f"/api/v1/articles/{first['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    detail = response.json()
    assert DETAIL_KEYS <= set(detail)
    assert detail["content_html"] == "<p>harbour budget vote</p>"
    assert detail["categories"] == ["Local"]
    assert detail["enclosures"] == [{"url": "http://example.test/a1.jpg", "type": "image/jpeg", "length": 1234}]
    assert detail["language"] == "en"
    assert {k: v for k, v in first.items() if k in DETAIL_KEYS} == {k: detail[k] for k in DETAIL_KEYS - {"content_html"}}


def test_filters(store, client):
    ids = seed(store)
    assert guids(client.get(f"/api/v1/articles?source={ids['gazette']}")) == ["a3", "a2", "a1"]
    assert guids(client.get("/api/v1/articles", params={"author": "ADA moreau"})) == ["b1", "a1"]
    assert guids(client.get("/api/v1/articles", params={"q": "ferry"})) == ["b1", "a2"]
    assert guids(client.get("/api/v1/articles", params={"q": '"budget vote"'})) == ["a3", "a1"]
    assert guids(client.get("/api/v1/articles", params={"q": "ferry", "source": ids["post"]})) == ["b1"]
    assert guids(client.get("/api/v1/articles", params={"author": "Ada Moreau", "source": ids["gazette"]})) == ["a1"]
    assert guids(client.get("/api/v1/articles", params={"q": "fer*"})) == ["b1", "a2"]
    assert guids(client.get("/api/v1/articles?story=1")) == []
    assert guids(client.get("/api/v1/articles?source=999")) == []
    assert guids(client.get("/api/v1/articles", params={"author": "Nobody"})) == []


def test_limit_default_and_bounds(store, client):
    source = store.add_source("http://example.test/many.xml", name="Many")
    store.save_refresh(source.id, ok(), [entry(f"m{i}", i) for i in range(60)])
    page = client.get("/api/v1/articles").json()
    assert len(page["items"]) == 50 and page["next"]
    assert len(client.get("/api/v1/articles?limit=200").json()["items"]) == 60
    assert len(client.get("/api/v1/articles?limit=1").json()["items"]) == 1
    for bad in ("0", "201", "-1", "ten", ""):
        response = client.get(f"/api/v1/articles?limit={bad}")
        assert response.status_code == 400, bad
        body = response.json()
        assert set(body) == {"message", "status"} and body["status"] == 400 and "limit" in body["message"]


def test_paging_neither_skips_nor_repeats_while_news_arrives(store, client):
    source = store.add_source("http://example.test/a.xml", name="A")
    store.save_refresh(source.id, ok(), [entry(f"g{i}", i) for i in range(25)])
    first = client.get("/api/v1/articles?limit=10").json()
    seen = guids_of(first)
    # Arrivals between pages: one newer than everything, one at the same time as a seen item, one
    # older than the page being read next.
    store.save_refresh(source.id, ok(), [entry("late-new", 100), entry("same-time", 20), entry("old-one", -5)])
    cursor = first["next"]
    while cursor:
        page = client.get("/api/v1/articles", params={"limit": 10, "before": cursor}).json()
        seen += guids_of(page)
        cursor = page["next"]
    assert seen[:-1] == [f"g{i}" for i in range(24, -1, -1)]
    assert seen[-1] == "old-one"  # older than the cursor: a later page shows it, once
    assert len(seen) == len(set(seen))
    assert guids_of(client.get("/api/v1/articles?limit=1").json()) == ["late-new"]


def guids_of(page: dict) -> list[str]:
    return [item["url"].rsplit("/", 1)[1] for item in page["items"]]


@pytest.mark.parametrize("cursor", ["abc", "1.x", "x.1", "..", "1", "1.99999999999", "9" * 30 + ".1", "1.\x00"])
def test_malformed_cursor_is_400(store, client, cursor):
    seed(store)
    response = client.get("/api/v1/articles", params={"before": cursor})
    assert response.status_code == 400
    assert response.json()["status"] == 400 and "before" in response.json()["message"]


@pytest.mark.parametrize("query", ["source=abc", "source=0", "source=99999999999", "story=x", "limit=1.5",
                                   "author=a%00b", "q=%00"])
def test_bad_parameters_are_400_json(store, client, query):
    response = client.get(f"/api/v1/articles?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"message", "status"} and body["status"] == 400 and body["message"]


def test_missing_article_is_404_json(store, client):
    response = client.get("/api/v1/articles/123")
    assert response.status_code == 404
    assert response.json() == {"message": "no article 123", "status": 404}
    assert client.get("/api/v1/articles/abc").status_code == 400
    assert client.get("/api/v1/articles/0").status_code == 400


# sources

def test_sources_with_health(store, client):
    ids = seed(store)
    store.add_source("http://example.test/new.xml", name="Brand New")
    items = client.get("/api/v1/sources").json()["items"]
    assert [s["name"] for s in items] == ["The Gazette", "The Post", "Brand New"]
    for item in items:
        assert SOURCE_KEYS <= set(item)
    gazette = items[0]
    assert gazette == {**gazette, "id": ids["gazette"], "feed_url": "http://example.test/gazette.xml",
                       "site_url": "http://example.test/", "category": "Local", "enabled": True,
                       "last_fetched_at": "2025-09-17T18:56:00+00:00", "last_status": "ok", "last_error": None,
                       "consecutive_failures": 0, "next_due_at": "2025-09-17T19:26:00+00:00", "article_count": 3,
                       "health": "ok"}
    assert items[2]["health"] == "new" and items[2]["last_fetched_at"] is None
    assert client.get(f"/api/v1/sources/{ids['post']}").json() == items[1]


def test_source_health_failing_and_disabled(store, client):
    ids = seed(store)
    store.save_refresh(ids["post"], SourceUpdate(fetched_at=T0, status="timeout", next_due_at=T0,
                                                 consecutive_failures=2, error="fetch: timed out"))
    store.set_enabled(ids["gazette"], False)
    post = client.get(f"/api/v1/sources/{ids['post']}").json()
    assert (post["health"], post["last_status"], post["last_error"], post["consecutive_failures"]) == \
        ("failing", "timeout", "fetch: timed out", 2)
    gazette = client.get(f"/api/v1/sources/{ids['gazette']}").json()
    assert (gazette["health"], gazette["enabled"]) == ("disabled", False)


def test_missing_source_is_404_json(store, client):
    response = client.get("/api/v1/sources/77")
    assert response.status_code == 404
    assert response.json() == {"message": "no source 77", "status": 404}


# failures and the schema

def test_database_failure_is_503_and_a_bug_is_a_bare_500(store, client, monkeypatch):
    seed(store)

    def broken(*args, **kwargs):
        raise StorageError("store: connection refused at /secret/path")

    monkeypatch.setattr(store, "list_articles", broken)
    response = client.get("/api/v1/articles")
    assert response.status_code == 503
    assert response.json() == {"message": "the database is unavailable", "status": 503}

    def bug(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(store, "get_article", bug)
    with TestClient(create_app(store, LOOPBACK), base_url="http://localhost", raise_server_exceptions=False) as quiet:
        response = quiet.get("/api/v1/articles/1")
    assert response.status_code == 500
    assert response.json() == {"message": "internal server error", "status": 500}


def test_openapi_documents_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/v1/articles", "/api/v1/articles/{article_id}", "/api/v1/sources",
                 "/api/v1/sources/{source_id}", "/feed.atom", "/feed.rss", "/feed.json",
                 "/sources/{source_id}/feed.atom", "/authors/{name}/feed.json", "/categories/{name}/feed.rss",
                 "/healthz", "/metrics"):
        assert "get" in paths[path], path
    schemas = spec["components"]["schemas"]
    assert DETAIL_KEYS <= set(schemas["ArticleOut"]["properties"])
    assert LIST_KEYS <= set(schemas["ArticleSummaryOut"]["properties"])
    assert SOURCE_KEYS <= set(schemas["SourceOut"]["properties"])
    params = {p["name"]: p for p in paths["/api/v1/articles"]["get"]["parameters"]}
    assert set(params) == {"source", "author", "q", "category", "story", "before", "limit", "copies"}
    assert (params["limit"]["schema"]["minimum"], params["limit"]["schema"]["maximum"]) == (1, 200)
    assert "400" in paths["/api/v1/articles"]["get"]["responses"]
    assert "404" in paths["/api/v1/articles/{article_id}"]["get"]["responses"]
