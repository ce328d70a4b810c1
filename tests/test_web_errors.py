"""The web's one error boundary: the same error answers with the same status on the pages, the
API, the feeds and the operations endpoints — an HTML page for readers, JSON for machines."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from newswire.errors import NotFound, StorageError
from newswire.testing import LOOPBACK
from newswire.web.app import create_app
from test_api import seed

PAGES = ["/", "/sources/1", "/articles/1", "/stories", "/stories/1", "/search?q=ferry", "/sources"]
MACHINES = ["/api/v1/articles", "/api/v1/articles/1", "/api/v1/sources", "/api/v1/stories",
            "/api/v1/stories/1", "/feed.atom", "/sources/1/feed.rss", "/stories/1/feed.json", "/metrics"]


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def web(store) -> TestClient:
    return TestClient(create_app(store, LOOPBACK), base_url="http://localhost")


def break_store(store, monkeypatch, error: Exception) -> None:
    """Every read of ``store`` raises ``error`` from now on."""
    def fail(*args, **kwargs):
        raise error

    for name in ("list_articles", "get_article", "get_source", "list_sources", "list_stories", "get_story",
                 "search", "last_article_id", "article_count", "story_articles", "author_name",
                 "list_stamps", "stamps_of", "get_articles"):
        monkeypatch.setattr(store, name, fail)


@pytest.mark.parametrize("path", PAGES + MACHINES)
def test_database_failure_is_503_everywhere_html_for_pages_json_for_machines(store, monkeypatch, path):
    seed(store)
    break_store(store, monkeypatch, StorageError("store: connection refused at /secret/path"))
    with web(store) as client:
        response = client.get(path)
    assert response.status_code == 503, path
    assert "/secret/path" not in response.text
    if path in MACHINES:
        assert response.json() == {"message": "the database is unavailable", "status": 503}
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert "<h1>Unavailable</h1>" in response.text


@pytest.mark.parametrize("path", PAGES + MACHINES)
def test_a_bug_is_a_bare_500_everywhere_and_never_leaks(store, monkeypatch, path):
    seed(store)
    break_store(store, monkeypatch, RuntimeError("secret internals"))
    with web(store) as client:  # raise_server_exceptions stays on: the boundary answers, nothing escapes
        response = client.get(path)
    assert response.status_code == 500, path
    assert "secret internals" not in response.text
    if path in MACHINES:
        assert response.json() == {"message": "internal server error", "status": 500}
    else:
        assert "<h1>Something went wrong</h1>" in response.text


def test_not_found_is_404_on_pages_and_json(store, monkeypatch):
    seed(store)
    break_store(store, monkeypatch, NotFound("store: no such thing"))
    with web(store) as client:
        for path in ("/articles/5", "/sources/5", "/stories/5"):
            page = client.get(path)
            assert page.status_code == 404 and "<h1>Not found</h1>" in page.text, path
        for path in ("/api/v1/articles/5", "/sources/5/feed.atom", "/api/v1/stories/5"):
            response = client.get(path)
            assert response.status_code == 404 and response.json()["status"] == 404, path


def test_bad_parameters_are_400_on_every_path_kind(store):
    seed(store)
    with web(store) as client:
        for path in ("/?before=1.x", "/stories?before=x", "/search?q=ferry&before=x", "/live?level=x"):
            response = client.get(path)
            assert response.status_code == 400, path
        for path in ("/api/v1/articles?before=x", "/feed.atom?source=x", "/api/v1/stories?before=x"):
            response = client.get(path)
            assert response.status_code == 400 and response.json()["status"] == 400, path


def test_wrong_method_is_405_with_allow_on_pages_and_json(store):
    with web(store) as client:
        page = client.delete("/search")
        assert page.status_code == 405 and "text/html" in page.headers["content-type"]
        assert "GET" in page.headers["allow"]
        api = client.put("/api/v1/articles")
        assert api.status_code == 405 and api.json()["status"] == 405 and "GET" in api.headers["allow"]
