from datetime import datetime, timedelta, timezone

from newswire.errors import FetchError, ParseError
from newswire.models import FetchResult, ParsedFeed, Source
from newswire.service import decide
from newswire.service.schedule import next_poll_after_failure, next_poll_after_success

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
