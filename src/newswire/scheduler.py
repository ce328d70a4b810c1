"""Keeping every source fresh: start each source's refresh as soon as it is due.

    Scheduler.run(stop), until stop:
        pick(now, room) ─► due sources not in flight ─► a task each: Refresher.refresh ─┐
        sleep until the first of: a refresh ends, the next source not in flight is due,  │
              a refresh is asked for (``RefreshRequests``), stop                          │
        ◄──────────────────── on_pass(results) once every source of one pick is done ◄─┘

A slow feed holds up nobody: there are no passes that wait for their slowest feed, only
refreshes in flight, each started when its source is due. A source in flight is not started
again beside itself, and at most ``max_in_flight`` refreshes run at once (the fetcher bounds the
connections within them). When each source is due is decided per source by ``service.decide``
(adaptive interval, jitter, backoff, server hints); the scheduler only follows the due times.
``step`` refreshes what is due now and waits for it, so tests can drive the scheduler one step at a
time. Other parts of the process (the web admin following a new feed) have a source refreshed
at once, through this scheduler's Refresher, with ``RefreshRequests``. Stopping (``stop`` set, e.g. by SIGINT/SIGTERM) starts nothing more and lets the refreshes in
flight finish their writes, so nothing is left half-written; the next start picks up where the due
times say.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Collection

from newswire import metrics
from newswire.config import DEFAULTS, Settings
from newswire.errors import NewswireError
from newswire.service.refresh_now import NotServed, RefreshRequests
from newswire.service.retention import PurgeSummary
from newswire.service.update import Refresher, UpdateResult, default_parse_processes
from newswire.models import Source
from newswire.store import Store

MIN_SLEEP = 1.0
MAX_SLEEP = 60.0
ERROR_SLEEP = 10.0  # after the database refused a pick
IN_FLIGHT_PER_CONNECTION = 4  # refreshes in flight per fetch slot: others parse and write meanwhile

log = logging.getLogger(__name__)

Pick = Callable[[datetime, int], list[Source]]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def seconds_until_next_due(store: Store, now: datetime, excluding: Collection[int] = ()) -> float:
    """How long until the earliest enabled source (but those in ``excluding``) is due, bounded
    so that sources added by another process are noticed within a minute."""
    due = store.next_due_at(excluding=excluding)
    if due is None:
        return MAX_SLEEP
    return max(MIN_SLEEP, min(MAX_SLEEP, (due - now).total_seconds()))


@dataclass
class _Pick:
    """The sources started together, so that ``on_pass`` reports them together."""

    size: int
    results: list[UpdateResult] = field(default_factory=list)


class Scheduler:
    """Refreshes due sources through one ``Refresher``: ``run`` keeps going until stopped,
    ``step`` refreshes what is due now. ``pick(now, room)`` gives up to ``room`` due sources
    (workers pass a leasing pick; the default reads ``Store.due_sources``)."""

    def __init__(self, store: Store, refresher: Refresher, *, clock: Callable[[], datetime] = utcnow,
                 on_pass: Callable[[list[UpdateResult]], None] | None = None,
                 pick: Pick | None = None, max_in_flight: int | None = None,
                 requests: RefreshRequests | None = None):
        self._store = store
        self._refresher = refresher
        self._clock = clock
        self._on_pass = on_pass
        self._pick = pick
        self._max_in_flight = max_in_flight or IN_FLIGHT_PER_CONNECTION * refresher.settings.concurrency
        self._in_flight: dict[int, asyncio.Task[UpdateResult]] = {}
        self._wake = asyncio.Event()
        self._requests = requests

    async def step(self) -> list[UpdateResult]:
        """Refresh every source due now (and not in flight) and return what each refresh did
        ([] if none was due). Returns only once every refresh's write has finished."""
        due = await self._pick_due()
        if not due:
            return []
        return list(await asyncio.gather(*self._start(due).values()))

    async def wait_seconds(self) -> float:
        """Seconds until a source not in flight is due (a full sleep while there is no room)."""
        if len(self._in_flight) >= self._max_in_flight:
            return MAX_SLEEP
        return await asyncio.to_thread(seconds_until_next_due, self._store, self._clock(), list(self._in_flight))

    async def run(self, stop: asyncio.Event) -> None:
        """Start each source when it is due until ``stop`` is set; then let the refreshes in
        flight finish. Never raises for a failed pick: it logs it and tries again."""
        loop = asyncio.get_running_loop()
        if self._requests:
            self._requests.serve(lambda: loop.call_soon_threadsafe(self._wake.set))
        try:
            while not stop.is_set():
                self._wake.clear()
                wait = ERROR_SLEEP
                try:
                    await self._start_requested()
                    self._start(await self._pick_due())
                    wait = await self.wait_seconds()
                except NewswireError as error:  # e.g. the database busy or gone for a moment: retry
                    log.warning("scheduler: could not pick due sources, retrying: %s", error)
                except Exception:  # noqa: BLE001 - a bug must not stop the sources being kept fresh
                    log.exception("scheduler: picking due sources failed unexpectedly, retrying")
                await _first_of(stop.wait(), self._wake.wait(), timeout=wait)
        finally:
            if self._requests:
                self._requests.close()
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _start_requested(self) -> None:
        """Start the sources asked for (beyond ``max_in_flight``: someone waits for each); one
        already in flight is joined, not started again."""
        for source_id, futures in (self._requests.take() if self._requests else {}).items():
            task = self._in_flight.get(source_id)
            if task is None:
                try:
                    source = await asyncio.to_thread(self._store.get_source, source_id)
                except Exception as error:  # noqa: BLE001 - NotFound, StorageError: the asker's to hear
                    _settle(futures, error)
                    continue
                task = self._start([source])[source_id]
            task.add_done_callback(lambda done, futures=futures: _settle(futures, done))

    async def _pick_due(self) -> list[Source]:
        room = self._max_in_flight - len(self._in_flight)
        if room <= 0:
            return []
        now, busy = self._clock(), list(self._in_flight)
        if self._pick is None:
            picked = await asyncio.to_thread(self._store.due_sources, now, limit=room, excluding=busy)
        else:
            picked = await asyncio.to_thread(self._pick, now, room)
        return [s for s in picked if s.id not in self._in_flight][:room]

    def _start(self, sources: list[Source]) -> dict[int, asyncio.Task[UpdateResult]]:
        together = _Pick(len(sources))
        started = {s.id: asyncio.create_task(self._refresh(s, together), name=f"refresh-{s.id}")
                   for s in sources}
        self._in_flight.update(started)
        return started

    async def _refresh(self, source: Source, together: _Pick) -> UpdateResult:
        try:
            result = await self._refresher.refresh(source)
        except Exception as error:  # noqa: BLE001 - refresh never raises; if it does, it is this source's
            log.exception("scheduler: refreshing source %d failed unexpectedly", source.id)
            result = UpdateResult(source.id, "failed", "internal-error", str(error))
        finally:
            self._in_flight.pop(source.id, None)
            self._wake.set()
        together.results.append(result)
        if len(together.results) == together.size and self._on_pass:
            try:
                self._on_pass(together.results)
            except Exception:  # noqa: BLE001 - a report must not fail the refresh
                log.exception("scheduler: on_pass failed")
        return result


def _settle(futures: list[Future], outcome: "asyncio.Task[UpdateResult] | BaseException") -> None:
    """Hand a requested refresh's result, or its error, to everyone who asked for it."""
    for future in futures:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        elif outcome.cancelled():
            future.set_exception(NotServed("scheduler: the refresh was cancelled"))
        elif outcome.exception() is not None:
            future.set_exception(outcome.exception())  # type: ignore[arg-type]
        else:
            future.set_result(outcome.result())


async def _first_of(*waits, timeout: float) -> None:
    """Wait until the first of ``waits`` (coroutines) is done, or ``timeout`` seconds."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


STATISTICS_EVERY = 3600.0  # seconds between two ``Store.optimize`` in a long-running process


async def keep_statistics(store: Store, stop: asyncio.Event, every: float = STATISTICS_EVERY) -> None:
    """Hourly, let SQLite's planner statistics catch up with a growing archive (a process that
    runs for months never reaches the ``optimize`` a store runs when it closes)."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except asyncio.TimeoutError:
            await asyncio.to_thread(store.optimize)


RUN_LEASE_SECONDS = 600  # as a worker's default: a source claimed by a `run` that died is free again after this


def claiming_pick(store: Store) -> Pick | None:
    """How ``newswire run`` picks due sources. On PostgreSQL it may run beside ``newswire
    worker`` processes, so it claims sources as they do (``Store.lease_due_sources``): a source
    is fetched by one process at a time. On SQLite it runs alone and reads the due sources
    (None: the scheduler's default), with no write per pick."""
    if store.dialect != "postgresql":
        return None
    owner = metrics.process_name()
    return lambda now, room: store.lease_due_sources(owner, now, limit=room, lease_seconds=RUN_LEASE_SECONDS)


async def run_scheduler(store: Store, stop: asyncio.Event, *, settings: Settings = DEFAULTS,
                        on_pass: Callable[[list[UpdateResult]], None] | None = None,
                        requests: RefreshRequests | None = None,
                        on_purge: Callable[[PurgeSummary], None] | None = None,
                        on_role: Callable[[str], None] | None = None, share_metrics: bool = False) -> None:
    """Run a ``Scheduler`` over ``store`` with its own ``Refresher`` until ``stop`` is set, and
    beside it the full-text extraction loop (its own task and Fetcher: a slow page never delays
    a refresh) and the enricher's role (``worker.enrich_while_elected``). It serves ``requests``
    (e.g. the web admin's) while it runs.

    Copy detection and story clustering keep an index in memory, so one process in a deployment
    runs them: the one holding the enricher lock, as ``newswire worker --enrich`` does, following
    every article stored by any process (this one's, workers', a ``newswire serve``'s "Refresh
    now"). While another process holds it (an ``--enrich`` worker on the same database), this one
    fetches, extracts and serves, and takes over within seconds when that one stops or dies.
    The holder also purges articles older than ``settings.retention_days`` (small batches: it
    never holds the wire's writes up for long). ``on_role`` hears "waiting" and "enriching"."""
    from newswire.service.fulltext import run_extraction
    from newswire.worker import enrich_while_elected
    from newswire.worker import share_metrics as share_worker_metrics

    from newswire.service.prepared import Handoff

    followed = len(await asyncio.to_thread(store.list_sources))
    # No step after its writes: its own follower runs them while it holds the enricher lock,
    # with the texts the parse workers prepared (``service.prepared``).
    handoff = Handoff()
    async with Refresher(store, settings=settings, parse_processes=default_parse_processes(followed),
                         handoff=handoff) as refresher:
        beside = [asyncio.create_task(run_extraction(store, stop, settings=settings), name="extraction"),
                  asyncio.create_task(enrich_while_elected(store, stop, settings=settings, on_purge=on_purge,
                                                           on_role=on_role, handoff=handoff), name="enricher"),
                  asyncio.create_task(keep_statistics(store, stop), name="statistics")]
        if share_metrics:  # other web processes answer /metrics too (``run --workers``): they read these
            beside.append(asyncio.create_task(share_worker_metrics(store, stop, metrics.process_name()), name="metrics"))
        try:
            await Scheduler(store, refresher, on_pass=on_pass, requests=requests,
                            pick=claiming_pick(store)).run(stop)
        finally:
            stop.set()
            await asyncio.gather(*beside)
