"""``Store``: the only object in Newswire that talks to the database.

Every public method opens its own transaction; every SQLAlchemy or driver exception leaving one
becomes ``StorageError`` (cause kept) in ``engine.translate_errors``. Lookups that find nothing
raise ``NotFound``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import sqlite3
import threading
import time
from collections import ChainMap
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Collection, Iterator, Literal, Mapping, Sequence

from sqlalchemy.engine import Connection

from newswire.errors import LastAdminError, NewswireError, NotFound, SourceExistsError, StorageError
from newswire.models import Article, ArticlePage, Entry, SearchHit, Source, SourceUpdate, StoreResult
from newswire.models import ApiToken, Story, User
from newswire.metrics import Snapshot

from . import accounts, articles, copies, extraction, host_gate, locks, process_metrics, reading, retention, search, server_values, sources
from . import stories as story_rows
from .locks import RoleLock
from .engine import WRITE_OPTION, create_engine, translate_errors, upgrade
from .reader_counts import UnreadCounter
from .source_newest import SourceNewest
from .reader_methods import ReaderStateMethods


log = logging.getLogger(__name__)

class Store(ReaderStateMethods):
    """Sources, articles and search on SQLite or PostgreSQL.

    ``Store(url)`` connects and, unless ``migrate=False``, upgrades the schema to the newest
    revision. Safe to share between threads (one pooled connection per transaction). Each
    reader's state (read, saved, mute/follow) comes from ``ReaderStateMethods``."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        with translate_errors():
            self._engine = create_engine(url)
            if migrate:
                upgrade(self._engine)
        self.dialect: str = self._engine.dialect.name
        self._names = articles.NameIds()
        self._unread_counter = UnreadCounter()
        self._source_newest = SourceNewest()
        self._categories: tuple[str | None, Mapping[int, str | None]] | None = None
        self._local = threading.local()  # the snapshot connection of each thread, if any
        self._host_gate: host_gate.FileHostGate | host_gate.AdvisoryHostGate | None = None
        self._host_gate_made = False
        self._host_gate_lock = threading.Lock()
        if migrate:
            self.optimize()

    def close(self) -> None:
        """Close all pooled connections, after ``optimize`` as SQLite recommends; give back
        the host slots this store's gate holds."""
        with self._host_gate_lock:
            if self._host_gate is not None:
                self._host_gate.close()
            self._host_gate, self._host_gate_made = None, False
        self.optimize()
        self._engine.dispose()

    def forget_connections(self) -> None:
        """In a forked child: drop the parent's pooled connections without closing them (closing
        would end the parent's PostgreSQL sessions), so this process opens its own."""
        self._engine.dispose(close=False)
        self._local = threading.local()

    def optimize(self) -> None:
        """SQLite: let the planner's statistics catch up with the tables (``PRAGMA optimize``,
        which analyses only what changed a lot; the first time, ANALYZE; each index read at most
        ``analysis_limit`` rows deep: milliseconds at a million articles). The listings' plans do not depend on it
        (tests/test_listing_plans.py checks them with and without statistics), but other
        queries choose better with it. Best effort: a busy database skips it this time."""
        if self.dialect != "sqlite":
            return  # PostgreSQL's autovacuum gathers statistics itself
        try:
            with self._raw_sqlite() as raw:
                # optimize only refreshes statistics that exist (SQLite 3.40): the first ones come
                # from a bounded ANALYZE
                first = not raw.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() or \
                    not raw.execute("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'articles'").fetchone()
                raw.executescript("PRAGMA analysis_limit=400; " + ("ANALYZE articles;" if first else "PRAGMA optimize;"))
        except StorageError as error:
            log.info("store: statistics not updated this time: %s", error)

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read this thread makes in the block shares one read transaction. A page made of
        several reads (listing, states, copies, coverage) then sees one state of the database,
        and pays for one transaction instead of one each (a third of a millisecond apiece on
        SQLite). Writes inside the block are not seen by its later reads: wrap only pages that
        read. Nested blocks are one. The snapshot belongs to the thread: never hold one across an
        ``await`` (other tasks on the event loop's thread would read through it)."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with translate_errors(), self._engine.connect() as conn, conn.begin():
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        shared = getattr(self._local, "conn", None)
        if shared is not None:
            with translate_errors():
                yield shared
            return
        with translate_errors(), self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with translate_errors(), self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    # sources

    def add_source(self, feed_url: str, *, name: str = "", site_url: str | None = None,
                   category: str | None = None, full_text: bool = False, timezone: str = "UTC",
                   poll_interval: int = 1800) -> Source:
        """Follow a feed. Raises SourceExistsError (with ``source_id``) if ``feed_url`` is
        already followed, StorageError if the database fails."""
        values = dict(feed_url=feed_url, name=name, site_url=site_url, category=category,
                      full_text=full_text, timezone=timezone, poll_interval=poll_interval,
                      created_at=_now())
        with self._write() as conn:
            source_id = sources.insert(conn, values)
            if source_id is None:
                existing = sources.find(conn, feed_url)
                raise SourceExistsError(f"store: already following {feed_url}",
                                        source_id=existing.id if existing else None)
            return self._source(conn, source_id)

    def get_source(self, source_id: int) -> Source:
        """The source with its article count. Raises NotFound, StorageError."""
        with self._read() as conn:
            return self._source(conn, source_id)

    @staticmethod
    def _source(conn: Connection, source_id: int) -> Source:
        source = sources.get(conn, source_id)
        if source is None:
            raise NotFound(f"store: no source {source_id}")
        return source

    def find_source(self, feed_url: str) -> Source | None:
        """The source following exactly ``feed_url``, or None. Raises StorageError."""
        with self._read() as conn:
            return sources.find(conn, feed_url)

    def list_sources(self, *, with_counts: bool = True) -> list[Source]:
        """All sources by id, with ``article_count`` filled unless ``with_counts`` is False (then
        0: counting reads every article). Raises StorageError."""
        with self._read() as conn:
            return sources.list_all(conn, with_counts)

    def source_categories(self) -> Mapping[int, str | None]:
        """Source id → category, every source: a light listing for callers that need no more
        (a whole ``Source`` per row costs ten times as much). Sync apps ask for it with every
        unread count, and it changes only when sources are added, removed or recategorised, so
        it is kept while the database's ``CATEGORIES_KEY`` stamp stays the same (read-only: it
        is shared). Raises StorageError."""
        with self._read() as conn:
            stamp = server_values.get(conn, sources.CATEGORIES_KEY)
            kept = self._categories
            if kept is not None and kept[0] == stamp:
                return kept[1]
            found = MappingProxyType(sources.categories(conn))
        self._categories = (stamp, found)
        return found

    def newest_by_source(self) -> dict[int, datetime]:
        """Source id → its newest article's publication time (sources without articles left
        out); kept between calls (``source_newest``). Raises StorageError."""
        with self._read() as conn:
            return dict(self._source_newest.times(conn))

    def due_sources(self, now: datetime, *, include_all: bool = False, limit: int | None = None,
                    excluding: Collection[int] = ()) -> list[Source]:
        """Enabled sources never fetched or due at ``now`` (all enabled ones with
        ``include_all``), but those in ``excluding``, longest overdue first, ``limit`` at most;
        ``article_count`` is left 0. Raises StorageError."""
        with self._read() as conn:
            return sources.due(conn, now, include_all, limit, excluding)

    def lease_due_sources(self, owner: str, now: datetime, *, limit: int = 20,
                          lease_seconds: int = 600) -> list[Source]:
        """Claim up to ``limit`` due sources for the worker ``owner`` (see ``sources.lease``).
        The lease ends when the refresh is saved, or after ``lease_seconds`` if the worker
        dies first. Raises StorageError."""
        with self._write() as conn:
            return sources.lease(conn, owner, now, now + timedelta(seconds=lease_seconds), limit)

    def role_lock(self, name: str) -> RoleLock:
        """A lock that one process at a time holds, e.g. the ``--enrich`` worker's (see
        ``locks``): an advisory lock on a connection of its own on PostgreSQL, a file lock
        beside the database on SQLite. Freed when the holder dies, however it dies."""
        return locks.role_lock(self._engine, name)

    def host_gate(self) -> host_gate.FileHostGate | host_gate.AdvisoryHostGate | None:
        """The per-host slots and request spacing every process fetching into this database
        shares (``fetch.limits.HostGate``; see ``host_gate``): one per store, made when first
        asked for, closed with the store. None for an in-memory SQLite database, whose one
        process paces itself. Never raises."""
        with self._host_gate_lock:
            if not self._host_gate_made:
                self._host_gate, self._host_gate_made = host_gate.host_gate(self._engine), True
            return self._host_gate

    def share_metrics(self, owner: str, now: datetime, snapshot: Snapshot) -> None:
        """Write the fetch counters of the process ``owner`` (cumulative since it started) for
        ``/metrics`` on any web node (see ``process_metrics``). Raises StorageError."""
        with self._write() as conn:
            process_metrics.save(conn, owner, now, snapshot)

    def shared_metrics(self, now: datetime, *, excluding: str | None = None) -> tuple[Snapshot, int]:
        """Every fetching process's counters added up, and how many of them reported in the
        last two minutes; ``excluding``: a process whose row is left out. Raises StorageError."""
        with self._read() as conn:
            return process_metrics.total(conn, now, excluding)

    def next_due_at(self, *, excluding: Collection[int] = ()) -> datetime | None:
        """When the earliest enabled source (but those in ``excluding``, e.g. refreshes in flight)
        can next be claimed, a live lease counting until it expires (see ``sources.next_due``):
        None when there is none, ``datetime.min`` (UTC) when one was never fetched. Raises
        StorageError."""
        with self._read() as conn:
            return sources.next_due(conn, excluding)

    def set_enabled(self, source_id: int, enabled: bool) -> None:
        """Pause or resume a source. Raises NotFound, StorageError."""
        with self._write() as conn:
            if not sources.update(conn, source_id, {"enabled": enabled}):
                raise NotFound(f"store: no source {source_id}")

    def remove_source(self, source_id: int) -> None:
        """Unfollow a source and delete its articles. In the same transaction, copies elsewhere
        of its articles are re-pointed: the earliest of each group becomes the original
        (``copies.repoint_copies_of_source``). Raises NotFound, StorageError."""
        with self._write() as conn:
            copies.repoint_copies_of_source(conn, source_id)
            if not sources.delete(conn, source_id):
                raise NotFound(f"store: no source {source_id}")

    # the one write of a refresh

    def save_refresh(self, source_id: int, update: SourceUpdate,
                     entries: Sequence[Entry] = (), *, teaser: articles.Teaser | None = None) -> StoreResult:
        """One transaction: upsert the entries and record the fetch outcome on the source.

        Either all of it is stored or none of it. Entries are keyed by guid within the source;
        see ``articles.decide`` for what counts as new, changed and unchanged. New articles of a
        full-text source, and those ``teaser`` calls teasers, are written pending extraction
        (``articles.mark_wanted``). Raises NotFound if there is no such source, StorageError if
        the database refuses any part."""
        self._create_names(entries)
        found = articles.NameIds()
        with self._write() as conn:
            result = self._save(conn, source_id, update, entries, self._names, found, teaser)
        self._names.merge(found)  # only now committed
        return result

    def save_refreshes(self, refreshes: Sequence[tuple[int, SourceUpdate, Sequence[Entry]]], *,
                       teaser: articles.Teaser | None = None) -> list[StoreResult | NewswireError]:
        """Several refreshes in one transaction, each in a savepoint of its own: one refresh's
        failure rolls back only that refresh and comes back in its place as the error
        (NotFound or StorageError); the others are stored. One commit for many feeds is what
        keeps SQLite's full-text index fast. Outcomes with no entries (unchanged feeds, failures)
        next to each other share one statement (``_update_sources``) unless one of them fails.
        ``teaser``: as for ``save_refresh``. Raises StorageError only if the commit fails (or
        creating the authors and categories beforehand, see ``_create_names``)."""
        self._create_names([entry for _, _, entries in refreshes for entry in entries])
        found = articles.NameIds()  # ids from savepoints that were released, not rolled back
        known = articles.NameIds(ChainMap(found.authors, self._names.authors),  # type: ignore[arg-type]
                                 ChainMap(found.categories, self._names.categories))  # type: ignore[arg-type]
        results: list[StoreResult | NewswireError] = []

        def save_each(batch: Sequence[tuple[int, SourceUpdate, Sequence[Entry]]]) -> None:
            for source_id, update, entries in batch:
                found_here = articles.NameIds()
                try:
                    with translate_errors(), conn.begin_nested():
                        results.append(self._save(conn, source_id, update, entries, known, found_here, teaser))
                except (StorageError, NotFound) as error:
                    results.append(error)
                else:
                    found.merge(found_here)

        def save_plain(plain: list[tuple[int, SourceUpdate, Sequence[Entry]]]) -> None:
            if len(plain) > 1 and self._update_sources(conn, [(source_id, update) for source_id, update, _ in plain]):
                results.extend(StoreResult() for _ in plain)
            else:
                save_each(plain)

        with self._write() as conn:
            plain: list[tuple[int, SourceUpdate, Sequence[Entry]]] = []  # outcomes without entries, held back
            for refresh in refreshes:
                if not refresh[2] and sources.fits_update_many(refresh[1]):
                    plain.append(refresh)
                    continue
                save_plain(plain)  # first: the refreshes are written in order
                plain = []
                save_each([refresh])
            save_plain(plain)
        self._names.merge(found)
        return results

    @staticmethod
    def _update_sources(conn: Connection, outcomes: list[tuple[int, SourceUpdate]]) -> bool:
        """Outcomes with no entries to write (unchanged feeds', failures') in one statement and one
        savepoint, rather than a statement and a savepoint each: an unchanged pass's writes. False,
        with nothing written, when a source is missing (removed while it was fetched) or the
        statement fails: then each is written on its own, so that the failure is its alone."""
        try:
            with translate_errors(), conn.begin_nested() as savepoint:
                if sources.update_many(conn, outcomes) == len(outcomes):
                    return True
                savepoint.rollback()
        except StorageError:
            pass
        return False

    def _create_names(self, entries: Sequence[Entry]) -> None:
        """PostgreSQL: commit the author and category rows a write links to before the write,
        in a short transaction of their own. Created inside the write, which holds its
        transaction for a whole batch of refreshes, two workers' writes that each created a name
        the other needed deadlocked, and PostgreSQL failed one of the refreshes (storage-error,
        the source backed off). Here a writer waits at most for another's few inserts, made in
        the same (key) order. SQLite has one writer at a time: nothing to do; nor with no entries
        (an unchanged pass), which would cost a transaction for nothing."""
        if self.dialect != "postgresql" or not entries:
            return
        found = articles.NameIds()
        with self._write() as conn:
            articles.create_names(conn, entries, self._names, found)
        self._names.merge(found)

    @staticmethod
    def _save(conn: Connection, source_id: int, update: SourceUpdate, entries: Sequence[Entry],
              known: articles.NameIds, found: articles.NameIds, teaser: articles.Teaser | None) -> StoreResult:
        if not sources.update(conn, source_id, sources.update_values(update)):
            raise NotFound(f"store: no source {source_id}")
        return articles.upsert_entries(conn, source_id, entries, update.fetched_at, known, found, teaser)

    # reading

    def article_count(self, source_id: int | None = None) -> int:
        """Articles stored, in all or for one source. Raises StorageError."""
        with self._read() as conn:
            return articles.count(conn, source_id)

    def search(self, query: str, *, limit: int = 20, order: Literal["rank", "newest"] = "rank",
               before: str | None = None, include_copies: bool = True) -> list[SearchHit]:
        """Articles matching ``query`` (words, "phrases", prefix*), best first or newest first;
        [] when the query holds no searchable word. Never a syntax error. In newest order,
        ``before`` (see ``cursor_after``) continues a previous page. Without ``include_copies``,
        syndicated copies are left out before the limit, as on the wire. Raises ValueError for a
        malformed cursor, StorageError."""
        keyset = reading.decode_cursor(before) if before else None
        with self._read() as conn:
            hits = search.search(conn, query, limit, order, keyset if order == "newest" else None,
                                 originals_only=not include_copies)
            names = articles.authors_of(conn, [hit.article_id for hit in hits])
        return [dataclasses.replace(hit, authors=names.get(hit.article_id, ())) for hit in hits]

    def search_snippets(self, query: str, article_ids: Sequence[int]) -> dict[int, str]:
        """The snippet ``search`` gives each of ``article_ids`` matching ``query`` (HTML, the
        matches in <mark>; from the page's text when only that matches), for a listing of
        matches read newest first with ``list_articles``. Raises StorageError."""
        with self._read() as conn:
            return search.snippets(conn, query, article_ids)

    @staticmethod
    def cursor_after(published_at: datetime, article_id: int) -> str:
        """The cursor of the page that follows an item, for ``list_articles`` and ``search``."""
        return reading.encode_cursor(published_at, article_id)

    def get_article(self, article_id: int) -> Article:
        """One article with its content, categories and enclosures. Raises NotFound,
        StorageError."""
        with self._read() as conn:
            found = reading.get_many(conn, [article_id])
        if not found:
            raise NotFound(f"store: no article {article_id}")
        return found[0]

    def get_articles(self, article_ids: Sequence[int], *, text: bool = True) -> list[Article]:
        """Full articles in the order given, skipping ids that do not exist; without ``text``,
        their plain text is left unread (``Article.text`` empty: the feeds out serve HTML only).
        Raises StorageError."""
        with self._read() as conn:
            return reading.get_many(conn, article_ids, text=text)

    def list_stamps(self, *, source_id: int | None = None, author: str | None = None,
                    story_id: int | None = None, query: str | None = None, limit: int = 50,
                    include_copies: bool = False, category: str | None = None) -> list[reading.Stamp]:
        """The first page ``list_articles`` gives for the same filters, as rows of
        ``reading.STAMP_FIELDS`` (id, source and its name, times, content hash): which articles it
        holds and which version of each, from one light query. Raises StorageError."""
        filters = reading.Filters(source_id=source_id, author=author, story_id=story_id, query=query,
                                  include_copies=include_copies, category=category)
        with self._read() as conn:
            return reading.list_stamps(conn, filters, limit)

    def stamps_of(self, article_ids: Sequence[int]) -> list[reading.Stamp]:
        """``list_stamps``'s rows for the given articles, in the order given, skipping ids that do
        not exist. Raises StorageError."""
        with self._read() as conn:
            return reading.stamps_of(conn, article_ids)

    def list_articles(self, *, source_id: int | None = None, author: str | None = None,
                      story_id: int | None = None, query: str | None = None, before: str | None = None,
                      limit: int = 50, include_copies: bool = False, reader_id: int | None = None,
                      followed_by: int | None = None, category: str | None = None) -> ArticlePage:
        """Newest first, filtered, one page (``limit`` at most 200) after the cursor ``before``;
        syndicated copies (``duplicate_of`` set) only with ``include_copies``; with
        ``reader_id``, that reader's muted sources and authors left out; with ``followed_by``,
        only the sources, authors and stories that reader follows; with ``category``, only
        sources in that category or below it. Raises ValueError for a malformed cursor, StorageError."""
        filters = reading.Filters(source_id=source_id, author=author, story_id=story_id, query=query,
                                  include_copies=include_copies, reader_id=reader_id,
                                  followed_by=followed_by, category=category)
        with self._read() as conn:
            items, next_cursor = reading.list_articles(conn, filters, before, limit)
        return ArticlePage(tuple(items), next_cursor)

    def arrived_after(self, article_id: int, *, limit: int = 50, include_copies: bool = False) -> list[Article]:
        """Articles stored after ``article_id``, in arrival order: what a live wire adds
        (syndicated copies only with ``include_copies``). Raises StorageError."""
        with self._read() as conn:
            return reading.arrived_after(conn, article_id, limit, include_copies)

    def article_ids_after(self, article_id: int, *, limit: int) -> list[int]:
        """The ids of articles stored after ``article_id``, copies included, lowest first, at
        most ``limit`` (not capped as a page is). Raises StorageError."""
        with self._read() as conn:
            return reading.ids_after(conn, article_id, limit)

    def arrived_before(self, article_id: int | None = None, *, limit: int = 50,
                       include_copies: bool = False) -> list[Article]:
        """Articles stored before ``article_id`` (the newest when None), latest arrival first:
        paging back through arrivals (syndicated copies only with ``include_copies``).
        Raises StorageError."""
        with self._read() as conn:
            return reading.arrived_before(conn, article_id, limit, include_copies)

    def last_article_id(self) -> int:
        """The id of the newest stored article, 0 when there is none. Raises StorageError."""
        with self._read() as conn:
            return reading.last_article_id(conn)

    def author_name(self, name: str) -> str | None:
        """The stored display name of an author, by any spelling of the name. Raises StorageError."""
        with self._read() as conn:
            return reading.author_name(conn, name)

    # -- full-text extraction (SQL in extraction.py) ----------------------------------------

    def mark_extraction_pending(self, article_ids: Sequence[int], due_at: datetime, *,
                                reset: bool = False) -> int:
        """Queue articles for a page fetch at ``due_at`` (``reset``: attempts and error cleared
        too); returns how many. Raises StorageError."""
        with self._write() as conn:
            return extraction.mark_pending(conn, article_ids, due_at, reset=reset)

    def requeue_extraction(self, now: datetime, source_id: int | None = None) -> int:
        """Queue for re-extraction at ``now`` every article of ``source_id``, or without one,
        every article of a full-text source and every one extracted or queued before; attempts
        start over. Returns how many. Raises NotFound for an unknown source, StorageError."""
        with self._write() as conn:
            if source_id is not None and sources.get(conn, source_id) is None:
                raise NotFound(f"store: no source {source_id}")
            return extraction.mark_pending(conn, extraction.requeue_ids(conn, source_id), now, reset=True)

    def claim_extractions(self, now: datetime, *, limit: int = 50,
                          lease_seconds: int = 300) -> list[extraction.ExtractionJob]:
        """Claim up to ``limit`` pending extractions due at ``now``, longest waiting first, for
        ``lease_seconds`` (see ``extraction.claim``): any number of processes may extract at
        once, each page fetched by one of them. Raises StorageError."""
        with self._write() as conn:
            return extraction.claim(conn, now, limit, now + timedelta(seconds=lease_seconds))

    def next_extraction_due_at(self) -> datetime | None:
        """When the earliest pending extraction is due; None when none is. Raises StorageError."""
        with self._read() as conn:
            return extraction.next_due_at(conn)

    def save_extraction(self, article_id: int, page_html: str, page_text: str, *,
                        authors: Sequence[str] = (), published: datetime | None = None) -> bool:
        """Store a page's full text beside the feed's (status "done"), and the page's authors and
        publication time where the feed had none (no authors; an estimated time). False when
        the article is gone. Raises StorageError."""
        found = articles.NameIds()
        with self._write() as conn:
            saved = extraction.save_done(conn, article_id, page_html, page_text, authors, published,
                                         self._names, found, _now())
        self._names.merge(found)
        return saved

    def save_extraction_failure(self, article_id: int, error: str, attempts: int,
                                retry_at: datetime | None) -> bool:
        """Record a failed extraction: pending again at ``retry_at``, or "failed" when None.
        False when the article is gone. Raises StorageError."""
        with self._write() as conn:
            return extraction.save_failure(conn, article_id, error, attempts, retry_at)

    def set_full_text(self, source_id: int, full_text: bool = True) -> None:
        """Switch fetching each new article's page on or off for a source. Raises NotFound,
        StorageError."""
        with self._write() as conn:
            if not sources.update(conn, source_id, {"full_text": full_text}):
                raise NotFound(f"store: no source {source_id}")

    # -- syndicated copies (SQL in copies.py) ------------------------------------------------

    def set_duplicate_of(self, pairs: Sequence[tuple[int, int | None]]) -> int:
        """Write (article id, duplicate_of) pairs in one transaction; rows already so, ids that
        no longer exist and pointers to them are skipped. Returns how many rows changed
        (engines may report 0 for batches). Raises StorageError."""
        with self._write() as conn:
            return copies.set_duplicate_of(conn, pairs)

    def repoint_orphaned_copies(self) -> int:
        """Hand copies whose original no longer exists to the earliest of them (see
        ``copies.repoint_orphans``); returns rows changed. Raises StorageError."""
        with self._write() as conn:
            return copies.repoint_orphans(conn)

    def copies_of(self, article_id: int) -> list[Article]:
        """The articles that copy ``article_id`` (listing fields), earliest first. Raises
        StorageError."""
        with self._read() as conn:
            return copies.copies_of(conn, article_id)

    def also_in(self, article_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
        """For each of ``article_ids`` with copies, its copies as (copy id, source name),
        earliest first; one query. Raises StorageError."""
        with self._read() as conn:
            return copies.also_in(conn, article_ids)

    def copy_texts(self, article_ids: Sequence[int]) -> list[copies.StoredCopyText]:
        """What copy detection reads of the given articles (as ``recent_for_copies``), with
        what each copies now, in the order given; ids that do not exist are left out. Raises
        StorageError."""
        with self._read() as conn:
            return copies.copy_texts_of(conn, article_ids)

    def recent_for_copies(self, since: datetime, *, upto: int | None = None) -> Iterator[copies.CopyText]:
        """(id, source_id, text, published_at) of every article published since ``since``, in
        storage order, read a page at a time, up to the id ``upto``; ``published_at`` is capped
        at the first-seen time. Raises StorageError."""
        return copies.iter_recent(self._read, since, upto=upto)

    # -- stories (SQL in stories.py) ---------------------------------------------------------

    def create_story(self, title: str, at: datetime) -> int:
        """A new, empty story row; its stats come with ``assign_stories``. Raises StorageError."""
        return self.create_stories([(title, at)])[0]

    def create_stories(self, new: Sequence[tuple[str, datetime]]) -> list[int]:
        """New, empty story rows, one per (title, first seen), in one transaction; their ids in
        the same order. Raises StorageError."""
        with self._write() as conn:
            return story_rows.create_many(conn, new)

    def assign_stories(self, pairs: Sequence[tuple[int, int]], titles: Mapping[int, str] = {},
                       merges: Sequence[tuple[int, int]] = ()) -> None:
        """One transaction: fold each (old story id, story id it turned out to be) of
        ``merges``, in order (the old story's articles move over; its row is left empty and
        pointing at the new one, where its links redirect); set each (article id, story id) of
        ``pairs``; then recompute the stats of every story these touched, once, and set the
        titles given (story id → its most central headline). Raises StorageError."""
        with self._write() as conn:
            folded_into = story_rows.fold_many(conn, merges)
            story_rows.assign(conn, pairs)
            touched = {story_id for _, story_id in pairs} | folded_into | set(titles)
            story_rows.refresh_many(conn, sorted(touched), titles)

    def story_redirect(self, story_id: int) -> int | None:
        """The story a merged story now lives in (following merges of merges); None when the
        story was not merged. Raises StorageError."""
        with self._read() as conn:
            return story_rows.merged_into(conn, story_id)

    def list_stories(self, *, limit: int = 50, before: str | None = None, active_since: datetime | None = None,
                     min_sources: int = 1) -> tuple[list[Story], str | None]:
        """Stories by size (sources, then articles) and recency, updated since ``active_since``,
        one page after the cursor ``before``, and the next page's cursor (None at the end).
        Raises ValueError for a malformed cursor, StorageError."""
        with self._read() as conn:
            return story_rows.list_page(conn, limit, before, active_since, min_sources)

    def get_story(self, story_id: int) -> Story:
        """Raises NotFound, StorageError."""
        with self._read() as conn:
            story = story_rows.get(conn, story_id)
        if story is None:
            raise NotFound(f"store: no story {story_id}")
        return story

    def story_articles(self, story_id: int, *, limit: int = 200) -> list[Article]:
        """A story's coverage, copies included, newest first (listing fields). Raises StorageError."""
        return list(self.list_articles(story_id=story_id, limit=limit, include_copies=True).items)

    def story_counts(self, story_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(article_count, source_count) for each existing story id; one query. Raises StorageError."""
        with self._read() as conn:
            return story_rows.story_counts(conn, story_ids)

    def story_sources(self, story_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
        """The (source id, name) pairs covering each story; one query. Raises StorageError."""
        with self._read() as conn:
            return story_rows.story_sources(conn, story_ids)

    def has_articles_without_story(self, since: datetime) -> bool:
        """Whether an article published since ``since`` has no story yet (stored without
        enrichment): what tells a pass that stored nothing to catch up. Raises StorageError."""
        with self._read() as conn:
            return story_rows.has_articles_without_story(conn, since)

    def recent_for_stories(self, since: datetime, *, upto: int | None = None) -> Iterator[story_rows.StoryRow]:
        """Articles published since ``since`` in storage order, with their story, canonical and
        source's ``merge_stories``: what story clustering rebuilds from, read a page at a time,
        up to the id ``upto``. Raises StorageError."""
        return story_rows.iter_recent(self._read, since, upto=upto)

    def articles_for_stories(self, article_ids: Sequence[int]) -> list[story_rows.StoryRow]:
        """The existing articles of ``article_ids`` as story clustering reads them, in no
        particular order. Raises StorageError."""
        with self._read() as conn:
            return story_rows.rows_of(conn, article_ids)

    EDITABLE = frozenset({"name", "category", "enabled", "full_text", "merge_stories", "feed_url"})

    def change_source(self, source_id: int, changes: Mapping[str, object]) -> None:
        """Change a source's ``name``, ``category``, ``enabled``, ``full_text``,
        ``merge_stories`` or ``feed_url`` (any others are refused with ValueError). A new feed
        URL forgets the old one's validators (ETag, Last-Modified) and is due at once. Raises
        NotFound, SourceExistsError when another source follows the new URL, StorageError."""
        if not set(changes) <= self.EDITABLE:
            raise ValueError(f"store: cannot change {sorted(set(changes) - self.EDITABLE)}")
        values = dict(changes)
        with self._write() as conn:
            found = sources.get(conn, source_id)
            if found is None:
                raise NotFound(f"store: no source {source_id}")
            url = values.get("feed_url")
            if url is not None and url != found.feed_url:
                other = sources.find(conn, str(url))
                if other is not None:
                    raise SourceExistsError(f"store: already following {url}", source_id=other.id)
                values.update(etag=None, last_modified=None, next_due_at=_now())
            if values:
                sources.update(conn, source_id, values)

    def source_health_counts(self) -> tuple[int, int]:
        """(failing, followed): enabled sources whose last fetch failed, and all enabled
        sources; one aggregate over the sources, for the notice on every wire page. Raises
        StorageError."""
        with self._read() as conn:
            return sources.health_counts(conn)

    def set_merge_stories(self, source_id: int, merge: bool) -> None:
        """Let a source's articles join other sources' stories, or not. Raises NotFound,
        StorageError."""
        with self._write() as conn:
            if not sources.update(conn, source_id, {"merge_stories": merge}):
                raise NotFound(f"store: no source {source_id}")

    # -- retention and export (SQL in retention.py and reading.py) ------------------------------

    def purgeable_count(self, cutoff: datetime) -> int:
        """Articles published before ``cutoff`` that no reader saved. Raises StorageError."""
        with self._read() as conn:
            return retention.purgeable_count(conn, cutoff)

    def purge_batch(self, cutoff: datetime, *, limit: int = 200) -> retention.PurgedBatch:
        """One transaction: delete up to ``limit`` of the oldest unsaved articles published
        before ``cutoff`` with their search rows, re-point their copies and delete the stories
        left empty (see ``retention.purge_batch``). Raises StorageError."""
        with self._write() as conn:
            return retention.purge_batch(conn, cutoff, limit)

    def free_space(self) -> tuple[int, str]:
        """SQLite: (bytes in free pages, auto-vacuum mode); PostgreSQL: (0, "postgresql"), whose
        autovacuum reclaims space itself. Raises StorageError."""
        if self.dialect != "sqlite":
            return 0, "postgresql"
        with self._read() as conn:
            count, size = retention.free_pages(conn)
            return count * size, retention.auto_vacuum_mode(conn)

    def reclaim_space(self, *, pages: int = 2000) -> None:
        """SQLite with incremental auto-vacuum: give up to ``pages`` free pages back to the file
        system, in one short write transaction (about 40 ms per 1,000 pages); elsewhere
        nothing. Raises StorageError."""
        if self.dialect != "sqlite":
            return
        with self._read() as conn:
            if retention.auto_vacuum_mode(conn) != "incremental":
                return
        with self._raw_sqlite() as raw:
            retention.incremental_vacuum(raw, pages)

    def enable_incremental_vacuum(self) -> None:
        """SQLite: switch an existing database to incremental auto-vacuum, which takes one full
        VACUUM (it rewrites the file, needs as much free disk again, and holds the write lock
        meanwhile). Databases made since this version have it from the start. Raises
        StorageError."""
        if self.dialect != "sqlite":
            return
        with self._raw_sqlite() as raw:
            raw.execute("PRAGMA auto_vacuum=INCREMENTAL")
            raw.execute("VACUUM")

    @contextmanager
    def _raw_sqlite(self) -> Iterator[sqlite3.Connection]:
        """The driver's own connection, outside any transaction: for the statements SQLite runs
        only there (VACUUM) or steps to the end only through ``executescript``."""
        with translate_errors():
            pooled = self._engine.raw_connection()
        try:
            yield pooled.driver_connection
        except sqlite3.Error as error:
            raise StorageError(f"store: {type(error).__name__}: {error}") from error
        finally:
            pooled.close()

    def iter_articles(self, *, since: datetime | None = None, page: int = 200) -> Iterator[Article]:
        """Every article published at or after ``since`` (all without), full (content,
        categories, enclosures, page text), oldest first, read ``page`` at a time, each page in
        a transaction of its own: constant memory whatever the count. Raises StorageError."""
        after: tuple[datetime, int] | None = None
        while True:
            with self._read() as conn:
                keys = reading.ids_oldest_first(conn, since, after, page)
                found = reading.get_many(conn, [article_id for _, article_id in keys])
            yield from found
            if len(keys) < page:
                return
            after = keys[-1]

    # accounts (SQL in accounts.py; policy, hashing and tokens in newswire.accounts)

    def add_user(self, name: str, name_key: str, password_hash: str, fever_key: str | None, *,
                 admin: bool = False) -> User | None:
        """Create an account; None when ``name_key`` is taken. Raises StorageError."""
        now = _now()
        values = dict(name=name, name_key=name_key, password_hash=password_hash, fever_key=fever_key,
                      is_admin=admin, created_at=now, password_changed_at=now)
        with self._write() as conn:
            return accounts.insert_user(conn, values)

    def user_credentials(self, name_key: str) -> tuple[User, str] | None:
        """The user and their password hash, or None. Raises StorageError."""
        with self._read() as conn:
            return accounts.credentials(conn, name_key)

    def find_user(self, name_key: str) -> User | None:
        """The user by casefolded name, or None. Raises StorageError."""
        with self._read() as conn:
            return accounts.by_key(conn, name_key)

    def get_user(self, user_id: int) -> User:
        """Raises NotFound, StorageError."""
        with self._read() as conn:
            user = accounts.by_id(conn, user_id)
        if user is None:
            raise NotFound(f"store: no user {user_id}")
        return user

    def user_by_fever_key(self, fever_key: str) -> User | None:
        """Raises StorageError."""
        with self._read() as conn:
            return accounts.by_fever_key(conn, fever_key)

    def list_users(self) -> list[User]:
        """All users by id. Raises StorageError."""
        with self._read() as conn:
            return accounts.list_all(conn)

    def has_admin(self) -> bool:
        """Whether any admin exists (until one does, the web changes nothing). Raises StorageError."""
        with self._read() as conn:
            return accounts.any_admin(conn)

    def set_password_hash(self, name_key: str, password_hash: str, fever_key: str | None) -> None:
        """Store a new password; every session of the user ends in the same transaction.
        Raises NotFound, StorageError."""
        with self._write() as conn:
            if not accounts.set_password(conn, name_key, password_hash, fever_key, _now()):
                raise NotFound(f"store: no user {name_key!r}")

    def upgrade_password_hash(self, user_id: int, old_hash: str, new_hash: str) -> None:
        """Rehash a password with current parameters, sessions kept. Raises StorageError."""
        with self._write() as conn:
            accounts.upgrade_hash(conn, user_id, old_hash, new_hash)

    def remove_user(self, name_key: str, *, keep_an_admin: bool = False) -> None:
        """Delete a user with their sessions and tokens. With ``keep_an_admin``, refuse to delete
        the last admin. Raises LastAdminError, NotFound, StorageError."""
        with self._write() as conn:
            if keep_an_admin and self._last_admin(conn, name_key):
                raise LastAdminError(name_key)
            if not accounts.delete_user(conn, name_key):
                raise NotFound(f"store: no user {name_key!r}")

    def set_user_admin(self, name_key: str, admin: bool) -> None:
        """Make a user an admin or a reader; never demotes the last admin. Raises
        LastAdminError, NotFound, StorageError."""
        with self._write() as conn:
            if not admin and self._last_admin(conn, name_key):
                raise LastAdminError(name_key)
            if not accounts.set_admin(conn, name_key, admin):
                raise NotFound(f"store: no user {name_key!r}")

    @staticmethod
    def _last_admin(conn: Connection, name_key: str) -> bool:
        user = accounts.by_key(conn, name_key)
        return user is not None and user.is_admin and accounts.other_admins(conn, name_key) == 0

    def add_session(self, token_hash: str, user_id: int, expires_at: datetime) -> None:
        """Record a sign-in (and forget expired sessions). Raises StorageError."""
        now = _now()
        with self._write() as conn:
            accounts.delete_expired_sessions(conn, now)
            accounts.insert_session(conn, token_hash, user_id, now, expires_at)

    def session_user(self, token_hash: str, now: datetime) -> tuple[User, datetime] | None:
        """The user of a live session and when it was last seen. Raises StorageError."""
        with self._read() as conn:
            return accounts.session_user(conn, token_hash, now)

    def touch_session(self, token_hash: str, now: datetime, expires_at: datetime) -> None:
        """Raises StorageError."""
        with self._write() as conn:
            accounts.touch_session(conn, token_hash, now, expires_at)

    def end_session(self, token_hash: str) -> None:
        """Raises StorageError."""
        with self._write() as conn:
            accounts.delete_session(conn, token_hash)

    def add_api_token(self, token_hash: str, user_id: int, label: str, *, keep: int | None = None) -> ApiToken:
        """With ``keep``, the user's tokens with this label are cut to the ``keep`` most recent
        (the new one included). Raises StorageError."""
        with self._write() as conn:
            token = accounts.insert_token(conn, token_hash, user_id, label, _now())
            if keep is not None:
                accounts.prune_tokens(conn, user_id, label, keep)
            return token

    def api_token_user(self, token_hash: str) -> tuple[User, datetime | None] | None:
        """The user of an API token and when it was last used. Raises StorageError."""
        with self._read() as conn:
            return accounts.token_user(conn, token_hash)

    def touch_api_token(self, token_hash: str, now: datetime) -> None:
        """Raises StorageError."""
        with self._write() as conn:
            accounts.touch_token(conn, token_hash, now)

    def api_tokens(self, user_id: int) -> list[ApiToken]:
        """A user's tokens (never the secrets), oldest first. Raises StorageError."""
        with self._read() as conn:
            return accounts.tokens_of(conn, user_id)

    def revoke_api_token(self, user_id: int, token_id: int) -> None:
        """Raises NotFound (also for another user's token), StorageError."""
        with self._write() as conn:
            if not accounts.delete_token(conn, user_id, token_id):
                raise NotFound(f"store: no token {token_id}")

    def record_login_failure(self, keys: Collection[str], now: datetime, *, forget_before: datetime) -> None:
        """Count a failed sign-in against each key; failures older than ``forget_before`` go.
        Raises StorageError."""
        with self._write() as conn:
            accounts.delete_old_failures(conn, forget_before)
            accounts.insert_failures(conn, keys, now)

    def login_failures(self, keys: Collection[str], since: datetime) -> dict[str, tuple[int, datetime]]:
        """Per key, failures after ``since``: how many and the oldest. Raises StorageError."""
        with self._read() as conn:
            return accounts.failures_since(conn, keys, since)

    def clear_login_failures(self, keys: Collection[str]) -> None:
        """Raises StorageError."""
        with self._write() as conn:
            accounts.delete_failures(conn, keys)

    # what the server remembers about itself

    def server_secret(self, name: str) -> str:
        """A random secret (64 hex digits) kept under ``name``, made on first use; every process
        on this database gets the same one, across restarts. Raises StorageError."""
        with self._write() as conn:
            return server_values.get_or_create(conn, f"secret:{name}", lambda: secrets.token_hex(32))

    def put_notice(self, kind: str, text: str) -> str:
        """Keep a one-shot notice for the page a redirect opens, in whichever web process
        serves it; the token for its URL. Raises StorageError."""
        with self._write() as conn:
            return server_values.put_notice(conn, json.dumps([kind, text]), int(time.time()))

    def take_notice(self, token: str | None) -> tuple[str, str] | None:
        """The notice kept under ``token`` as (kind, text), removed as it is read; None when
        there is none (already shown, expired, or a token nobody made). Raises StorageError."""
        if not token or server_values.notice_key(token) is None:
            return None  # not one we made: no write for it
        with self._write() as conn:
            value = server_values.take_notice(conn, token)
        if value is None:
            return None
        kind, text = json.loads(value)
        return str(kind), str(text)


def _now() -> datetime:
    return datetime.now(timezone.utc)
