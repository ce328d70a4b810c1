"""Fetch workers for the PostgreSQL deployment.

Any number of ``newswire worker`` processes, on any number of machines, share one database:

    worker ─► Store.lease_due_sources (FOR UPDATE SKIP LOCKED) ─► Refresher ─► save (ends the lease)

Each worker holds at most ``batch`` sources in flight and claims more as they become due and as
its refreshes end, so one slow feed holds up none of the others (see ``newswire.scheduler``).

Each due source is claimed by one worker at a time; a worker that dies holds its lease only
until it expires, then another claims the source. Pages of teaser articles are claimed the same
way (``service.fulltext.run_extraction``: a claim pushes the job's due time past a lease), so
every worker extracts full text beside its refreshes.

Copy detection and story clustering keep an index of recent articles in memory, so they must
see everything every worker stores: exactly one worker enriches, following the articles table
(``follow_and_enrich``). Any number may be started with ``--enrich`` (and ``newswire run`` asks
too: ``scheduler.run_scheduler``); the one that holds the
``enricher`` lock (``Store.role_lock``: a PostgreSQL advisory lock on a connection of its own)
enriches, the others fetch and wait for the lock. A holder that dies, ``kill -9`` included,
drops its connection and with it the lock, and a waiting one takes over within ``LOCK_RETRY``
seconds; its steps rebuild their indexes from the database, so nothing stored meanwhile is
missed. On SQLite the lock is a file lock beside the database (one machine shares one SQLite
file), with the same effect.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from newswire import metrics
from newswire.config import DEFAULTS, Settings
from newswire.errors import NewswireError
from newswire.scheduler import Scheduler
from newswire.service.enrichment import ENRICHER_LOCK, index_enrichers
from newswire.service.retention import PurgeSummary, run_retention
from newswire.service.update import Refresher, UpdateResult, default_parse_processes, prepare_step
from newswire.store import Store

if TYPE_CHECKING:
    from newswire.service.prepared import Handoff

log = logging.getLogger(__name__)

FOLLOW_POLL = 2.0  # seconds between two looks for new articles
FOLLOW_SOON = 0.25  # seconds between two looks at least, when this process's writer says it stored
FOLLOW_BATCH = 500
# Ids come from a sequence when the row is written, but transactions commit in their own order:
# each look goes back this many ids, so an article committed late is not stepped over.
FOLLOW_LOOKBACK = 1000
SHARE_EVERY = 10.0  # seconds between two writes of this worker's fetch counters
LOCK_RETRY = 5.0  # seconds between two asks for the lock, and between two checks that it is held

Role = Callable[[str], None]


async def run_worker(store: Store, stop: asyncio.Event, *, owner: str | None = None, batch: int = 20,
                     lease_seconds: int = 600, enrich: bool = False, settings: Settings = DEFAULTS,
                     on_pass: Callable[[list[UpdateResult]], None] | None = None,
                     on_purge: Callable[[PurgeSummary], None] | None = None,
                     on_role: Role | None = None) -> None:
    """Claim and refresh due sources, and extract due pages, until ``stop`` is set; with
    ``enrich``, also take the enricher's role when it is free (``enrich_while_elected``):
    follow every article stored (by any worker) with copy detection and story clustering, and
    purge articles older than ``settings.retention_days`` every hour."""
    from newswire.service.fulltext import run_extraction

    owner = owner or metrics.process_name()

    def pick(now, room):
        return store.lease_due_sources(owner, now, limit=room, lease_seconds=lease_seconds)

    # No step after its writes: the enricher lock's holder follows them (``service.enrichment``),
    # with the texts prepared here when it is this process.
    handoff = _handoff() if enrich else None
    async with Refresher(store, settings=settings, parse_processes=default_parse_processes(batch),
                         handoff=handoff) as refresher:
        jobs = [Scheduler(store, refresher, on_pass=on_pass, pick=pick, max_in_flight=batch).run(stop),
                run_extraction(store, stop, settings=settings, claim_seconds=lease_seconds),
                share_metrics(store, stop, owner)]
        if enrich:
            jobs.append(enrich_while_elected(store, stop, settings=settings, on_purge=on_purge, on_role=on_role,
                                             handoff=handoff))
        await asyncio.gather(*jobs)
    await asyncio.to_thread(_share_once, store, owner)  # with the refreshes that ended last


async def share_metrics(store: Store, stop: asyncio.Event, owner: str, *, every: float = SHARE_EVERY) -> None:
    """Write this process's fetch counters to its row every ``every`` seconds until ``stop``,
    for ``/metrics`` on the web nodes (``Store.share_metrics``)."""
    while not stop.is_set():
        await asyncio.to_thread(_share_once, store, owner)
        await _sleep(stop, every)


def _share_once(store: Store, owner: str) -> None:
    try:
        store.share_metrics(owner, datetime.now(timezone.utc), metrics.REGISTRY.snapshot())
    except NewswireError as error:  # the next one will do
        log.warning("metrics: cannot write this worker's counters: %s", error)


async def enrich_while_elected(store: Store, stop: asyncio.Event, *, settings: Settings = DEFAULTS,
                               on_purge: Callable[[PurgeSummary], None] | None = None,
                               on_role: Role | None = None, retry: float = LOCK_RETRY,
                               handoff: Handoff | None = None) -> None:
    """Until ``stop``: wait for the enricher lock; while it is held, follow and enrich (and
    purge, when retention is on). A lock lost with its connection (the database restarted)
    stops the enriching, and the wait starts again. ``on_role`` hears "waiting" and
    "enriching" as the role changes. ``handoff``: the texts this process's own Refresher
    prepared (see ``follow_and_enrich``)."""
    lock = store.role_lock(ENRICHER_LOCK)
    said = ""

    def tell(role: str) -> None:
        nonlocal said
        if role != said and on_role:
            on_role(role)
        said = role

    try:
        while not stop.is_set():
            if not await asyncio.to_thread(lock.try_acquire):
                tell("waiting")
                await _sleep(stop, retry)
                continue
            tell("enriching")
            await _enrich_while_held(store, stop, lock, settings, on_purge, retry, handoff)
            if not stop.is_set():
                log.warning("enrich: lost the enricher lock (its database connection ended); asking again")
                tell("lost")
    finally:
        await asyncio.to_thread(lock.release)


async def _enrich_while_held(store: Store, stop: asyncio.Event, lock, settings: Settings,
                             on_purge: Callable[[PurgeSummary], None] | None, retry: float,
                             handoff: Handoff | None = None) -> None:
    """Follow and purge until ``stop``, or until the lock is found no longer held."""
    done = asyncio.Event()
    jobs = [follow_and_enrich(store, done, handoff=handoff)]
    if settings.retention_days:
        jobs.append(run_retention(store, done, settings.retention_days, on_purge=on_purge))

    async def watch() -> None:
        while not stop.is_set() and await asyncio.to_thread(lock.held):
            await _sleep(stop, retry)
        done.set()

    await asyncio.gather(watch(), *jobs)


async def _wait_for_either(stop: asyncio.Event, arrived: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if ``stop`` is set meanwhile, or ``arrived`` (then at least
    ``FOLLOW_SOON``: a busy writer puts a batch many times a second, and each look reads back
    ``FOLLOW_LOOKBACK`` rows)."""
    started = asyncio.get_running_loop().time()
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(arrived.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    soon = FOLLOW_SOON - (asyncio.get_running_loop().time() - started)
    if soon > 0 and not stop.is_set():
        await _sleep(stop, min(soon, seconds))


def _handoff() -> Handoff:
    from newswire.service.prepared import Handoff  # numpy and datasketch: only where enriching

    return Handoff()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if ``stop`` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


async def follow_and_enrich(store: Store, stop: asyncio.Event, *, poll: float = FOLLOW_POLL,
                            handoff: Handoff | None = None) -> None:
    """Run the index steps over each article as it appears in the database, in id order. The
    steps rebuild from the database when they start, which covers what was stored before.
    (Teasers need no step here: the write that stores one marks it for extraction.)

    ``handoff``: where this process's own writer puts the texts its parse workers prepared. The
    steps find this process's articles there rather than preparing them again on the thread
    that shares the GIL with the event loop and the writes, and the follower looks for new
    articles as soon as a batch is stored, not at its next poll; other processes' articles are
    prepared here, as before."""
    steps = index_enrichers()
    arrived = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_hearing = handoff.on_stored(lambda: loop.call_soon_threadsafe(arrived.set)) if handoff is not None else None
    try:
        await _follow(store, stop, steps, poll, handoff, arrived)
    finally:
        if stop_hearing is not None:
            stop_hearing()


async def _follow(store: Store, stop: asyncio.Event, steps: list, poll: float, handoff: Handoff | None,
                  arrived: asyncio.Event) -> None:
    watermark = await asyncio.to_thread(store.last_article_id)
    recent: deque[int] = deque(maxlen=FOLLOW_LOOKBACK * 4)  # ids already enriched, newest last
    before_start = await asyncio.to_thread(store.article_ids_after, max(0, watermark - FOLLOW_LOOKBACK),
                                           limit=FOLLOW_LOOKBACK)
    for step in steps:  # rebuilt from what was stored up to the watermark: the looks take the rest
        await asyncio.to_thread(prepare_step, step, store, watermark)
    # The rebuild read what was committed up to the watermark, which includes what was read just
    # before it. An id under the watermark committed later (PostgreSQL's ids are taken before
    # their transactions commit), and everything after it, is for the looks (some twice: a step
    # takes an article it has seen as an update).
    recent.extend(i for i in before_start if i <= watermark)
    while not stop.is_set():
        try:
            late = await asyncio.to_thread(store.article_ids_after, max(0, watermark - FOLLOW_LOOKBACK),
                                           limit=FOLLOW_LOOKBACK)
            fresh = await asyncio.to_thread(store.article_ids_after, watermark, limit=FOLLOW_BATCH)
        except NewswireError as error:
            log.warning("enrich: cannot read new articles, retrying: %s", error)
            late, fresh = [], []
        done = set(recent)
        new_ids = sorted({i for i in [*late, *fresh] if i not in done})
        for step in steps if new_ids else ():
            try:
                if handoff is not None and getattr(step, "takes_prepared", False):
                    await asyncio.to_thread(step.after_store, store, new_ids, [], prepared=handoff)
                else:
                    await asyncio.to_thread(step.after_store, store, new_ids, [])
            except Exception:  # noqa: BLE001 - one bad batch must not stop the follower
                log.exception("enrich: %s failed on %d articles", type(step).__name__, len(new_ids))
        recent.extend(new_ids)
        if fresh:
            watermark = fresh[-1]
        if len(fresh) < FOLLOW_BATCH:
            await _wait_for_either(stop, arrived, poll)
            arrived.clear()
