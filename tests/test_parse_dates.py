"""Far dates: whatever a feed claims, published/updated land in [1990, seen_at + 10 min].

A date outside that range is treated as no date (published falls back to updated, then to
``seen_at`` marked as estimated), on every path: RSS, Atom, JSON Feed and the feedparser fallback.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest

from newswire.parse import parse_feed, xmlfeed
from newswire.parse.dates import EARLIEST, FUTURE_TOLERANCE, plausible_date

SEEN = datetime(2025, 9, 18, 12, 0, tzinfo=timezone.utc)
URL = "https://gazette.example/feeds/news.xml"

FAR = [
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "31 Dec 9999",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:00:00-05:00",  # the offset pushes it past datetime.max
    "9999-12-31",
    "10000-01-01T00:00:00Z",
    "Mon, 01 Jan 10000 00:00:00 GMT",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00",  # before datetime.min once in UTC
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "01 Jan 0001",
    "1970-01-01T00:00:00Z",       # Unix zero: a sentinel, not a date
    "Thu, 01 Jan 1970 00:00:00 -0500",
    "1900-01-01",
    "2100-01-01T00:00:00Z",
    "Fri, 01 Jan 2100 00:00:00 +0000",
    "2025-09-18T12:11:00Z",        # 11 minutes after it was seen
]


def _rss(published: str, updated: str | None = None) -> str:
    upd = f"<atom:updated>{updated}</atom:updated>" if updated else ""
    return (f'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title>'
            f'<item><title>Far</title><link>https://gazette.example/a/1</link>'
            f'<pubDate>{published}</pubDate>{upd}</item></channel></rss>')


def _atom(published: str, updated: str | None = None) -> str:
    upd = f"<updated>{updated}</updated>" if updated else ""
    return (f'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id>'
            f'<entry><id>urn:t:1</id><title>Far</title><link href="https://gazette.example/a/1"/>'
            f'<published>{published}</published>{upd}</entry></feed>')


def _json(published: str, updated: str | None = None) -> str:
    item = {"id": "1", "url": "https://gazette.example/a/1", "title": "Far", "content_text": "x",
            "date_published": published}
    if updated:
        item["date_modified"] = updated
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [item]})


def _parse(body: str, path: str, tz: str):
    data = body.encode()
    if path == "fallback":
        with mock.patch.object(xmlfeed, "detect_format", return_value=None):
            feed = parse_feed(data, url=URL, seen_at=SEEN, source_timezone=tz)
        assert feed.format.startswith("feedparser:")
        return feed
    return parse_feed(data, url=URL, seen_at=SEEN, source_timezone=tz)


PATHS = [("rss", _rss), ("atom", _atom), ("json", _json), ("fallback", _rss), ("fallback", _atom)]
ZONES = ["Asia/Tokyo", "America/Toronto", "UTC"]


@pytest.mark.parametrize("path, render", PATHS, ids=[f"{p}-{r.__name__}" for p, r in PATHS])
@pytest.mark.parametrize("raw", FAR)
@pytest.mark.parametrize("tz", ZONES)
def test_far_publication_date_becomes_seen_at(path: str, render, raw: str, tz: str) -> None:
    (entry,) = _parse(render(raw), path, tz).entries
    assert entry.published == SEEN and entry.published_estimated is True
    assert entry.updated is None


@pytest.mark.parametrize("path, render", PATHS, ids=[f"{p}-{r.__name__}" for p, r in PATHS])
@pytest.mark.parametrize("raw", FAR)
def test_far_date_falls_back_to_a_sane_updated(path: str, render, raw: str) -> None:
    (entry,) = _parse(render(raw, "2025-09-17T10:00:00Z"), path, "UTC").entries
    assert entry.published == entry.updated == datetime(2025, 9, 17, 10, tzinfo=timezone.utc)
    assert entry.published_estimated is False


@pytest.mark.parametrize("path, render", PATHS, ids=[f"{p}-{r.__name__}" for p, r in PATHS])
@pytest.mark.parametrize("raw", FAR)
def test_far_updated_date_is_dropped(path: str, render, raw: str) -> None:
    (entry,) = _parse(render("2025-09-17T10:00:00Z", raw), path, "Asia/Tokyo").entries
    assert entry.published == datetime(2025, 9, 17, 10, tzinfo=timezone.utc)
    assert entry.updated is None and entry.published_estimated is False


@pytest.mark.parametrize("raw, expected", [
    ("1995-06-01T09:00:00Z", datetime(1995, 6, 1, 9, tzinfo=timezone.utc)),   # a real archive date
    ("1990-01-01T00:00:00Z", datetime(1990, 1, 1, tzinfo=timezone.utc)),
    ("2025-09-18T12:09:00Z", datetime(2025, 9, 18, 12, 9, tzinfo=timezone.utc)),  # within tolerance
    ("2025-09-18T12:00:00Z", SEEN),
])
@pytest.mark.parametrize("path, render", PATHS, ids=[f"{p}-{r.__name__}" for p, r in PATHS])
def test_plausible_dates_are_kept(path: str, render, raw: str, expected: datetime) -> None:
    (entry,) = _parse(render(raw), path, "UTC").entries
    assert entry.published == expected and entry.published_estimated is False


def test_plausible_date_bounds() -> None:
    assert plausible_date(None, seen_at=SEEN) is None
    assert plausible_date(EARLIEST, seen_at=SEEN) == EARLIEST
    assert plausible_date(EARLIEST - timedelta(microseconds=1), seen_at=SEEN) is None
    assert plausible_date(SEEN + FUTURE_TOLERANCE, seen_at=SEEN) == SEEN + FUTURE_TOLERANCE
    assert plausible_date(SEEN + FUTURE_TOLERANCE + timedelta(seconds=1), seen_at=SEEN) is None
    assert plausible_date(datetime.max.replace(tzinfo=timezone.utc), seen_at=SEEN) is None
    assert plausible_date(datetime.min.replace(tzinfo=timezone.utc), seen_at=SEEN) is None
