"""When to poll a source next: pure decisions, no I/O (randomness comes in as an argument).

Each source gets its own interval, adapted to how often it publishes (``adaptive_interval``):
about half the median gap between its recent articles' publication times, lengthened while the
source stays quiet, and held between a minimum and a maximum (5 minutes and a day by default).
A 304 says nothing new was published since the last poll, so the interval grows gently
(``interval_after_not_modified``). Every interval is then spread by a random ±10 %
(``with_jitter``) so that sources added together do not stay synchronised.

Servers may ask for less often (Cache-Control max-age, Expires, RSS ``<ttl>``) and we honour that
up to a day; a rate limit's Retry-After is honoured up to a week. Failures back off exponentially
from the source's base interval, bounded by ``max_backoff``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median
from typing import Iterable

DAY = 24 * 3600
WEEK = 7 * DAY
RECENT = 20  # publication times looked at: the newest ones
JITTER = 0.10  # intervals are spread by up to ±10 %
QUIET_GROWTH = 1.25  # a 304 lengthens the interval by this factor


def clamp(seconds: float, minimum: float, maximum: float) -> float:
    return max(minimum, min(maximum, seconds))


def adaptive_interval(published: Iterable[datetime], now: datetime, *, fallback: float,
                      minimum: float, maximum: float) -> float:
    """Seconds until the next poll of a source whose articles were published at ``published``.

    Half the median gap between the newest ``RECENT`` publication times, so a typical new
    article waits about a quarter of a gap; but at least a quarter of the time since the newest
    article, so a source gone quiet (overnight, or for good) is polled less and less often.
    Times in the future count as now. With fewer than two times there is nothing to measure and
    ``fallback`` is used. Always within [minimum, maximum]."""
    times = sorted((min(t, now) for t in published), reverse=True)[:RECENT]
    if len(times) < 2:
        return clamp(fallback, minimum, maximum)
    gap = median((newer - older).total_seconds() for newer, older in zip(times, times[1:]))
    quiet = (now - times[0]).total_seconds()
    return clamp(max(gap / 2, quiet / 4), minimum, maximum)


def interval_after_not_modified(previous: float | None, *, fallback: float, minimum: float,
                                maximum: float) -> float:
    """Nothing new since the last poll: wait a little longer than last time (``previous``
    seconds; None when unknown, e.g. after a failure, and ``fallback`` is used)."""
    if previous is None or previous <= 0:
        return clamp(fallback, minimum, maximum)
    return clamp(previous * QUIET_GROWTH, minimum, maximum)


def with_jitter(seconds: float, draw: float, *, minimum: float, maximum: float) -> float:
    """``seconds`` moved by ``draw`` (a number in [-1, 1], e.g. ``rng.uniform(-1, 1)``) times
    ``JITTER``, kept within [minimum, maximum]."""
    draw = max(-1.0, min(1.0, draw))
    return clamp(seconds * (1 + JITTER * draw), minimum, maximum)


def next_poll_after_success(now: datetime, interval: float, *, freshness: float | None = None,
                            ttl_minutes: int | None = None) -> datetime:
    """``interval`` seconds from ``now``, or longer when the server asks (up to a day)."""
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
