"""Feeds out: Atom, RSS and JSON Feed of the wire, per source, per author and per search, parsed
back with feedparser and with Newswire's own parser; validators and 304."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import feedparser
import httpx
import pytest
from lxml import etree

from newswire.testing import LOOPBACK
from newswire.parse import parse_feed
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from newswire.web.feeds import xml_text
from test_api import entry, ok, seed

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml", "json": "application/feed+json"}
FEEDPARSER_VERSIONS = {"atom": "atom10", "rss": "rss20", "json": "json11"}
FORMATS = list(CONTENT_TYPES)


@pytest.fixture
def store(sqlite_store):
    return sqlite_store  # these tests need SQLite only


def fetch(client, path: str, fmt: str, **params) -> bytes:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == CONTENT_TYPES[fmt]
    return response.content


def feedparse(body: bytes, fmt: str) -> feedparser.FeedParserDict:
    """feedparser's reading, which must find nothing wrong. The installed feedparser (6.0) reads
    no JSON Feed, so JSON Feed is read into the same shape by ``json_as_feedparser``."""
    if fmt == "json":
        return json_as_feedparser(body)
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == FEEDPARSER_VERSIONS[fmt]
    return parsed


def json_as_feedparser(body: bytes) -> feedparser.FeedParserDict:
    document = json.loads(body)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    for key in ("title", "home_page_url", "feed_url", "items"):
        assert key in document, key
    entries = [feedparser.FeedParserDict(
        title=i["title"], id=i["id"], link=i["url"], authors=i["authors"],
        content=[feedparser.FeedParserDict(value=i["content_html"])]) for i in document["items"]]
    return feedparser.FeedParserDict(feed=feedparser.FeedParserDict(title=document["title"]), entries=entries,
                                     bozo=0)


def parsed_titles(body: bytes, fmt: str) -> list[str]:
    return [e.title for e in feedparse(body, fmt).entries]


@pytest.mark.parametrize("fmt", FORMATS)
def test_wire_round_trips_through_feedparser_and_our_parser(store, client, fmt):
    seed(store)
    body = fetch(client, f"/feed.{fmt}", fmt)
    parsed = feedparse(body, fmt)
    assert [e.title for e in parsed.entries] == ["Story b1", "Story a3", "Story a2", "Story a1"]
    a1 = parsed.entries[-1]
    assert [a["name"] for a in a1.authors] == ["Ada Moreau", "Liam Okafor"]
    assert a1.link == "http://example.test/a1"
    assert a1.id == "http://testserver/articles/1"
    assert a1.content[0].value == "<p>harbour budget vote</p>"
    ours = parse_feed(body, url=f"http://testserver/feed.{fmt}", content_type=CONTENT_TYPES[fmt],
                      seen_at=datetime(2030, 1, 1, tzinfo=timezone.utc))
    stored = client.get("/api/v1/articles").json()["items"]
    assert [e.title for e in ours.entries] == [a["title"] for a in stored]
    assert [list(e.authors) for e in ours.entries] == [a["authors"] for a in stored]
    assert [e.published for e in ours.entries] == [datetime.fromisoformat(a["published_at"]) for a in stored]
    assert not any(e.published_estimated for e in ours.entries)
    assert [e.guid for e in ours.entries] == [f"http://testserver/articles/{a['id']}" for a in stored]
    assert ours.entries[-1].content_html == "<p>harbour budget vote</p>"


def test_atom_has_the_required_elements(store, client):
    seed(store)
    root = etree.fromstring(fetch(client, "/feed.atom", "atom"))
    assert root.tag == ATOM + "feed"
    assert root.findtext(ATOM + "id") == "http://testserver/feed.atom"
    assert root.findtext(ATOM + "title") == "Newswire"
    assert root.findtext(ATOM + "updated") == "2025-09-17T19:00:00+00:00"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://testserver/feed.atom"
    entries = root.findall(ATOM + "entry")
    assert len(entries) == 4
    for e in entries:
        for tag in ("id", "title", "updated", "published", "summary"):
            assert e.findtext(ATOM + tag), tag
        assert e.find(f"{ATOM}link[@rel='alternate']").get("href").startswith("http://example.test/")
        assert e.find(ATOM + "content").get("type") == "html"
    a1 = entries[-1]
    assert [n.text for n in a1.findall(f"{ATOM}author/{ATOM}name")] == ["Ada Moreau", "Liam Okafor"]
    assert a1.findtext(ATOM + "published") == "2025-09-17T18:57:00+00:00"
    assert a1.find(f"{ATOM}link[@rel='enclosure']").attrib == {
        "rel": "enclosure", "href": "http://example.test/a1.jpg", "type": "image/jpeg", "length": "1234"}


def test_rss_has_the_required_elements(store, client):
    seed(store)
    channel = etree.fromstring(fetch(client, "/feed.rss", "rss")).find("channel")
    assert channel.findtext("title") == "Newswire"
    assert channel.findtext("link") == "http://testserver/"
    assert channel.findtext("description")
    items = channel.findall("item")
    assert len(items) == 4
    for item in items:
        guid = item.find("guid")
        assert guid.get("isPermaLink") == "false" and guid.text.startswith("http://testserver/articles/")
        assert item.findtext("description") and item.findtext("title") and item.findtext("link")
        assert parsedate_to_datetime(item.findtext("pubDate")).tzinfo is not None
    a1 = items[-1]
    assert a1.findtext("pubDate") == "Wed, 17 Sep 2025 18:57:00 GMT"
    assert [c.text for c in a1.findall(DC + "creator")] == ["Ada Moreau", "Liam Okafor"]
    assert items[1].findall(DC + "creator") == []  # a3 has no byline


def test_json_feed_has_the_required_members(store, client):
    seed(store)
    document = json.loads(fetch(client, "/feed.json", "json"))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert (document["title"], document["home_page_url"], document["feed_url"]) == \
        ("Newswire", "http://testserver/", "http://testserver/feed.json")
    a1 = document["items"][-1]
    assert {"id", "url", "title", "content_html", "date_published", "authors"} <= set(a1)
    assert a1["authors"] == [{"name": "Ada Moreau"}, {"name": "Liam Okafor"}]
    assert a1["date_published"] == "2025-09-17T18:57:00+00:00"
    assert a1["attachments"] == [{"url": "http://example.test/a1.jpg", "mime_type": "image/jpeg",
                                  "size_in_bytes": 1234}]


@pytest.mark.parametrize("fmt", FORMATS)
def test_filters_and_path_forms(store, client, fmt):
    ids = seed(store)
    assert parsed_titles(fetch(client, f"/feed.{fmt}", fmt, source=ids["gazette"]), fmt) == \
        ["Story a3", "Story a2", "Story a1"]
    assert parsed_titles(fetch(client, f"/sources/{ids['gazette']}/feed.{fmt}", fmt), fmt) == \
        ["Story a3", "Story a2", "Story a1"]
    assert parsed_titles(fetch(client, f"/feed.{fmt}", fmt, author="ada moreau"), fmt) == ["Story b1", "Story a1"]
    assert parsed_titles(fetch(client, f"/authors/Ada Moreau/feed.{fmt}", fmt), fmt) == ["Story b1", "Story a1"]
    assert parsed_titles(fetch(client, f"/authors/Ada Moreau/feed.{fmt}", fmt, source=ids["post"]), fmt) == \
        ["Story b1"]
    assert parsed_titles(fetch(client, f"/feed.{fmt}", fmt, q="ferry"), fmt) == ["Story b1", "Story a2"]
    assert parsed_titles(fetch(client, f"/sources/{ids['gazette']}/feed.{fmt}", fmt, q="ferry"), fmt) == \
        ["Story a2"]
    titled = feedparse(fetch(client, f"/authors/ADA MOREAU/feed.{fmt}", fmt), fmt)
    assert titled.feed.title == "Newswire — Ada Moreau"


@pytest.mark.parametrize("path, status", [("/sources/99/feed.atom", 404), ("/authors/Nobody/feed.rss", 404),
                                          ("/feed.json?source=99", 404), ("/feed.atom?source=x", 400),
                                          ("/sources/0/feed.rss", 400), ("/feed.rss?q=%00", 400)])
def test_errors_are_json(store, client, path, status):
    seed(store)
    response = client.get(path)
    assert response.status_code == status
    assert response.json()["status"] == status and response.json()["message"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_conditional_get_answers_304_until_news_arrives(store, client, fmt):
    ids = seed(store)
    first = client.get(f"/feed.{fmt}")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and parsedate_to_datetime(modified).tzinfo is not None
    again = client.get(f"/feed.{fmt}", headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert client.get(f"/feed.{fmt}", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(f"/feed.{fmt}", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(f"/feed.{fmt}", headers={"If-None-Match": '"other"', "If-Modified-Since": modified}
                      ).status_code == 200  # If-None-Match wins
    store.save_refresh(ids["post"], ok(T0_LATER), [entry("b2", 30, ("Rosa Vasquez",))])
    changed = client.get(f"/feed.{fmt}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert client.get(f"/feed.{fmt}", headers={"If-Modified-Since": modified}).status_code == 200


T0_LATER = datetime(2025, 9, 17, 20, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("fmt", FORMATS)
def test_untrusted_text_is_escaped_and_illegal_xml_characters_dropped(store, client, fmt):
    source = store.add_source("http://example.test/odd.xml", name="Odd & <Co>")
    title = "Tom & Jerry <script>alert(1)</script> \x0bvert\ufffe ]]> done"
    store.save_refresh(source.id, ok(), [entry("odd", 1, ("Zoë <Z> & Co",), title=title,
                                               content_html="<p>a ]]> b \x01 c</p>")])
    body = fetch(client, f"/feed.{fmt}", fmt)
    parsed = feedparse(body, fmt)
    expected = title if fmt == "json" else "Tom & Jerry <script>alert(1)</script> vert ]]> done"
    assert parsed.entries[0].title == expected  # JSON can carry any character
    assert [a["name"] for a in parsed.entries[0].authors] == ["Zoë <Z> & Co"]


def test_xml_text_strips_what_xml_1_0_forbids():
    assert xml_text("a\x00b\x08c\td\ne\rf\ud800g\ufffeh\U0001f600") == "abc\td\ne\rfgh\U0001f600"


def test_links_use_the_request_base_url_on_a_real_server(store):
    ids = seed(store)
    with WebServer(create_app(store, LOOPBACK)) as server:
        body = httpx.get(server.url(f"/sources/{ids['post']}/feed.atom")).content
        document = httpx.get(server.url("/feed.json")).json()
    root = etree.fromstring(body)
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == server.url(f"/sources/{ids['post']}/feed.atom")
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == server.url(f"/sources/{ids['post']}")
    assert root.find(f"{ATOM}entry/{ATOM}id").text.startswith(server.url("/articles/"))
    assert document["feed_url"] == server.url("/feed.json")
    assert document["home_page_url"] == server.url("/")


def test_wire_feed_holds_the_latest_fifty(store, client):
    source = store.add_source("http://example.test/many.xml", name="Many")
    store.save_refresh(source.id, ok(), [entry(f"m{i}", i) for i in range(60)])
    titles = parsed_titles(fetch(client, "/feed.atom", "atom"), "atom")
    assert titles == [f"Story m{i}" for i in range(59, 9, -1)]


def test_a_changed_article_shows_in_the_next_feed(store, client):
    source = store.add_source("http://example.test/c.xml", name="C")
    store.save_refresh(source.id, ok(), [entry("c1", 1, text="first version")])
    assert "first version" in client.get("/feed.atom").text
    store.save_refresh(source.id, ok(T0_LATER), [entry("c1", 1, text="second version", title="Story c1 (updated)")])
    body = client.get("/feed.atom").text
    assert "second version" in body and "first version" not in body


def test_a_changed_article_moves_last_modified_whatever_updated_time_its_feed_gives(store, client):
    """A feed that changes an entry and gives it an ``updated`` time from before it was first
    seen: the feed out is served again to a client asking If-Modified-Since, and its entry's
    ``updated`` is still the feed's."""
    source = store.add_source("http://example.test/c.xml", name="C")
    store.save_refresh(source.id, ok(), [entry("c1", 1, text="first version")])
    modified = client.get("/feed.atom").headers["last-modified"]
    assert client.get("/feed.atom", headers={"If-Modified-Since": modified}).status_code == 304
    claimed = datetime(2025, 9, 1, tzinfo=timezone.utc)
    store.save_refresh(source.id, ok(T0_LATER), [entry("c1", 1, text="second version", updated=claimed)])
    again = client.get("/feed.atom", headers={"If-Modified-Since": modified})
    assert again.status_code == 200 and "second version" in again.text
    assert parsedate_to_datetime(again.headers["last-modified"]) == T0_LATER
    assert etree.fromstring(again.content).find(f"{ATOM}entry/{ATOM}updated").text.startswith("2025-09-17")
