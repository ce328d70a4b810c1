"""When to poll a source next: pure decisions, no I/O.

A source is polled every ``poll_interval`` seconds. Servers may ask for less often (Cache-Control
max-age, Expires, RSS ``<ttl>``) and we honour that up to a day; a rate limit's Retry-After is
honoured up to a week. Failures back off exponentially from the interval, bounded by
``max_backoff``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

DAY = 24 * 3600
WEEK = 7 * DAY


def next_poll_after_success(now: datetime, interval: int, *, freshness: float | None = None,
                            ttl_minutes: int | None = None) -> datetime:
    wait = float(interval)
    for hint in (freshness, ttl_minutes * 60 if ttl_minutes else None):
        if hint and hint > wait:
            wait = min(hint, DAY)
    return now + timedelta(seconds=wait)


def next_poll_after_failure(now: datetime, interval: int, failures: int, max_backoff: int, *,
                            retry_after: float | None = None) -> datetime:
    """``failures`` counts this one too: the first failure waits one interval, then 2×, 4×…"""
    wait = min(interval * 2 ** max(0, min(failures - 1, 30)), max_backoff)
    if retry_after:
        wait = max(wait, min(retry_after, WEEK))
    return now + timedelta(seconds=wait)
