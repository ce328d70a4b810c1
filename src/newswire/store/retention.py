"""Retention: the SQL that purges old articles and gives SQLite's freed pages back.

One ``purge_batch`` is one small transaction, so a purge never holds the write lock for long:

    the oldest unsaved articles published before the cutoff (``limit`` at most)
      ─► their copies elsewhere re-pointed to the earliest remaining copy (copies._adopt)
      ─► the rows deleted (authors, categories and reader rows cascade; SQLite's FTS5 row goes
         with its trigger, PostgreSQL's search vector is a column of the row)
      ─► the stories they were in recounted; stories left empty deleted, with their follows

An article any reader saved is never purged: saving is how a reader keeps one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import copies
from . import stories as story_rows
from .reader_counts import note_removal
from .tables import articles, reader_articles, reader_stories, stories


@dataclass(frozen=True, slots=True)
class PurgedBatch:
    """What one batch removed."""

    articles: int
    stories: int


def _purgeable(cutoff: datetime) -> sa.ColumnElement[bool]:
    saved = sa.exists().where(reader_articles.c.article_id == articles.c.id, reader_articles.c.saved_at.is_not(None))
    return sa.and_(articles.c.published_at < cutoff, ~saved)


def purgeable_count(conn: Connection, cutoff: datetime) -> int:
    """How many articles a purge at ``cutoff`` would remove."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(articles).where(_purgeable(cutoff))).scalar_one())


def purge_batch(conn: Connection, cutoff: datetime, limit: int) -> PurgedBatch:
    """Delete up to ``limit`` of the oldest unsaved articles published before ``cutoff``, as
    described above."""
    c = articles.c
    rows = conn.execute(sa.select(c.id, c.story_id).where(_purgeable(cutoff))
                        .order_by(c.published_at, c.id).limit(limit)).all()
    if not rows:
        return PurgedBatch(0, 0)
    ids = [row.id for row in rows]
    copies.repoint_copies_of(conn, ids)
    conn.execute(sa.delete(articles).where(c.id.in_(ids)))
    note_removal(conn)  # unread counts kept by any process are stale now
    touched = sorted({row.story_id for row in rows if row.story_id is not None})
    return PurgedBatch(len(ids), _settle_stories(conn, touched))


def _settle_stories(conn: Connection, story_ids: list[int]) -> int:
    """Recount the stories that lost articles; delete those left with none. Returns how many
    were deleted."""
    if not story_ids:
        return 0
    c = articles.c
    still = {row[0] for row in conn.execute(sa.select(c.story_id).distinct().where(c.story_id.in_(story_ids)))}
    empty = [story_id for story_id in story_ids if story_id not in still]
    for story_id in story_ids:
        if story_id in still:
            story_rows.refresh(conn, story_id, None)
    if empty:
        conn.execute(sa.delete(reader_stories).where(reader_stories.c.story_id.in_(empty)))
        conn.execute(sa.delete(stories).where(stories.c.id.in_(empty)))
    return len(empty)


# SQLite's free pages

def auto_vacuum_mode(conn: Connection) -> str:
    """"none", "full" or "incremental" (SQLite only)."""
    return {0: "none", 1: "full", 2: "incremental"}.get(conn.exec_driver_sql("PRAGMA auto_vacuum").scalar_one(), "none")


def free_pages(conn: Connection) -> tuple[int, int]:
    """(free pages, page size in bytes) of a SQLite database."""
    return (conn.exec_driver_sql("PRAGMA freelist_count").scalar_one(),
            conn.exec_driver_sql("PRAGMA page_size").scalar_one())


def incremental_vacuum(dbapi_conn: Any, pages: int) -> None:
    """Give up to ``pages`` free pages back to the file system (incremental auto-vacuum only), in
    a write transaction of its own. Through ``executescript``: the pragma frees one page per
    step, and ``execute`` would step it once (one page, whatever ``pages`` says)."""
    dbapi_conn.executescript(f"PRAGMA incremental_vacuum({max(1, int(pages))});")
