"""What a refresh outcome means for the source: pure functions from (source, outcome, now) to
the ``SourceUpdate`` the store records. No I/O, so every rule is a one-line test."""

from __future__ import annotations

from datetime import datetime

from newswire import config
from newswire.errors import FetchError, NewswireError
from newswire.fetch import freshness_seconds
from newswire.models import FetchResult, ParsedFeed, Source, SourceUpdate
from newswire.service.schedule import next_poll_after_failure, next_poll_after_success


def after_fetch(source: Source, result: FetchResult, feed: ParsedFeed | None, now: datetime) -> SourceUpdate:
    """A 200 (with its parsed feed) or a 304 (``feed`` is None)."""
    next_due = next_poll_after_success(
        now, source.poll_interval,
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


def after_failure(source: Source, error: NewswireError, now: datetime) -> SourceUpdate:
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
            now, source.poll_interval, failures, int(config.get("max_backoff")), retry_after=retry_after),
        consecutive_failures=failures,
        error=message,
        enabled=False if gone else None,
    )


def failure_reason(error: NewswireError) -> str:
    if isinstance(error, FetchError):
        return error.reason
    name = type(error).__name__
    return {"ParseError": "parse-error", "StorageError": "storage-error"}.get(name, "error")
