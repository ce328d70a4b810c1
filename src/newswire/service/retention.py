"""Retention: purge articles older than ``NEWSWIRE_RETENTION_DAYS``, a small batch at a time.

    newswire purge ─► purge(store, cutoff) ─────────────────────┐
    newswire run: run_retention, hourly ─► purge_in_steps ──────┤
        each batch: Store.purge_batch (one short transaction) ◄─┘
        then SQLite's freed pages given back: Store.reclaim_space (incremental auto-vacuum)

Why batches: the wire writes all the time, and SQLite has one writer. A batch of a few hundred
articles holds the write lock for milliseconds, and the periodic pass yields between batches, so
a refresh waiting to store its articles is never held up for long. Saved articles are never
purged (``store.retention``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, Sequence

from newswire.errors import NewswireError
from newswire.models import Entry
from newswire.store import Store

log = logging.getLogger(__name__)

BATCH = 100  # articles per transaction: about 70 ms of write lock on SQLite (bench/purge.py)
EVERY = timedelta(hours=1)
PAUSE = 0.05  # seconds between two batches of the periodic pass: room for the wire's writes
VACUUM_PAGES = 1000  # pages given back per transaction (4 MB with 4 KiB pages; about 40 ms)


@dataclass
class PurgeSummary:
    articles: int = 0
    stories: int = 0  # left empty, so deleted
    reclaimed_bytes: int = 0  # given back to the file system (SQLite with incremental auto-vacuum)
    vacuum_mode: str = ""  # SQLite's auto_vacuum ("none", "full", "incremental"), or "postgresql"


_DONE = object()


def cutoff_for(days: int, now: datetime | None = None) -> datetime:
    """The publication time before which articles go: ``days`` before ``now``."""
    return (now or datetime.now(timezone.utc)) - timedelta(days=days)


def still_kept(entries: Sequence[Entry], days: int, now: datetime) -> Sequence[Entry]:
    """The entries a refresh should store: with retention on, those published before the
    cutoff are left out, or a feed that still lists them would bring purged articles back
    (onto the live wire, which shows arrivals) at every poll."""
    if not days:
        return entries
    cutoff = cutoff_for(days, now)
    return tuple(e for e in entries if e.published is None or e.published >= cutoff)


def purge(store: Store, cutoff: datetime, *, batch: int = BATCH) -> PurgeSummary:
    """Purge every unsaved article published before ``cutoff``, ``batch`` per transaction,
    then give SQLite's freed pages back. Raises StorageError."""
    summary = PurgeSummary()
    for _ in _steps(store, cutoff, batch, summary):
        pass
    return summary


async def purge_in_steps(store: Store, cutoff: datetime, *, batch: int = BATCH, pause: float = PAUSE,
                         stop: asyncio.Event | None = None) -> PurgeSummary:
    """``purge`` off the event loop, one transaction per thread hop, ``pause`` seconds apart so
    that the wire's writes get the lock in between; stops early when ``stop`` is set (the rest
    goes next time). Raises StorageError."""
    summary = PurgeSummary()
    steps = _steps(store, cutoff, batch, summary)
    while await asyncio.to_thread(next, steps, _DONE) is not _DONE:
        if stop is not None and stop.is_set():
            break
        await asyncio.sleep(pause)
    return summary


def _steps(store: Store, cutoff: datetime, batch: int, summary: PurgeSummary) -> Iterator[None]:
    """The purge as a generator: each step one transaction, a yield between two."""
    while True:
        done = store.purge_batch(cutoff, limit=batch)
        summary.articles += done.articles
        summary.stories += done.stories
        if done.articles < batch:
            break
        yield
    free, summary.vacuum_mode = store.free_space()
    while summary.vacuum_mode == "incremental" and free > 0:
        yield
        store.reclaim_space(pages=VACUUM_PAGES)
        left, _ = store.free_space()
        if left >= free:  # another writer freed pages meanwhile: leave them for the next pass
            break
        summary.reclaimed_bytes += free - left
        free = left


async def run_retention(store: Store, stop: asyncio.Event, days: int, *, every: timedelta = EVERY,
                        on_purge: Callable[[PurgeSummary], None] | None = None) -> None:
    """Purge articles older than ``days`` now and every ``every`` until ``stop`` is set. A
    failed pass is logged and tried again at the next; it never stops the wire."""
    while not stop.is_set():
        try:
            summary = await purge_in_steps(store, cutoff_for(days), stop=stop)
            if on_purge is not None and summary.articles:
                on_purge(summary)
        except NewswireError as error:
            log.warning("retention: purging old articles failed, trying again in %s: %s", every, error)
        except Exception:  # noqa: BLE001 - a bug here must not stop the wire
            log.exception("retention: purging old articles failed unexpectedly")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every.total_seconds())
        except asyncio.TimeoutError:
            pass
