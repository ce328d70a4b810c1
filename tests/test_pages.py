"""Reader pages and the live wire over real HTTP: a seeded SQLite store behind a real socket.

All content is generated here or by ``newswire.testing.samples``; times are fixed, so the date
lines are checked to the character in America/Toronto.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest
from markupsafe import escape

from newswire.testing.signin import sign_in
from newswire.testing import LOOPBACK
from newswire.models import Entry, Source, SourceUpdate
from newswire.store import Store
from newswire.testing import samples
from newswire.testing.feedserver import FeedServer
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app

ZONE = ZoneInfo("America/Toronto")
T0 = datetime(2025, 9, 17, 18, 56, tzinfo=timezone.utc)  # 14:56 in Toronto
OUTLETS = ["The Maple Harbour Gazette", "The Port Alder Chronicle", "The Cedar Falls Herald"]
FERRY_BODY = ("<p>The harbour commission met on Tuesday.</p>"
              "<p>Members said the ferry timetable vote would wait until spring, after a public hearing.</p>")


def ok(at: datetime = T0) -> SourceUpdate:
    return SourceUpdate(fetched_at=at, status="ok", next_due_at=at + timedelta(minutes=30))


def make_entry(guid: str, title: str, published: datetime, authors: tuple[str, ...] = (),
               body: str = "<p>A short report from the council chamber.</p>", url: str | None = None) -> Entry:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
    return Entry(guid=guid, url=url or f"http://news.test/{guid}", title=title, authors=authors,
                 published=published, summary=text[:200], content_html=body, text=text, snippet=text[:200])


@dataclass
class Seeded:
    store: Store
    sources: list[Source]
    lead_id: int  # the newest article: two authors, source 0
    ferry_id: int  # published 15:01 UTC (11:01 Toronto), one author, source 1, FERRY_BODY
    script_id: int  # a title with a <script> in it, no authors, source 2


def seed(store: Store, fillers_per_source: int = 14) -> Seeded:
    """Three fictional outlets, a few articles with known fields and generated fillers,
    all published before T0 except the lead."""
    sources = [store.add_source(f"http://127.0.0.1:9/outlet{i}/feed.xml", name=name,
                                site_url=f"http://127.0.0.1:9/outlet{i}/")
               for i, name in enumerate(OUTLETS)]
    for i, source in enumerate(sources):
        outlet = samples.Outlet(f"outlet{i}", source.name, source.site_url or "")
        fillers = samples.make_articles(outlet, fillers_per_source, seed=i, body_bytes=600,
                                        start=T0 - timedelta(hours=6, minutes=5 * i))
        store.save_refresh(source.id, ok(), [
            make_entry(a.guid, a.title, a.published, a.authors, a.content_html, a.url) for a in fillers])
    store.save_refresh(sources[1].id, ok(), [make_entry(
        "ferry", "Harbour commission delays ferry timetable vote", datetime(2025, 9, 17, 15, 1, tzinfo=timezone.utc),
        ("Priya Castellano",), FERRY_BODY)])
    store.save_refresh(sources[2].id, ok(), [make_entry(
        "script", '<script>alert("pwned")</script> Budget & bylaws', T0 - timedelta(minutes=30))])
    store.save_refresh(sources[0].id, ok(), [make_entry(
        "lead", "Maple Harbour council approves new transit route", T0, ("Ada Moreau", "Liam Okafor"),
        "<p>Council voted eight to three in favour of the new transit route.</p>"
        "<p>Construction could start next year, staff said.</p>")])
    ids = {a.guid: a.id for a in store.list_articles(limit=200).items}
    return Seeded(store, sources, ids["lead"], ids["ferry"], ids["script"])


def add_article(store: Store, source_id: int, guid: str, title: str, minutes_after_t0: int = 60,
                authors: tuple[str, ...] = ("Omar Iqbal",)) -> int:
    store.save_refresh(source_id, ok(), [make_entry(guid, title, T0 + timedelta(minutes=minutes_after_t0), authors)])
    return store.last_article_id()


def text_of(fragment: str) -> str:
    """What a reader sees of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    fragment = re.sub(r'<span class="visually-hidden">.*?</span>', "", fragment, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split()).replace(" ,", ",")


def items(page: str) -> list[str]:
    return re.findall(r'<li class="wire-item".*?</li>', page, flags=re.S)


def item_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="wire-item" id="item-(\d+)"', page)]


def meta_lines(page: str) -> list[str]:
    return [text_of(m) for m in re.findall(r'<p class="meta">(.*?)</p>', page, flags=re.S)]


# -- fixtures

@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'newswire.db'}")
    yield s
    s.close()


@pytest.fixture
def seeded(store) -> Seeded:
    return seed(store)


@pytest.fixture
def app(store):
    app = create_app(store, LOOPBACK, timezone=ZONE)
    app.state.live_poll_seconds = 0.05
    app.state.live_settle_seconds = 0  # articles stored here are not enriched
    return app


@pytest.fixture
def server(app) -> Iterator[WebServer]:
    with WebServer(app) as s:
        yield s


@pytest.fixture
def client(server, store) -> Iterator[httpx.Client]:
    """A browser signed in as an admin (the sources admin needs one)."""
    with httpx.Client(base_url=server.base_url, timeout=20) as c:
        sign_in(c, store)
        yield c


# -- the wire

def test_wire_is_newest_first_with_the_date_line_in_the_configured_zone(seeded, client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    ids = item_ids(page.text)
    newest = [a.id for a in seeded.store.list_articles(limit=len(ids)).items]
    assert ids == newest and ids[0] == seeded.lead_id
    lines = meta_lines(page.text)
    assert lines[0] == "September 17, 2025 - 14:56 | Ada Moreau, Liam Okafor | The Maple Harbour Gazette"
    assert lines[1] == "September 17, 2025 - 14:26 | The Cedar Falls Herald"  # no authors: no middle part
    assert "September 17, 2025 - 11:01 | Priya Castellano | The Port Alder Chronicle" in lines
    first = items(page.text)[0]
    assert f'href="/articles/{seeded.lead_id}"' in first and ">Read More<" in first
    assert 'href="/authors/Ada%20Moreau"' in first and f'href="/sources/{seeded.sources[0].id}"' in first
    assert "Council voted eight to three" in first  # the snippet
    assert re.search(r"<h1>Newswire</h1>", page.text) and page.text.count("<h1") == 1
    assert f'data-after="{seeded.store.last_article_id()}"' in page.text
    assert '<link rel="alternate" type="application/atom+xml"' in page.text and 'href="/feed.atom"' in page.text


def test_older_pages_by_cursor_neither_skip_nor_repeat(seeded, client):
    expected = [a.id for a in seeded.store.list_articles(limit=200).items]
    seen, url = [], "/"
    pages = 0
    while url:
        page = client.get(url).text
        seen += item_ids(page)
        pages += 1
        older = re.search(r'<a class="button" href="(\?[^"]+)" rel="next">Older</a>', page)
        url = html.unescape(older.group(1)) if older else None
        if pages == 1:  # news arrives while the reader pages: pages already cut do not shift
            add_article(seeded.store, seeded.sources[0].id, "late", "Late news from the harbour")
    assert seen == expected and pages > 1


def test_filters_by_source_and_author(seeded, client):
    source = seeded.sources[1]
    by_source = client.get("/", params={"source": source.id}).text
    assert item_ids(by_source) == [a.id for a in seeded.store.list_articles(source_id=source.id, limit=30).items]
    assert all(line.endswith("| The Port Alder Chronicle") for line in meta_lines(by_source))
    assert f'data-live="/live?source={source.id}"' in by_source
    page = client.get(f"/sources/{source.id}").text
    assert "<h1>The Port Alder Chronicle</h1>" in page and item_ids(page) == item_ids(by_source)
    assert f'href="/sources/{source.id}/feed.atom"' in page

    by_author = client.get("/", params={"author": "ada moreau"}).text
    assert item_ids(by_author)[0] == seeded.lead_id
    author_page = client.get("/authors/" + quote("ADA   moreau")).text  # any spelling
    assert "<h1>Ada Moreau</h1>" in author_page and item_ids(author_page) == item_ids(by_author)
    assert 'href="/authors/Ada%20Moreau/feed.atom"' in author_page
    assert client.get("/authors/Nobody%20Here").status_code == 404


def test_bad_cursor_and_bad_filters_are_400_pages(seeded, client):
    for url in ("/?before=not-a-cursor", "/?before=1.x", f"/sources/{seeded.sources[0].id}?before=..",
                "/?source=abc"):
        page = client.get(url)
        assert page.status_code == 400, url
        assert "text/html" in page.headers["content-type"] and "<h1>Bad request</h1>" in page.text


# -- article page

def test_article_page_shows_labels_content_original_and_the_wire(seeded, client):
    page = client.get(f"/articles/{seeded.ferry_id}")
    assert page.status_code == 200
    text = page.text
    assert "<title>Harbour commission delays ferry timetable vote | Newswire</title>" in text
    assert re.search(r"<h1>Harbour commission delays ferry timetable vote</h1>", text)
    assert text.count("<h1") == 1
    head = text_of(text.split('<div class="story-body">')[0].split("<article")[1])
    assert "Source Feed: The Port Alder Chronicle" in head
    assert "Author: Priya Castellano" in head
    assert "Publication Date: September 17, 2025 - 11:01" in head
    assert f'href="/sources/{seeded.sources[1].id}"' in text and 'href="/authors/Priya%20Castellano"' in text
    assert FERRY_BODY in text  # sanitised content, as stored
    assert 'href="http://news.test/ferry"' in text
    sidebar = text.split("<aside")[1]
    assert len(items(sidebar)) == 20 and item_ids(sidebar)[0] == seeded.lead_id
    assert 'data-live="/live?level=3"' in sidebar


def test_several_authors_share_one_label(seeded, client):
    text = client.get(f"/articles/{seeded.lead_id}").text
    assert "Author: Ada Moreau, Liam Okafor" in text_of(text.split('<div class="story-body">')[0])


def test_titles_and_names_are_escaped(seeded, client):
    page = client.get("/").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; Budget &amp; bylaws" in page
    article = client.get(f"/articles/{seeded.script_id}").text
    assert "<script>alert" not in article
    assert "<title>&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; Budget &amp; bylaws | Newswire</title>" in article


def test_missing_pages_are_friendly_404s_and_api_paths_get_json(seeded, client):
    for url in ("/articles/999999", "/articles/abc", "/sources/999", "/sources/x", "/no/such/page"):
        page = client.get(url)
        assert page.status_code == 404, url
        assert "text/html" in page.headers["content-type"] and "Not found" in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")
    assert api.json()["status"] == 404 and api.json()["message"]


def test_static_assets_are_served_by_newswire(client):
    css = client.get("/static/newswire.css")
    js = client.get("/static/newswire.js")
    assert css.status_code == js.status_code == 200
    assert "prefers-color-scheme: dark" in css.text and "EventSource" in js.text


# -- search

def test_search_phrase_prefix_highlight_and_order(seeded, client):
    phrase = client.get("/search", params={"q": '"ferry timetable vote"'}).text
    assert item_ids(phrase) == [seeded.ferry_id]
    assert "<mark>" in phrase
    assert 'href="/feed.atom?q=%22ferry+timetable+vote%22"' in phrase
    prefix = client.get("/search", params={"q": "ferr*"}).text
    assert seeded.ferry_id in item_ids(prefix)
    newest = client.get("/search", params={"q": "council", "order": "newest"}).text
    ids = item_ids(newest)
    dates = [a.published_at for a in (seeded.store.get_article(i) for i in ids)]
    assert len(ids) > 1 and dates == sorted(dates, reverse=True)
    assert '<option value="newest" selected>' in newest


def test_search_explains_empty_and_wordless_queries(seeded, client):
    assert "a phrase in quotes" in client.get("/search").text
    garbage = client.get("/search", params={"q": '!!! "" *'})
    assert garbage.status_code == 200 and "holds no words to search for" in garbage.text
    nothing = client.get("/search", params={"q": "zeppelinoid"})
    assert "No articles match" in nothing.text


# -- the sources admin

def _flash(page: str) -> str:
    found = re.search(r'<p class="notice notice-(\w+)"[^>]*>(.*?)</p>', page, flags=re.S)
    return f"{found.group(1)}: {html.unescape(found.group(2))}" if found else ""


def test_admin_adds_a_real_feed_and_refuses_a_duplicate(store, client):
    outlet = samples.Outlet("outlet9", "The Lake Ossin Observer", "http://127.0.0.1/outlet9/")
    with FeedServer() as feeds:
        feed_url = feeds.add("/outlet9/feed.xml", samples.rss(outlet, samples.make_articles(outlet, 4)))
        added = client.post("/sources", data={"url": feed_url})
        assert added.status_code == 303 and added.headers["location"].startswith("/sources?flash=")
        page = client.get(added.headers["location"]).text
        assert _flash(page) == "ok: Now following The Lake Ossin Observer. 4 articles stored."
        assert feed_url in page and "The Lake Ossin Observer" in page
        again = client.post("/sources", data={"url": feed_url, "name": "Observer", "category": "News/Lakes"})
        assert again.status_code == 422  # the page again, with what was typed
        source_id = store.find_source(feed_url).id
        assert _flash(again.text) == f"error: Could not follow {feed_url}: it is already followed as #{source_id}."
        assert f'value="{feed_url}"' in again.text and 'value="Observer"' in again.text
        assert 'value="News/Lakes"' in again.text
        not_feed = feeds.add("/plain.html", "<html><body>no feeds here</body></html>", "text/html")
        refused = client.post("/sources", data={"url": not_feed})
        assert _flash(refused.text) == f"error: Could not follow {not_feed}: the address gives a web page that links to no feed."
        assert refused.text.count(not_feed) == 2  # the message and the kept field: the URL once in words
    assert [s.name for s in store.list_sources()] == ["The Lake Ossin Observer"]
    assert _flash(client.get(added.headers["location"]).text) == ""  # shown once


def test_admin_pauses_resumes_and_removes(seeded, client):
    source = seeded.sources[2]
    paused = client.get(client.post(f"/sources/{source.id}/pause").headers["location"]).text
    assert _flash(paused) == "ok: Paused The Cedar Falls Herald."
    assert seeded.store.get_source(source.id).enabled is False
    assert f'action="/sources/{source.id}/resume"' in paused
    client.post(f"/sources/{source.id}/resume")
    assert seeded.store.get_source(source.id).enabled is True
    count = seeded.store.get_source(source.id).article_count
    removed = client.get(client.post(f"/sources/{source.id}/remove").headers["location"]).text
    assert _flash(removed) == f"ok: Removed The Cedar Falls Herald and its {count} articles."
    assert source.id not in [s.id for s in seeded.store.list_sources()]
    gone = client.get(client.post(f"/sources/{source.id}/remove").headers["location"]).text
    assert "no source" in _flash(gone)


def test_admin_refuses_posts_from_other_sites(seeded, client):
    source = seeded.sources[0]
    refused = client.post(f"/sources/{source.id}/remove", headers={"Origin": "http://evil.test"})
    assert refused.status_code == 403
    assert seeded.store.get_source(source.id).enabled


def test_admin_table_shows_health(seeded, client):
    page = client.get("/sources").text
    row = re.search(rf'<tr id="source-{seeded.sources[1].id}".*?</tr>', page, flags=re.S).group(0)
    cells = [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
    assert re.fullmatch(r"ok Fetched \d+ days? ago Next now", cells[1]), cells[1]  # T0 is long past: overdue
    assert 'datetime="2025-09-17T18:56:00+00:00" title="September 17, 2025 - 14:56"' in row  # exact on hover
    assert 'title="September 17, 2025 - 15:26"' in row
    assert cells[2] == str(seeded.store.article_count(seeded.sources[1].id))


def test_empty_wire_says_how_to_start_and_follows_the_starter_list(store, client):
    page = client.get("/").text
    assert "No sources yet" in page and "newswire add URL" in page and "newswire demo" in page
    assert 'href="/sources"' in page
    try:
        from newswire.sources.starter import starter_feeds
    except ImportError:
        assert "Follow the starter list" not in page
        return
    feeds = starter_feeds()
    assert "Follow the starter list" in page and 'action="/sources/starter"' in page
    assert all(str(escape(feed.name)) in page for feed in feeds)
    done = client.get(client.post("/sources/starter").headers["location"]).text
    assert _flash(done).startswith(f"ok: Following {len(feeds)} starter sources.")
    assert len(store.list_sources()) == len(feeds)
    assert "No sources yet" not in client.get("/").text  # nothing fetched yet: says so instead
    assert "No articles yet" in client.get("/").text


# -- the live wire

def read_events(lines: Iterator[str], count: int, max_pings: int | None = None) -> list[dict[str, str]]:
    """The next ``count`` dispatched events (those with data) from an SSE line stream; with
    ``max_pings``, fails after that many keep-alive comments instead of waiting for ever."""
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    pings = 0
    for line in lines:
        if line == "":
            if "data" in current:
                events.append(current)
                if len(events) == count:
                    return events
            current = {}
            continue
        if line.startswith(":"):
            pings += line == ": ping"
            if max_pings is not None and pings > max_pings:
                raise AssertionError(f"no more events after {events}")
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        current[name] = current[name] + "\n" + value if name == "data" and name in current else value
    raise AssertionError(f"stream ended after {events}")


def test_live_sends_new_articles_and_resumes_from_last_event_id(seeded, client):
    store = seeded.store
    mark = store.last_article_id()
    with client.stream("GET", "/live", params={"after": mark}) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        new_id = add_article(store, seeded.sources[1].id, "live-1", "Ferry service resumes <after> storm")
        (event,) = read_events(lines, 1)
    assert event["event"] == "article" and event["id"] == str(new_id)
    assert event["data"].startswith(f'<li class="wire-item" id="item-{new_id}"')
    assert "Ferry service resumes &lt;after&gt; storm" in event["data"]
    assert text_of(re.search(r'<p class="meta">(.*?)</p>', event["data"], flags=re.S).group(1)) == \
        "September 17, 2025 - 15:56 | Omar Iqbal | The Port Alder Chronicle"

    # Two more arrive while the reader is away; the reconnect (stale ?after=) resumes exactly.
    second = add_article(store, seeded.sources[0].id, "live-2", "Second")
    third = add_article(store, seeded.sources[2].id, "live-3", "Third")
    with client.stream("GET", "/live", params={"after": mark},
                       headers={"Last-Event-ID": str(new_id)}) as stream:
        events = read_events(stream.iter_lines(), 2)
    assert [e["id"] for e in events] == [str(second), str(third)]


def test_live_respects_the_source_filter_and_starts_at_the_newest(seeded, client):
    store = seeded.store
    wanted = seeded.sources[0]
    with client.stream("GET", "/live", params={"source": wanted.id}) as stream:  # no after: from now on
        lines = stream.iter_lines()
        next(lines)
        add_article(store, seeded.sources[1].id, "other", "Not for this filter")
        mine = add_article(store, wanted.id, "mine", "For this filter")
        (event,) = read_events(lines, 1)
    assert event["id"] == str(mine) and "For this filter" in event["data"]
    assert client.get("/live", params={"source": "x"}).status_code == 400


def test_live_stream_ends_when_the_server_shuts_down(seeded, app):
    ended = threading.Event()
    server = WebServer(app).__enter__()
    connected = threading.Event()

    def listen() -> None:
        with httpx.Client(timeout=20) as c, c.stream("GET", server.url("/live")) as stream:
            for _ in stream.iter_lines():
                connected.set()
        ended.set()

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    assert connected.wait(20)
    server.__exit__(None, None, None)
    reader.join(20)
    assert ended.is_set(), "the stream did not end with the server"
    assert not server._thread.is_alive()


def test_live_sends_a_late_original_with_its_copies_and_withdraws_them_where_it_is_not_shown(seeded, app, client):
    """A copy shown as an original until its original arrives: the main wire gets the original
    with the copy in its "Also in" (``data-copies``: the page takes the copy away); an author's
    wire that does not show the original gets a ``withdraw`` event naming the copy."""
    app.state.live_settle_seconds = 30
    app.state.live_ping_seconds = 0.2
    store = seeded.store
    now = datetime.now(timezone.utc)
    mark = store.last_article_id()

    def store_fresh(source_id: int, guid: str, title: str, author: str, minutes: int) -> int:
        store.save_refresh(source_id, ok(now), [make_entry(guid, title, now + timedelta(minutes=minutes), (author,))])
        return store.last_article_id()

    with client.stream("GET", "/live", params={"after": mark}) as wire, \
            client.stream("GET", "/live", params={"after": mark, "author": "Omar Iqbal"}) as by_author:
        wire_lines, author_lines = wire.iter_lines(), by_author.iter_lines()
        next(wire_lines), next(author_lines)
        copy = store_fresh(seeded.sources[1].id, "paper-copy", "Ferry strike ends", "Omar Iqbal", 0)
        store.assign_stories([(copy, store.create_story("Ferry strike ends", now))])
        (shown,) = read_events(wire_lines, 1, max_pings=50)
        (shown_by_author,) = read_events(author_lines, 1, max_pings=50)
        assert shown["data"] == shown_by_author["data"] and f'id="item-{copy}"' in shown["data"]
        original = store_fresh(seeded.sources[0].id, "wire-original", "Ferry strike ends", "Wire Staff", -5)
        store.set_duplicate_of([(copy, original)])  # what enrichment does, in its order
        story = store.get_article(copy).story_id
        assert story is not None
        store.assign_stories([(original, story)])
        (late,) = read_events(wire_lines, 1, max_pings=50)
        (withdrawn,) = read_events(author_lines, 1, max_pings=50)
    assert late["event"] == "article" and late["id"] == str(original)
    assert f'id="item-{original}"' in late["data"] and f'data-copies="{copy}"' in late["data"]
    assert text_of(re.search(r'<p class="also-in">(.*?)</p>', late["data"], flags=re.S).group(1)) == \
        f"Also in: {seeded.sources[1].name}"
    assert withdrawn["event"] == "withdraw" and withdrawn["data"] == str(copy) and withdrawn["id"] == str(original)


def test_live_sends_the_original_again_when_a_copy_arrives(seeded, app, client):
    """The copy is not shown; its original's item comes again with the copy in its "Also in"."""
    app.state.live_settle_seconds = 30
    app.state.live_ping_seconds = 0.2
    store = seeded.store
    now = datetime.now(timezone.utc)
    store.save_refresh(seeded.sources[0].id, ok(now), [make_entry("first", "Ferry strike ends", now)])
    original = store.last_article_id()
    store.assign_stories([(original, store.create_story("Ferry strike ends", now))])
    with client.stream("GET", "/live", params={"after": original}) as stream:
        lines = stream.iter_lines()
        next(lines)
        store.save_refresh(seeded.sources[2].id, ok(now), [make_entry("again", "Ferry strike ends", now)])
        copy = store.last_article_id()
        store.set_duplicate_of([(copy, original)])
        store.assign_stories([(copy, store.get_article(original).story_id)])
        (event,) = read_events(lines, 1, max_pings=50)
    assert event["id"] == str(copy) and event["data"].startswith(f'<li class="wire-item" id="item-{original}"')
    assert f'data-copies="{copy}"' in event["data"] and f'href="/articles/{copy}"' in event["data"]


def test_search_is_newest_first_by_default_and_pages_to_older_matches(store, client):
    source = store.add_source("http://example.test/pager", name="The Pager Post")
    store.save_refresh(source.id, ok(), [
        make_entry(f"p{i}", f"Quarry report {i}", T0 - timedelta(hours=i)) for i in range(25)])
    first = client.get("/search", params={"q": "quarry"}).text
    assert '<option value="newest" selected>' in first
    guids = lambda page: [store.get_article(i).guid for i in item_ids(page)]  # noqa: E731
    assert guids(first) == [f"p{i}" for i in range(20)]
    older = re.search(r'href="(/search\?[^"]*before=[^"]*)"', first)
    assert older, "no link to older matches"
    second = client.get(older.group(1).replace("&amp;", "&")).text
    assert "Older matches" in second and guids(second) == [f"p{i}" for i in range(20, 25)]
    assert client.get("/search", params={"q": "quarry", "before": "bogus"}).status_code == 400


def test_live_waits_for_enrichment_and_leaves_syndicated_copies_out(seeded, app, client):
    """Fresh articles are held until enrichment gives them a story (so copies are known); the
    main wire then skips a copy, as the page does."""
    app.state.live_settle_seconds = 30
    store = seeded.store
    now = datetime.now(timezone.utc)

    def store_fresh(source_id: int, guid: str, title: str) -> int:
        store.save_refresh(source_id, ok(now), [make_entry(guid, title, now)])
        return store.last_article_id()

    with client.stream("GET", "/live", params={"after": store.last_article_id()}) as stream:
        lines = stream.iter_lines()
        next(lines)
        original = store_fresh(seeded.sources[0].id, "wire-1", "Ferry strike ends")
        copy = store_fresh(seeded.sources[1].id, "wire-1-copy", "Ferry strike ends (copy)")
        other = store_fresh(seeded.sources[2].id, "own-1", "Library reopens")
        story = store.create_story("Ferry strike ends", now)
        store.set_duplicate_of([(copy, original)])  # what enrichment does, in its order
        store.assign_stories([(original, story), (copy, story)])
        first, = read_events(lines, 1)
        assert first["id"] == str(original)  # the copy is skipped; "other" still waits for its story
        store.assign_stories([(other, store.create_story("Library reopens", now))])
        second, = read_events(lines, 1)
    assert second["id"] == str(other)
