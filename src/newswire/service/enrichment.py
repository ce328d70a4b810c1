"""The enrichment steps every refresh runs after storing: one list, used by the CLI, the
scheduler and the workers alike."""

from __future__ import annotations

from newswire.service.update import Enricher
from newswire.store import Store


def default_enrichers(store: Store) -> list[Enricher]:
    """The steps to run after each write, each rebuilt from the database when created."""
    return []
