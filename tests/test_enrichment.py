"""The enrichment steps: built on the enrichment thread; a command that refreshes once runs them
only while it holds the enricher lock (on both engines), and `fetch --no-enrich` leaves copies and
stories to be caught up later."""

from __future__ import annotations

from newswire.service.enrichment import ENRICHER_LOCK, Deferred, command_enrichers


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


async def test_a_command_runs_the_steps_only_while_it_holds_the_enricher_lock(store):
    """Free lock: the copy and story steps, the lock held until the block ends (a ``run``
    starting meanwhile waits for it). Held by another process: none (that process follows what
    this one stores). ``--no-enrich``: none, and the lock is left alone. Full-text marking is
    part of the write itself (``test_no_teaser_is_left_unmarked``)."""
    other = store.role_lock(ENRICHER_LOCK)  # another process's: its own connection or file
    async with command_enrichers(store) as steps:
        assert [type(s).__name__ for s in steps] == ["Deferred", "Deferred"]
        assert not other.try_acquire()
    try:
        assert other.try_acquire()  # given back with the block
        async with command_enrichers(store) as steps:
            assert steps == []
        async with command_enrichers(store, enrich=False) as steps:
            assert steps == []
        assert other.held()
    finally:
        other.release()
    async with command_enrichers(store, enrich=False) as steps:
        assert steps == [] and other.try_acquire()  # --no-enrich takes no lock
    other.release()
