"""SQL for full-text extraction: which articles want their page fetched, and what came of it.

    new article of a full-text source, or a teaser ─► written "pending" (articles.mark_wanted)
    ``newswire extract`` ─► requeue_ids() ─► mark_pending(reset=True)
    claim(now) ─► ExtractionJob ─► (fetch + extract, in service.fulltext) ─► save_done() | save_failure()

An article's ``extraction_status`` is None (not wanted), "pending" (due at
``extraction_due_at``), "done" or "failed"; the feed's own text is never touched here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .articles import NameIds, _chunks, _ids, author_key, clean_names
from .search import strip_markers
from .tables import article_authors, articles, authors, sources


@dataclass(frozen=True, slots=True)
class ExtractionJob:
    """A due page fetch: the article's URL, its feed text (to tell a teaser) and how often it
    was tried."""

    article_id: int
    source_id: int
    url: str
    feed_text: str
    attempts: int
    source_full_text: bool


def mark_pending(conn: Connection, article_ids: Sequence[int], due_at: datetime, *,
                 reset: bool = False) -> int:
    """Mark articles pending, due at ``due_at``; ``reset`` also clears attempts and errors."""
    values: dict = {"extraction_status": "pending", "extraction_due_at": due_at}
    if reset:
        values.update(extraction_attempts=0, extraction_error=None)
    count = 0
    for chunk in _chunks(list(article_ids)):
        count += conn.execute(sa.update(articles).where(articles.c.id.in_(chunk)).values(**values)).rowcount
    return count


def requeue_ids(conn: Connection, source_id: int | None) -> list[int]:
    """Articles with a URL to re-extract: all of one source's, or (no source) every article of a
    full-text source and every one already pending, done or failed."""
    c = articles.c
    query = sa.select(c.id).join(sources, sources.c.id == c.source_id).where(c.url.is_not(None), c.url != "")
    if source_id is not None:
        query = query.where(c.source_id == source_id)
    else:
        query = query.where(sa.or_(sources.c.full_text.is_(True), c.extraction_status.is_not(None)))
    return [row.id for row in conn.execute(query.order_by(c.id))]


def claim(conn: Connection, now: datetime, limit: int, until: datetime) -> list[ExtractionJob]:
    """Claim pending articles due at ``now``, longest waiting first, by moving their due time to
    ``until``: the claim is a lease. A saved outcome sets the due time again (None when done, the
    retry time after a failure); a claimer that dies leaves the job due again at ``until``. On
    PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so workers claiming at once never get
    the same job; on SQLite the write transaction is exclusive."""
    c = articles.c
    pick = (sa.select(c.id).where(c.extraction_status == "pending", c.extraction_due_at <= now)
            .order_by(c.extraction_due_at, c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return []
    conn.execute(sa.update(articles).where(c.id.in_(ids)).values(extraction_due_at=until))
    query = (sa.select(c.id, c.source_id, c.url, c.text, c.extraction_attempts, sources.c.full_text)
             .join(sources, sources.c.id == c.source_id).where(c.id.in_(ids)).order_by(c.id))
    jobs = {row.id: ExtractionJob(row.id, row.source_id, row.url, row.text or "", row.extraction_attempts,
                                  bool(row.full_text)) for row in conn.execute(query)}
    return [jobs[i] for i in ids if i in jobs]


def next_due_at(conn: Connection) -> datetime | None:
    c = articles.c
    return conn.execute(sa.select(sa.func.min(c.extraction_due_at))
                        .where(c.extraction_status == "pending")).scalar()


def save_done(conn: Connection, article_id: int, page_html: str, page_text: str,
              page_authors: Sequence[str], published: datetime | None, known: NameIds,
              found: NameIds, changed_at: datetime) -> bool:
    """Store the page's text (indexed for search by the engine as it is written: see
    ``search``, whose snippet markers it must not hold); fill authors and the publication time only where the feed had
    none (no authors; an estimated time). ``changed_at`` (the store's clock) moves the feeds
    out's Last-Modified: their entries now carry the page. False when the article is gone."""
    c = articles.c
    row = conn.execute(sa.select(c.authors_text, c.published_estimated).where(c.id == article_id)).first()
    if row is None:
        return False
    values: dict = {"page_html": page_html, "page_text": strip_markers(page_text), "extraction_status": "done",
                    "extraction_error": None, "extraction_due_at": None, "changed_at": changed_at}
    names = clean_names(page_authors, author_key)
    has_authors = bool(row.authors_text) or conn.execute(
        sa.select(article_authors.c.article_id).where(article_authors.c.article_id == article_id).limit(1)).first()
    if names and not has_authors:
        values["authors_text"] = ", ".join(names)
        ids = _ids(conn, authors, authors.c.key, {author_key(n): {"name": n, "key": author_key(n)} for n in names},
                   known.authors, found.authors)
        conn.execute(sa.insert(article_authors), [{"article_id": article_id, "author_id": ids[author_key(n)],
                                                   "position": i} for i, n in enumerate(names)])
    if published is not None and row.published_estimated:
        values.update(published_at=published, published_estimated=False)
    conn.execute(sa.update(articles).where(c.id == article_id).values(**values))
    return True


def save_failure(conn: Connection, article_id: int, error: str, attempts: int,
                 retry_at: datetime | None) -> bool:
    """Record a failed try: pending again at ``retry_at``, or "failed" for good when None."""
    values = {"extraction_error": error, "extraction_attempts": attempts,
              "extraction_status": "pending" if retry_at is not None else "failed",
              "extraction_due_at": retry_at}
    return conn.execute(sa.update(articles).where(articles.c.id == article_id).values(**values)).rowcount > 0
