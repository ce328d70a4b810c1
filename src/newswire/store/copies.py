"""Syndicated copies: the SQL behind ``Store``'s copy methods.

``articles.duplicate_of`` holds the id of the earliest copy an article repeats (None for an
original); it is indexed, so "the copies of X" and "also in" are index lookups.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator, NamedTuple, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from newswire.models import Article

from .id_lists import in_ids
from .paging import by_id_pages
from .reading import _articles, _columns
from .tables import articles, sources


class CopyText(NamedTuple):
    """What copy detection reads of an article."""

    id: int
    source_id: int
    text: str  # the feed's plain text, or its summary when it has none
    published_at: datetime  # never later than when it was first seen (no future-dated feeds)


def set_duplicate_of(conn: Connection, pairs: Sequence[tuple[int, int | None]]) -> int:
    """Write (article id, duplicate_of) pairs, skipping rows already so and pointers to an
    article that no longer exists (a copy pointing at nothing would be hidden everywhere);
    returns rows changed."""
    if not pairs:
        return 0
    c = articles.c
    canonical = sa.cast(sa.bindparam("canonical", type_=sa.Integer), sa.Integer)
    target = articles.alias("target")
    statement = (sa.update(articles)
                 .where(c.id == sa.bindparam("article_id"), c.duplicate_of.is_distinct_from(canonical),
                        sa.or_(canonical.is_(None), sa.exists().where(target.c.id == canonical)))
                 .values(duplicate_of=canonical))
    result = conn.execute(statement, [{"article_id": a, "canonical": d} for a, d in pairs])
    return max(result.rowcount, 0)


def repoint_copies_of_source(conn: Connection, source_id: int) -> int:
    """Before ``source_id`` and its articles are deleted: hand each group of copies elsewhere
    whose original is one of them to the group's earliest copy (see ``_adopt``)."""
    c = articles.c
    leaving = sa.select(c.id).where(c.source_id == source_id)
    return _adopt(conn, sa.and_(c.duplicate_of.in_(leaving), c.source_id != source_id))


def repoint_copies_of(conn: Connection, article_ids: Sequence[int]) -> int:
    """Before the articles ``article_ids`` are deleted: hand each group of copies outside them
    whose original is one of them to the group's earliest copy (see ``_adopt``)."""
    if not article_ids:
        return 0
    c = articles.c
    leaving = list(article_ids)
    return _adopt(conn, sa.and_(c.duplicate_of.in_(leaving), c.id.not_in(leaving)))


def repoint_orphans(conn: Connection) -> int:
    """Copies whose original no longer exists (removed before removal re-pointed its copies):
    hand each group to its earliest copy (see ``_adopt``)."""
    c = articles.c
    target = articles.alias("target")
    return _adopt(conn, sa.and_(c.duplicate_of.is_not(None), ~sa.exists().where(target.c.id == c.duplicate_of)))


def _adopt(conn: Connection, orphaned: sa.ColumnElement[bool]) -> int:
    """The copies matching ``orphaned``, by the original they lose: the earliest of each group
    (by copy time: published, never later than first seen; then id, as the copy detector
    chooses) becomes the original, and the others copy it. Returns rows changed."""
    c = articles.c
    groups: dict[int, list[tuple[datetime, int]]] = {}
    for row in conn.execute(sa.select(c.id, c.duplicate_of, c.published_at, c.first_seen_at).where(orphaned)):
        groups.setdefault(row.duplicate_of, []).append((min(row.published_at, row.first_seen_at), row.id))
    pairs: list[tuple[int, int | None]] = []
    for members in groups.values():
        (_, heir), *rest = sorted(members)
        pairs += [(heir, None), *((copy, heir) for _, copy in rest)]
    return set_duplicate_of(conn, pairs)


def copies_of(conn: Connection, article_id: int) -> list[Article]:
    """The articles pointing to ``article_id`` as their canonical, earliest first."""
    c = articles.c
    query = (sa.select(*_columns()).join(sources, sources.c.id == c.source_id)
             .where(c.duplicate_of == article_id).order_by(c.published_at, c.id))
    return _articles(conn, conn.execute(query).all())


_ALSO_IN = (sa.select(articles.c.id, articles.c.duplicate_of, articles.c.published_at, sources.c.name)
            .join(sources, sources.c.id == articles.c.source_id)
            .where(in_ids(articles.c.duplicate_of)))  # built once: see reading._Shape


def also_in(conn: Connection, article_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    """For each of ``article_ids`` that has copies: (copy id, source name), earliest first.
    The few rows are ordered here, not in SQL: an ORDER BY could tempt a planner into walking
    the whole (published_at, id) index instead of looking the copies up by ``duplicate_of``."""
    if not article_ids:
        return {}
    found: dict[int, list[tuple[int, str]]] = {}
    rows = conn.execute(_ALSO_IN, {"ids": list(article_ids)})
    for row in sorted(rows, key=lambda row: (row.published_at, row.id)):
        found.setdefault(row.duplicate_of, []).append((row.id, row.name))
    return found


def recent_page(conn: Connection, since: datetime, after_id: int, limit: int) -> list[CopyText]:
    """Articles published at or after ``since`` with ids above ``after_id``, in storage (id)
    order, ``limit`` at most."""
    c = articles.c
    query = (sa.select(c.id, c.source_id, c.text, c.summary, c.published_at, c.first_seen_at)
             .where(c.published_at >= since, c.id > after_id).order_by(c.id).limit(limit))
    return [_copy_text(r) for r in conn.execute(query)]


def _copy_text(row: Any) -> CopyText:
    return CopyText(row.id, row.source_id, row.text or row.summary or "", min(row.published_at, row.first_seen_at))


_COPY_TEXTS = (sa.select(articles.c.id, articles.c.source_id, articles.c.text, articles.c.summary,
                         articles.c.published_at, articles.c.first_seen_at, articles.c.duplicate_of)
               .where(in_ids(articles.c.id)))  # built once: see reading._Shape


class StoredCopyText(NamedTuple):
    """What copy detection reads of an article just stored, and what it copies now."""

    text: CopyText
    duplicate_of: int | None


def copy_texts_of(conn: Connection, article_ids: Sequence[int]) -> list[StoredCopyText]:
    """``recent_page``'s reading of the given articles, with their ``duplicate_of``, in the
    order given; ids that do not exist are left out. Copy detection reads these for every
    article stored: a full article (its HTML, authors, categories, enclosures) cost several
    times as much to read and build, on the thread that sets the pipeline's pace."""
    if not article_ids:
        return []
    rows = {r.id: r for r in conn.execute(_COPY_TEXTS, {"ids": list(article_ids)})}
    return [StoredCopyText(_copy_text(r), r.duplicate_of) for r in map(rows.get, article_ids) if r is not None]


def iter_recent(read, since: datetime, page: int = 1000, upto: int | None = None) -> Iterator[CopyText]:
    """All of ``recent_page`` in pages (``paging.by_id_pages``), up to the id ``upto``."""
    return by_id_pages(read, lambda conn, after, limit: recent_page(conn, since, after, limit), page, upto)
