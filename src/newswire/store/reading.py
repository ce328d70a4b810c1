"""Reading articles for the wire, article pages, the API and feeds out.

Listings are newest first by (published_at, id) and paged by keyset: the cursor is the last
item's (published_at, id), so articles arriving while a reader pages never make a page skip or
repeat an item. List queries leave the heavy columns (content, text) unread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from newswire.models import Article, Enclosure

from .articles import author_key, authors_of, categories_of
from . import recent
from .muting import followed_in, muted_out
from .search import expand_prefixes, match_clause, parse_query, to_fts5
from .tables import ORIGINALS, article_authors, articles, authors, sources

MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Filters:
    source_id: int | None = None
    author: str | None = None  # a display name or key; matched case-insensitively
    story_id: int | None = None
    query: str | None = None  # full-text: words, "phrases", prefix*
    include_copies: bool = False  # syndicated copies (duplicate_of set) are left out unless True
    reader_id: int | None = None  # a reader's wire: their muted sources and authors left out
    followed_by: int | None = None  # only what this reader follows (sources, authors, stories)
    category: str | None = None  # only sources in this category or below it ("News" holds "News/Canada")


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_CURSOR = re.compile(r"(-?[0-9]{1,18})\.([0-9]{1,19})")
_MAX_ROW_ID = 2**63 - 1  # the largest id either engine can hold
FIRST_MICROS = (datetime.min.replace(tzinfo=timezone.utc) - EPOCH) // _MICROSECOND  # 0001-01-01
LAST_MICROS = (datetime.max.replace(tzinfo=timezone.utc) - EPOCH) // _MICROSECOND  # 9999-12-31 23:59:59.999999


def encode_moment(moment: datetime) -> str:
    """``moment`` as whole microseconds since 1970 (UTC), computed exactly: a float timestamp
    loses microseconds far from 1970, and then a keyset page would skip or repeat an item."""
    return str((moment - EPOCH) // _MICROSECOND)


def decode_moment(micros: str) -> datetime:
    """The inverse of ``encode_moment``. Raises ValueError for anything else, including a
    number of microseconds no datetime can hold (never OverflowError)."""
    if not re.fullmatch(r"-?[0-9]{1,18}", micros):
        raise ValueError(f"store: invalid time in cursor {micros!r}")
    try:
        return EPOCH + int(micros) * _MICROSECOND
    except OverflowError:
        raise ValueError(f"store: time in cursor out of range {micros!r}") from None


def encode_cursor(published_at: datetime, article_id: int) -> str:
    """The keyset cursor after an item: ``<microseconds since 1970>.<id>``; it round-trips for
    every time a datetime can hold (years 1 to 9999)."""
    return f"{encode_moment(published_at)}.{article_id}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Raises ValueError (only) for anything that is not a cursor this module could make."""
    match = _CURSOR.fullmatch(cursor)
    if not match or int(match.group(2)) > _MAX_ROW_ID:
        raise ValueError(f"store: invalid cursor {cursor[:60]!r}")
    return decode_moment(match.group(1)), int(match.group(2))




def _columns() -> list[Any]:
    c = articles.c
    return [c.id, c.source_id, sources.c.name.label("source_name"), c.guid, c.url, c.title,
            c.published_at, c.published_estimated, c.updated_at, c.first_seen_at, c.summary,
            c.snippet, c.language, c.story_id, c.duplicate_of, c.credit]


def list_articles(conn: Connection, filters: Filters, before: str | None, limit: int) -> tuple[list[Article], str | None]:
    """A page of articles newest first, and the cursor of the next page (None at the end).
    Raises ValueError for a bad cursor."""
    limit = max(1, min(limit, MAX_LIMIT))
    c = articles.c
    query = sa.select(*_columns()).join(sources, sources.c.id == c.source_id)
    if filters.source_id is not None:
        query = query.where(c.source_id == filters.source_id)
    if filters.story_id is not None:
        query = query.where(c.story_id == filters.story_id)
    if not filters.include_copies:
        query = query.where(ORIGINALS)
    if filters.reader_id is not None:
        query = query.where(*muted_out(filters.reader_id))
    if filters.followed_by is not None:
        query = query.where(followed_in(filters.followed_by))
    if filters.category is not None:
        query = query.where(sa.literal_column("+articles.source_id").in_(in_category(filters.category)))
    if filters.author:
        key = author_key(filters.author)
        by_author = (sa.select(article_authors.c.article_id)
                     .join(authors, authors.c.id == article_authors.c.author_id)
                     .where(authors.c.key == key))
        query = query.where(c.id.in_(by_author))
    keyset = decode_cursor(before) if before else None
    if filters.query is not None:
        terms = parse_query(filters.query)
        if not terms:
            return [], None
        if conn.dialect.name == "sqlite":  # choose the page's ids without sorting every match
            conditions = query.whereclause
            ids = recent.newest_ids(conn, to_fts5(expand_prefixes(conn, terms)), limit + 1, before=keyset,
                                    conditions=[conditions] if conditions is not None else [])
            query = query.where(c.id.in_(ids))
        else:
            query = query.where(match_clause(conn.dialect.name, terms))
    if keyset:
        moment, article_id = keyset
        query = query.where(sa.or_(c.published_at < moment,
                                   sa.and_(c.published_at == moment, c.id < article_id)))
    query = query.order_by(c.published_at.desc(), c.id.desc()).limit(limit + 1)
    rows = conn.execute(query).all()
    items = _articles(conn, rows[:limit])
    last = items[-1] if len(rows) > limit else None
    return items, encode_cursor(last.published_at, last.id) if last else None


def in_category(category: str) -> sa.Select[Any]:
    """The ids of the sources in ``category`` or in a category below it. Matched against a
    unary-plus ``source_id`` (as ``ORIGINALS`` does): the wire keeps walking its (published_at, id)
    index to the page's end and checks each row's source in this small list, where SQLite would
    otherwise seek the category's sources' articles through the source index and sort them all."""
    listed = sources.alias("in_category")
    return sa.select(listed.c.id).where(sa.or_(listed.c.category == category,
                                               listed.c.category.startswith(category + "/", autoescape=True)))


def arrived_after(conn: Connection, article_id: int, limit: int, include_copies: bool = False) -> list[Article]:
    """Articles stored after the one with ``article_id`` (ids grow with arrival), oldest
    arrival first, at most ``limit``: what a live wire must add (copies left out unless asked)."""
    query = (sa.select(*_columns()).join(sources, sources.c.id == articles.c.source_id)
             .where(articles.c.id > article_id).order_by(articles.c.id).limit(max(1, min(limit, MAX_LIMIT))))
    if not include_copies:
        query = query.where(ORIGINALS)
    return _articles(conn, conn.execute(query).all())


def arrived_before(conn: Connection, article_id: int | None, limit: int, include_copies: bool = False) -> list[Article]:
    """Articles stored before the one with ``article_id`` (all of them when None), latest
    arrival first, at most ``limit``: paging back through arrivals, as sync clients do."""
    query = (sa.select(*_columns()).join(sources, sources.c.id == articles.c.source_id)
             .order_by(articles.c.id.desc()).limit(max(1, min(limit, MAX_LIMIT))))
    if article_id is not None:
        query = query.where(articles.c.id < article_id)
    if not include_copies:
        query = query.where(ORIGINALS)
    return _articles(conn, conn.execute(query).all())


def last_article_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(articles.c.id), 0))).scalar_one())


def get_many(conn: Connection, article_ids: Sequence[int]) -> list[Article]:
    """Full articles (content, categories, enclosures) in the order of ``article_ids``; ids
    that do not exist are left out. A handful of queries whatever the count."""
    c = articles.c
    query = (sa.select(*_columns(), c.content_html, c.text, c.enclosures, c.page_html, c.extraction_status)
             .join(sources, sources.c.id == c.source_id).where(c.id.in_(list(article_ids))))
    rows = {row.id: row for row in conn.execute(query)}
    found = [rows[i] for i in article_ids if i in rows]
    cats = categories_of(conn, [row.id for row in found])
    return [replace(article, content_html=row.content_html or "", text=row.text or "",
                    page_html=row.page_html or "", extraction_status=row.extraction_status,
                    categories=cats.get(row.id, ()),
                    enclosures=tuple(Enclosure(e["url"], e.get("type"), e.get("length"))
                                     for e in (row.enclosures or [])))
            for article, row in zip(_articles(conn, found), found)]


def author_name(conn: Connection, name: str) -> str | None:
    """The display name stored for an author, found by any spelling of the same key."""
    key = author_key(name)
    return conn.execute(sa.select(authors.c.name).where(authors.c.key == key)).scalar_one_or_none()


def _articles(conn: Connection, rows: Sequence[Any]) -> list[Article]:
    names = authors_of(conn, [r.id for r in rows])
    return [Article(id=r.id, source_id=r.source_id, source_name=r.source_name, guid=r.guid, url=r.url,
                    title=r.title, authors=names.get(r.id, ()), published_at=r.published_at,
                    published_estimated=bool(r.published_estimated), updated_at=r.updated_at,
                    first_seen_at=r.first_seen_at, summary=r.summary or "", snippet=r.snippet or "",
                    language=r.language, story_id=r.story_id, duplicate_of=r.duplicate_of,
                    credit=r.credit or "")
            for r in rows]


def ids_oldest_first(conn: Connection, since: datetime | None, after: tuple[datetime, int] | None,
                     limit: int) -> list[tuple[datetime, int]]:
    """(published_at, id) of up to ``limit`` articles published at or after ``since``, oldest
    first, after the keyset ``after``: a page of an export, read along the wire's index."""
    c = articles.c
    query = sa.select(c.published_at, c.id)
    if since is not None:
        query = query.where(c.published_at >= since)
    if after is not None:
        moment, article_id = after
        query = query.where(sa.or_(c.published_at > moment, sa.and_(c.published_at == moment, c.id > article_id)))
    return [(row.published_at, row.id) for row in conn.execute(query.order_by(c.published_at, c.id).limit(limit))]
