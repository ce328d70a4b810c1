"""Reading articles for the wire, article pages, the API and feeds out.

Listings are newest first by (published_at, id) and paged by keyset: the cursor is the last
item's (published_at, id), so articles arriving while a reader pages never make a page skip or
repeat an item. List queries leave the heavy columns (content, text) unread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from newswire.models import Article, Enclosure

from .articles import author_key, authors_of, categories_of
from .id_lists import in_ids
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


_WIDTH = len(_columns())


def list_articles(conn: Connection, filters: Filters, before: str | None, limit: int) -> tuple[list[Article], str | None]:
    """A page of articles newest first, and the cursor of the next page (None at the end).
    Raises ValueError for a bad cursor."""
    limit = max(1, min(limit, MAX_LIMIT))
    keyset = decode_cursor(before) if before else None
    return _page(conn, _listed(conn, filters, keyset, limit + 1), limit)


Stamp = tuple[Any, ...]  # see STAMP_FIELDS
STAMP_FIELDS = ("id", "source_id", "source_name", "published_at", "first_seen_at", "updated_at", "changed_at",
                "content_hash")


def list_stamps(conn: Connection, filters: Filters, limit: int) -> list[Stamp]:
    """The first page of a listing as ``STAMP_FIELDS`` rows, newest first: which articles a page
    holds and which version of each. A refresh that changes an entry moves its ``content_hash``
    and ``changed_at``, its page's text ``changed_at``; a new, gone or re-filtered article changes
    the ids, a renamed source its name; an id SQLite hands out again (the newest article deleted,
    another stored) comes with another first sight and, unless it is the same entry, another
    hash. One query along the same index as ``list_articles``, with neither the articles' text
    nor their authors: the feeds out compare it with the one their kept rendering was made from."""
    limit = max(1, min(limit, MAX_LIMIT))
    return [tuple(row) for row in _listed(conn, filters, None, limit, stamps=True)]  # type: ignore[misc]


def stamps_of(conn: Connection, article_ids: Sequence[int]) -> list[Stamp]:
    """``list_stamps``'s rows for the given articles, in the order given; ids that do not exist
    are left out."""
    if not article_ids:
        return []
    rows = {row[0]: tuple(row) for row in conn.execute(_stamps_by_id(), {"ids": list(article_ids)})}
    return [rows[i] for i in article_ids if i in rows]  # type: ignore[misc]


def _listed(conn: Connection, filters: Filters, keyset: tuple[datetime, int] | None, count: int,
            stamps: bool = False) -> Sequence[Any]:
    """Up to ``count`` rows of a listing after ``keyset``: ``_columns()``, or with ``stamps``
    ``_stamp_columns()``."""
    if filters.query is not None:
        return _search_rows(conn, filters, keyset, count, stamps)
    values = _values(filters)
    values["limit"] = count
    if keyset:
        values["moment"], values["after_id"] = keyset
    return conn.execute(_listing(_Shape.of(filters, keyset is not None), stamps), values).all()


def _stamp_columns() -> list[Any]:
    c = articles.c
    return [c.id, c.source_id, sources.c.name.label("source_name"), c.published_at, c.first_seen_at, c.updated_at,
            c.changed_at, c.content_hash]


@lru_cache(maxsize=1)
def _stamps_by_id() -> sa.Select[Any]:
    return (sa.select(*_stamp_columns()).join(sources, sources.c.id == articles.c.source_id)
            .where(in_ids(articles.c.id)))


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which filters a listing has: each shape's statement is built once, with its values as
    parameters. Building a statement cost more than running it (about 2 ms against 0.1 ms on
    SQLite at a million articles): SQLAlchemy reuses a built statement's compiled form."""

    source: bool
    story: bool
    copies: bool
    reader: bool
    followed: bool
    author: bool
    category: bool
    keyset: bool

    @classmethod
    def of(cls, filters: Filters, keyset: bool) -> "_Shape":
        return cls(filters.source_id is not None, filters.story_id is not None, filters.include_copies,
                   filters.reader_id is not None, filters.followed_by is not None, bool(filters.author),
                   filters.category is not None, keyset)


def _values(filters: Filters) -> dict[str, Any]:
    """The parameters of a statement built by ``_filtered``."""
    category = filters.category
    return {"source": filters.source_id, "story": filters.story_id, "reader": filters.reader_id,
            "follower": filters.followed_by, "author_key": author_key(filters.author) if filters.author else None,
            "category": category, "below_category": below(category) if category is not None else None}


@lru_cache(maxsize=None)  # 2**9 shapes at most
def _listing(shape: _Shape, stamps: bool = False) -> sa.Select[Any]:
    c = articles.c
    columns = _stamp_columns() if stamps else _columns()
    query = _filtered(sa.select(*columns).join(sources, sources.c.id == c.source_id), shape)
    if shape.keyset:
        moment, after_id = sa.bindparam("moment", type_=c.published_at.type), sa.bindparam("after_id")
        query = query.where(sa.or_(c.published_at < moment, sa.and_(c.published_at == moment, c.id < after_id)))
    return query.order_by(c.published_at.desc(), c.id.desc()).limit(sa.bindparam("limit"))


def _filtered(query: sa.Select[Any], shape: _Shape, values: dict[str, Any] | None = None) -> sa.Select[Any]:
    """``query`` over articles with the conditions of ``shape``, each value a named parameter
    (given at execution), or bound here from ``values``."""
    def value(name: str) -> sa.BindParameter[Any]:
        return sa.bindparam(name) if values is None else sa.bindparam(name, values[name], unique=True)

    c = articles.c
    if shape.source:
        query = query.where(c.source_id == value("source"))
    if shape.story:
        query = query.where(c.story_id == value("story"))
    if not shape.copies:
        query = query.where(ORIGINALS)
    if shape.reader:
        query = query.where(*muted_out(value("reader")))
    if shape.followed:
        query = query.where(followed_in(value("follower")))
    if shape.category:
        query = query.where(sa.literal_column("+articles.source_id").in_(in_category(value("category"),
                                                                                    value("below_category"))))
    if shape.author:
        by_author = (sa.select(article_authors.c.article_id)
                     .join(authors, authors.c.id == article_authors.c.author_id)
                     .where(authors.c.key == value("author_key")))
        query = query.where(c.id.in_(by_author))
    return query


def _search_rows(conn: Connection, filters: Filters, keyset: tuple[datetime, int] | None,
                 count: int, stamps: bool = False) -> Sequence[Any]:
    """Up to ``count`` full-text matches, newest first: built for each query (its terms shape it)."""
    c = articles.c
    terms = parse_query(filters.query or "")
    if not terms:
        return []
    values = _values(filters)
    shape = _Shape.of(filters, False)
    columns = _stamp_columns() if stamps else _columns()
    query = _filtered(sa.select(*columns).join(sources, sources.c.id == c.source_id), shape, values)
    if conn.dialect.name == "sqlite":  # choose the page's ids without sorting every match
        conditions = query.whereclause
        ids = recent.newest_ids(conn, to_fts5(expand_prefixes(conn, terms)), count, before=keyset,
                                conditions=[conditions] if conditions is not None else [])
        query = query.where(c.id.in_(ids))
    else:
        query = query.where(match_clause(conn.dialect.name, terms))
    if keyset:
        moment, article_id = keyset
        query = query.where(sa.or_(c.published_at < moment,
                                   sa.and_(c.published_at == moment, c.id < article_id)))
    query = query.order_by(c.published_at.desc(), c.id.desc()).limit(count)
    return conn.execute(query).all()


def _page(conn: Connection, rows: Sequence[Any], limit: int) -> tuple[list[Article], str | None]:
    """The first ``limit`` rows as articles, and the cursor after them when there are more."""
    items = _articles(conn, rows[:limit])
    last = items[-1] if len(rows) > limit else None
    return items, encode_cursor(last.published_at, last.id) if last else None


def in_category(category: sa.ColumnElement[str], below_it: sa.ColumnElement[str]) -> sa.Select[Any]:
    """The ids of the sources in ``category`` or in a category below it (``below_it``: the LIKE
    pattern ``below`` makes of it). Matched against a unary-plus ``source_id`` (as ``ORIGINALS``
    does): the wire keeps walking its (published_at, id) index to the page's end and checks each
    row's source in this small list, where SQLite would otherwise seek the category's sources'
    articles through the source index and sort them all."""
    listed = sources.alias("in_category")
    return sa.select(listed.c.id).where(sa.or_(listed.c.category == category,
                                               listed.c.category.like(below_it, escape="\\")))


def below(category: str) -> str:
    """The LIKE pattern of the categories below ``category`` ("News" → "News/%"), its own
    wildcards escaped."""
    return category.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"


def arrived_after(conn: Connection, article_id: int, limit: int, include_copies: bool = False) -> list[Article]:
    """Articles stored after the one with ``article_id`` (ids grow with arrival), oldest
    arrival first, at most ``limit``: what a live wire must add (copies left out unless asked)."""
    query = (sa.select(*_columns()).join(sources, sources.c.id == articles.c.source_id)
             .where(articles.c.id > article_id).order_by(articles.c.id).limit(max(1, min(limit, MAX_LIMIT))))
    if not include_copies:
        query = query.where(ORIGINALS)
    return _articles(conn, conn.execute(query).all())


def ids_after(conn: Connection, article_id: int, limit: int) -> list[int]:
    """The ids of articles stored after the one with ``article_id``, copies included, lowest
    first, ``limit`` at most (no page's cap: the enrichment follower's look at what is new)."""
    return list(conn.execute(sa.select(articles.c.id).where(articles.c.id > article_id)
                             .order_by(articles.c.id).limit(max(1, limit))).scalars())


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


_LAST_ID = sa.select(sa.func.coalesce(sa.func.max(articles.c.id), 0))  # built once: every page asks


def last_article_id(conn: Connection) -> int:
    return int(conn.execute(_LAST_ID).scalar_one())


def get_many(conn: Connection, article_ids: Sequence[int], *, text: bool = True) -> list[Article]:
    """Full articles (content, categories, enclosures) in the order of ``article_ids``; ids
    that do not exist are left out. A handful of queries whatever the count. Without ``text``
    the plain text is not read (``Article.text`` is empty)."""
    rows = {row.id: row for row in conn.execute(_full(text), {"ids": list(article_ids)})}
    found = [rows[i] for i in article_ids if i in rows]
    cats = categories_of(conn, [row.id for row in found])
    return [replace(article, content_html=row.content_html or "", text=(row.text or "") if text else "",
                    page_html=row.page_html or "", extraction_status=row.extraction_status,
                    changed_at=row.changed_at, categories=cats.get(row.id, ()),
                    enclosures=tuple(Enclosure(e["url"], e.get("type"), e.get("length"))
                                     for e in (row.enclosures or [])))
            for article, row in zip(_articles(conn, found), found)]


@lru_cache(maxsize=2)
def _full(text: bool) -> sa.Select[Any]:
    """Built once (see ``_Shape``): full articles by id, with or without their plain text."""
    c = articles.c
    return (sa.select(*_columns(), c.content_html, *([c.text] if text else []), c.enclosures, c.page_html,
                      c.extraction_status, c.changed_at)
            .join(sources, sources.c.id == c.source_id).where(in_ids(c.id)))


def author_name(conn: Connection, name: str) -> str | None:
    """The display name stored for an author, found by any spelling of the same key."""
    key = author_key(name)
    return conn.execute(sa.select(authors.c.name).where(authors.c.key == key)).scalar_one_or_none()


def _articles(conn: Connection, rows: Sequence[Any]) -> list[Article]:
    """Articles from rows that begin with ``_columns()``. Rows are read by position: a row's
    attribute access cost about 2 µs a column, a listing's largest cost after the query."""
    names = authors_of(conn, [r[0] for r in rows])
    found = []
    for r in rows:
        (article_id, source_id, source_name, guid, url, title, published_at, estimated, updated_at,
         first_seen_at, summary, snippet, language, story_id, duplicate_of, credit) = r[:_WIDTH]
        found.append(Article(id=article_id, source_id=source_id, source_name=source_name, guid=guid, url=url,
                             title=title, authors=names.get(article_id, ()), published_at=published_at,
                             published_estimated=bool(estimated), updated_at=updated_at,
                             first_seen_at=first_seen_at, summary=summary or "", snippet=snippet or "",
                             language=language, story_id=story_id, duplicate_of=duplicate_of, credit=credit or ""))
    return found


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
