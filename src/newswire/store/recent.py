"""Newest-first and recent-ranked full-text matches on SQLite, without reading every match.

FTS5 hands back matches in rowid order and can seek to a rowid cheaply, but it cannot order by
publication time: a common word matches a tenth of the archive, and sorting all of those rows
for the newest twenty costs hundreds of milliseconds at a million articles. So:

1. Read at most ``SMALL`` matches, newest arrivals (highest rowids) first. If that is all of
   them, the match set is small: sort it exactly.
2. Otherwise look at a window of recent publication times. If the window's oldest article was
   published at T, every article published at or after T has an id ≥ the smallest id in the
   window, so FTS5 can seek straight to that id. When the window holds ``limit`` matches they
   are exactly the newest; when it does not, the window grows eightfold and we look again.

Ranking by relevance scores the ``RANK_POOL`` most recently stored matches: on a newswire the
best match from last week beats a slightly better one from three years ago, and bm25 over every
match of a common word would take seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tables import ORIGINALS, articles

SMALL = 500
FIRST_WINDOW = 2000
RANK_POOL = 2000


def _matches(fts_query: str, min_id: int | None = None) -> sa.TextClause:
    if min_id is None:
        return sa.text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :fts_query").bindparams(
            fts_query=fts_query)
    return sa.text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :fts_query AND rowid >= :min_id"
                   ).bindparams(fts_query=fts_query, min_id=min_id)


def _before(before: tuple[datetime, int] | None) -> list[sa.ColumnElement[bool]]:
    if before is None:
        return []
    moment, article_id = before
    c = articles.c
    return [sa.or_(c.published_at < moment, sa.and_(c.published_at == moment, c.id < article_id))]


def newest_ids(conn: Connection, fts_query: str, limit: int, *, before: tuple[datetime, int] | None = None,
               conditions: Sequence[sa.ColumnElement[bool]] = ()) -> list[int]:
    """Ids of the ``limit`` newest articles (by published_at, then id) matching ``fts_query``,
    older than ``before`` and meeting ``conditions`` — exactly, as a full sort would give."""
    c = articles.c
    keyset = _before(before)
    order = (c.published_at.desc(), c.id.desc())
    small = conn.execute(sa.text(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q ORDER BY rowid DESC LIMIT :n"),
        {"q": fts_query, "n": SMALL + 1}).all()
    if len(small) <= SMALL:
        query = sa.select(c.id).where(c.id.in_(_matches(fts_query).columns(sa.column("rowid"))), *keyset, *conditions)
        return list(conn.execute(query.order_by(*order).limit(limit)).scalars())
    window = FIRST_WINDOW
    while True:
        bound = conn.execute(sa.select(c.published_at).where(*keyset).order_by(*order)
                             .offset(window).limit(1)).scalar_one_or_none()
        if bound is None:  # the window is the whole (remaining) archive
            query = sa.select(c.id).where(c.id.in_(_matches(fts_query).columns(sa.column("rowid"))),
                                          *keyset, *conditions)
            return list(conn.execute(query.order_by(*order).limit(limit)).scalars())
        # min(+id): without the unary plus SQLite walks the primary key from the start.
        min_id = conn.execute(sa.select(sa.func.min(sa.literal_column("+articles.id")))
                              .where(c.published_at >= bound, *keyset)).scalar_one()
        candidates = _matches(fts_query, min_id).columns(sa.column("rowid"))
        query = sa.select(c.id).where(c.id.in_(candidates), c.published_at >= bound, *keyset, *conditions)
        ids = list(conn.execute(query.order_by(*order).limit(limit)).scalars())
        if len(ids) == limit:
            return ids
        window *= 8


def ranked_ids(conn: Connection, fts_query: str, limit: int,
               weights: tuple[float, ...], *, originals_only: bool = False) -> list[tuple[int, float]]:
    """(id, score) of the best ``limit`` matches by bm25 (``weights``: one per indexed column)
    among the ``RANK_POOL`` most recently
    stored, best first; higher scores are better. ``originals_only``: syndicated copies are
    left out (see ``_originals``), so the page is still ``limit`` long."""
    rows = conn.execute(sa.text(
        f"SELECT rowid, bm25(articles_fts, {', '.join(map(str, weights))}) AS score FROM articles_fts "
        "WHERE articles_fts MATCH :q ORDER BY rowid DESC LIMIT :n"), {"q": fts_query, "n": RANK_POOL}).all()
    rows.sort(key=lambda r: (r.score, -r.rowid))  # bm25: lower is better
    ranked = [(r.rowid, -r.score) for r in rows]
    return _originals(conn, ranked, limit) if originals_only else ranked[:limit]


def _originals(conn: Connection, ranked: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    """The first ``limit`` of ``ranked`` that are not copies, looked up by primary key a few
    times ``limit`` at a time from the best down: cheaper than joining every match of the pool."""
    kept: list[tuple[int, float]] = []
    step = max(4 * limit, 64)
    for start in range(0, len(ranked), step):
        chunk = ranked[start:start + step]
        copies = set(conn.execute(sa.select(articles.c.id).where(  # by primary key, never the copies' index
            articles.c.id.in_([id_ for id_, _ in chunk]), ~ORIGINALS)).scalars())
        kept += [pair for pair in chunk if pair[0] not in copies]
        if len(kept) >= limit:
            break
    return kept[:limit]
