"""Keeping every source fresh: refresh what is due, sleep until the next source is due, repeat.

    Scheduler.run(stop) ─► step(): due sources ─► Refresher.refresh_many ─► on_pass(results)
                      └─► wait until the earliest next_due_at (or ``stop``)

When each source is due is decided per source by ``service.decide`` (adaptive interval, jitter,
backoff, server hints); the scheduler only follows the due times. ``step`` is one pass and can be
driven by tests one at a time. Stopping (``stop`` set, e.g. by SIGINT/SIGTERM) lets the pass in
flight finish its writes, so nothing is left half-written; the next start picks up where the due
times say.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Callable

from newswire.config import DEFAULTS, Settings
from newswire.errors import NewswireError
from newswire.service.enrichment import default_enrichers
from newswire.service.update import Refresher, UpdateResult, default_parse_processes
from newswire.models import Source
from newswire.store import Store

MIN_SLEEP = 1.0
MAX_SLEEP = 60.0
ERROR_SLEEP = 10.0  # after a pass the database refused

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def seconds_until_next_due(store: Store, now: datetime) -> float:
    """How long until the earliest enabled source is due, bounded so that sources added by
    another process are noticed within a minute."""
    due = store.next_due_at()
    if due is None:
        return MAX_SLEEP
    return max(MIN_SLEEP, min(MAX_SLEEP, (due - now).total_seconds()))


class Scheduler:
    """Refreshes due sources through one ``Refresher``; ``step`` is one pass, ``run`` loops."""

    def __init__(self, store: Store, refresher: Refresher, *, clock: Callable[[], datetime] = utcnow,
                 on_pass: Callable[[list[UpdateResult]], None] | None = None,
                 pick: Callable[[datetime], list[Source]] | None = None):
        self._store = store
        self._refresher = refresher
        self._clock = clock
        self._on_pass = on_pass
        self._pick = pick or store.due_sources  # workers pass a leasing pick instead

    async def step(self) -> list[UpdateResult]:
        """Refresh every source due now and return what each refresh did ([] if none was due).
        Returns only once every refresh's write has finished."""
        due = await asyncio.to_thread(self._pick, self._clock())
        if not due:
            return []
        results = await self._refresher.refresh_many(due)
        if self._on_pass:
            self._on_pass(results)
        return results

    async def wait_seconds(self) -> float:
        return await asyncio.to_thread(seconds_until_next_due, self._store, self._clock())

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop`` is set; a pass in flight when it is set finishes first."""
        while not stop.is_set():
            wait = ERROR_SLEEP
            try:
                await self.step()
                if stop.is_set():
                    break
                wait = await self.wait_seconds()
            except NewswireError as error:  # e.g. the database busy or gone for a moment: retry
                log.warning("scheduler: pass failed, retrying: %s", error)
            except Exception:  # noqa: BLE001 - a bug must not stop the sources being kept fresh
                log.exception("scheduler: pass failed unexpectedly, retrying")
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass


async def run_scheduler(store: Store, stop: asyncio.Event, *, settings: Settings = DEFAULTS,
                        on_pass: Callable[[list[UpdateResult]], None] | None = None) -> None:
    """Run a ``Scheduler`` over ``store`` with its own ``Refresher`` until ``stop`` is set, and
    beside it the full-text extraction loop (its own task and Fetcher: a slow page never delays
    a refresh)."""
    from newswire.service.fulltext import run_extraction

    followed = len(await asyncio.to_thread(store.list_sources))
    async with Refresher(store, settings=settings, parse_processes=default_parse_processes(followed),
                         enrichers=default_enrichers()) as refresher:
        extraction = asyncio.create_task(run_extraction(store, stop, settings=settings), name="extraction")
        try:
            await Scheduler(store, refresher, on_pass=on_pass).run(stop)
        finally:
            stop.set()
            await extraction
