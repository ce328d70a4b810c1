"""The enrichment steps every command runs, and which process runs them.

Copy detection and story clustering (``index_enrichers``, the one list of them) keep an index of
recent articles in memory, so one process at a time runs them over a database: the one that
holds the enricher lock (``ENRICHER_LOCK``, ``Store.role_lock``). Every command asks for it:

    newswire run, worker --enrich   wait for the lock; while they hold it, follow the articles
                                    table and run the steps on every process's articles
                                    (``worker.enrich_while_elected``); their Refreshers run none,
                                    but hand the texts their parse workers prepared to the
                                    follower (``service.prepared.Handoff``)
    newswire add, fetch             ``command_enrichers``: the lock held for the command, the
                                    steps run after each write; when another process holds it
                                    (a ``run``), none here: that process follows these articles too
    newswire serve, Refresh now     none (``subscribe.refresh_now``): the holder follows them

``--no-enrich`` (``fetch``) runs none and takes no lock. Nothing is lost either way: the steps
rebuild their index from the database when they are built, and catch up then on the articles
stored without them. Which new articles want their page fetched is decided in the write itself
(``Store.save_refreshes``' ``teaser``), not here: a step after the commit can be lost with its
process.
"""

from __future__ import annotations

import asyncio
import gc
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Sequence

from newswire.service.update import Enricher
from newswire.store import Store

ENRICHER_LOCK = "enricher"
# Allocations between two young collections in a process that holds the steps' indexes
# (Python's default: 700); see ``collect_less_often``.
YOUNG_COLLECTION_EVERY = 50_000


def collect_less_often() -> None:
    """The copy and story indexes are hundreds of thousands of long-lived objects, and Python's
    full collection walks every one of them each time the long-lived objects have grown by a
    quarter, as they do while the indexes fill. An enriching ``fetch --all`` of 20,000 articles
    ran 22 full collections: 2.3-3.2 s, all on the enrichment thread, which sets the pipeline's
    pace (``bench/ingest.py``). With a young collection every 50,000 allocations, and a full one
    after 10 of the older generation's (the quarter rule stands), it ran none, and its young
    collections cost what 3,100 of them did (0.9 s). The indexes hold no reference cycles to
    free: their objects go when their counts fall to zero. Collection switched off (a 0
    threshold) stays off; a larger threshold already set stays."""
    young, older, oldest = gc.get_threshold()
    if 0 < young < YOUNG_COLLECTION_EVERY:
        gc.set_threshold(YOUNG_COLLECTION_EVERY, max(older, 20), oldest)


class Deferred:
    """Builds a step on the enrichment thread rather than where the list is made. Copy
    detection and story clustering rebuild their indexes from the database when built (and
    catch up on articles stored without them): seconds for a busy week, which the event loop,
    and the web server beside the scheduler, should not wait for."""

    rebuild_upto = True  # ``prepare`` takes ``upto``

    def __init__(self, build: Callable[..., Enricher]):
        self._build = build
        self._step: Enricher | None = None

    def prepare(self, store: Store, *, upto: int | None = None) -> None:
        """Build the step. ``upto``: the last article id stored before anything that this
        process's writer or follower will hand the step; the rebuild reads no further, so an
        article is placed once, by ``after_store``, in publication order, however the rebuild
        and the first writes interleave."""
        if self._step is None:
            collect_less_often()
            self._step = self._build(store) if upto is None else self._build(store, upto=upto)

    @property
    def takes_prepared(self) -> bool:
        return bool(getattr(self._build, "takes_prepared", False))

    def after_store(self, store: Store, new_ids: Sequence[int], updated_ids: Sequence[int],
                    **prepared: Any) -> None:
        self.prepare(store)
        self._step.after_store(store, new_ids, updated_ids, **prepared)  # type: ignore[union-attr]


def index_enrichers() -> list[Enricher]:
    """Syndicated copies (duplicate_of), then stories (story_id, where a copy joins its
    original's story): the steps that keep an index of recent articles in memory, so exactly
    one process, the enricher lock's holder, runs them over everything stored."""
    from newswire.service.copies import CopyEnricher
    from newswire.service.stories import StoryEnricher

    return [Deferred(CopyEnricher), Deferred(StoryEnricher)]


@asynccontextmanager
async def command_enrichers(store: Store, *, enrich: bool = True) -> AsyncIterator[list[Enricher]]:
    """The steps for the Refresher of a command that refreshes once (``add``, ``fetch``): the
    copy and story steps when ``enrich`` and the enricher lock is free, which is then held
    until the block ends (enter it before the Refresher, so the lock outlasts its last step);
    none when another process holds the lock (it follows these articles as it follows every
    process's) or without ``enrich``. Never raises for the lock: a database that cannot be
    asked is a lock not taken."""
    if not enrich:
        yield []
        return
    lock = store.role_lock(ENRICHER_LOCK)
    if not await asyncio.to_thread(lock.try_acquire):
        yield []
        return
    try:
        yield index_enrichers()
    finally:
        await asyncio.to_thread(lock.release)
