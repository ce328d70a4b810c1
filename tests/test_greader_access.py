"""The Google Reader API's sign-in, lists and admin calls, driven over real HTTP on 127.0.0.1 as
an app drives them (ClientLogin, token, user-info, subscription/list, tag/list, quickadd, edit),
with the refusals the reference servers give; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from newswire import accounts
from newswire.store import Store
from newswire.sync.greader_auth import APP_TOKENS_KEPT, TOKEN_LABEL
from newswire.testing.webserver import WebServer
from greader_client import PASSWORD, GReader, serving_two_readers, signed_in

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour News</title>
<link>http://127.0.0.1/</link><item><title>Ferry vote</title><link>http://127.0.0.1/ferry</link>
<guid>ferry</guid><pubDate>Wed, 17 Sep 2025 18:56:00 GMT</pubDate><description>Vote tonight</description></item>
</channel></rss>"""


@pytest.fixture
def server(store: Store) -> Iterator[WebServer]:
    with serving_two_readers(store) as web:
        yield web


@pytest.fixture
def ada(server: WebServer) -> Iterator[GReader]:
    with signed_in(server, "ada") as app:
        yield app


@pytest.fixture
def ben(server: WebServer) -> Iterator[GReader]:
    with signed_in(server, "ben") as app:
        yield app


# signing in

@pytest.mark.parametrize("base", ["/api/greader", "/api/greader.php"])
def test_client_login_then_token_then_user_info(server: WebServer, base: str) -> None:
    app = GReader(server.base_url, base)
    response = app.client_login("ada", PASSWORD)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    lines = dict(line.split("=", 1) for line in response.text.splitlines())
    assert set(lines) == {"SID", "LSID", "Auth"} and lines["Auth"]
    app.auth = lines["Auth"]
    write_token = app.get("/reader/api/0/token")
    assert write_token.status_code == 200 and len(write_token.text.strip()) >= 20
    info = app.json("/reader/api/0/user-info")
    assert info["userName"] == "ada" and info["userId"] == info["userProfileId"]


def test_client_login_by_get_and_as_json(server: WebServer) -> None:
    app = GReader(server.base_url)
    response = app.http.get("/accounts/ClientLogin", params={"Email": "ben", "Passwd": PASSWORD, "output": "json"})
    assert response.status_code == 200
    document = response.json()
    assert document["Auth"] and document["SID"] == document["Auth"]
    app.auth = document["Auth"]
    assert app.json("/reader/api/0/user-info")["userName"] == "ben"


def test_the_login_token_is_an_api_token(store: Store, server: WebServer) -> None:
    """`newswire user token` gives a token an app can use as its auth= too."""
    user = accounts.find_user(store, "ben")
    assert user is not None
    app = GReader(server.base_url)
    app.auth = accounts.create_token(store, user.id, "phone")
    assert app.json("/reader/api/0/user-info")["userName"] == "ben"


def test_signing_in_again_and_again_keeps_a_bounded_number_of_app_tokens(store: Store, server: WebServer) -> None:
    """Some apps sign in on every sync: the least recently used app tokens go, the newest stay,
    and tokens made by hand are not touched."""
    user = accounts.find_user(store, "ben")
    phone = accounts.create_token(store, user.id, "phone")
    app = GReader(server.base_url)
    for _ in range(APP_TOKENS_KEPT + 5):
        app.auth = app.client_login("ben", PASSWORD).text.splitlines()[-1].split("=", 1)[1]
        assert app.json("/reader/api/0/user-info")["userName"] == "ben"
    labels = [t.label for t in accounts.list_tokens(store, user.id)]
    assert labels.count(TOKEN_LABEL) == APP_TOKENS_KEPT and labels.count("phone") == 1
    assert accounts.user_for_token(store, phone) is not None


@pytest.mark.parametrize("email, password", [("ada", "wrong password"), ("nobody", PASSWORD), ("", ""),
                                             ("ada", ""), ("ada", "x" * 5000)])
def test_bad_credentials_are_401(server: WebServer, email: str, password: str) -> None:
    response = GReader(server.base_url).client_login(email, password)
    assert response.status_code == 401
    assert "Auth=" not in response.text


def test_behind_a_local_proxy_each_client_address_is_throttled_on_its_own(server: WebServer) -> None:
    """A reverse proxy on the same machine sends every sign-in from 127.0.0.1: the client's own
    address (X-Forwarded-For, trusted from 127.0.0.1 as uvicorn does by default) is what counts,
    so one client's failures do not lock everyone out."""
    app = GReader(server.base_url)

    def attempt(name: str, client: str) -> int:
        return app.http.post("/accounts/ClientLogin", data={"Email": name, "Passwd": "wrong password"},
                             headers={"X-Forwarded-For": client}).status_code

    assert [attempt(f"guess{i}", "203.0.113.7") for i in range(accounts.ADDRESS_LIMIT)] == [401] * accounts.ADDRESS_LIMIT
    assert attempt("another", "203.0.113.7") == 429
    assert attempt("another", "198.51.100.9") == 401
    assert app.client_login("ada", PASSWORD).status_code == 200  # no forwarded address: the proxy's own


def test_sign_in_is_throttled(server: WebServer) -> None:
    app = GReader(server.base_url)
    statuses = [app.client_login("ben", "wrong password").status_code for _ in range(accounts.NAME_LIMIT + 1)]
    assert statuses[:accounts.NAME_LIMIT] == [401] * accounts.NAME_LIMIT
    assert statuses[-1] == 429
    refused = app.client_login("ben", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


@pytest.mark.parametrize("authorization", [None, "GoogleLogin auth=nw_not-a-token", "GoogleLogin", "Basic YWRhOng=",
                                           "GoogleLogin auth=", "Bearer " + "x" * 5000])
def test_calls_without_a_good_token_are_401(server: WebServer, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        for path in ("/api/greader/reader/api/0/user-info", "/api/greader.php/reader/api/0/subscription/list",
                     "/api/greader/reader/api/0/token", "/api/greader/reader/api/0/stream/contents/"
                     "user/-/state/com.google/reading-list"):
            assert http.get(path, headers=headers).status_code == 401, path
        assert http.post("/api/greader/reader/api/0/edit-tag", headers=headers,
                         data={"i": "1", "a": "user/-/state/com.google/read"}).status_code == 401


def test_a_revoked_token_stops_working(store: Store, server: WebServer, ben: GReader) -> None:
    user = accounts.find_user(store, "ben")
    assert user is not None
    for token in accounts.list_tokens(store, user.id):
        accounts.revoke_token(store, user.id, token.id)
    assert ben.get("/reader/api/0/user-info").status_code == 401


def test_changes_need_the_write_token(ada: GReader, ben: GReader) -> None:
    """T is checked on every change: missing, wrong, or another session's, it is 401 with
    Google-Bad-Token, as FreshRSS answers."""
    data = {"s": "user/-/state/com.google/reading-list"}
    missing = ada.post("/reader/api/0/mark-all-as-read", data, token=False)
    assert missing.status_code == 401 and missing.headers["google-bad-token"] == "true"
    wrong = ada.post("/reader/api/0/mark-all-as-read", [*data.items(), ("T", "0" * 40)], token=False)
    assert wrong.status_code == 401
    others = ada.post("/reader/api/0/mark-all-as-read", [*data.items(), ("T", ben.write_token)], token=False)
    assert others.status_code == 401
    assert ada.write_token != ben.write_token


# lists

def seed_sources(store: Store) -> None:
    store.add_source("http://user:secret@127.0.0.1:9/gazette.xml", name="The Gazette",
                     site_url="http://127.0.0.1:9/", category="News/Canada")
    store.add_source("http://127.0.0.1:9/post.xml", name="The Post", category="News/Canada")
    store.add_source("http://127.0.0.1:9/blog.xml", name="A Blog")


def test_subscriptions_with_categories_as_labels(store: Store, ben: GReader) -> None:
    seed_sources(store)
    subscriptions = ben.json("/reader/api/0/subscription/list")["subscriptions"]
    assert [s["title"] for s in subscriptions] == ["The Gazette", "The Post", "A Blog"]
    gazette = subscriptions[0]
    assert gazette["id"].startswith("feed/") and gazette["htmlUrl"] == "http://127.0.0.1:9/"
    assert gazette["categories"] == [{"id": "user/-/label/News/Canada", "label": "News/Canada"}]
    assert "secret" not in gazette["url"] and gazette["url"].endswith("/gazette.xml")
    assert subscriptions[2]["categories"] == []


def test_tag_list(store: Store, ben: GReader) -> None:
    seed_sources(store)
    assert ben.json("/reader/api/0/tag/list") == {"tags": [
        {"id": "user/-/state/com.google/starred"}, {"id": "user/-/label/News/Canada", "type": "folder"}]}


# admins: following and unfollowing

def test_quickadd_follows_as_admin_and_is_403_for_a_reader(store: Store, feed_server, ada: GReader,
                                                            ben: GReader) -> None:
    feed_server.add("/harbour.xml", RSS, content_type="application/rss+xml")
    url = feed_server.url("/harbour.xml")
    refused = ben.post("/reader/api/0/subscription/quickadd", {"quickadd": url})
    assert refused.status_code == 403 and store.find_source(url) is None
    added = ada.post("/reader/api/0/subscription/quickadd", {"quickadd": url})
    assert added.status_code == 200, added.text
    source = store.find_source(url)
    assert source is not None
    assert added.json() == {"numResults": 1, "query": url, "streamId": f"feed/{source.id}",
                            "streamName": "Harbour News"}
    assert store.article_count(source.id) == 1  # fetched at once, as the sources page does
    again = ada.post("/reader/api/0/subscription/quickadd", {"quickadd": url})
    assert again.status_code == 200 and again.json()["streamId"] == f"feed/{source.id}"


def test_quickadd_refuses_what_is_not_a_feed(feed_server, ada: GReader) -> None:
    feed_server.add("/page.html", "<html><body>no feed here</body></html>", content_type="text/html")
    for value in (feed_server.url("/page.html"), "ftp://127.0.0.1/x", "", "javascript:alert(1)"):
        assert ada.post("/reader/api/0/subscription/quickadd", {"quickadd": value}).status_code == 400, value


def test_subscription_edit_subscribe_and_unsubscribe(store: Store, feed_server, ada: GReader, ben: GReader) -> None:
    feed_server.add("/harbour.xml", RSS, content_type="application/rss+xml")
    url = feed_server.url("/harbour.xml")
    subscribe = [("ac", "subscribe"), ("s", f"feed/{url}"), ("t", "Harbour"), ("a", "user/-/label/Local")]
    assert ben.post("/reader/api/0/subscription/edit", subscribe).status_code == 403
    assert ada.post("/reader/api/0/subscription/edit", subscribe).status_code == 200
    source = store.find_source(url)
    assert source is not None and source.name == "Harbour" and source.category == "Local"
    unsubscribe = [("ac", "unsubscribe"), ("s", f"feed/{source.id}")]
    assert ben.post("/reader/api/0/subscription/edit", unsubscribe).status_code == 403
    assert store.find_source(url) is not None
    assert ada.post("/reader/api/0/subscription/edit", unsubscribe).status_code == 200
    assert store.find_source(url) is None


# hostile parameters

@pytest.mark.parametrize("path, params", [
    ("/reader/api/0/stream/contents/feed/abc", {}),
    ("/reader/api/0/stream/contents/user/-/state/com.google/nothing", {}),
    ("/reader/api/0/stream/contents/feed/99999999999999999999", {}),
    ("/reader/api/0/stream/items/ids", {}),
    ("/reader/api/0/stream/items/ids", {"s": "splice/x"}),
    ("/reader/api/0/stream/items/ids", {"s": "user/-/state/com.google/reading-list", "n": "-1"}),
    ("/reader/api/0/stream/items/ids", {"s": "user/-/state/com.google/reading-list", "n": "lots"}),
    ("/reader/api/0/stream/items/ids", {"s": "user/-/state/com.google/reading-list", "ot": "yesterday"}),
    ("/reader/api/0/stream/items/ids", {"s": "user/-/state/com.google/reading-list", "nt": "9" * 40}),
    ("/reader/api/0/stream/items/ids", {"s": "user/-/state/com.google/reading-list", "c": "x" * 1000}),
    ("/reader/api/0/stream/items/contents", {}),
    ("/reader/api/0/stream/items/contents", {"i": "tag:google.com,2005:reader/item/zzzz"}),
    ("/reader/api/0/stream/items/contents", {"i": str(2**40)}),
])
def test_hostile_reads_are_400(ben: GReader, path: str, params: dict[str, str]) -> None:
    response = ben.get(path, params)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == 400


@pytest.mark.parametrize("path, data", [
    ("/reader/api/0/edit-tag", {"a": "user/-/state/com.google/read"}),
    ("/reader/api/0/edit-tag", {"i": "-", "a": "user/-/state/com.google/read"}),
    ("/reader/api/0/edit-tag", {"i": "1\x00", "a": "user/-/state/com.google/read"}),
    ("/reader/api/0/mark-all-as-read", {"s": "user/-/state/com.google/reading-list", "ts": "soon"}),
    ("/reader/api/0/mark-all-as-read", {"s": "nowhere"}),
    ("/reader/api/0/mark-all-as-read", {}),
])
def test_hostile_writes_are_400(ben: GReader, path: str, data: dict[str, str]) -> None:
    assert ben.post(path, data).status_code == 400


def test_too_many_ids_and_too_large_bodies(ben: GReader) -> None:
    many = [("i", str(n)) for n in range(1, 1002)]
    assert ben.post("/reader/api/0/stream/items/contents", many).status_code == 400
    huge = ben.http.post("/reader/api/0/edit-tag", content=b"i=" + b"1" * 2_000_000,
                         headers={**ben.headers(), "Content-Type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413


def test_sync_posts_pass_the_cross_site_check(ben: GReader) -> None:
    """Apps send no Origin or Referer; a browser page elsewhere that does is refused first."""
    assert ben.post("/reader/api/0/mark-all-as-read", {"s": "user/-/state/com.google/read"}).status_code == 200
    foreign = ben.http.post("/reader/api/0/mark-all-as-read", data={"s": "user/-/state/com.google/read",
                                                                     "T": ben.write_token or ""},
                            headers={**ben.headers(), "Origin": "https://evil.example"})
    assert foreign.status_code == 403


def test_subscription_edit_renames_and_moves(store: Store, ada: GReader, ben: GReader) -> None:
    seed_sources(store)
    post = store.find_source("http://127.0.0.1:9/post.xml")
    assert post is not None
    rename = [("ac", "edit"), ("s", f"feed/{post.id}"), ("t", "The Evening Post"), ("a", "user/-/label/Evening")]
    assert ben.post("/reader/api/0/subscription/edit", rename).status_code == 403
    assert ada.post("/reader/api/0/subscription/edit", rename).status_code == 200
    moved = store.get_source(post.id)
    assert (moved.name, moved.category) == ("The Evening Post", "Evening")
    leave = [("ac", "edit"), ("s", "feed/http://127.0.0.1:9/post.xml"), ("r", "user/-/label/Evening")]
    assert ada.post("/reader/api/0/subscription/edit", leave).status_code == 200
    assert store.get_source(post.id).category is None
    assert ada.post("/reader/api/0/subscription/edit", [("ac", "edit"), ("s", "feed/999999")]).status_code == 404
    assert ada.post("/reader/api/0/subscription/edit", [("ac", "edit"), ("s", "user/-/label/X")]).status_code == 400
    too_long = [("ac", "edit"), ("s", f"feed/{post.id}"), ("t", "x" * 600)]
    assert ada.post("/reader/api/0/subscription/edit", too_long).status_code == 400
    assert ada.post("/reader/api/0/subscription/edit", [("ac", "merge"), ("s", f"feed/{post.id}")]).status_code == 400
