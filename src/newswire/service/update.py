"""Refreshing sources: the one pipeline every caller uses.

    source ─► fetch (async, bounded per host) ─► parse (process pool when many) ─► decide ─► store
                                                                                  (one writer thread)

``Refresher.refresh`` handles one source and never raises for a feed's own failure: a broken
feed is recorded on its source and the others go on. Parsing runs in worker processes when
refreshing many feeds so the writer thread (where SQLite does its work without the GIL) and the
event loop keep a core to themselves.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable, Iterable, Sequence

from newswire.errors import FetchError, ParseError, StorageError
from newswire.fetch import Fetcher
from newswire.models import Entry, FetchResult, ParsedFeed, Source, SourceUpdate, StoreResult
from newswire.parse import parse_feed
from newswire.service import decide
from newswire.store import Store


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


def _parse(content: bytes, url: str, content_type: str | None, tz: str, seen_at: datetime) -> ParsedFeed:
    return parse_feed(content, url=url, content_type=content_type, source_timezone=tz, seen_at=seen_at)


class Refresher:
    """Fetch, parse and store sources. Use as ``async with Refresher(store) as r``."""

    def __init__(self, store: Store, fetcher: Fetcher | None = None, *, parse_processes: int = 0,
                 clock: Callable[[], datetime] = utcnow):
        self._store = store
        self._fetcher = fetcher or Fetcher()
        self._owns_fetcher = fetcher is None
        self._clock = clock
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newswire-writer")
        self._parser: Executor | None = (
            ProcessPoolExecutor(max_workers=parse_processes) if parse_processes > 0 else None)

    async def __aenter__(self) -> "Refresher":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_fetcher:
            await self._fetcher.aclose()
        self._writer.shutdown(wait=True)
        if self._parser:
            self._parser.shutdown(wait=True, cancel_futures=True)

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
        now = self._clock()
        entries: Sequence[Entry] = ()
        try:
            fetched = await self._fetcher.fetch(source.feed_url, etag=source.etag,
                                                last_modified=source.last_modified)
            feed = None if fetched.not_modified else await self._parse_in_pool(fetched, source, now)
            update = decide.after_fetch(source, fetched, feed, now)
            entries = feed.entries if feed else ()
        except (FetchError, ParseError) as error:
            update = decide.after_failure(source, error, now)
        return await self._save(source, update, entries)

    async def _parse_in_pool(self, fetched: FetchResult, source: Source, now: datetime) -> ParsedFeed:
        args = (fetched.content, fetched.url, fetched.headers.get("content-type"), source.timezone, now)
        if self._parser is None:
            return _parse(*args)
        return await asyncio.get_running_loop().run_in_executor(self._parser, _parse, *args)

    async def _save(self, source: Source, update: SourceUpdate, entries: Sequence[Entry]) -> UpdateResult:
        loop = asyncio.get_running_loop()
        try:
            stored = await loop.run_in_executor(self._writer, self._write, source, update, entries)
        except StorageError as error:
            failed = decide.after_failure(source, error, update.fetched_at)
            try:
                await loop.run_in_executor(self._writer, self._write, source, failed, ())
            except StorageError:
                pass
            return UpdateResult(source.id, "failed", "storage-error", str(error))
        if update.status in ("ok", "not-modified"):
            outcome = "fetched" if update.status == "ok" else "not-modified"
            return UpdateResult(source.id, outcome, new=stored.new, updated=stored.updated)
        return UpdateResult(source.id, "failed", update.status, update.error)

    def _write(self, source: Source, update: SourceUpdate, entries: Sequence[Entry]) -> StoreResult:
        """Runs on the writer thread. A permanent redirect to a URL another source already
        follows keeps the old URL rather than breaking the unique constraint."""
        if update.feed_url:
            other = self._store.find_source(update.feed_url)
            if other is not None and other.id != source.id:
                update = replace(update, feed_url=None)
        return self._store.save_refresh(source.id, update, entries)


def default_parse_processes(feed_count: int) -> int:
    """Worth a pool only for many feeds on a machine with a core to spare."""
    cores = os.cpu_count() or 1
    return min(cores, 4) if feed_count >= 8 and cores > 1 else 0

