"""Stories, kept up to date after every write (an ``Enricher``).

    start:       Store.recent_for_stories(now − window), storage order
                 ─► StoryClusterer.add(into=stored story_id)   (the stored assignment is kept;
                    articles without one are clustered and written, as on a write)
    each write:  new ids ─► Store.get_articles ─► StoryClusterer.add
                 ─► Store.create_story for a new story ─► Store.assign_stories (ids + stats + title)

A syndicated copy (``duplicate_of``, set by the copy enricher that runs first) joins its
canonical's story. The clusterer (``newswire.enrich.stories``) keeps one window in memory.
Runs on the writer thread only: no locks.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable, Hashable, Sequence

from newswire.enrich.stories import StoryClusterer, StoryDecision, lead_of
from newswire.store import Store

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=72)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class StoryEnricher:
    """Assigns each new article to a story; rebuilt from the database when created."""

    def __init__(self, store: Store, *, window: timedelta = WINDOW, clock: Callable[[], datetime] = _utcnow):
        self.clusterer = StoryClusterer(window=window)
        self._clock = clock
        pending: list[tuple[int, StoryDecision, datetime]] = []
        for row in store.recent_for_stories(clock() - window):
            decision = self.clusterer.add(row.id, row.source_id, row.title, lead_of(row.text), row.published_at,
                                          row.merge_stories, same_as=row.duplicate_of, into=row.story_id)
            if row.story_id is None:
                pending.append((row.id, decision, row.published_at))
        self._write(store, pending)
        log.info("stories: %d active stories rebuilt", self.clusterer.active_stories)

    def after_store(self, store: Store, new_ids: Sequence[int], updated_ids: Sequence[int]) -> None:
        articles = [a for a in store.get_articles(list(new_ids)) if a.story_id is None]
        if not articles:
            return
        merge = store.merge_flags(sorted({a.source_id for a in articles}))
        pending = []
        for article in articles:
            decision = self.clusterer.add(article.id, article.source_id, article.title,
                                          lead_of(article.text or article.summary), article.published_at,
                                          merge.get(article.source_id, True), same_as=article.duplicate_of)
            pending.append((article.id, decision, article.published_at))
        self._write(store, pending)

    def _write(self, store: Store, pending: list[tuple[int, StoryDecision, datetime]]) -> None:
        """Create rows for the new stories in one transaction (renaming the clusterer's keys to
        row ids), then assign articles and refresh each touched story's stats and title in
        another."""
        new: dict[Hashable, tuple[str, datetime]] = {}  # clusterer key → (title, first seen)
        for _, decision, at in pending:
            if not isinstance(decision.key, int):
                new.setdefault(decision.key, (decision.title, at))
        renamed = dict(zip(new, store.create_stories(list(new.values())))) if new else {}
        for key, story_id in renamed.items():
            self.clusterer.rename(key, story_id)
        pairs: list[tuple[int, int]] = []
        titles: dict[int, str] = {}
        for article_id, decision, _ in pending:
            story_id = decision.key if isinstance(decision.key, int) else renamed[decision.key]
            pairs.append((article_id, story_id))
            titles[story_id] = decision.title
        for story_id in titles:
            titles[story_id] = self.clusterer.title_of(story_id) or titles[story_id]
        if pairs:
            store.assign_stories(pairs, titles)
