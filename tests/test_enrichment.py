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


async def test_articles_stored_while_the_steps_rebuild_are_placed_once_in_publication_order(
        store, feed_server, monkeypatch):
    """A fetch on a database that already holds articles: the steps rebuild from it on the
    enrichment thread while the writer writes the first batch. The rebuild reads only what was
    stored before that write (the writer waits for the id to be read), so the batch is placed by
    ``after_store``, in publication order, however slow the rebuild: when the rebuild also read
    the batch (in id order: a feed lists its newest first), the same feeds gave different
    stories from run to run."""
    import time
    from datetime import datetime, timedelta, timezone

    from newswire.enrich.stories import StoryClusterer
    from newswire.service import stories as story_service
    from newswire.service.update import Refresher
    from newswire.testing import LOOPBACK, samples

    recent = datetime.now(timezone.utc) - timedelta(hours=1)
    outlet = samples.make_outlets(1, base_url=feed_server.base_url, seed=5)[0]
    feed = samples.make_articles(outlet, 6, seed=2, start=recent)
    url = feed_server.add("/feed.xml", samples.rss(outlet, feed[:-1]))  # newest first
    stored_before = samples.make_outlets(1, base_url=feed_server.base_url, seed=6)[0]
    before_url = feed_server.add("/before.xml", samples.rss(stored_before, feed[-1:]))  # the oldest
    async with Refresher(store, settings=LOOPBACK) as refresher:  # as `fetch --no-enrich`
        await refresher.refresh_many([store.add_source(before_url)])
    source = store.add_source(url)

    placed: list[int] = []
    add, build = StoryClusterer.add, story_service.StoryEnricher.__init__

    def placing(self, doc_id, *args, **kwargs):
        placed.append(doc_id)
        return add(self, doc_id, *args, **kwargs)

    def slow_build(self, store_, **kwargs):  # the rebuild reads after the fetch's write
        deadline = time.monotonic() + 20
        while len(store_.list_articles(include_copies=True).items) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        build(self, store_, **kwargs)

    monkeypatch.setattr(StoryClusterer, "add", placing)
    monkeypatch.setattr(story_service.StoryEnricher, "__init__", slow_build)
    async with (command_enrichers(store) as steps,
                Refresher(store, settings=LOOPBACK, enrichers=steps) as refresher):
        assert [r.new for r in await refresher.refresh_many([source])] == [5]
    articles = store.list_articles(include_copies=True).items
    by_time = [a.id for a in sorted(articles, key=lambda a: (a.published_at, a.id))]
    assert placed == by_time and len(set(placed)) == 6


async def test_a_pass_that_stores_nothing_builds_the_steps_only_to_catch_up(store, feed_server):
    """``fetch --all`` with enrichment, feeds with nothing new: the steps' rebuild reads the
    whole window (some 3.5 ms an article: 70 s at 20,000), so a pass that stores nothing builds
    none, unless the window holds articles stored without enrichment (then they catch up)."""
    from datetime import datetime, timedelta, timezone

    from newswire.service.update import Refresher
    from newswire.testing import LOOPBACK, samples

    outlet = samples.make_outlets(1, base_url=feed_server.base_url, seed=8)[0]
    recent = datetime.now(timezone.utc) - timedelta(hours=1)
    source = store.add_source(feed_server.add("/feed.xml", samples.rss(outlet, samples.make_articles(
        outlet, 4, seed=1, start=recent))))

    async def enriching_pass(enrich: bool = True) -> tuple[list[int], list]:
        async with (command_enrichers(store, enrich=enrich) as steps,
                    Refresher(store, settings=LOOPBACK, enrichers=steps) as refresher):
            results = await refresher.refresh_many([source])
        return [r.new for r in results], steps

    assert (await enriching_pass())[0] == [4]
    assert all(a.story_id for a in store.list_articles(include_copies=True).items)
    new, steps = await enriching_pass()
    assert new == [0] and [step._step for step in steps] == [None, None]  # nothing built

    feed_server.add("/feed.xml", samples.rss(outlet, samples.make_articles(outlet, 6, seed=1, start=recent)))
    assert (await enriching_pass(enrich=False))[0] == [2]  # as `fetch --no-enrich`
    new, steps = await enriching_pass()
    assert new == [0] and None not in [step._step for step in steps]  # built: they caught up
    assert all(a.story_id for a in store.list_articles(include_copies=True).items)


def test_a_process_that_builds_the_steps_collects_garbage_less_often():
    """The indexes' long-lived objects would be walked by a full collection at every quarter of
    growth (``collect_less_often``): building a step raises the young threshold, and leaves
    collection off when it is off."""
    import gc

    from newswire.service.enrichment import YOUNG_COLLECTION_EVERY

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        Deferred(lambda store: object()).prepare("store")
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, 20, 10)
        gc.set_threshold(0, 10, 10)
        Deferred(lambda store: object()).prepare("store")
        assert gc.get_threshold() == (0, 10, 10)
    finally:
        gc.set_threshold(*before)
