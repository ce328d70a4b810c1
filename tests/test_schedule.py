import random
from datetime import datetime, timedelta, timezone

from newswire.errors import FetchError, ParseError
from newswire.models import Entry, FetchResult, ParsedFeed, Source
from newswire.config import Settings
from newswire.service import decide
from newswire.service.schedule import (
    adaptive_interval,
    interval_after_not_modified,
    next_poll_after_failure,
    next_poll_after_success,
    with_jitter,
)

NOW = datetime(2025, 9, 17, 12, 0, tzinfo=timezone.utc)
SOURCE = Source(id=1, feed_url="https://a.test/feed", name="", poll_interval=1800)


def test_success_polls_after_interval_unless_server_asks_for_longer():
    assert next_poll_after_success(NOW, 1800) == NOW + timedelta(seconds=1800)
    assert next_poll_after_success(NOW, 1800, freshness=600) == NOW + timedelta(seconds=1800)
    assert next_poll_after_success(NOW, 1800, freshness=7200) == NOW + timedelta(seconds=7200)
    assert next_poll_after_success(NOW, 1800, ttl_minutes=180) == NOW + timedelta(hours=3)
    assert next_poll_after_success(NOW, 1800, freshness=10 ** 9) == NOW + timedelta(days=1)


def test_failures_back_off_exponentially_and_bounded():
    waits = [(next_poll_after_failure(NOW, 600, n, 3600) - NOW).total_seconds() for n in range(1, 6)]
    assert waits == [600, 1200, 2400, 3600, 3600]


def test_retry_after_is_honoured_even_beyond_backoff():
    assert next_poll_after_failure(NOW, 600, 1, 3600, retry_after=7200) == NOW + timedelta(seconds=7200)


def test_after_fetch_records_validators_permanent_url_and_feed_title():
    result = FetchResult(url="https://b.test/feed", status=200, etag='"e1"', last_modified="lm",
                         permanent_url="https://b.test/feed", headers={"cache-control": "max-age=7200"})
    feed = ParsedFeed(title="Port Alder Post", site_url="https://b.test/", entries=(), format="rss2", ttl_minutes=None)
    update = decide.after_fetch(SOURCE, result, feed, NOW)
    assert update.status == "ok" and update.consecutive_failures == 0
    assert (update.etag, update.last_modified, update.feed_url) == ('"e1"', "lm", "https://b.test/feed")
    assert (update.name, update.site_url) == ("Port Alder Post", "https://b.test/")
    assert update.next_due_at == NOW + timedelta(seconds=7200)


def test_not_modified_keeps_name_and_counts_as_success():
    named = Source(id=1, feed_url="https://a.test/feed", name="Kept", consecutive_failures=3)
    update = decide.after_fetch(named, FetchResult(url=named.feed_url, status=304), None, NOW)
    assert update.status == "not-modified" and update.consecutive_failures == 0 and update.name is None


def test_gone_disables_and_says_so():
    update = decide.after_failure(SOURCE, FetchError("fetch: HTTP 410 Gone", reason="gone", status=410), NOW)
    assert update.enabled is False and "disabled" in update.error and update.status == "gone"


def test_parse_failure_counts_and_backs_off():
    failing = Source(id=1, feed_url="x", name="x", poll_interval=1800, consecutive_failures=2)
    update = decide.after_failure(failing, ParseError("parse: this is an HTML page, not a feed"), NOW)
    assert update.status == "parse-error" and update.consecutive_failures == 3
    assert update.next_due_at == NOW + timedelta(seconds=1800 * 4)
    assert update.error == "parse: this is an HTML page, not a feed"


def test_rate_limit_retry_after_sets_next_poll():
    error = FetchError("fetch: HTTP 429", reason="rate-limited", status=429)
    error.retry_after = 5 * 3600
    update = decide.after_failure(SOURCE, error, NOW)
    assert update.next_due_at == NOW + timedelta(hours=5)


# adaptive intervals

BOUNDS = dict(minimum=300, maximum=86400)


def every(minutes, n, newest=NOW):
    return [newest - timedelta(minutes=minutes * i) for i in range(n)]


def test_interval_is_half_the_median_gap_between_recent_articles():
    assert adaptive_interval(every(20, 10), NOW, fallback=1800, **BOUNDS) == 600
    assert adaptive_interval(every(120, 10), NOW, fallback=1800, **BOUNDS) == 3600
    # one outlier gap does not move the median
    times = every(20, 10) + [NOW - timedelta(days=30)]
    assert adaptive_interval(times, NOW, fallback=1800, **BOUNDS) == 600
    # order does not matter; only the newest 20 count
    times = every(20, 20) + every(600, 40, newest=NOW - timedelta(minutes=20 * 20))
    assert adaptive_interval(reversed(times), NOW, fallback=1800, **BOUNDS) == 600


def test_interval_stays_between_the_bounds():
    assert adaptive_interval(every(1, 10), NOW, fallback=1800, **BOUNDS) == 300
    assert adaptive_interval([NOW, NOW, NOW], NOW, fallback=1800, **BOUNDS) == 300
    assert adaptive_interval(every(60 * 24 * 7, 5), NOW, fallback=1800, **BOUNDS) == 86400
    assert adaptive_interval(every(1, 10), NOW, fallback=1800, minimum=2, maximum=10) == 10


def test_a_quiet_source_is_polled_less_often():
    quiet_for_8h = every(20, 10, newest=NOW - timedelta(hours=8))
    assert adaptive_interval(quiet_for_8h, NOW, fallback=1800, **BOUNDS) == 2 * 3600
    gone_quiet = every(20, 10, newest=NOW - timedelta(days=60))
    assert adaptive_interval(gone_quiet, NOW, fallback=1800, **BOUNDS) == 86400


def test_without_two_dates_the_fallback_is_used_within_bounds():
    assert adaptive_interval([], NOW, fallback=1800, **BOUNDS) == 1800
    assert adaptive_interval([NOW], NOW, fallback=1800, **BOUNDS) == 1800
    assert adaptive_interval([], NOW, fallback=5, **BOUNDS) == 300


def test_future_dates_count_as_now():
    times = [NOW + timedelta(days=3)] + every(20, 5, newest=NOW - timedelta(minutes=20))
    assert adaptive_interval(times, NOW, fallback=1800, **BOUNDS) == 600


def test_not_modified_grows_the_last_wait_gently():
    assert interval_after_not_modified(600, fallback=1800, **BOUNDS) == 750
    assert interval_after_not_modified(80000, fallback=1800, **BOUNDS) == 86400
    assert interval_after_not_modified(None, fallback=1800, **BOUNDS) == 1800


def test_jitter_is_at_most_ten_percent_and_keeps_bounds():
    assert with_jitter(1000, 1.0, **BOUNDS) == 1100
    assert with_jitter(1000, -1.0, **BOUNDS) == 900
    assert with_jitter(1000, 0.0, **BOUNDS) == 1000
    assert with_jitter(300, -1.0, **BOUNDS) == 300
    assert with_jitter(86400, 1.0, **BOUNDS) == 86400
    assert with_jitter(1000, 7.0, **BOUNDS) == 1100  # a draw out of range is clamped


def feed_of(times, ttl=None):
    entries = tuple(Entry(guid=str(i), url=None, title="t", published=t) for i, t in enumerate(times))
    return ParsedFeed(title="t", site_url=None, entries=entries, format="rss2", ttl_minutes=ttl)


class Fixed:
    def __init__(self, value):
        self.value = value

    def uniform(self, a, b):
        return self.value


def test_after_fetch_adapts_to_the_feed_with_injected_jitter():
    ok = FetchResult(url=SOURCE.feed_url, status=200)
    update = decide.after_fetch(SOURCE, ok, feed_of(every(20, 10)), NOW, rng=Fixed(0.5))
    assert update.next_due_at == NOW + timedelta(seconds=630)
    update = decide.after_fetch(SOURCE, ok, feed_of(every(20, 10)), NOW, rng=Fixed(-1.0))
    assert update.next_due_at == NOW + timedelta(seconds=540)


def test_after_fetch_estimated_dates_do_not_count():
    entries = tuple(Entry(guid=str(i), url=None, title="t", published=t, published_estimated=True)
                    for i, t in enumerate(every(1, 10)))
    feed = ParsedFeed(title="t", site_url=None, entries=entries, format="rss2")
    update = decide.after_fetch(SOURCE, FetchResult(url="x", status=200), feed, NOW, rng=Fixed(0.0))
    assert update.next_due_at == NOW + timedelta(seconds=1800)  # the source's own interval


def test_after_fetch_server_hints_still_lengthen_the_adaptive_interval():
    cached = FetchResult(url="x", status=200, headers={"cache-control": "max-age=7200"})
    update = decide.after_fetch(SOURCE, cached, feed_of(every(20, 10)), NOW, rng=Fixed(1.0))
    assert update.next_due_at == NOW + timedelta(seconds=7200)
    update = decide.after_fetch(SOURCE, FetchResult(url="x", status=200), feed_of(every(20, 10), ttl=90),
                                NOW, rng=Fixed(1.0))
    assert update.next_due_at == NOW + timedelta(minutes=90)


def test_after_304_the_wait_grows_from_the_last_one():
    polled = Source(id=1, feed_url="x", name="x", last_fetched_at=NOW - timedelta(seconds=600), next_due_at=NOW)
    update = decide.after_fetch(polled, FetchResult(url="x", status=304), None, NOW, rng=Fixed(0.0))
    assert update.next_due_at == NOW + timedelta(seconds=750)
    after_failure = Source(id=1, feed_url="x", name="x", poll_interval=1200, consecutive_failures=2,
                           last_fetched_at=NOW - timedelta(hours=5), next_due_at=NOW)
    update = decide.after_fetch(after_failure, FetchResult(url="x", status=304), None, NOW, rng=Fixed(0.0))
    assert update.next_due_at == NOW + timedelta(seconds=1200)


def test_bounds_are_settings():
    settings = Settings.from_env({"NEWSWIRE_MIN_POLL_INTERVAL": "2", "NEWSWIRE_MAX_POLL_INTERVAL": "10"})
    fast = feed_of([NOW - timedelta(seconds=3 * i) for i in range(10)])
    update = decide.after_fetch(SOURCE, FetchResult(url="x", status=200), fast, NOW, rng=Fixed(0.0),
                                settings=settings)
    assert update.next_due_at == NOW + timedelta(seconds=2)
    update = decide.after_fetch(SOURCE, FetchResult(url="x", status=200), feed_of(every(20, 10)), NOW,
                                rng=Fixed(0.0), settings=settings)
    assert update.next_due_at == NOW + timedelta(seconds=10)


def test_default_jitter_spreads_sources_within_ten_percent():
    ok = FetchResult(url="x", status=200)
    waits = {(decide.after_fetch(SOURCE, ok, feed_of(every(20, 10)), NOW, rng=random.Random(seed)).next_due_at
              - NOW).total_seconds() for seed in range(20)}
    assert len(waits) > 10 and all(540 <= w <= 660 for w in waits)
