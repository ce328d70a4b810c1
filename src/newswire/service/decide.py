"""What a refresh outcome means for the source: pure functions from (source, outcome, now) to
the ``SourceUpdate`` the store records. No I/O, so every rule is a one-line test; the jitter's
random numbers come from ``rng`` (tests pass a seeded ``random.Random``)."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Protocol

from newswire.config import DEFAULTS, Settings
from newswire.errors import FetchError, NewswireError
from newswire.fetch import freshness_seconds
from newswire.models import FetchResult, ParsedFeed, Source, SourceUpdate
from newswire.service import schedule
from newswire.service.schedule import next_poll_after_failure, next_poll_after_success


INTERNAL_ERROR = "internal-error"
MIN_RETRY = 60  # seconds: the shortest wait after an internal error, whatever the source says


class Uniform(Protocol):
    def uniform(self, a: float, b: float) -> float: ...


def after_fetch(source: Source, result: FetchResult, feed: ParsedFeed | None, now: datetime, *,
                rng: Uniform | None = None, settings: Settings = DEFAULTS) -> SourceUpdate:
    """A 200 (with its parsed feed) or a 304 (``feed`` is None)."""
    next_due = next_poll_after_success(
        now, poll_interval(source, feed, now, rng=rng, settings=settings),
        freshness=freshness_seconds(result.headers, now),
        ttl_minutes=feed.ttl_minutes if feed else None,
    )
    return SourceUpdate(
        fetched_at=now,
        status="not-modified" if result.not_modified else "ok",
        next_due_at=next_due,
        consecutive_failures=0,
        error="",
        etag=result.etag,
        last_modified=result.last_modified,
        feed_url=result.permanent_url if result.permanent_url != source.feed_url else None,
        name=(feed.title or None) if feed and not source.name else None,
        site_url=feed.site_url if feed and feed.site_url and not source.site_url else None,
    )


def after_failure(source: Source, error: NewswireError, now: datetime,
                  settings: Settings = DEFAULTS) -> SourceUpdate:
    """Any failure: record it in words, back off, and disable a source whose feed is gone (410)."""
    failures = source.consecutive_failures + 1
    reason = failure_reason(error)
    retry_after = getattr(error, "retry_after", None)
    gone = reason == "gone"
    message = str(error)
    if gone:
        message += " — the feed is gone for good; source disabled"
    return SourceUpdate(
        fetched_at=now,
        status=reason,
        next_due_at=next_poll_after_failure(
            now, source.poll_interval, failures, settings.max_backoff, retry_after=retry_after),
        consecutive_failures=failures,
        error=message,
        enabled=False if gone else None,
    )


def after_internal_error(source: Source, error: BaseException, now: datetime) -> SourceUpdate:
    """A failure that is ours, not the feed's (a bug, a parse worker that died, a malformed
    setting): recorded as "internal-error" with what was raised, and retried with the usual
    backoff from the source's own interval. It reads no setting, so a bad one cannot fail it too."""
    failures = source.consecutive_failures + 1
    interval = max(MIN_RETRY, source.poll_interval)
    return SourceUpdate(
        fetched_at=now,
        status=INTERNAL_ERROR,
        next_due_at=next_poll_after_failure(now, interval, failures, schedule.DAY),
        consecutive_failures=failures,
        error=f"internal error: {type(error).__name__}: {error}",
    )


def poll_interval(source: Source, feed: ParsedFeed | None, now: datetime, *,
                  rng: Uniform | None = None, settings: Settings = DEFAULTS) -> float:
    """Seconds until the next poll after a success, before server hints: adapted to the feed's
    publication times (or, after a 304, a little longer than last time), jittered, and within
    NEWSWIRE_MIN_POLL_INTERVAL..NEWSWIRE_MAX_POLL_INTERVAL. ``source.poll_interval`` is the
    fallback when the feed says nothing."""
    bounds = {"minimum": float(settings.min_poll_interval), "maximum": float(settings.max_poll_interval)}
    if feed is not None:
        published = [e.published for e in feed.entries if e.published and not e.published_estimated]
        interval = schedule.adaptive_interval(published, now, fallback=source.poll_interval, **bounds)
    else:
        interval = schedule.interval_after_not_modified(
            _previous_wait(source), fallback=source.poll_interval, **bounds)
    return schedule.with_jitter(interval, (rng or random).uniform(-1.0, 1.0), **bounds)


def _previous_wait(source: Source) -> float | None:
    """The wait chosen after the last poll, when that poll succeeded."""
    if source.consecutive_failures or source.last_fetched_at is None or source.next_due_at is None:
        return None
    return (source.next_due_at - source.last_fetched_at).total_seconds()


def failure_reason(error: BaseException) -> str:
    if isinstance(error, FetchError):
        return error.reason
    if not isinstance(error, NewswireError):
        return INTERNAL_ERROR
    name = type(error).__name__
    return {"ParseError": "parse-error", "StorageError": "storage-error"}.get(name, "error")
