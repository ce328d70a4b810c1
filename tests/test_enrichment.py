"""The list of enrichment steps: built on the enrichment thread, and `fetch --no-enrich` leaves copies and
stories to be caught up later."""

from __future__ import annotations

from newswire.service.enrichment import Deferred, default_enrichers


def test_steps_are_built_once_when_prepared_or_first_used():
    built = []

    class Step:
        def __init__(self, store):
            built.append(store)
            self.calls = []

        def after_store(self, store, new_ids, updated_ids):
            self.calls.append((list(new_ids), list(updated_ids)))

    lazy = Deferred(Step)
    assert built == []
    lazy.prepare("store")
    lazy.after_store("store", [1], [])
    lazy.after_store("store", [2], [3])
    assert built == ["store"] and lazy._step.calls == [([1], []), ([2], [3])]


def test_without_copies_and_stories_no_step_runs_after_the_write():
    """Full-text marking is part of the write itself (``test_no_teaser_is_left_unmarked``)."""
    assert default_enrichers(copies_and_stories=False) == []
    assert [type(s).__name__ for s in default_enrichers()] == ["Deferred", "Deferred"]
