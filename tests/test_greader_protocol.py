"""The Google Reader protocol's pure parts: item and stream ids, parameters, response documents."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from newswire.models import Article, Enclosure, Source
from newswire.sync.greader_ids import (READ, READING_LIST, STARRED, Stream, long_item_id, parse_item_id,
                                       parse_stream, short_item_id)
from newswire.sync.greader_params import Params, count, microseconds, seconds, stream_query
from newswire.sync.greader_shapes import item_json, subscription_json, tag_list, unread_counts, usec

UTC = timezone.utc


# item ids

@pytest.mark.parametrize("article_id", [1, 42, 255, 2**31 - 1])
def test_long_and_short_ids_round_trip(article_id: int) -> None:
    assert parse_item_id(long_item_id(article_id)) == article_id
    assert parse_item_id(short_item_id(article_id)) == article_id


def test_item_id_forms() -> None:
    assert long_item_id(42) == "tag:google.com,2005:reader/item/000000000000002a"
    assert short_item_id(42) == "42"
    assert parse_item_id("000000000000002a") == 42  # the bare 16 hex digits
    assert parse_item_id("0000000000000010") == 16  # a leading zero means hex, as FreshRSS reads it
    assert parse_item_id(str(-(2**64) + 42)) == 42  # Google's signed 64-bit short form


@pytest.mark.parametrize("bad", ["", "0", "-", "abc_def", "1_0", "tag:google.com,2005:reader/item/",
                                 "tag:google.com,2005:reader/item/zz", "x" * 30, str(2**31),
                                 "tag:google.com,2005:reader/item/00000000ffffffff", "١٢", "12 34"])
def test_item_ids_that_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_item_id(bad)


# streams

@pytest.mark.parametrize("value, stream", [
    ("user/-/state/com.google/reading-list", Stream("reading-list")),
    ("user/1/state/com.google/reading-list", Stream("reading-list")),
    ("user/-/state/com.google/starred", Stream("starred")),
    ("user/-/state/com.google/read", Stream("read")),
    ("feed/7", Stream("feed", source_id=7)),
    ("feed/https://example.com/feed.xml", Stream("feed", feed_url="https://example.com/feed.xml")),
    ("user/-/label/News/Canada", Stream("label", label="News/Canada")),
])
def test_streams(value: str, stream: Stream) -> None:
    assert parse_stream(value) == stream


@pytest.mark.parametrize("bad", ["", "feed/", "feed/0", f"feed/{2**31}", "feed/ftp://x", "user/-/label/",
                                 "user/-/state/com.google/broadcast", "splice/x", "feed/" + "1" * 3000])
def test_unknown_streams(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_stream(bad)


# parameters

def test_params_come_from_query_and_form_with_repeats() -> None:
    params = Params.parse("output=json&i=1", b"i=2&i=3&a=user%2F-%2Fstate%2Fcom.google%2Fread")
    assert params.all("i") == ["1", "2", "3"]
    assert params.first("a") == READ
    assert params.first("missing") is None


def test_params_refuse_nul_and_huge_bodies() -> None:
    with pytest.raises(ValueError):
        Params.parse("", b"i=1%002")
    with pytest.raises(ValueError):
        Params.parse("", b"i=1&" * 300_000)


def test_count_clamps_and_refuses() -> None:
    assert count(None, 20, 1000) == 20
    assert count("5", 20, 1000) == 5
    assert count("99999999999999999999", 20, 1000) == 1000
    for bad in ("0", "-1", "x", "1.5"):
        with pytest.raises(ValueError):
            count(bad, 20, 1000)


def test_times() -> None:
    assert seconds("1700000000", "ot") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert microseconds("1700000000123456", "ts") == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    assert seconds(None, "ot") is None and seconds("0", "ot") is None
    for bad in ("-5", "abc", "9" * 30, "1e9"):
        with pytest.raises(ValueError):
            seconds(bad, "ot")
        with pytest.raises(ValueError):
            microseconds(bad, "ts")


def test_stream_query() -> None:
    params = Params.parse("n=50&c=abc&ot=1700000000&r=o&xt=user/-/state/com.google/read&it=user/1/state/com.google/starred")
    query = stream_query(params, READING_LIST, default=20, most=1000)
    assert query.stream == Stream("reading-list") and query.limit == 50 and query.continuation == "abc"
    assert query.newer_than == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC) and query.older_than is None
    assert query.oldest_first and query.exclude_read and query.only_starred and not query.only_read
    plain = stream_query(Params.parse(""), "feed/3", default=20, most=1000)
    assert plain.limit == 20 and not plain.oldest_first and not plain.exclude_read and plain.continuation is None
    with pytest.raises(ValueError):
        stream_query(Params.parse("c=" + "x" * 500), READING_LIST, default=20, most=1000)


# documents

SEEN = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)
SOURCE = Source(id=3, feed_url="https://user:secret@example.com/feed.xml", name="Example",
                site_url="https://example.com/", category="News/Canada", created_at=SEEN)
ARTICLE = Article(id=42, source_id=3, source_name="Example", guid="g", url="https://example.com/a",
                  title="A title", authors=("Ann", "Bo"), published_at=datetime(2024, 5, 1, 11, tzinfo=UTC),
                  published_estimated=False, updated_at=None, first_seen_at=SEEN, summary="sum", snippet="snip",
                  content_html="<p>Body</p>", enclosures=(Enclosure("https://example.com/a.mp3", "audio/mpeg", 9),))


def test_item_document() -> None:
    item = item_json(ARTICLE, SOURCE, read=True, starred=False)
    assert item == {
        "id": "tag:google.com,2005:reader/item/000000000000002a",
        "crawlTimeMsec": str(usec(SEEN) // 1000),
        "timestampUsec": str(usec(SEEN)),
        "published": int(datetime(2024, 5, 1, 11, tzinfo=UTC).timestamp()),
        "updated": int(datetime(2024, 5, 1, 11, tzinfo=UTC).timestamp()),
        "title": "A title",
        "author": "Ann, Bo",
        "summary": {"direction": "ltr", "content": "<p>Body</p>"},
        "categories": [READING_LIST, "user/-/label/News/Canada", READ],
        "origin": {"streamId": "feed/3", "title": "Example", "htmlUrl": "https://example.com/"},
        "enclosure": [{"href": "https://example.com/a.mp3", "type": "audio/mpeg", "length": "9"}],
        "canonical": [{"href": "https://example.com/a"}],
        "alternate": [{"href": "https://example.com/a", "type": "text/html"}],
    }
    assert usec(SEEN) == 1714564800250000


def test_item_body_falls_back_to_escaped_text() -> None:
    import dataclasses

    bare = dataclasses.replace(ARTICLE, content_html="", summary="1 < 2", url=None)
    item = item_json(bare, None, read=False, starred=True)
    assert item["summary"]["content"] == "<p>1 &lt; 2</p>"
    assert item["categories"] == [READING_LIST, STARRED]
    assert "canonical" not in item and item["origin"]["htmlUrl"] == ""


def test_subscription_hides_the_feed_password() -> None:
    sub = subscription_json(SOURCE)
    assert sub["id"] == "feed/3" and sub["title"] == "Example"
    assert sub["categories"] == [{"id": "user/-/label/News/Canada", "label": "News/Canada"}]
    assert "secret" not in sub["url"] and sub["htmlUrl"] == "https://example.com/"


def test_tags_and_unread_counts() -> None:
    other = Source(id=4, feed_url="https://b.example/feed", name="B", category="News/Canada")
    loose = Source(id=5, feed_url="https://c.example/feed", name="C")
    quiet = Source(id=6, feed_url="https://d.example/feed", name="D", category="Quiet")
    sources = [SOURCE, other, loose, quiet]
    assert tag_list(sources) == {"tags": [{"id": STARRED}, {"id": "user/-/label/News/Canada", "type": "folder"},
                                          {"id": "user/-/label/Quiet", "type": "folder"}]}
    counts = unread_counts({s.id: s.category for s in sources}, {3: 2, 4: 1, 5: 4, 6: 0}, {3: SEEN})
    assert counts["max"] == 7
    assert [(r["id"], r["count"]) for r in counts["unreadcounts"]] == [
        ("feed/3", 2), ("feed/4", 1), ("feed/5", 4), ("user/-/label/News/Canada", 3), (READING_LIST, 7)]
    assert counts["unreadcounts"][0]["newestItemTimestampUsec"] == str(usec(SEEN))
    assert counts["unreadcounts"][1]["newestItemTimestampUsec"] == "0"
    assert counts["unreadcounts"][-1]["newestItemTimestampUsec"] == str(usec(SEEN))


def test_a_label_counts_its_sub_categories() -> None:
    """A label's stream holds its sub-categories' feeds (as the store filters a category), so
    its unread count does too; a path no source has as its own category is not a label."""
    news = Source(id=1, feed_url="https://a.example/feed", name="A", category="News")
    canada = Source(id=2, feed_url="https://b.example/feed", name="B", category="News/Canada")
    toronto = Source(id=3, feed_url="https://c.example/feed", name="C", category="World/Canada/Toronto")
    rows = unread_counts({s.id: s.category for s in [news, canada, toronto]}, {1: 1, 2: 2, 3: 4})["unreadcounts"]
    assert [(r["id"], r["count"]) for r in rows if "/label/" in r["id"]] == [
        ("user/-/label/News", 3), ("user/-/label/News/Canada", 2), ("user/-/label/World/Canada/Toronto", 4)]
