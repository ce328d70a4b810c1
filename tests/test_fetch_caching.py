"""Freshness and Retry-After: pure functions of headers, table-driven."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from newswire.fetch import freshness_seconds, retry_after_seconds

NOW = datetime(2025, 9, 17, 18, 0, 0, tzinfo=timezone.utc)
DATE = "Wed, 17 Sep 2025 18:00:00 GMT"          # == NOW
IN_AN_HOUR = "Wed, 17 Sep 2025 19:00:00 GMT"


@pytest.mark.parametrize(("headers", "expected"), [
    ({}, None),
    ({"cache-control": "max-age=600"}, 600.0),
    ({"Cache-Control": "public, max-age=300, must-revalidate"}, 300.0),
    ({"cache-control": 'max-age="120"'}, 120.0),
    ({"cache-control": "s-maxage=900"}, None),                           # shared caches only
    ({"cache-control": "s-maxage=900, max-age=60"}, 60.0),
    ({"cache-control": "max-age=600", "expires": IN_AN_HOUR}, 600.0),    # max-age wins
    ({"cache-control": "no-cache, max-age=600"}, None),
    ({"cache-control": "no-store"}, None),
    ({"cache-control": "max-age=soon"}, None),
    ({"cache-control": "max-age=-5"}, None),
    ({"cache-control": "max-age=²"}, None),
    ({"cache-control": "max-age=soon", "expires": IN_AN_HOUR, "date": DATE}, 3600.0),
    ({"expires": IN_AN_HOUR, "date": DATE}, 3600.0),
    ({"expires": IN_AN_HOUR}, 3600.0),                                   # from now without Date
    ({"expires": IN_AN_HOUR, "date": "Wed, 17 Sep 2025 18:30:00 GMT"}, 1800.0),  # Date beats now
    ({"expires": "Wed, 17 Sep 2025 17:00:00 GMT", "date": DATE}, 0.0),   # already expired
    ({"expires": "0"}, None),
    ({"expires": "tomorrow"}, None),
    ({"expires": "Wednesday, 17-Sep-25 19:00:00 GMT", "date": DATE}, 3600.0),  # RFC 850
    ({"expires": "Wed Sep 17 19:00:00 2025", "date": DATE}, 3600.0),          # asctime
])
def test_freshness_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert freshness_seconds(headers, NOW) == expected


def test_freshness_with_a_naive_now_is_taken_as_utc() -> None:
    assert freshness_seconds({"expires": IN_AN_HOUR}, NOW.replace(tzinfo=None)) == 3600.0


@pytest.mark.parametrize(("value", "expected"), [
    (None, None),
    ("", None),
    ("120", 120.0),
    (" 0 ", 0.0),
    ("-1", None),
    ("1.5", None),
    ("soon", None),
    (IN_AN_HOUR, 3600.0),
    ("Wed, 17 Sep 2025 17:00:00 GMT", 0.0),           # in the past: retry now
    ("Wed, 17 Sep 2025 20:00:00 +0200", 0.0),        # same instant as NOW, other zone
])
def test_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value, NOW) == expected


def test_retry_after_date_is_relative_to_now() -> None:
    later = NOW + timedelta(minutes=30)
    assert retry_after_seconds(IN_AN_HOUR, later) == 1800.0
