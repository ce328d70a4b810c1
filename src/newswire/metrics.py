"""Process-wide metrics, written out in the Prometheus text exposition format (version 0.0.4).

    Refresher.refresh ──record_fetch──► REGISTRY (counters + histogram, behind a lock)
    GET /metrics ──► REGISTRY.render() + gauges read from the store at scrape time

No client library: the format is a few lines of text, and keeping it here keeps the dependency
list short. Everything is thread-safe; the refresher runs on the event loop, scrapes on
uvicorn's threads.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Iterable, Mapping
from typing import TypeVar

T = TypeVar("T")

FETCH_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def sample(name: str, labels: Mapping[str, str], value: float) -> str:
    """One line: ``name{a="x",b="y"} value``."""
    if labels:
        inner = ",".join(f'{key}="{_escape(str(val))}"' for key, val in labels.items())
        return f"{name}{{{inner}}} {_number(value)}"
    return f"{name} {_number(value)}"


def family(name: str, kind: str, help_text: str, lines: Iterable[str]) -> str:
    """A metric family: HELP and TYPE, then its samples."""
    head = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    return "\n".join([*head, *lines]) + "\n"


class Registry:
    """Fetch counters by (outcome, reason) and a fetch-duration histogram."""

    def __init__(self, buckets: tuple[float, ...] = FETCH_BUCKETS) -> None:
        self._lock = threading.Lock()
        self._buckets = buckets
        self._fetches: dict[tuple[str, str], int] = {}
        self._bucket_counts = [0] * len(buckets)
        self._count = 0
        self._sum = 0.0

    def record_fetch(self, outcome: str, reason: str | None, seconds: float) -> None:
        """Count one fetch ("fetched", "not-modified" or "failed", with the failure tag) and
        observe how long it took."""
        key = (outcome, reason or "none")
        with self._lock:
            self._fetches[key] = self._fetches.get(key, 0) + 1
            self._count += 1
            self._sum += seconds
            for i, bound in enumerate(self._buckets):
                if seconds <= bound:
                    self._bucket_counts[i] += 1

    def reset(self) -> None:
        with self._lock:
            self._fetches.clear()
            self._bucket_counts = [0] * len(self._buckets)
            self._count, self._sum = 0, 0.0

    def render(self) -> str:
        """The counters and the histogram in the text format."""
        with self._lock:
            fetches = sorted(self._fetches.items())
            cumulative, count, total = list(self._bucket_counts), self._count, self._sum
        counters = [sample("newswire_fetches_total", {"outcome": o, "reason": r}, n) for (o, r), n in fetches]
        histogram = [sample("newswire_fetch_duration_seconds_bucket", {"le": _number(b)}, n)
                     for b, n in zip(self._buckets, cumulative)]
        histogram += [sample("newswire_fetch_duration_seconds_bucket", {"le": "+Inf"}, count),
                      sample("newswire_fetch_duration_seconds_sum", {}, total),
                      sample("newswire_fetch_duration_seconds_count", {}, count)]
        return (family("newswire_fetches_total", "counter",
                       "Feed fetches by outcome (fetched, not-modified, failed) and failure reason.", counters)
                + family("newswire_fetch_duration_seconds", "histogram",
                         "Seconds one feed fetch took, from request to body or failure.", histogram))


REGISTRY = Registry()


class Stopwatch:
    """Times one awaited call: ``fetched = await watch.time(fetcher.fetch(url))``; ``seconds``
    is set even when the call raises."""

    def __init__(self) -> None:
        self.seconds = 0.0

    async def time(self, call: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            return await call
        finally:
            self.seconds = time.perf_counter() - started
