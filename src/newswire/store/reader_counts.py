"""Each reader's unread counts, kept between calls in this process.

Reader apps ask for unread counts many times a minute, and between two asks usually nothing
changed but a few new arrivals. Counting afresh seeks every source's index past its watermark
(about 1,000 seeks for 1,000 sources); so this keeps each reader's last counts with what they
were counted at:

    (state version, removal stamp, newest id) → counts

and on the next call, in one read transaction: if the reader's state version (raised by every
read mark, ``reader_state._changed``) and the removal stamp (changed whenever articles are
deleted other than with their source, ``note_removal``) are the same, the counts are still
right up to that newest id, and the articles stored since are unread for this reader (no
watermark or mark can reach an id that did not exist): add them by source. Otherwise count
afresh. Every process keeps its own, and decides from what the database says, so several
``serve`` processes on PostgreSQL stay right.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from . import reader_state, server_values
from .reading import last_article_id

REMOVAL_KEY = "articles_removed"
READERS_KEPT = 1000  # readers whose counts one process keeps, least recently asked go first
MAX_ARRIVALS = 20_000  # more new articles than this since the last count: count afresh


@dataclass(frozen=True, slots=True)
class Counted:
    version: int
    removal: str | None
    up_to_id: int
    counts: dict[int, int]


def note_removal(conn: Connection) -> None:
    """Say that articles were deleted (retention, a purge): every kept count is stale."""
    server_values.put(conn, REMOVAL_KEY, secrets.token_hex(8))


class UnreadCounter:
    """The per-process memory of each reader's counts (thread-safe)."""

    def __init__(self, size: int = READERS_KEPT):
        self._kept: OrderedDict[int, Counted] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def counts(self, conn: Connection, user_id: int) -> dict[int, int]:
        """source id → unread articles for ``user_id``, read on ``conn`` (one transaction)."""
        version = reader_state.state_version(conn, user_id)
        removal = server_values.get(conn, REMOVAL_KEY)
        newest = last_article_id(conn)
        with self._lock:
            kept = self._kept.get(user_id)
        if (kept is not None and kept.version == version and kept.removal == removal
                and kept.up_to_id <= newest <= kept.up_to_id + MAX_ARRIVALS):
            counts = dict(kept.counts)
            if newest > kept.up_to_id:
                for source_id, n in reader_state.arrivals_by_source(conn, kept.up_to_id, newest).items():
                    counts[source_id] = counts.get(source_id, 0) + n
        else:
            counts = reader_state.unread_counts(conn, user_id, newest)
        with self._lock:
            self._kept[user_id] = Counted(version, removal, newest, counts)
            self._kept.move_to_end(user_id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return dict(counts)
