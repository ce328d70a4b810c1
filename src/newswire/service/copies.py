"""Syndicated copies, kept up to date after every write (an ``Enricher``).

    start:       Store.repoint_orphaned_copies (copies whose original was deleted under them)
                 Store.recent_for_copies(now − window) ─► CopyDetector.index (storage order)
                 ─► Store.set_duplicate_of (the copies found, in case they were not marked)
    each write:  new + updated ids ─► Store.get_articles ─► CopyDetector.index
                 ─► Store.set_duplicate_of (the article's own pointer, and any re-pointed copies)
    parse:       ``service.prepared`` (in the parse workers): each entry's text split, hashed
                 and shingled (``dedupe.CopyText``), handed with the write to ``after_store``
                 by the text it is of, so the writer's process only looks the result up

The detector (``newswire.enrich.dedupe``) holds the window's shingles in memory, so a new
article costs an LSH lookup, not a pass over the archive; it forgets what falls out of the window.
Runs on the writer thread only: no locks.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping, Sequence

from newswire.enrich.dedupe import CopyDetector
from newswire.service.prepared import PreparedText, text_key
from newswire.store import Store

log = logging.getLogger(__name__)

WINDOW = timedelta(days=7)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class CopyEnricher:
    """Marks syndicated copies (``duplicate_of``) as articles are stored; rebuilt from the
    database when created."""

    takes_prepared = True  # after_store accepts ``prepared=`` (see ``service.prepared``)

    def __init__(self, store: Store, *, window: timedelta = WINDOW, threshold: float = 0.7,
                 clock: Callable[[], datetime] = _utcnow, upto: int | None = None):
        """``upto``: the last id the rebuild reads (``enrichment.Deferred.prepare``)."""
        self.detector = CopyDetector(threshold=threshold, window=window)
        self._clock = clock
        store.repoint_orphaned_copies()
        found: list[tuple[int, int | None]] = []
        for row in store.recent_for_copies(clock() - window, upto=upto):  # after it: after_store's
            decision = self.detector.index(row.id, row.source_id, row.text, row.published_at)
            found.extend(pair for pair in decision.writes() if pair[1] is not None or pair[0] != row.id)
        store.set_duplicate_of(_last_wins(found))
        log.info("copies: indexed %d recent articles", len(self.detector))

    def after_store(self, store: Store, new_ids: Sequence[int], updated_ids: Sequence[int], *,
                    prepared: Mapping[bytes, PreparedText] = {}) -> None:
        """Index the articles written; ``prepared`` holds texts prepared beforehand (``service.prepared``)."""
        ids = list(dict.fromkeys([*new_ids, *updated_ids]))
        writes: list[tuple[int, int | None]] = []
        for article, duplicate_of in store.copy_texts(ids):
            ready = prepared.get(text_key(article.text)) if prepared else None
            decision = self.detector.index(article.id, article.source_id, article.text, article.published_at,
                                           prepared=ready.copy if ready is not None else None)
            if decision.canonical_id != duplicate_of:
                writes.append((article.id, decision.canonical_id))
            writes.extend(decision.repoint)
        self.detector.forget_before(self._clock() - self.detector.window)
        if writes:
            store.set_duplicate_of(_last_wins(writes))


def _last_wins(pairs: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    """One write per id, the latest decision's."""
    return list(dict(pairs).items())
