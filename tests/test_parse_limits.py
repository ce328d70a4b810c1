"""Size limits: items per fetch (newest kept, work bounded) and each field's length."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from unittest import mock

import pytest

from newswire.fetch import Fetcher
from newswire.parse import assemble, fallback, jsonfeed, limits, parse_feed, xmlfeed
from newswire.parse.limits import clip_html, clip_text, considered
from newswire.service.update import Refresher
from newswire.testing import LOOPBACK

SEEN = datetime(2025, 9, 18, 12, 0, tzinfo=timezone.utc)
URL = "https://gazette.example/feeds/news.xml"


def _when(i: int) -> datetime:
    return SEEN - timedelta(minutes=i)


def rss_items(order: list[int], *, dated: bool = True) -> bytes:
    """An RSS feed whose items are numbered by age (0 is newest), in ``order``."""
    items = "".join(
        f"<item><guid>g{i}</guid><title>T{i}</title>"
        + (f"<pubDate>{format_datetime(_when(i))}</pubDate>" if dated else "") + "</item>"
        for i in order)
    return f'<rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()


def atom_items(order: list[int]) -> bytes:
    entries = "".join(f"<entry><id>g{i}</id><title>T{i}</title><updated>{_when(i).isoformat()}</updated>"
                      "</entry>" for i in order)
    return f'<feed xmlns="http://www.w3.org/2005/Atom"><title>Big</title>{entries}</feed>'.encode()


def json_items(order: list[int]) -> bytes:
    items = [{"id": f"g{i}", "title": f"T{i}", "date_published": _when(i).isoformat()} for i in order]
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Big", "items": items}).encode()


def parse(body: bytes, **kw: object):
    return parse_feed(body, url=URL, seen_at=SEEN, **kw)  # type: ignore[arg-type]


def guids(feed) -> list[str]:
    return [e.guid.rpartition("/")[2] for e in feed.entries]  # feedparser resolves RSS guids


def test_100k_items_keep_the_newest_500_with_bounded_work() -> None:
    body = rss_items(list(range(100_000)))
    assert len(body) > 5_000_000
    with mock.patch.object(assemble, "build_entry", wraps=assemble.build_entry) as built, \
            mock.patch.object(xmlfeed, "_rss_item", wraps=xmlfeed._rss_item) as read:
        feed = parse(body)
    assert guids(feed) == [f"g{i}" for i in range(500)]
    assert built.call_count == 500
    assert read.call_count == 500 * limits.RAW_ITEMS_FACTOR


async def test_a_100k_item_feed_stores_500_rows(store, feed_server) -> None:
    url = feed_server.add("/big.xml", rss_items(list(range(100_000))))
    async with Fetcher(LOOPBACK) as fetcher:
        async with Refresher(store, fetcher, clock=lambda: SEEN) as refresher:
            (result,) = await refresher.refresh_many([store.add_source(url)])
    assert (result.outcome, result.new) == ("fetched", 500)
    assert store.article_count() == 500


@pytest.mark.parametrize("render, reader", [
    (atom_items, (xmlfeed, "_atom_entry")), (json_items, (jsonfeed, "_item")),
], ids=["atom", "json"])
def test_other_formats_are_capped_too(render, reader) -> None:
    with mock.patch.object(*reader, wraps=getattr(*reader)) as read:
        feed = parse(render(list(range(20_000))))
    assert guids(feed) == [f"g{i}" for i in range(500)]
    assert read.call_count == 500 * limits.RAW_ITEMS_FACTOR


def test_fallback_reads_a_bounded_number_of_items() -> None:
    body = rss_items(list(range(20_000)))
    with mock.patch.object(xmlfeed, "detect_format", return_value=None), \
            mock.patch.object(fallback, "_entry", wraps=fallback._entry) as read:
        feed = parse(body)
    assert feed.format.startswith("feedparser:")
    assert guids(feed) == [f"g{i}" for i in range(500)]
    assert read.call_count == 500 * limits.RAW_ITEMS_FACTOR


def test_oldest_first_feed_keeps_its_newest_items_in_document_order() -> None:
    feed = parse(rss_items(list(reversed(range(10_000)))))
    assert guids(feed) == [f"g{i}" for i in reversed(range(500))]


def test_undated_items_keep_document_order() -> None:
    feed = parse(rss_items(list(range(3_000)), dated=False), max_items=40)
    assert guids(feed) == [f"g{i}" for i in range(40)]
    assert all(e.published == SEEN and e.published_estimated for e in feed.entries)


def test_max_items_keeps_the_newest_in_document_order() -> None:
    order = list(range(30))
    random.Random(7).shuffle(order)
    feed = parse(rss_items(order), max_items=5)
    assert guids(feed) == [f"g{i}" for i in order if i < 5]


def test_small_feed_is_untouched() -> None:
    assert len(parse(rss_items(list(range(499)))).entries) == 499


def _words(n_chars: int, word: str = "lorem") -> str:
    return " ".join([word] * (n_chars // (len(word) + 1)))


def test_five_megabyte_title_is_cut_at_a_word_boundary() -> None:
    title = _words(5_000_000)
    body = (f'<rss version="2.0"><channel><title>{title}</title><item><title>{title}</title>'
            f'<guid>a</guid></item></channel></rss>').encode()
    feed = parse(body)
    for value in (feed.title, feed.entries[0].title):
        assert len(value) <= limits.MAX_TITLE + 1 and value.endswith("lorem…")
        assert title.startswith(value[:-1])
    assert len(feed.entries[0].snippet) <= 301


def test_authors_and_categories_are_capped() -> None:
    long_name = "Ada " + "Abernathy" * 100
    creators = "".join(f"<dc:creator>Writer{i} Surname</dc:creator>" for i in range(500))
    cats = "".join(f"<category>Topic {i}</category>" for i in range(500))
    body = (f'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>'
            f'<item><guid>a</guid><dc:creator>{long_name}</dc:creator>{creators}'
            f'<category>{"x" * 5000}</category>{cats}</item></channel></rss>').encode()
    entry = parse(body).entries[0]
    assert len(entry.authors) == limits.MAX_AUTHORS
    assert entry.authors[0].startswith("Ada Abernathy") and len(entry.authors[0]) <= limits.MAX_NAME + 1
    assert entry.authors[1:3] == ("Writer0 Surname", "Writer1 Surname")
    assert len(entry.categories) == limits.MAX_CATEGORIES
    assert all(len(c) <= limits.MAX_NAME + 1 for c in entry.categories)
    assert entry.categories[1] == "Topic 0"


def test_content_and_summary_are_cut_at_element_boundaries() -> None:
    paragraph = "<p>" + _words(300, "ipsum") + " <b>bold</b> &amp; more</p>"
    html = paragraph * (5_000_000 // len(paragraph))
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [
        {"id": "a", "content_html": html, "summary": _words(5_000_000)}]}).encode()
    entry = parse(body).entries[0]
    assert limits.MAX_CONTENT_HTML // 2 < len(entry.content_html) <= limits.MAX_CONTENT_HTML
    assert entry.content_html.endswith("more</p>")
    assert entry.content_html.count("<p>") == entry.content_html.count("</p>")
    assert entry.content_html.count("<b>") == entry.content_html.count("</b>")
    assert len(entry.summary) <= limits.MAX_SUMMARY + 1 and entry.summary.endswith("lorem…")
    assert entry.text.endswith("bold & more")


def test_unclosed_content_is_closed_after_the_cut() -> None:
    html = "<div><p>" + _words(3_000_000) + "</p></div>"
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [
        {"id": "a", "content_html": html}]}).encode()
    content = parse(body).entries[0].content_html
    assert content.startswith("<div><p>lorem") and content.endswith("lorem</p></div>")
    assert len(content) <= limits.MAX_CONTENT_HTML + 20


def test_long_urls_are_dropped_and_long_guids_digested() -> None:
    long_url = "https://gazette.example/a?" + "x" * 3000
    long_guid = "urn:" + "g" * 5000
    body = (f'<rss version="2.0"><channel><title>T</title><link>{long_url}</link><item>'
            f'<guid isPermaLink="false">{long_guid}</guid><link>{long_url}</link>'
            f'<enclosure url="{long_url}" type="audio/mpeg"/>'
            f'<enclosure url="https://gazette.example/ok.mp3" type="audio/mpeg"/></item>'
            f'<item><guid>{long_url}</guid></item></channel></rss>').encode()
    feed = parse(body)
    first, second = feed.entries
    assert feed.site_url is None and first.url is None
    assert [e.url for e in first.enclosures] == ["https://gazette.example/ok.mp3"]
    assert first.guid.startswith("sha256:") and len(first.guid) == 7 + 64
    assert first.guid == parse(body).entries[0].guid  # stable from one fetch to the next
    assert second.guid.startswith("sha256:") and second.guid != first.guid


@pytest.mark.parametrize("text, limit, expected", [
    ("short", 10, "short"),
    ("one two three four", 12, "one two…"),
    ("one two, three", 9, "one two…"),
    ("abcdefghij", 5, "abcde…"),
    ("e\u0301" * 4, 3, "e\u0301…"),  # a combining accent stays with its letter
])
def test_clip_text(text: str, limit: int, expected: str) -> None:
    assert clip_text(text, limit) == expected


@pytest.mark.parametrize("html, limit, expected", [
    ("<p>a</p>", 100, "<p>a</p>"),
    ("<p>one</p><p>two three</p>", 16, "<p>one</p>"),
    ("<div>one two <b>three</b> four", 20, "<div>one two "),
    ("<p>one <b>two</b>three four", 20, "<p>one <b>two</b>"),
    ("<div>one two three four five", 20, "<div>one two three"),
    ('<p>alpha <a href="https://x.example/long/path">link</a></p>', 30, "<p>alpha "),
])
def test_clip_html(html: str, limit: int, expected: str) -> None:
    assert clip_html(html, limit) == expected


def test_considered_takes_both_ends() -> None:
    assert considered(list(range(10)), 4) == [0, 1, 8, 9]
    assert considered(list(range(10)), 5) == [0, 1, 2, 8, 9]
    assert considered([1, 2], 5) == [1, 2]
