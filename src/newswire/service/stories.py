"""Stories, kept up to date after every write (an ``Enricher``).

    start:       Store.recent_for_stories(now − window), storage order
                 ─► StoryClusterer.add(into=stored story_id)   (the stored assignment is kept;
                    articles without one are clustered and written, as on a write)
    each write:  new ids ─► Store.articles_for_stories, in publication order ─► StoryClusterer.add
                 (with the lead the parse workers prepared, found by its text: ``service.prepared``)
                 ─► Store.create_stories for new stories ─► Store.assign_stories, one
                    transaction: the stories the clusterer found to be one folded (the old row
                    redirects), the articles assigned, each touched story's stats recomputed

A syndicated copy (``duplicate_of``, set by the copy enricher that runs first) joins its
canonical's story. The clusterer (``newswire.enrich.stories``) keeps one window in memory.
Runs on the writer thread only: no locks.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable, Hashable, Mapping, Sequence

from newswire.enrich.stories import StoryClusterer, StoryDecision, lead_of
from newswire.service.prepared import PreparedText, text_key
from newswire.store import Store

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=72)
# Articles a rebuild places before it writes their stories, as ``after_store`` writes a batch's.
# Written once at the end, a first start's whole window (43,000 articles at 100,000 a week) had
# its decisions, its new stories' rows and the writes' parameters in memory at once, on top of
# the full window: 32 MB over what the process settled at, and its peak (bench/run_memory.py).
REBUILD_WRITES = 1000


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class StoryEnricher:
    """Assigns each new article to a story; rebuilt from the database when created."""

    def __init__(self, store: Store, *, window: timedelta = WINDOW, clock: Callable[[], datetime] = _utcnow,
                 upto: int | None = None):
        """``upto``: the last id the rebuild reads (``enrichment.Deferred.prepare``)."""
        self.clusterer = StoryClusterer(window=window)
        self._clock = clock
        pending: list[tuple[int, StoryDecision, datetime]] = []
        for row in store.recent_for_stories(clock() - window, upto=upto):  # after it: after_store's
            decision = self.clusterer.add(row.id, row.source_id, row.title, lead_of(row.text), row.published_at,
                                          row.merge_stories, same_as=row.duplicate_of, into=row.story_id)
            if row.story_id is None:
                pending.append((row.id, decision, row.published_at))
                if len(pending) >= REBUILD_WRITES:
                    self._write(store, pending)
                    pending = []
        self._write(store, pending)
        log.info("stories: %d active stories rebuilt", self.clusterer.active_stories)

    takes_prepared = True  # after_store accepts ``prepared=`` (see ``service.prepared``)

    def after_store(self, store: Store, new_ids: Sequence[int], updated_ids: Sequence[int], *,
                    prepared: Mapping[bytes, PreparedText] = {}) -> None:
        rows = sorted((row for row in store.articles_for_stories(new_ids) if row.story_id is None),
                      key=lambda row: (row.published_at, row.id))  # a backlog arrives in any order
        if not rows:
            return
        pending = []
        for row in rows:
            ready = prepared.get(text_key(row.text)) if prepared and row.text else None
            lead = ready.lead if ready is not None else None  # else read here, from the text
            decision = self.clusterer.add(row.id, row.source_id, row.title, "" if lead is not None else lead_of(row.text),
                                          row.published_at, row.merge_stories, same_as=row.duplicate_of, prepared=lead)
            pending.append((row.id, decision, row.published_at))
        self._write(store, pending)

    def _write(self, store: Store, pending: list[tuple[int, StoryDecision, datetime]]) -> None:
        """Create rows for the new stories (renaming the clusterer's keys to row ids), fold the
        stories found to be one into the oldest, then assign articles and refresh each touched
        story's stats and title. A story created and merged away within one batch never gets a
        row; a story forgotten within the batch (its times span more than the window) still
        gets its row and its articles."""
        merged_into: dict[Hashable, Hashable] = {}
        for _, decision, _ in pending:
            for old in decision.merged:
                merged_into[old] = decision.key

        def final(key: Hashable) -> Hashable:
            seen = set()
            while key in merged_into and key not in seen:
                seen.add(key)
                key = merged_into[key]
            return key

        new: dict[Hashable, tuple[str, datetime]] = {}  # clusterer key → (title, first seen)
        for _, decision, at in pending:
            key = final(decision.key)
            if not isinstance(key, int):
                new.setdefault(key, (decision.title, at))
        renamed: dict[Hashable, int] = dict(zip(new, store.create_stories(list(new.values())))) if new else {}
        for key, story_id in renamed.items():
            self.clusterer.rename(key, story_id)

        def row_of(key: Hashable) -> int:
            key = final(key)
            return key if isinstance(key, int) else renamed[key]

        merges = sorted({(old, row_of(old)) for old in merged_into if isinstance(old, int)})
        pairs: list[tuple[int, int]] = []
        titles: dict[int, str] = {}
        for article_id, decision, _ in pending:
            story_id = row_of(decision.key)
            pairs.append((article_id, story_id))
            titles[story_id] = decision.title
        for story_id in titles:
            titles[story_id] = self.clusterer.title_of(story_id) or titles[story_id]
        if pairs or merges:
            store.assign_stories(pairs, titles, merges)
        if merges:
            log.info("stories: merged %s", ", ".join(f"{old}→{new_id}" for old, new_id in merges))
