"""Errors that are nobody's feed's fault — a bug in a stage, a store that raises something
unexpected, a parse worker killed — fail only the source they touched: every refresh resolves,
the failure is recorded on its source as "internal-error", and the other sources and the scheduler
go on. Every wait here has a generous deadline, so a regression fails rather than hangs."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from newswire import scheduler as scheduler_module
from newswire.fetch import Fetcher
from newswire.scheduler import Scheduler
from newswire.service import update
from newswire.service.update import Refresher
from newswire.testing import LOOPBACK, samples
from newswire.testing.feedserver import Response
from newswire.testing.processes import descendants

DEADLINE = 60  # seconds; only a hang gets near it


@pytest.fixture
def store(sqlite_store):
    return sqlite_store  # the pipeline's error handling does not depend on the engine


def outlet_feeds(server, n, *, delay=0.0):
    """``n`` feeds of 5 articles; the first answers at once, the others after ``delay``."""
    urls = []
    for i, outlet in enumerate(samples.make_outlets(n, seed=8, base_url=server.base_url)):
        body = samples.rss(outlet, samples.make_articles(outlet, 5, seed=i)).encode()
        wait = delay if i else 0.0
        urls.append(server.route(f"/{outlet.slug}/feed", lambda r, body=body, wait=wait: Response(
            200, body, {"Content-Type": "application/rss+xml"}, delay=wait)))
    return urls


async def refresh(store, sources, **kwargs):
    async with Fetcher(LOOPBACK) as fetcher, Refresher(store, fetcher, **kwargs) as refresher:
        return {r.source_id: r for r in await asyncio.wait_for(refresher.refresh_many(sources), DEADLINE)}


def assert_internal_error(store, source_id, result, words):
    assert (result.outcome, result.reason) == ("failed", "internal-error")
    recorded = store.get_source(source_id)
    assert (recorded.last_status, recorded.consecutive_failures) == ("internal-error", 1)
    assert words in recorded.last_error and recorded.next_due_at is not None


class StoreWithABug:
    """The real store, except that writing the poisoned source's articles raises RuntimeError
    (a bug, not a StorageError) for the whole batch it is in."""

    def __init__(self, store, poisoned: int):
        self._store, self._poisoned = store, poisoned

    def __getattr__(self, name):
        return getattr(self._store, name)

    def save_refreshes(self, refreshes, **options):
        if any(source_id == self._poisoned and entries for source_id, _, entries in refreshes):
            raise RuntimeError("store bug")
        return self._store.save_refreshes(refreshes, **options)


async def test_a_store_bug_fails_only_its_source(store, feed_server):
    sources = [store.add_source(u) for u in outlet_feeds(feed_server, 3)]
    poisoned = sources[1].id
    results = await refresh(StoreWithABug(store, poisoned), sources)
    assert_internal_error(store, poisoned, results[poisoned], "RuntimeError: store bug")
    for source in (sources[0], sources[2]):
        assert (results[source.id].outcome, results[source.id].new) == ("fetched", 5)
        assert store.article_count(source.id) == 5
    assert store.article_count(poisoned) == 0


async def test_a_parse_bug_or_a_bad_setting_fails_only_its_source(store, feed_server, monkeypatch):
    urls = outlet_feeds(feed_server, 3)
    real_parse, real_interval = update.parse_feed, update.decide.poll_interval

    def buggy_parse(content, *, url, **kwargs):
        if url == urls[0]:
            raise RuntimeError("parser bug")
        return real_parse(content, url=url, **kwargs)

    def bad_setting(source, feed, now, **kwargs):
        if source.feed_url == urls[1]:
            raise ValueError("a malformed setting")
        return real_interval(source, feed, now, **kwargs)

    monkeypatch.setattr(update, "parse_feed", buggy_parse)
    monkeypatch.setattr(update.decide, "poll_interval", bad_setting)
    sources = [store.add_source(u) for u in urls]
    results = await refresh(store, sources)
    assert_internal_error(store, sources[0].id, results[sources[0].id], "RuntimeError: parser bug")
    assert_internal_error(store, sources[1].id, results[sources[1].id], "ValueError: a malformed setting")
    assert (results[sources[2].id].outcome, store.article_count(sources[2].id)) == ("fetched", 5)


def parse_workers() -> list[int]:
    """This process's parse workers: the fork server's children (grandchildren of ours)."""
    return [p.pid for p in descendants(os.getpid()) if p.parent != os.getpid()]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
async def test_a_parse_worker_killed_mid_pass_stops_nothing(store, feed_server):
    """SIGKILL the parse workers after the first feed is stored, while the others are still on
    their way: the broken pool is replaced, they are stored, and the scheduler keeps running."""
    sources = [store.add_source(u) for u in outlet_feeds(feed_server, 4, delay=1.0)]
    stop = asyncio.Event()
    async with Fetcher(LOOPBACK) as fetcher, Refresher(store, fetcher, parse_processes=2) as refresher:
        running = asyncio.create_task(Scheduler(store, refresher).run(stop))
        try:
            await until(lambda: store.article_count(sources[0].id) == 5, "the first feed stored")
            workers = await until(parse_workers, "the parse workers")
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
            await until(lambda: all(store.get_source(s.id).last_status for s in sources), "every feed refreshed")
            assert [store.get_source(s.id).last_status for s in sources] == ["ok"] * 4
            assert [store.article_count(s.id) for s in sources] == [5] * 4
            assert not running.done()  # the scheduler goes on
        finally:
            stop.set()
            await asyncio.wait_for(running, DEADLINE)


async def test_the_scheduler_survives_an_unexpected_error_in_a_pass(store, feed_server, monkeypatch):
    monkeypatch.setattr(scheduler_module, "ERROR_SLEEP", 0.05)
    (source,) = [store.add_source(u) for u in outlet_feeds(feed_server, 1)]
    calls = []

    def pick(now, *args):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("pick bug")
        return store.due_sources(now)

    stop = asyncio.Event()
    async with Fetcher(LOOPBACK) as fetcher, Refresher(store, fetcher) as refresher:
        running = asyncio.create_task(Scheduler(store, refresher, pick=pick).run(stop))
        try:
            await until(lambda: store.article_count(source.id) == 5, "the feed stored after the failed pass")
            assert not running.done()
        finally:
            stop.set()
            await asyncio.wait_for(running, DEADLINE)


async def until(condition, what):
    """Poll ``condition`` (run on a thread: it may read the store) until it is truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while loop.time() < deadline:
        value = await asyncio.to_thread(condition)
        if value:
            return value
        await asyncio.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")
