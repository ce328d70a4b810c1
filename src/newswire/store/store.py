"""``Store``: the only object in Newswire that talks to the database.

Every public method opens its own transaction; every SQLAlchemy or driver exception leaving one
becomes ``StorageError`` (cause kept) in ``engine.translate_errors``. Lookups that find nothing
raise ``NotFound``.
"""

from __future__ import annotations

import dataclasses
from collections import ChainMap
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator, Literal, Sequence

from sqlalchemy.engine import Connection

from newswire.errors import NewswireError, NotFound, SourceExistsError, StorageError
from newswire.models import Article, ArticlePage, Entry, SearchHit, Source, SourceUpdate, StoreResult

from . import articles, reading, search, sources
from .engine import WRITE_OPTION, create_engine, translate_errors, upgrade


class Store:
    """Sources, articles and search on SQLite or PostgreSQL.

    ``Store(url)`` connects and, unless ``migrate=False``, upgrades the schema to the newest
    revision. Safe to share between threads (one pooled connection per transaction)."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        with translate_errors():
            self._engine = create_engine(url)
            if migrate:
                upgrade(self._engine)
        self.dialect: str = self._engine.dialect.name
        self._names = articles.NameIds()

    def close(self) -> None:
        """Close all pooled connections."""
        self._engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
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

    def list_sources(self) -> list[Source]:
        """All sources by id, with ``article_count`` filled. Raises StorageError."""
        with self._read() as conn:
            return sources.list_all(conn)

    def due_sources(self, now: datetime, *, include_all: bool = False) -> list[Source]:
        """Enabled sources never fetched or due at ``now`` (all enabled ones with
        ``include_all``), longest overdue first; ``article_count`` is left 0. Raises StorageError."""
        with self._read() as conn:
            return sources.due(conn, now, include_all)

    def next_due_at(self) -> datetime | None:
        """When the earliest enabled source is due, without counting articles: None when no
        source is enabled, ``datetime.min`` (UTC) when one was never fetched. Raises StorageError."""
        import sqlalchemy as sa

        from .tables import sources as table

        enabled = table.c.enabled.is_(True)
        with self._read() as conn:
            if conn.execute(sa.select(table.c.id).where(enabled, table.c.next_due_at.is_(None)).limit(1)).first():
                return datetime.min.replace(tzinfo=timezone.utc)
            return conn.execute(sa.select(sa.func.min(table.c.next_due_at)).where(enabled)).scalar()

    def set_enabled(self, source_id: int, enabled: bool) -> None:
        """Pause or resume a source. Raises NotFound, StorageError."""
        with self._write() as conn:
            if not sources.update(conn, source_id, {"enabled": enabled}):
                raise NotFound(f"store: no source {source_id}")

    def remove_source(self, source_id: int) -> None:
        """Unfollow a source and delete its articles. Raises NotFound, StorageError."""
        with self._write() as conn:
            if not sources.delete(conn, source_id):
                raise NotFound(f"store: no source {source_id}")

    # the one write of a refresh

    def save_refresh(self, source_id: int, update: SourceUpdate,
                     entries: Sequence[Entry] = ()) -> StoreResult:
        """One transaction: upsert the entries and record the fetch outcome on the source.

        Either all of it is stored or none of it. Entries are keyed by guid within the source;
        see ``articles.decide`` for what counts as new, changed and unchanged. Raises NotFound
        if there is no such source, StorageError if the database refuses any part."""
        found = articles.NameIds()
        with self._write() as conn:
            result = self._save(conn, source_id, update, entries, self._names, found)
        self._names.merge(found)  # only now committed
        return result

    def save_refreshes(self, refreshes: Sequence[tuple[int, SourceUpdate, Sequence[Entry]]],
                       ) -> list[StoreResult | NewswireError]:
        """Several refreshes in one transaction, each in a savepoint of its own: one refresh's
        failure rolls back only that refresh and comes back in its place as the error
        (NotFound or StorageError); the others are stored. One commit for many feeds is what
        keeps SQLite's full-text index fast. Raises StorageError only if the commit fails."""
        found = articles.NameIds()  # ids from savepoints that were released, not rolled back
        known = articles.NameIds(ChainMap(found.authors, self._names.authors),  # type: ignore[arg-type]
                                 ChainMap(found.categories, self._names.categories))  # type: ignore[arg-type]
        results: list[StoreResult | NewswireError] = []
        with self._write() as conn:
            for source_id, update, entries in refreshes:
                found_here = articles.NameIds()
                try:
                    with translate_errors(), conn.begin_nested():
                        results.append(self._save(conn, source_id, update, entries, known, found_here))
                except (StorageError, NotFound) as error:
                    results.append(error)
                else:
                    found.merge(found_here)
        self._names.merge(found)
        return results

    @staticmethod
    def _save(conn: Connection, source_id: int, update: SourceUpdate, entries: Sequence[Entry],
              known: articles.NameIds, found: articles.NameIds) -> StoreResult:
        if not sources.update(conn, source_id, sources.update_values(update)):
            raise NotFound(f"store: no source {source_id}")
        return articles.upsert_entries(conn, source_id, entries, update.fetched_at, known, found)

    # reading

    def article_count(self, source_id: int | None = None) -> int:
        """Articles stored, in all or for one source. Raises StorageError."""
        with self._read() as conn:
            return articles.count(conn, source_id)

    def search(self, query: str, *, limit: int = 20, order: Literal["rank", "newest"] = "rank",
               before: str | None = None) -> list[SearchHit]:
        """Articles matching ``query`` (words, "phrases", prefix*), best first or newest first;
        [] when the query holds no searchable word. Never a syntax error. In newest order,
        ``before`` (see ``cursor_after``) continues a previous page. Raises ValueError for a
        malformed cursor, StorageError."""
        keyset = reading.decode_cursor(before) if before else None
        with self._read() as conn:
            hits = search.search(conn, query, limit, order, keyset if order == "newest" else None)
            names = articles.authors_of(conn, [hit.article_id for hit in hits])
        return [dataclasses.replace(hit, authors=names.get(hit.article_id, ())) for hit in hits]

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

    def get_articles(self, article_ids: Sequence[int]) -> list[Article]:
        """Full articles in the order given, skipping ids that do not exist. Raises StorageError."""
        with self._read() as conn:
            return reading.get_many(conn, article_ids)

    def list_articles(self, *, source_id: int | None = None, author: str | None = None,
                      story_id: int | None = None, query: str | None = None, before: str | None = None,
                      limit: int = 50) -> ArticlePage:
        """Newest first, filtered, one page (``limit`` at most 200) after the cursor ``before``.
        Raises ValueError for a malformed cursor, StorageError."""
        filters = reading.Filters(source_id=source_id, author=author, story_id=story_id, query=query)
        with self._read() as conn:
            items, next_cursor = reading.list_articles(conn, filters, before, limit)
        return ArticlePage(tuple(items), next_cursor)

    def arrived_after(self, article_id: int, *, limit: int = 50) -> list[Article]:
        """Articles stored after ``article_id``, in arrival order: what a live wire adds.
        Raises StorageError."""
        with self._read() as conn:
            return reading.arrived_after(conn, article_id, limit)

    def last_article_id(self) -> int:
        """The id of the newest stored article, 0 when there is none. Raises StorageError."""
        with self._read() as conn:
            return reading.last_article_id(conn)

    def author_name(self, name: str) -> str | None:
        """The stored display name of an author, by any spelling of the name. Raises StorageError."""
        with self._read() as conn:
            return reading.author_name(conn, name)


def _now() -> datetime:
    return datetime.now(timezone.utc)
