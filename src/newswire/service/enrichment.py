"""The enrichment steps every refresh runs after storing: one list, used by the CLI, the
scheduler and the workers alike."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from newswire.service.update import Enricher
from newswire.store import Store


class Deferred:
    """Builds a step on the enrichment thread rather than where the list is made. Copy
    detection and story clustering rebuild their indexes from the database when built (and
    catch up on articles stored without them): seconds for a busy week, which the event loop,
    and the web server beside the scheduler, should not wait for."""

    def __init__(self, build: Callable[[Store], Enricher]):
        self._build = build
        self._step: Enricher | None = None

    def prepare(self, store: Store) -> None:
        if self._step is None:
            self._step = self._build(store)

    @property
    def takes_prepared(self) -> bool:
        return bool(getattr(self._build, "takes_prepared", False))

    def after_store(self, store: Store, new_ids: Sequence[int], updated_ids: Sequence[int],
                    **prepared: Any) -> None:
        self.prepare(store)
        self._step.after_store(store, new_ids, updated_ids, **prepared)  # type: ignore[union-attr]


def default_enrichers(*, copies_and_stories: bool = True) -> list[Enricher]:
    """The steps to run after each write, in this order: syndicated copies (duplicate_of), then
    stories (story_id, where a copy joins its original's story); none without
    ``copies_and_stories`` (they catch up on the articles stored meanwhile when they are next
    built). Which new articles want their page fetched is decided in the write itself
    (``Store.save_refreshes``' ``teaser``), not here: a step after the commit can be lost with
    its process."""
    return index_enrichers() if copies_and_stories else []


def index_enrichers() -> list[Enricher]:
    """Syndicated copies, then stories: the steps that keep an index of recent articles in
    memory, so exactly one process should run them over everything stored."""
    from newswire.service.copies import CopyEnricher
    from newswire.service.stories import StoryEnricher

    return [Deferred(CopyEnricher), Deferred(StoryEnricher)]
