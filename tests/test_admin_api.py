"""The admin API: POST/PATCH/DELETE /api/v1/sources with a Bearer token, over real HTTP on
127.0.0.1 (feeds from the loopback feed server), on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from newswire import accounts
from newswire.testing import LOOPBACK, samples
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app

PASSWORD = "admin password"


@pytest.fixture
def api(store):
    admin = accounts.create_user(store, "ana", PASSWORD, admin=True)
    reader = accounts.create_user(store, "bo", PASSWORD)
    tokens = {"admin": accounts.create_token(store, admin.id, "t"), "reader": accounts.create_token(store, reader.id, "t")}
    with WebServer(create_app(store, LOOPBACK)) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_add_change_and_delete_a_source(store, api, feed_server):
    client, tokens = api
    outlet = samples.make_outlets(1, seed=4, base_url=feed_server.base_url)[0]
    url = feed_server.add(f"/{outlet.slug}/feed", samples.rss(outlet, samples.make_articles(outlet, 3, seed=1)))
    admin = bearer(tokens["admin"])
    added = client.post("/api/v1/sources", json={"url": url, "category": "News/Canada", "name": "Observer"},
                        headers=admin)
    assert added.status_code == 201, added.text
    source = added.json()
    assert (source["name"], source["category"], source["feed_url"]) == ("Observer", "News/Canada", url)
    assert store.article_count(source["id"]) == 3  # fetched at once, like the web form's
    again = client.post("/api/v1/sources", json={"url": url}, headers=admin)
    assert again.status_code == 409 and again.json()["status"] == 409

    changed = client.patch(f"/api/v1/sources/{source['id']}", headers=admin,
                           json={"name": "The Observer", "enabled": False, "full_text": True,
                                 "merge_stories": False, "category": ""})
    assert changed.status_code == 200
    body = changed.json()
    assert (body["name"], body["enabled"], body["full_text"], body["category"]) == ("The Observer", False, True, None)
    assert store.get_source(source["id"]).merge_stories is False

    assert client.delete(f"/api/v1/sources/{source['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/sources/{source['id']}", headers=admin).status_code == 404
    assert client.patch(f"/api/v1/sources/{source['id']}", json={"name": "x"}, headers=admin).status_code == 404
    assert store.list_sources() == []


def test_not_a_feed_is_422_and_bad_bodies_are_400(api, feed_server):
    client, tokens = api
    admin = bearer(tokens["admin"])
    page = feed_server.add("/plain.html", "<html><body>no feeds here</body></html>", "text/html")
    assert client.post("/api/v1/sources", json={"url": page}, headers=admin).status_code == 422
    for body in ({}, {"url": ""}, {"url": "x", "surprise": 1}, {"url": 5}, [1, 2]):
        assert client.post("/api/v1/sources", json=body, headers=admin).status_code == 400, body
    assert client.post("/api/v1/sources", content=b"{not json", headers={**admin, "Content-Type": "application/json"}
                       ).status_code == 400
    for change in ({"enabled": None}, {"name": None}, {"enabled": "maybe"}, {"poll_interval": 5}):
        assert client.patch("/api/v1/sources/1", json=change, headers=admin).status_code in (400, 404), change


def test_only_admins_may_change_sources(api, store):
    client, tokens = api
    source = store.add_source("http://127.0.0.1:9/feed", name="Kept")
    for method, path, body in (("POST", "/api/v1/sources", {"url": "http://127.0.0.1:9/other"}),
                               ("PATCH", f"/api/v1/sources/{source.id}", {"name": "Renamed"}),
                               ("DELETE", f"/api/v1/sources/{source.id}", None)):
        anonymous = client.request(method, path, json=body)
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
        wrong = client.request(method, path, json=body, headers=bearer("nw_not-a-token"))
        assert wrong.status_code == 401
        reader = client.request(method, path, json=body, headers=bearer(tokens["reader"]))
        assert reader.status_code == 403 and reader.json()["message"] == "Only an admin can change this."
    assert [s.name for s in store.list_sources()] == ["Kept"]


def test_a_bearer_request_passes_the_cross_site_check(api, store):
    """A token is not a browser's ambient credential: an Origin header does not refuse it."""
    client, tokens = api
    source = store.add_source("http://127.0.0.1:9/feed", name="Kept")
    done = client.patch(f"/api/v1/sources/{source.id}", json={"name": "Renamed"},
                        headers={**bearer(tokens["admin"]), "Origin": "http://elsewhere.test"})
    assert done.status_code == 200 and store.get_source(source.id).name == "Renamed"
