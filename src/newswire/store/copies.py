"""Syndicated copies: the SQL behind ``Store``'s copy methods.

``articles.duplicate_of`` holds the id of the earliest copy an article repeats (None for an
original); it is indexed, so "the copies of X" and "also in" are index lookups.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterator, NamedTuple, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from newswire.models import Article

from .reading import _articles, _columns
from .tables import articles, sources


class CopyText(NamedTuple):
    """What copy detection reads of an article."""

    id: int
    source_id: int
    text: str  # the feed's plain text, or its summary when it has none
    published_at: datetime  # never later than when it was first seen (no future-dated feeds)


def set_duplicate_of(conn: Connection, pairs: Sequence[tuple[int, int | None]]) -> int:
    """Write (article id, duplicate_of) pairs, skipping rows already so; returns rows changed."""
    if not pairs:
        return 0
    c = articles.c
    statement = (sa.update(articles)
                 .where(c.id == sa.bindparam("article_id"),
                        c.duplicate_of.is_distinct_from(sa.bindparam("canonical", type_=sa.Integer)))
                 .values(duplicate_of=sa.bindparam("canonical", type_=sa.Integer)))
    result = conn.execute(statement, [{"article_id": a, "canonical": d} for a, d in pairs])
    return max(result.rowcount, 0)


def copies_of(conn: Connection, article_id: int) -> list[Article]:
    """The articles pointing to ``article_id`` as their canonical, earliest first."""
    c = articles.c
    query = (sa.select(*_columns()).join(sources, sources.c.id == c.source_id)
             .where(c.duplicate_of == article_id).order_by(c.published_at, c.id))
    return _articles(conn, conn.execute(query).all())


def also_in(conn: Connection, article_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    """For each of ``article_ids`` that has copies: (copy id, source name), earliest first."""
    if not article_ids:
        return {}
    c = articles.c
    query = (sa.select(c.id, c.duplicate_of, sources.c.name).join(sources, sources.c.id == c.source_id)
             .where(c.duplicate_of.in_(list(article_ids))).order_by(c.published_at, c.id))
    found: dict[int, list[tuple[int, str]]] = {}
    for row in conn.execute(query):
        found.setdefault(row.duplicate_of, []).append((row.id, row.name))
    return found


def recent_page(conn: Connection, since: datetime, after_id: int, limit: int) -> list[CopyText]:
    """Articles published at or after ``since`` with ids above ``after_id``, in storage (id)
    order, ``limit`` at most."""
    c = articles.c
    query = (sa.select(c.id, c.source_id, c.text, c.summary, c.published_at, c.first_seen_at)
             .where(c.published_at >= since, c.id > after_id).order_by(c.id).limit(limit))
    return [CopyText(r.id, r.source_id, r.text or r.summary or "", min(r.published_at, r.first_seen_at))
            for r in conn.execute(query)]


def iter_recent(read, since: datetime, page: int = 1000) -> Iterator[CopyText]:
    """All of ``recent_page`` in pages, each read in its own transaction from ``read()``."""
    after = 0
    while True:
        with read() as conn:
            rows = recent_page(conn, since, after, page)
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].id
