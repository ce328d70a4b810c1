"""Refreshing sources: the one pipeline every caller uses.

    source ─► fetch (async, bounded per host) ─► parse (process pool when many) ─► decide ─► store
                                                                                  (one writer thread)

``Refresher.refresh`` handles one source and never raises: a broken feed is recorded on its
source and the others go on. So is an error that is nobody's feed's fault (a bug in a stage, a
parse worker killed, a malformed setting): logged with its traceback and recorded on the source
as "internal-error"; a process pool broken by a dead worker is replaced. Writes go through one writer thread
that batches whatever is waiting (see ``_Writer``); the enrichment steps follow the writes on a
thread of their own, at most ``_Writer.MAX_PENDING`` batches behind, and the refreshes in
progress are bounded too (``Refresher.in_progress_limit``): when enrichment falls behind, the
writer waits for it and new refreshes wait before fetching, so memory stays bounded however
many sources a pass has. Nothing is parsed or written on the event
loop, which in ``newswire run`` is also the web server's: parsing runs in worker processes when
refreshing many feeds (so the writer thread, where SQLite does its work without the GIL, and the
event loop keep a core to themselves), else on a parse thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import BrokenExecutor, Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Protocol, Sequence

from newswire import metrics
from newswire.config import DEFAULTS, Settings
from newswire.enrich.extract import looks_like_teaser
from newswire.errors import FetchError, NewswireError, NotFound, ParseError, StorageError
from newswire.fetch import Fetcher
from newswire.models import Entry, FetchResult, ParsedFeed, Source, SourceUpdate, StoreResult
from newswire.parse import parse_feed
from newswire.service import decide, retention
from newswire.store import Store

if TYPE_CHECKING:  # numpy and datasketch come with it: imported only where texts are prepared
    from newswire.service.prepared import Handoff


log = logging.getLogger(__name__)


class Enricher(Protocol):
    """A step that runs on the enrichment thread right after refreshes are committed, in the
    order articles were stored: syndicated-copy detection and story clustering keep their
    indexes here, with one thread and no locks. It must not raise for bad input; if it does,
    the error is logged and ingest goes on."""

    def after_store(self, store: Store, new_ids: Sequence[int], updated_ids: Sequence[int]) -> None: ...

    # A step may also have ``prepare(store)``: called once on the enrichment thread before any
    # ``after_store``, to build what it needs without holding up the event loop; and
    # ``takes_prepared = True``: its ``after_store`` also takes ``prepared=``, the texts of the
    # entries written as the parse workers prepared them (``service.prepared``).


@dataclass(frozen=True)
class UpdateResult:
    source_id: int
    outcome: str  # "fetched", "not-modified" or "failed"
    reason: str | None = None  # failure tag, e.g. "timeout", "http-404", "parse-error"
    error: str | None = None
    new: int = 0
    updated: int = 0


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


PARSE_THREADS = 2  # parsing holds the GIL for most of its work: more threads would not help


def _parse(content: bytes, url: str, content_type: str | None, tz: str, seen_at: datetime,
           max_items: int, prepare: bool) -> tuple[ParsedFeed, Mapping[bytes, Any]]:
    """Parse, and with ``prepare`` also prepare the entries' texts for copy detection and story
    clustering, here in the parse worker rather than in the writer's process (see ``Enricher``)."""
    feed = parse_feed(content, url=url, content_type=content_type, source_timezone=tz, seen_at=seen_at,
                      max_items=max_items)
    if not prepare:
        return feed, {}
    from newswire.service.prepared import prepare_entries  # numpy and datasketch: only when enriching

    return feed, prepare_entries(feed.entries)


class Refresher:
    """Fetch, parse and store sources. Use as ``async with Refresher(store) as r``. Settings
    come from ``settings``, else from the given fetcher's, else the defaults."""

    def __init__(self, store: Store, fetcher: Fetcher | None = None, *, settings: Settings | None = None,
                 parse_processes: int = 0, clock: Callable[[], datetime] = utcnow,
                 enrichers: Sequence[Enricher] = (), handoff: Handoff | None = None):
        """``handoff``: where the writer puts the texts the parse workers prepared, for this
        process's follower (``run``, ``worker --enrich``: see ``service.prepared``)."""
        self._store = store
        self._settings = settings or (fetcher.settings if fetcher is not None else DEFAULTS)
        # Its own fetcher shares the per-host slots and spacing with every process on the store's database.
        self._fetcher = fetcher or Fetcher(self._settings, host_gate=store.host_gate())
        self._owns_fetcher = fetcher is None
        self._clock = clock
        self._writer = _Writer(store, enrichers, handoff)
        # Refreshes hold their fetched and parsed feed until it is written: bounding how many are
        # in progress bounds that memory when writing (or the enrichment the writer waits for)
        # is slower than fetching. Room enough for a full fetch concurrency and two write batches.
        self.in_progress_limit = self._fetcher.concurrency + 2 * self._writer.MAX_BATCH
        self._in_progress = asyncio.Semaphore(self.in_progress_limit)
        self._prepare = any(getattr(step, "takes_prepared", False) for step in enrichers)
        self._handoff = handoff
        self._parse_processes = parse_processes
        # Made for the first feed that changed: an unchanged pass parses nothing, and a process
        # pool costs multiprocessing's imports and a resource tracker process as it is made.
        self._parser: Executor | None = None

    @property
    def settings(self) -> Settings:
        return self._settings

    async def __aenter__(self) -> "Refresher":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Finish every write handed to the writer (and its enrichment), then close; the waits
        run on a thread, not on the event loop."""
        if self._owns_fetcher:
            await self._fetcher.aclose()
        await self._writer.aclose()
        if self._parser is not None:
            await asyncio.to_thread(self._parser.shutdown, wait=True, cancel_futures=True)

    def _parse_executor(self) -> Executor:
        if self._parser is None:
            self._parser = self._new_parser()
        return self._parser

    def _new_parser(self) -> Executor:
        if self._parse_processes > 0:
            from newswire.service.parsepool import parse_pool  # multiprocessing: only when needed

            return parse_pool(self._parse_processes)
        return ThreadPoolExecutor(max_workers=PARSE_THREADS, thread_name_prefix="newswire-parse")

    async def refresh_many(self, sources: Iterable[Source],
                           on_done: Callable[[UpdateResult], None] | None = None) -> list[UpdateResult]:
        """Refresh all ``sources`` concurrently (the fetcher bounds connections per host)."""

        async def one(source: Source) -> UpdateResult:
            result = await self.refresh(source)
            if on_done:
                on_done(result)
            return result

        return list(await asyncio.gather(*(one(s) for s in sources)))

    async def refresh(self, source: Source) -> UpdateResult:
        """Fetch, parse and store one source; never raises (but may be cancelled). Waits first,
        before fetching, while ``in_progress_limit`` refreshes are under way."""
        async with self._in_progress:
            return await self._refresh(source)

    async def _refresh(self, source: Source) -> UpdateResult:
        now = self._clock()
        entries: Sequence[Entry] = ()
        prepared: Mapping[bytes, Any] = {}
        watch = metrics.Stopwatch()
        try:
            fetched = await watch.time(self._fetcher.fetch(source.feed_url, etag=source.etag,
                                                           last_modified=source.last_modified))
            feed = None
            if not fetched.not_modified:
                feed, prepared = await self._parse_in_pool(fetched, source, now)
            update = decide.after_fetch(source, fetched, feed, now, settings=self._settings)
            entries = retention.still_kept(feed.entries, self._settings.retention_days, now) if feed else ()
        except Exception as error:  # noqa: BLE001 - one source's failure, whatever it is, is its own
            update = self._failure(source, error, now)
        result = await self._save(source, update, entries, prepared)
        metrics.REGISTRY.record_fetch(result.outcome, result.reason, watch.seconds)
        return result

    def _failure(self, source: Source, error: Exception, now: datetime) -> SourceUpdate:
        """The feed's own failures (fetch, parse, storage) as ``decide`` words them; anything
        else, or a failure to decide, as an internal error that needs no setting."""
        if isinstance(error, (FetchError, ParseError, StorageError)):
            try:
                return decide.after_failure(source, error, now, self._settings)
            except Exception as bug:  # noqa: BLE001 - e.g. a malformed setting
                error = bug
        log.error("refresh: source %d (%s) failed: internal error", source.id, source.feed_url, exc_info=error)
        return decide.after_internal_error(source, error, now)

    async def _parse_in_pool(self, fetched: FetchResult, source: Source,
                             now: datetime) -> tuple[ParsedFeed, Mapping[bytes, Any]]:
        """Parse in the process pool, or on a parse thread: never on the event loop. A pool broken
        by a dead worker (killed, out of memory) is replaced and the parse tried once more there;
        a second break fails this source only."""
        args = (fetched.content, fetched.url, fetched.headers.get("content-type"), source.timezone, now,
                self._settings.max_items_per_fetch,
                self._prepare or (self._handoff is not None and self._handoff.wanted))
        loop = asyncio.get_running_loop()
        for last_try in (False, True):
            pool = self._parse_executor()
            try:
                return await loop.run_in_executor(pool, _parse, *args)
            except BrokenExecutor:  # BrokenProcessPool; a thread pool does not break
                if last_try or not self._parse_processes:
                    raise
                self._replace_broken(pool)
        raise AssertionError("unreachable")

    def _replace_broken(self, pool: Executor) -> None:
        if pool is not self._parser:  # another refresh has replaced it already
            return
        log.warning("parse: a worker process died; starting a new pool of %d", self._parse_processes)
        pool.shutdown(wait=False)
        self._parser = self._new_parser()

    async def _save(self, source: Source, update: SourceUpdate, entries: Sequence[Entry],
                    prepared: Mapping[bytes, Any] = {}) -> UpdateResult:
        try:
            stored = await self._writer.save(source, update, entries, prepared)
        except NotFound as error:  # removed while we fetched it
            return UpdateResult(source.id, "failed", "removed", str(error))
        except Exception as error:  # noqa: BLE001 - a StorageError, or a bug in the store
            if isinstance(error, StorageError):  # a problem of ours, not the feed's: the log says it
                log.warning("refresh: source %d (%s) could not be stored: %s", source.id, source.feed_url, error)
            failure = self._failure(source, error, update.fetched_at)
            try:
                await self._writer.save(source, failure, ())
            except Exception:  # noqa: BLE001 - the database is refusing everything: nothing to record it in
                log.warning("refresh: could not record the failure of source %d", source.id, exc_info=True)
            return UpdateResult(source.id, "failed", failure.status, str(error))
        if update.status in ("ok", "not-modified"):
            outcome = "fetched" if update.status == "ok" else "not-modified"
            return UpdateResult(source.id, outcome, new=stored.new, updated=stored.updated)
        return UpdateResult(source.id, "failed", update.status, update.error)


def prepare_step(step: object, store: Store, upto: int | None) -> None:
    """Build ``step`` if it has a ``prepare(store)``, its rebuild bounded by ``upto`` where its
    ``prepare`` takes it (``enrichment.Deferred``'s does)."""
    prepare = getattr(step, "prepare", None)
    if prepare is None:
        return
    if getattr(step, "rebuild_upto", False):
        prepare(store, upto=upto)
    else:
        prepare(store)


class _Writer:
    """The one writer. Refreshes that arrive while a batch is being written are written together
    in the next batch, one savepoint each and one commit for all: under load the batches grow
    and commits (SQLite's costliest step with a full-text index) stay few; when idle, each
    refresh is written at once.

    Each batch written is then enriched, in storage order, on the enrichment thread. At most
    ``MAX_PENDING`` batches are stored and not yet enriched (the one being written counted): the
    writer waits for a slot before it writes the next, so a fast fetch cannot pile stored batches
    (their ids and prepared texts) up in memory behind a slow enrichment. Nothing stored goes
    unenriched: the writer only waits, and closing finishes every batch."""

    MAX_BATCH = 50
    MAX_PENDING = 2  # one batch being enriched while the next is written

    def __init__(self, store: Store, enrichers: Sequence[Enricher] = (), handoff: Handoff | None = None):
        self._store = store
        self._enrichers = tuple(enrichers)
        self._handoff = handoff
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newswire-writer")
        # Enrichment runs on a thread of its own, in storage order, so the next batch's writes
        # (where SQLite works without the GIL) overlap this batch's copy and story detection.
        self._enricher_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newswire-enrich")
        self._slots = threading.BoundedSemaphore(self.MAX_PENDING)
        self.waiting_for_enrichment = threading.Event()  # set while the writer waits for a slot
        self._bounded = threading.Event()  # set once the steps' rebuild knows where it ends
        self._upto: int | None = None  # ... which is here
        self._built = False
        if self._enrichers:
            self._enricher_thread.submit(self._bound)
        self._queue: list[tuple[Source, SourceUpdate, Sequence[Entry], Mapping[bytes, Any], asyncio.Future]] = []
        self._drainer: asyncio.Task | None = None

    async def save(self, source: Source, update: SourceUpdate, entries: Sequence[Entry],
                   prepared: Mapping[bytes, Any] = {}) -> StoreResult:
        """Raises NotFound or StorageError for this refresh alone. ``prepared``: the entries'
        texts prepared for the enrichment steps that take them (see ``Enricher``)."""
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._queue.append((source, update, entries, prepared, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            # One turn of the loop first, so that refreshes that are ready join this batch: an
            # unchanged pass's writes take a fraction of a millisecond, and without it most batches
            # held one or two feeds, each a handoff to the writer thread (half the batches with it).
            await asyncio.sleep(0)
            batch, self._queue = self._queue[:self.MAX_BATCH], self._queue[self.MAX_BATCH:]
            try:
                results = await loop.run_in_executor(self._executor, self._write, batch)
            except asyncio.CancelledError:  # the loop is going down: nobody waits for these any more
                for *_, future in [*batch, *self._queue]:
                    future.cancel()
                self._queue = []
                raise
            except Exception as error:  # noqa: BLE001 - the commit itself failed: none of the batch is stored
                results = [error] * len(batch)
            for (*_, future), result in zip(batch, results):
                if future.done():  # its refresh was cancelled; the write stands
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    def _write(self, batch: list) -> list[StoreResult | Exception]:
        """Runs on the writer thread. With enrichment steps, waits first for a slot among the
        ``MAX_PENDING`` (see the class), then hands what it wrote to the enrichment thread,
        which frees the slot when done."""
        if not self._enrichers:
            return self._write_batch(batch)[0]
        self._bounded.wait()  # at once but for the first write: one query on the enrichment thread
        if not self._slots.acquire(blocking=False):
            self.waiting_for_enrichment.set()
            self._slots.acquire()
            self.waiting_for_enrichment.clear()
        enriching = False
        try:
            results, new_ids, updated_ids, prepared = self._write_batch(batch)
            if new_ids or updated_ids:
                self._enricher_thread.submit(self._enrich, new_ids, updated_ids, prepared)
                enriching = True
            return results
        finally:
            if not enriching:
                self._slots.release()

    def _write_batch(self, batch: list) -> tuple[list[StoreResult | Exception], list[int], list[int],
                                                  dict[bytes, Any]]:
        """Write ``batch``: each refresh's result, and the ids written with their prepared texts.
        New teasers (and a full-text source's new articles) are written pending extraction in the
        same transaction (``Store.save_refreshes``' ``teaser``), so no crash between the write and
        a later step can leave one behind. A permanent redirect to a URL another source already
        follows keeps the old URL rather than breaking the unique constraint. An unexpected error
        (a bug, not a ``NewswireError``) in a batch sends each refresh again on its own, so that
        it fails only the refresh that causes it."""
        refreshes = []
        prepared: dict[bytes, Any] = {}
        for source, update, entries, texts, _ in batch:
            prepared.update(texts)
            if update.feed_url:
                other = self._store.find_source(update.feed_url)
                if other is not None and other.id != source.id:
                    update = replace(update, feed_url=None)
            refreshes.append((source.id, update, entries))
        if self._handoff is not None:  # before the write: a follower that sees the rows finds their texts
            self._handoff.put(prepared)
        try:
            results: list[StoreResult | Exception] = list(self._store.save_refreshes(refreshes, teaser=looks_like_teaser))
        except NewswireError:
            raise
        except Exception:
            if len(refreshes) == 1:
                raise
            results = [self._write_alone(refresh) for refresh in refreshes]
        if self._handoff is not None:
            self._handoff.stored()
        stored = [r for r in results if isinstance(r, StoreResult)]
        new_ids = [i for r in stored for i in r.new_ids]
        updated_ids = [i for r in stored for i in r.updated_ids]
        return results, new_ids, updated_ids, prepared

    def _write_alone(self, refresh: tuple[int, SourceUpdate, Sequence[Entry]]) -> StoreResult | Exception:
        try:
            return self._store.save_refreshes([refresh], teaser=looks_like_teaser)[0]
        except Exception as error:  # noqa: BLE001 - this refresh's alone
            return error

    def _bound(self) -> None:
        """Read where the steps' rebuild ends: the last id stored before this writer's first
        write (which waits for it). The rebuild and the first batches could otherwise take the
        same articles in either order, and the stories depend on it."""
        try:
            self._upto = self._store.last_article_id()
        except NewswireError as error:  # the steps read what they can; after_store skips what they took
            log.warning("enrich: cannot read the last article id: %s", error)
        finally:
            self._bounded.set()

    def _build(self) -> None:
        """Let each step that has a ``prepare(store)`` build itself (its rebuild from the
        database), once, off the event loop: for the first batch to enrich, or at close when the
        window holds articles stored without enrichment (``_catch_up``). An unchanged pass that
        finds neither builds nothing: the rebuild reads the whole window, some 3.5 ms an article
        (70 s at 20,000), for a pass that would then do nothing with it."""
        if self._built:
            return
        self._built = True
        for enricher in self._enrichers:
            try:
                prepare_step(enricher, self._store, self._upto)
            except Exception:  # noqa: BLE001 - a step that cannot start must not stop ingest
                log.exception("enrich: %s could not start", type(enricher).__name__)

    def _catch_up(self) -> None:
        """At close, when nothing was enriched: build the steps (their rebuild catches up) if
        the story window holds articles without a story (stored by ``fetch --no-enrich``, or
        by another process while a ``run`` held the enricher lock and then stopped)."""
        from newswire.service.stories import WINDOW  # within it every enriched article has a story

        if self._built:
            return
        try:
            behind = self._store.has_articles_without_story(utcnow() - WINDOW)
        except NewswireError as error:
            log.warning("enrich: cannot tell whether articles await enrichment: %s", error)
            return
        if behind:
            self._build()

    def _enrich(self, new_ids: list[int], updated_ids: list[int], prepared: Mapping[bytes, Any]) -> None:
        """Runs on the enrichment thread: one stored batch through every step, then its slot is free."""
        try:
            self._enrich_batch(new_ids, updated_ids, prepared)
        finally:
            self._slots.release()

    def _enrich_batch(self, new_ids: list[int], updated_ids: list[int], prepared: Mapping[bytes, Any]) -> None:
        self._build()
        for enricher in self._enrichers:
            try:
                if prepared and getattr(enricher, "takes_prepared", False):
                    enricher.after_store(self._store, new_ids, updated_ids, prepared=prepared)  # type: ignore[call-arg]
                else:
                    enricher.after_store(self._store, new_ids, updated_ids)
            except Exception:  # noqa: BLE001 - enrichment must never lose or block a write
                log.exception("enrich: %s failed after storing %d articles", type(enricher).__name__,
                              len(new_ids) + len(updated_ids))

    async def aclose(self) -> None:
        """Write what is queued, then finish the enrichment of everything written."""
        while self._drainer is not None and not self._drainer.done():
            await asyncio.wait({self._drainer})
        await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Finish the writes, then the enrichment of everything written (and a catch-up)."""
        self._executor.shutdown(wait=True)
        if self._enrichers:
            self._enricher_thread.submit(self._catch_up)
        self._enricher_thread.shutdown(wait=True)


def default_parse_processes(feed_count: int) -> int:
    """Worth a pool only for many feeds on a machine with a core to spare."""
    cores = os.cpu_count() or 1
    return min(cores, 4) if feed_count >= 8 and cores > 1 else 0

