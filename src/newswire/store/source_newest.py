"""When each source last published, kept between calls in this process.

Reader apps ask for unread counts many times a minute, and the Google Reader answer carries each
feed's newest item time (apps skip feeds whose newest item they have). Finding it is one index
seek per source (``ix_articles_source_id_published_at_id``), a thousand at a thousand sources; but
it changes only when articles arrive. So it is kept with the newest article id it was read at,
and brought up to date from the articles stored since. Deleting articles never makes a kept
time wrong in a way that matters: a feed's newest time stays what it was.
"""

from __future__ import annotations

import threading
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .reading import last_article_id
from .tables import articles, sources

MAX_ARRIVALS = 20_000  # more new articles than this since the last read: read afresh

A = articles.c


def _afresh(conn: Connection) -> dict[int, datetime]:
    # No bound on the id: an article stored meanwhile is read again by the next ``_since``, and
    # a maximum taken twice is the same maximum.
    newest = sa.select(sa.func.max(A.published_at)).where(A.source_id == sources.c.id).scalar_subquery()
    return {source_id: at for source_id, at in conn.execute(sa.select(sources.c.id, newest)) if at is not None}


def _since(conn: Connection, after_id: int, up_to_id: int) -> dict[int, datetime]:
    rows = conn.execute(sa.select(A.source_id, sa.func.max(A.published_at))
                        .where(A.id > after_id, A.id <= up_to_id).group_by(A.source_id))
    return {source_id: at for source_id, at in rows}


class SourceNewest:
    """source id → its newest article's publication time (thread-safe)."""

    def __init__(self) -> None:
        self._kept: tuple[int, dict[int, datetime]] | None = None
        self._lock = threading.Lock()

    def times(self, conn: Connection) -> dict[int, datetime]:
        newest_id = last_article_id(conn)
        with self._lock:
            kept = self._kept
        if kept is not None and kept[0] == newest_id:
            return kept[1]
        if kept is not None and kept[0] < newest_id <= kept[0] + MAX_ARRIVALS:
            times = dict(kept[1])
            for source_id, at in _since(conn, kept[0], newest_id).items():
                if source_id not in times or at > times[source_id]:
                    times[source_id] = at
        else:
            times = _afresh(conn)
        with self._lock:
            self._kept = (newest_id, times)
        return times
