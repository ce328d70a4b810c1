"""The enrichment steps every refresh runs after storing: one list, used by the CLI, the
scheduler and the workers alike."""

from __future__ import annotations

from newswire.service.update import Enricher
from newswire.store import Store


def default_enrichers(store: Store) -> list[Enricher]:
    """The steps to run after each write, each rebuilt from the database when created."""
    from newswire.service.fulltext import FullTextMarker  # full text: which new articles want their page
    from newswire.service.copies import CopyEnricher  # syndicated copies: duplicate_of
    from newswire.service.stories import StoryEnricher  # stories: story_id, after copies

    return [FullTextMarker(), CopyEnricher(store), StoryEnricher(store)]
