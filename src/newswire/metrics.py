"""Process-wide metrics, written out in the Prometheus text exposition format (version 0.0.4).

    Refresher.refresh ──record_fetch──► REGISTRY (counters + histogram, behind a lock)
    newswire worker ──every SHARE_EVERY s──► REGISTRY.snapshot() ─► process_metrics row (its own)
    GET /metrics ──► (REGISTRY.snapshot() + every worker's row).render() + gauges read from the
                     store at scrape time

In the PostgreSQL deployment the fetching happens in ``newswire worker`` processes and the
scrape in ``newswire serve``: each worker writes its cumulative counters to a row of its own
(``Store.share_metrics``), so one scrape of any web node describes the whole deployment. A
worker that dies keeps its last row, so the sums never go down (Prometheus reads a counter that
falls as a restart); rows not written for a day are folded into one "retired" row.

No client library: the format is a few lines of text, and keeping it here keeps the dependency
list short. Everything is thread-safe; the refresher runs on the event loop, scrapes on
uvicorn's threads.
"""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar


def process_name() -> str:
    """This process as the rows of shared counters name it: "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"

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


@dataclass
class Snapshot:
    """The fetch counters and histogram at one moment: what a worker writes to the database
    for ``/metrics`` elsewhere, and what ``/metrics`` adds up (``+``) and renders."""

    buckets: tuple[float, ...] = FETCH_BUCKETS
    fetches: dict[tuple[str, str], int] = field(default_factory=dict)
    bucket_counts: list[int] = field(default_factory=lambda: [0] * len(FETCH_BUCKETS))
    count: int = 0
    sum: float = 0.0

    def __add__(self, other: "Snapshot") -> "Snapshot":
        fetches = dict(self.fetches)
        for key, n in other.fetches.items():
            fetches[key] = fetches.get(key, 0) + n
        if other.buckets == self.buckets:
            buckets = [a + b for a, b in zip(self.bucket_counts, other.bucket_counts)]
        else:  # another version's bounds: its observations count in +Inf, sum and count only
            buckets = list(self.bucket_counts)
        return Snapshot(self.buckets, fetches, buckets, self.count + other.count, self.sum + other.sum)

    def to_json(self) -> str:
        return json.dumps({"buckets": list(self.buckets), "bucket_counts": self.bucket_counts,
                           "fetches": [[o, r, n] for (o, r), n in sorted(self.fetches.items())],
                           "count": self.count, "sum": self.sum})

    @classmethod
    def from_json(cls, text: str) -> "Snapshot":
        """The snapshot ``to_json`` wrote; an empty one for anything unreadable (a row written
        by something else must not break ``/metrics``)."""
        try:
            data = json.loads(text)
            return cls(tuple(float(b) for b in data["buckets"]),
                       {(str(o), str(r)): int(n) for o, r, n in data["fetches"]},
                       [int(n) for n in data["bucket_counts"]], int(data["count"]), float(data["sum"]))
        except (ValueError, TypeError, KeyError):
            return cls()

    def render(self) -> str:
        """The counters and the histogram in the text format."""
        counters = [sample("newswire_fetches_total", {"outcome": o, "reason": r}, n)
                    for (o, r), n in sorted(self.fetches.items())]
        histogram = [sample("newswire_fetch_duration_seconds_bucket", {"le": _number(b)}, n)
                     for b, n in zip(self.buckets, self.bucket_counts)]
        histogram += [sample("newswire_fetch_duration_seconds_bucket", {"le": "+Inf"}, self.count),
                      sample("newswire_fetch_duration_seconds_sum", {}, self.sum),
                      sample("newswire_fetch_duration_seconds_count", {}, self.count)]
        return (family("newswire_fetches_total", "counter",
                       "Feed fetches by outcome (fetched, not-modified, failed) and failure reason, "
                       "by every process that fetches.", counters)
                + family("newswire_fetch_duration_seconds", "histogram",
                         "Seconds one feed fetch took, from request to body or failure.", histogram))


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

    def snapshot(self) -> Snapshot:
        """A copy of the counters as they are now (cumulative since the process started)."""
        with self._lock:
            return Snapshot(self._buckets, dict(self._fetches), list(self._bucket_counts), self._count, self._sum)

    def render(self) -> str:
        """The counters and the histogram in the text format."""
        return self.snapshot().render()


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
