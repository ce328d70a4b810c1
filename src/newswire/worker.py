"""Fetch workers for the PostgreSQL deployment.

Any number of ``newswire worker`` processes, on any number of machines, share one database:

    worker ─► Store.lease_due_sources (FOR UPDATE SKIP LOCKED) ─► Refresher ─► save (ends the lease)

Each worker holds at most ``batch`` sources in flight and claims more as they become due and as
its refreshes end, so one slow feed holds up none of the others (see ``newswire.scheduler``).

Each due source is claimed by one worker at a time; a worker that dies holds its lease only
until it expires, then another claims the source. Copy detection and story clustering keep an
index of recent articles in memory, so they must see everything every worker stores: exactly
one worker runs with ``--enrich``, following the articles table (``follow_and_enrich``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import deque
from typing import Callable

from newswire.config import DEFAULTS, Settings
from newswire.errors import NewswireError
from newswire.scheduler import Scheduler
from newswire.service.enrichment import default_enrichers, index_enrichers
from newswire.service.retention import PurgeSummary, run_retention
from newswire.service.update import Refresher, UpdateResult, default_parse_processes
from newswire.store import Store

log = logging.getLogger(__name__)

FOLLOW_POLL = 2.0  # seconds between two looks for new articles
FOLLOW_BATCH = 500
# Ids come from a sequence when the row is written, but transactions commit in their own order:
# each look goes back this many ids, so an article committed late is not stepped over.
FOLLOW_LOOKBACK = 1000


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_worker(store: Store, stop: asyncio.Event, *, owner: str | None = None, batch: int = 20,
                     lease_seconds: int = 600, enrich: bool = False, settings: Settings = DEFAULTS,
                     on_pass: Callable[[list[UpdateResult]], None] | None = None,
                     on_purge: Callable[[PurgeSummary], None] | None = None) -> None:
    """Claim and refresh due sources until ``stop`` is set; with ``enrich``, also follow every
    article stored (by any worker) with copy detection and story clustering, and purge articles
    older than ``settings.retention_days`` every hour."""
    owner = owner or worker_name()

    def pick(now, room):
        return store.lease_due_sources(owner, now, limit=room, lease_seconds=lease_seconds)

    async with Refresher(store, settings=settings, parse_processes=default_parse_processes(batch),
                         enrichers=default_enrichers(copies_and_stories=False)) as refresher:
        jobs = [Scheduler(store, refresher, on_pass=on_pass, pick=pick, max_in_flight=batch).run(stop)]
        if enrich:  # one such worker: it also purges older articles, when retention is on
            jobs.append(follow_and_enrich(store, stop))
            if settings.retention_days:
                jobs.append(run_retention(store, stop, settings.retention_days, on_purge=on_purge))
        await asyncio.gather(*jobs)


async def follow_and_enrich(store: Store, stop: asyncio.Event, *, poll: float = FOLLOW_POLL) -> None:
    """Run the index steps over each article as it appears in the database, in id order. The
    steps rebuild from the database when they start, which covers what was stored before."""
    steps = index_enrichers()
    watermark = await asyncio.to_thread(store.last_article_id)
    for step in steps:
        await asyncio.to_thread(step.prepare, store)  # type: ignore[attr-defined]
    recent: deque[int] = deque(maxlen=FOLLOW_LOOKBACK * 4)  # ids already enriched, newest last
    before_start = await asyncio.to_thread(store.arrived_after, max(0, watermark - FOLLOW_LOOKBACK),
                                           limit=FOLLOW_LOOKBACK, include_copies=True)
    # The rebuild covered what was stored before the watermark was read. What was stored since may
    # have come after a step read the database: the first look takes it (again, for some: a step
    # takes an article it has seen as an update).
    recent.extend(a.id for a in before_start if a.id <= watermark)
    while not stop.is_set():
        try:
            late = await asyncio.to_thread(store.arrived_after, max(0, watermark - FOLLOW_LOOKBACK),
                                           limit=FOLLOW_LOOKBACK, include_copies=True)
            fresh = await asyncio.to_thread(store.arrived_after, watermark, limit=FOLLOW_BATCH,
                                            include_copies=True)
        except NewswireError as error:
            log.warning("enrich: cannot read new articles, retrying: %s", error)
            late, fresh = [], []
        done = set(recent)
        new_ids = sorted({a.id for a in [*late, *fresh] if a.id not in done})
        for step in steps if new_ids else ():
            try:
                await asyncio.to_thread(step.after_store, store, new_ids, [])
            except Exception:  # noqa: BLE001 - one bad batch must not stop the follower
                log.exception("enrich: %s failed on %d articles", type(step).__name__, len(new_ids))
        recent.extend(new_ids)
        if fresh:
            watermark = fresh[-1].id
        if len(fresh) < FOLLOW_BATCH:
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll)
            except asyncio.TimeoutError:
                pass
