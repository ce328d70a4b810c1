"""The Fever API over real HTTP on 127.0.0.1, step by step as a reader app (Reeder, Unread)
syncs: sign in with md5("name:password"), list groups, feeds and favicons, page through items
with since_id and then max_id, fetch with_ids, read the unread and saved ids, mark items,
feeds and groups, and see the ids change; a wrong key learns nothing; hostile parameters never
get a 500. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import httpx
import pytest

from newswire import accounts
from newswire.models import Entry, SourceUpdate
from newswire.store import Store
from newswire.testing import LOOPBACK
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from test_run import DEADLINE, Process, free_port, wait_until, web_answers

T1 = datetime(2026, 2, 1, 8, 0, tzinfo=timezone.utc)  # the first fetch
T2 = T1 + timedelta(hours=3)  # the second
PASSWORD = "correct horse battery"


def key(name: str, password: str = PASSWORD) -> str:
    return hashlib.md5(f"{name}:{password}".encode()).hexdigest()


def entries(prefix: str, count: int) -> list[Entry]:
    return [Entry(guid=f"{prefix}{i}", url=f"http://example.test/{prefix}{i}", title=f"{prefix} story {i}",
                  authors=("Ada Moreau",), published=T1 - timedelta(minutes=i), content_html=f"<p>{prefix} {i}</p>",
                  text=f"{prefix} {i}") for i in range(count)]


def fetched(at: datetime) -> SourceUpdate:
    return SourceUpdate(fetched_at=at, status="ok", next_due_at=at + timedelta(minutes=30))


def seed(store: Store) -> dict[str, int]:
    """Three feeds: the Gazette (News/Canada, 40 articles then 2 more), the Post (News, 20), the
    Blog (no category, 5): 67 articles in all."""
    gazette = store.add_source("http://example.test/gazette.xml", name="The Gazette",
                               site_url="http://example.test/", category="News/Canada")
    post = store.add_source("http://example.test/post.xml", name="The Post", category="News")
    blog = store.add_source("http://example.test/blog.xml", name="A Blog")
    store.save_refresh(gazette.id, fetched(T1), entries("g", 40))
    store.save_refresh(post.id, fetched(T1), entries("p", 20))
    store.save_refresh(blog.id, fetched(T1), entries("b", 5))
    store.save_refresh(gazette.id, fetched(T2), entries("late", 2))
    return {"gazette": gazette.id, "post": post.id, "blog": blog.id}


class App:
    """A Fever client: every call posts the key as a form, the selectors in the query string."""

    def __init__(self, http: httpx.Client, api_key: str, path: str = "/fever/"):
        self.http, self.api_key, self.path = http, api_key, path

    def call(self, query: str = "", **form: Any) -> dict[str, Any]:
        response = self.http.post(f"{self.path}?api{'&' + query if query else ''}",
                                  data={"api_key": self.api_key, **form})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        return response.json()

    def ids(self, name: str) -> list[int]:
        text = self.call(name)[name]
        return [int(i) for i in text.split(",")] if text else []

    def page(self, query: str) -> list[int]:
        return [item["id"] for item in self.call("items&" + query)["items"]]


@pytest.fixture
def server(store) -> Iterator[tuple[WebServer, Store, dict[str, int]]]:
    feeds = seed(store)
    accounts.create_user(store, "ada", PASSWORD)
    accounts.create_user(store, "Bob", "another long password")
    with WebServer(create_app(store, LOOPBACK)) as running:
        yield running, store, feeds


@pytest.fixture
def http(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0].base_url, timeout=20) as client:
        yield client


@pytest.fixture
def app(http) -> App:
    return App(http, key("ada"))


def test_a_wrong_key_gets_auth_0_and_nothing_else(http):
    for api_key in (key("ada", "wrong password"), key("nobody"), "", "not a key", key("ada").upper()[:31]):
        answer = App(http, api_key).call("groups&feeds&items&unread_item_ids&saved_item_ids", mark="group",
                                         **{"as": "read", "id": "0"})
        assert answer == {"api_version": 3, "auth": 0}, api_key
    assert http.get("/fever/?api").json() == {"api_version": 3, "auth": 0}
    assert App(http, key("ada")).ids("unread_item_ids") != []  # the mark above did nothing


def test_the_right_key_signs_in(http, app):
    answer = app.call()
    assert answer == {"api_version": 3, "auth": 1, "last_refreshed_on_time": int(T2.timestamp())}
    assert App(http, key("ada").upper()).call()["auth"] == 1
    assert http.get(f"/fever/?api&api_key={key('ada')}").json()["auth"] == 1  # in the query string too
    assert App(http, key("Bob", "another long password")).call()["auth"] == 1


def test_freshrss_path_and_paths_without_api(http, app):
    assert App(http, key("ada"), "/api/fever.php").call("groups") == app.call("groups")
    assert http.post("/fever", data={"api_key": key("ada")}).json()["auth"] == 1
    assert http.post("/api/fever.php", data={"api_key": key("ada")}).json()["auth"] == 1


def test_groups_feeds_and_favicons(server, app):
    feeds = server[2]
    answer = app.call("groups")
    titles = {group["title"]: group["id"] for group in answer["groups"]}
    assert set(titles) == {"News/Canada", "News", "Uncategorized"}
    members = {fg["group_id"]: fg["feed_ids"] for fg in answer["feeds_groups"]}
    assert members == {titles["News/Canada"]: str(feeds["gazette"]), titles["News"]: str(feeds["post"]),
                       titles["Uncategorized"]: str(feeds["blog"])}
    answer = app.call("feeds")
    assert answer["feeds_groups"] == app.call("groups")["feeds_groups"]
    gazette = next(f for f in answer["feeds"] if f["id"] == feeds["gazette"])
    assert gazette == {"id": feeds["gazette"], "favicon_id": 1, "title": "The Gazette",
                       "url": "http://example.test/gazette.xml", "site_url": "http://example.test/",
                       "is_spark": 0, "last_updated_on_time": int(T2.timestamp())}
    icons = app.call("favicons")["favicons"]
    assert {f["favicon_id"] for f in answer["feeds"]} <= {icon["id"] for icon in icons}
    assert all(icon["data"].startswith("image/") and ";base64," in icon["data"] for icon in icons)
    assert app.call("links")["links"] == []


def test_paging_items_forward_with_since_id_then_back_with_max_id(app):
    first = app.call("items&since_id=0")
    assert first["total_items"] == 67 and len(first["items"]) == 50
    ids = [item["id"] for item in first["items"]]
    assert ids == sorted(ids)  # oldest first
    rest = app.page(f"since_id={ids[-1]}")
    assert len(rest) == 17 and rest[0] > ids[-1]
    assert app.page(f"since_id={rest[-1]}") == []
    every = ids + rest
    assert app.page("") == ids  # no argument: from the oldest
    newest = app.page("max_id=0")
    assert newest == every[::-1][:50]
    older = app.page(f"max_id={newest[-1]}")
    assert older == every[::-1][50:]
    assert app.page(f"max_id={older[-1]}") == []


def test_an_item_as_the_protocol_describes_it(server, app):
    feeds = server[2]
    [item] = app.call("items&max_id=0")["items"][:1]
    assert set(item) == {"id", "feed_id", "title", "author", "html", "url", "is_saved", "is_read", "created_on_time"}
    assert item["feed_id"] == feeds["gazette"] and item["title"] == "late story 1"
    assert (item["author"], item["html"], item["url"]) == ("Ada Moreau", "<p>late 1</p>", "http://example.test/late1")
    assert (item["is_read"], item["is_saved"], item["created_on_time"]) == (0, 0, int((T1 - timedelta(minutes=1)).timestamp()))


def test_with_ids(app):
    every = app.page("since_id=0")
    wanted = [every[7], every[3], every[40]]
    assert app.page("with_ids=" + ",".join(map(str, wanted))) == wanted
    assert app.page(f"with_ids={every[3]},999999,x") == [every[3]]
    assert app.page("with_ids=") == []


def test_marking_items_read_unread_saved_unsaved(http, app):
    unread = app.ids("unread_item_ids")
    assert len(unread) == 67 and app.ids("saved_item_ids") == []
    one, two = unread[0], unread[5]
    answer = app.call(mark="item", id=str(one), **{"as": "read"})
    assert answer["auth"] == 1 and str(one) not in answer["unread_item_ids"].split(",")
    assert one not in app.ids("unread_item_ids") and len(app.ids("unread_item_ids")) == 66
    assert app.call(f"items&with_ids={one}")["items"][0]["is_read"] == 1
    app.call(mark="item", id=str(one), **{"as": "unread"})
    assert one in app.ids("unread_item_ids")
    answer = app.call(mark="item", id=str(two), **{"as": "saved"})
    assert answer["saved_item_ids"] == str(two)
    app.call(mark="item", id=str(two), **{"as": "saved"})  # saving twice keeps it saved (no toggling)
    assert app.ids("saved_item_ids") == [two]
    assert app.call(f"items&with_ids={two}")["items"][0]["is_saved"] == 1
    bob = App(http, key("Bob", "another long password"))
    assert bob.ids("saved_item_ids") == [] and len(bob.ids("unread_item_ids")) == 67  # each reader's own
    app.call(mark="item", id=str(two), **{"as": "unsaved"})
    assert app.ids("saved_item_ids") == []
    app.call(mark="item", id="999999", **{"as": "read"})  # no such article: nothing changes
    assert len(app.ids("unread_item_ids")) == 67


def test_marking_a_feed_read_before_a_time(server, app):
    feeds = server[2]
    gazette_ids = {item["id"] for item in app.call("items&since_id=0")["items"] if item["feed_id"] == feeds["gazette"]}
    before = int((T1 + timedelta(minutes=5)).timestamp())  # after the first fetch, before the second
    app.call(mark="feed", id=str(feeds["gazette"]), before=str(before), **{"as": "read"})
    unread = set(app.ids("unread_item_ids"))
    assert len(unread) == 67 - 40 and not gazette_ids & unread
    app.call(mark="feed", id=str(feeds["gazette"]), **{"as": "read"})  # without before: all of it
    assert len(app.ids("unread_item_ids")) == 25
    app.call(mark="feed", id="424242", **{"as": "read"})
    assert len(app.ids("unread_item_ids")) == 25


def test_marking_groups_read_and_group_0_is_everything(server, app):
    feeds = server[2]
    titles = {group["title"]: group["id"] for group in app.call("groups")["groups"]}
    app.call(mark="group", id=str(titles["News"]), before=str(int(T2.timestamp())), **{"as": "read"})
    assert len(app.ids("unread_item_ids")) == 67 - 20  # the Post only: News/Canada is a group of its own
    app.call(mark="group", id=str(titles["Uncategorized"]), **{"as": "read"})
    assert len(app.ids("unread_item_ids")) == 42
    app.call(mark="group", id="0", before=str(int((T1 + timedelta(minutes=5)).timestamp())), **{"as": "read"})
    assert len(app.ids("unread_item_ids")) == 2  # what arrived after `before` stays unread
    late = {item["id"] for item in app.call("items&max_id=0")["items"][:2]}
    assert set(app.ids("unread_item_ids")) == late
    assert all(item["feed_id"] == feeds["gazette"] for item in app.call("items&with_ids=" + ",".join(map(str, late)))["items"])
    app.call(mark="group", id="0", **{"as": "read"})
    assert app.ids("unread_item_ids") == []


def test_a_post_from_an_app_passes_the_cross_site_check(http, app):
    """Apps send no Origin or Referer; the cross-site check must let their marks through."""
    first = app.page("since_id=0")[0]
    response = http.post("/fever/?api", data={"api_key": key("ada"), "mark": "item", "as": "saved", "id": str(first)},
                         headers={"User-Agent": "Reeder/5.0"})
    assert response.status_code == 200 and response.json()["saved_item_ids"] == str(first)


def test_a_multipart_form_works_too(http, app):
    second = app.page("since_id=0")[1]
    response = http.post("/fever/?api&saved_item_ids", files={"api_key": (None, key("ada")), "mark": (None, "item"),
                                                              "as": (None, "saved"), "id": (None, str(second))})
    assert response.status_code == 200 and response.json()["saved_item_ids"] == str(second)


HOSTILE_QUERIES = [
    "items&since_id=-1", "items&since_id=1e9", "items&since_id=" + "9" * 100, "items&max_id=99999999999999999999",
    "items&max_id=-0", "items&with_ids=" + ",".join(["9" * 30] * 300), "items&with_ids=,,,",
    "items&with_ids=%F0%9F%92%A5", "groups=%FF%FE", "feeds[]=1", "api=xml", "mark=item&as=read&id=" + "9" * 40,
    "mark=feed&as=read&id=1&before=" + "9" * 40, "mark=group&as=read&id=1&before=-1", "mark=group&as=read&id=-1",
    "mark=item&as=read&id=1.5", "mark=item&as=%00&id=1", "refresh", "unread_item_ids&unread_item_ids",
]


@pytest.mark.parametrize("api_key", [key("ada"), "x"])
def test_hostile_parameters_never_get_a_500(http, api_key):
    for query in HOSTILE_QUERIES:
        response = http.post(f"/fever/?api&{query}", data={"api_key": api_key})
        assert response.status_code < 500, query
        assert response.status_code == 400 or response.json()["auth"] == (api_key != "x"), query
    for body, content_type in ((b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
                               (b"--x\r\n\r\n", "multipart/form-data; boundary=x"),
                               (b"api_key=" + api_key.encode(), "multipart/form-data"),
                               (b"{}", "application/json")):
        response = http.post("/fever/?api&items", content=body, headers={"Content-Type": content_type})
        assert response.status_code == 200 and response.json()["auth"] in (0, 1)
    too_large = http.post("/fever/?api", content=b"a" * 200_000)
    assert too_large.status_code == 413 and too_large.json()["status"] == 413  # JSON, as apps read it
    assert http.request("PUT", "/fever/?api").status_code == 405
    assert http.post("/fever/?api%00").status_code == 400


def test_a_reader_app_against_newswire_serve(tmp_path):
    """As a user deploys it: an account made with `newswire user add`, `newswire serve`, and an
    app given http://HOST:PORT/fever/ with the name and password."""
    database = f"sqlite:///{tmp_path / 'newswire.db'}"
    with Store(database) as store:
        seed(store)
    made = subprocess.run([sys.executable, "-m", "newswire.cli", "user", "add", "ada", "--password-stdin",
                           "--database", database], input=PASSWORD + "\n", capture_output=True, text=True,
                          timeout=DEADLINE)
    assert made.returncode == 0, made.stderr
    port = free_port()
    process = Process("serve", "--port", str(port), "--database", database)
    try:
        wait_until(lambda: web_answers(port), "the web server", process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            app = App(http, key("ada"))
            assert {g["title"] for g in app.call("groups")["groups"]} == {"News/Canada", "News", "Uncategorized"}
            first = app.page("since_id=0")[0]
            app.call(mark="item", id=str(first), **{"as": "read"})
            assert first not in app.ids("unread_item_ids") and len(app.ids("unread_item_ids")) == 66
            assert App(http, key("ada", "wrong")).call() == {"api_version": 3, "auth": 0}
    finally:
        process.kill()
