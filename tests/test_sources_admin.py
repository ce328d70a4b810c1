"""The sources admin beyond following and pausing (``test_pages`` has those): health in words
and the failing notice, categories on the sources page, the wire and their own pages and feeds,
editing a source, "Refresh now" against a real feed server, and OPML upload and download.
A seeded SQLite store behind the app; feeds come from a real server on 127.0.0.1."""

from __future__ import annotations

import re
import socket
from datetime import timedelta
from typing import Iterator

import feedparser
import httpx
import pytest
from fastapi.testclient import TestClient

from newswire.fetch.errors import to_fetch_error
from newswire.models import SourceUpdate
from newswire.service.decide import after_failure
from newswire.sources.opml import read_opml
from newswire.testing import LOOPBACK, samples
from newswire.testing.feedserver import Response
from newswire.testing.signin import sign_in
from newswire.web.app import create_app
from newswire.web.uploads import MAX_UPLOAD_BYTES
from newswire.testing.webserver import WebServer
from test_pages import T0, ZONE, Seeded, _flash, add_article, item_ids, read_events, seed, text_of


@pytest.fixture
def seeded(sqlite_store) -> Seeded:
    return seed(sqlite_store, fillers_per_source=4)


def client_for(store, *, signed_in: str | None = "admin", admin: bool = True) -> TestClient:
    client = TestClient(create_app(store, LOOPBACK, timezone=ZONE), base_url="http://localhost")
    if signed_in:
        sign_in(client, store, signed_in, admin=admin)
    return client


@pytest.fixture
def admin(seeded) -> Iterator[TestClient]:
    with client_for(seeded.store) as client:
        yield client


def row_of(page: str, source_id: int) -> str:
    return re.search(rf'<tr id="source-{source_id}".*?</tr>', page, flags=re.S).group(0)


def fail(store, source, error) -> None:
    store.save_refresh(source.id, after_failure(store.get_source(source.id), error, T0 + timedelta(hours=1)), [])


def dns_failure(url: str):
    cause = httpx.ConnectError("[Errno -2] Name or service not known")
    cause.__cause__ = socket.gaierror(-2, "Name or service not known")
    return to_fetch_error(cause, url)


# -- health in words, and how many are failing

def test_failures_in_words_the_failing_notice_and_the_health_filter(seeded, admin):
    store, (_, chronicle, herald) = seeded.store, seeded.sources
    fail(store, herald, dns_failure(herald.feed_url))
    store.save_refresh(chronicle.id, SourceUpdate(fetched_at=T0, status="not-modified",
                                                  next_due_at=T0 + timedelta(minutes=30)), [])
    page = admin.get("/sources").text
    assert "1 of 3 sources is failing." in text_of(page)
    failing = row_of(page, herald.id)
    assert "The name does not resolve" in text_of(failing) and "Errno" not in text_of(failing)  # the hover has it
    assert failing.count(herald.feed_url) == 1  # its own line; the words and the hover leave it out
    assert '<span class="badge bad">failing</span>' in failing
    assert '<span class="badge ok"' in row_of(page, chronicle.id)  # not-modified is healthy
    only = admin.get("/sources?health=failing").text
    assert re.findall(r'<tr id="source-(\d+)"', only) == [str(herald.id)]
    wire = admin.get("/").text
    assert "1 of 3 sources is failing." in text_of(wire) and 'href="/sources?health=failing"' in wire


def test_an_empty_wire_whose_sources_all_fail_says_so(sqlite_store):
    sources = [sqlite_store.add_source(f"http://127.0.0.1:9/{i}.xml", name=f"Outlet {i}") for i in range(2)]
    for source in sources:
        fail(sqlite_store, source, dns_failure(source.feed_url))
    with client_for(sqlite_store, signed_in=None) as anonymous:
        wire = text_of(anonymous.get("/").text)
    assert "2 of 2 sources are failing." in wire
    assert "No articles yet, because every source is failing" in wire


# -- categories

@pytest.fixture
def categorised(seeded) -> Seeded:
    for source, category in zip(seeded.sources, ("News/Canada", "News", "Sports")):
        seeded.store.change_source(source.id, {"category": category})
    return seeded


def test_categories_filter_the_sources_and_the_wire_and_have_pages_and_feeds(categorised, admin):
    store, (gazette, chronicle, herald) = categorised.store, categorised.sources
    sources = admin.get("/sources?category=News").text
    assert re.findall(r'<tr id="source-(\d+)"', sources) == [str(gazette.id), str(chronicle.id)]
    assert '<option value="News" selected>News (2)</option>' in sources
    news = {a.id for a in store.list_articles(limit=200).items if a.source_id in (gazette.id, chronicle.id)}
    sports = {a.id for a in store.list_articles(limit=200).items if a.source_id == herald.id}

    wire = admin.get("/?category=Sports").text
    assert set(item_ids(wire)) == sports and "Showing only category Sports" in text_of(wire)
    page = admin.get("/categories/News")
    assert page.status_code == 200 and set(item_ids(page.text)) == news
    assert '<p class="kicker">Category</p>' in page.text and 'href="/categories/News/feed.atom"' in page.text
    assert 'href="/categories/News/Canada"' in admin.get("/").text  # the wire offers every category
    assert 'href="/categories/Sports"' in admin.get(f"/sources/{herald.id}").text  # a source shows its own
    assert set(item_ids(admin.get("/categories/News/Canada").text)) == {
        a.id for a in store.list_articles(limit=200).items if a.source_id == gazette.id}

    feed = feedparser.parse(admin.get("/categories/News/feed.atom").content)
    assert feed.bozo == 0 and feed.feed.title == "Newswire — News"
    assert {e.source.title for e in feed.entries} == {gazette.name, chronicle.name}
    assert len(admin.get("/feed.json?category=Sports").json()["items"]) == len(sports)
    assert admin.get("/api/v1/articles?category=News%2F&limit=200").json()["items"].__len__() == len(news)

    assert admin.get("/categories/Weather").status_code == 404
    assert admin.get("/categories/Weather/feed.atom").status_code == 404
    assert admin.get("/?category=Weather").status_code == 404
    assert admin.get("/?category=" + "x" * 600).status_code == 400


def test_a_category_page_is_live_for_its_sources_only(categorised):
    store, (gazette, _, herald) = categorised.store, categorised.sources
    with WebServer(create_app(store, LOOPBACK, timezone=ZONE)) as server, \
            httpx.Client(base_url=server.base_url, timeout=20) as client:
        page = client.get("/categories/News").text
        assert 'data-live="/live?category=News"' in page
        with client.stream("GET", "/live", params={"category": "News"}) as stream:
            lines = stream.iter_lines()
            next(lines)
            add_article(store, herald.id, "sports-live", "Not in News")
            mine = add_article(store, gazette.id, "canada-live", "In News/Canada")
            (event,) = read_events(lines, 1)
    assert event["id"] == str(mine) and "In News/Canada" in event["data"]


# -- editing a source

def test_an_admin_edits_a_source_and_mistakes_come_back_with_what_was_typed(seeded, admin):
    store, (gazette, _, herald) = seeded.store, seeded.sources
    form = admin.get(f"/sources/{herald.id}/edit").text
    assert f'value="{herald.feed_url}"' in form and 'name="merge_stories" value="1" checked' in form
    new_url = "http://127.0.0.1:9/herald/rss"
    saved = admin.post(f"/sources/{herald.id}/edit", data={
        "name": "The Herald", "feed_url": new_url, "category": " /Local/Cedar Falls/ ", "full_text": "1"})
    assert _flash(saved.text) == ("ok: Saved The Herald: name, feed URL, category, full text, story merging changed. "
                                  "It is fetched from its new address on the next pass.")
    edited = store.get_source(herald.id)
    assert (edited.name, edited.feed_url, edited.category, edited.full_text, edited.merge_stories) == (
        "The Herald", new_url, "Local/Cedar Falls", True, False)
    assert edited.etag is None and edited.next_due_at is not None

    refused = admin.post(f"/sources/{herald.id}/edit", data={"name": "Herald", "feed_url": "javascript:alert(1)"})
    assert refused.status_code == 422 and "must be a web address" in refused.text
    assert 'value="javascript:alert(1)"' in refused.text and 'value="Herald"' in refused.text
    taken = admin.post(f"/sources/{herald.id}/edit", data={"name": "Herald", "feed_url": gazette.feed_url})
    assert taken.status_code == 422 and f"Another source (#{gazette.id}) already follows" in taken.text
    assert store.get_source(herald.id).name == "The Herald"
    assert admin.get("/sources/99999/edit").status_code == 404


def test_only_an_admin_sees_the_edit_form_and_the_export(seeded, admin):
    with client_for(seeded.store, signed_in=None) as anonymous, \
            client_for(seeded.store, signed_in="bo", admin=False) as reader:
        for path in (f"/sources/{seeded.sources[0].id}/edit", "/sources.opml"):
            assert anonymous.get(path, follow_redirects=False).status_code in (303, 401), path
            assert reader.get(path).status_code == 403, path


# -- refresh now

def test_refresh_now_fetches_one_source_and_says_how_it_went(sqlite_store, feed_server):
    outlet = samples.Outlet("lake", "The Lake Ossin Observer", feed_server.base_url)
    feed_url = feed_server.add("/lake/feed.xml", samples.rss(outlet, samples.make_articles(outlet, 3, seed=4)))
    missing = feed_server.route("/gone/feed.xml", lambda request: Response(404, b"no", {}))
    working = sqlite_store.add_source(feed_url, name="Observer")
    broken = sqlite_store.add_source(missing, name="Old Gazette")
    with client_for(sqlite_store) as admin:
        page = admin.get("/sources").text
        assert f'action="/sources/{working.id}/refresh"' in page
        assert _flash(admin.post(f"/sources/{working.id}/refresh").text) == "ok: Fetched Observer: 3 new articles."
        again = _flash(admin.post(f"/sources/{working.id}/refresh").text)
        assert again in ("ok: Fetched Observer: unchanged since the last fetch.", "ok: Fetched Observer: 0 new articles.")
        assert _flash(admin.post(f"/sources/{broken.id}/refresh").text) == (
            "error: Could not fetch Old Gazette: The feed is not at this address (HTTP 404 Not Found); it may have moved.")
        assert "no source #999" in _flash(admin.post("/sources/999/refresh").text)
    assert sqlite_store.article_count(working.id) == 3


# -- OPML in the browser

SUBSCRIPTIONS = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>Mine</title></head><body>
  <outline text="News"><outline text="Canada">
    <outline text="Harbour Daily" xmlUrl="http://127.0.0.1:9/harbour.xml"/></outline></outline>
  <outline text="Ridge Post" xmlUrl="http://127.0.0.1:9/ridge.xml"/>
  <outline text="Script" xmlUrl="javascript:alert(1)"/>
</body></opml>"""

HOSTILE = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<opml version="2.0"><body><outline text="&b;" xmlUrl="http://127.0.0.1:9/b.xml"/></body></opml>"""


def upload(client: TestClient, name: str, content: bytes, **fields: str):
    return client.post("/sources/import", data=fields, files={"opml": (name, content, "text/x-opml")})


def test_opml_upload_and_download(seeded, admin):
    store = seeded.store
    done = upload(admin, "mine.opml", SUBSCRIPTIONS)
    assert _flash(done.text) == ("ok: Imported 2 sources from mine.opml; 1 skipped (not web addresses). "
                                 "Their articles arrive on the next fetch pass.")
    assert store.find_source("http://127.0.0.1:9/harbour.xml").category == "News/Canada"
    assert _flash(upload(admin, "mine.opml", SUBSCRIPTIONS).text).startswith(
        "ok: Imported 0 sources from mine.opml; 2 already followed")

    refused = upload(admin, "evil.opml", HOSTILE)
    assert _flash(refused.text) == ("error: Could not import evil.opml: XML entity declarations are refused. "
                                    "Nothing was imported.")
    assert "damaged" in _flash(upload(admin, "cut.opml", SUBSCRIPTIONS[:120]).text)
    assert _flash(upload(admin, "empty.opml", b"").text) == "error: Choose an OPML file to import."
    assert upload(admin, "huge.opml", b" " * (MAX_UPLOAD_BYTES + 1)).status_code == 413
    assert len(store.list_sources()) == 5

    exported = admin.get("/sources.opml")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/x-opml")
    assert re.fullmatch(r'attachment; filename="newswire-sources-\d{4}-\d\d-\d\d\.opml"',
                        exported.headers["content-disposition"])
    feeds = {feed.feed_url: feed for feed in read_opml(exported.content)}
    assert set(feeds) == {s.feed_url for s in store.list_sources()}
    assert feeds["http://127.0.0.1:9/harbour.xml"].category == "News/Canada"


def test_an_upload_needs_the_form_token_and_a_broken_one_is_refused(seeded, admin):
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=zz", "text/plain"):
        broken = admin.post("/sources/import", content=b"--zz\r\n\r\n--zz--", headers={"Content-Type": content_type})
        assert broken.status_code == 400, content_type
    token = admin.headers.pop("X-CSRF-Token")  # as a browser's form sends it: in the body only
    assert upload(admin, "a.opml", SUBSCRIPTIONS, csrf_token="forged").status_code == 403
    assert upload(admin, "a.opml", SUBSCRIPTIONS).status_code == 403
    assert len(seeded.store.list_sources()) == 3
    assert _flash(upload(admin, "a.opml", SUBSCRIPTIONS, csrf_token=token).text).startswith("ok: Imported 2 sources")


def test_relative_times_use_the_largest_whole_unit():
    from newswire.web.display import relative_when

    now = T0
    said = {seconds: relative_when(now + timedelta(seconds=seconds), now)
            for seconds in (-20, -60, -179, -3599, -3600, -86399, -86400, -3 * 86400, 40, 300, 7200)}
    assert said == {-20: "just now", -60: "1 min ago", -179: "2 min ago", -3599: "59 min ago", -3600: "1 h ago",
                    -86399: "23 h ago", -86400: "1 day ago", -3 * 86400: "3 days ago", 40: "in a moment",
                    300: "in 5 min", 7200: "in 2 h"}
