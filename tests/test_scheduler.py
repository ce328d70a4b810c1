"""The scheduler one step at a time: a real feed server, a real store, a clock we move by hand;
after each pass the database says what was refreshed and when each source is due next."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone

import pytest

from newswire.testing import LOOPBACK
from newswire.fetch import Fetcher
from newswire.scheduler import MAX_SLEEP, MIN_SLEEP, Scheduler, run_scheduler, seconds_until_next_due
from newswire.service.update import Refresher
from newswire.testing import samples
from newswire.testing.feedserver import Response
from newswire.worker import run_worker

NOW = datetime(2025, 9, 17, 16, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(sqlite_store):
    return sqlite_store  # these tests need SQLite only


def publish(server, i, *, newest: datetime, n=8):
    """An outlet whose articles are 17 minutes apart, the newest at ``newest``."""
    outlet = samples.make_outlets(i + 1, seed=4, base_url=server.base_url)[i]
    articles = samples.make_articles(outlet, n, seed=1, start=newest)
    return server.add(f"/{outlet.slug}/feed", samples.rss(outlet, articles))


async def scheduler(store, clock):
    fetcher = Fetcher(LOOPBACK, read_timeout=2, total_timeout=5)
    refresher = Refresher(store, fetcher, clock=clock)
    return Scheduler(store, refresher, clock=clock), refresher, fetcher


async def close(refresher, fetcher):
    await refresher.aclose()
    await fetcher.aclose()


def due_in(store, source_id, clock) -> float:
    return (store.get_source(source_id).next_due_at - clock.now).total_seconds()


async def test_one_pass_refreshes_due_sources_only_and_sets_adaptive_due_times(store, feed_server):
    clock = Clock(NOW)
    busy = store.add_source(publish(feed_server, 0, newest=NOW))  # 17-minute gaps, just published
    quiet = store.add_source(publish(feed_server, 1, newest=NOW - timedelta(hours=10)))  # quiet for 10 h
    sched, refresher, fetcher = await scheduler(store, clock)
    try:
        results = await sched.step()
        assert sorted((r.source_id, r.outcome, r.new) for r in results) == [
            (busy.id, "fetched", 8), (quiet.id, "fetched", 8)]
        # half the median gap (17 min → 510 s), ±10 % jitter
        assert 459 <= due_in(store, busy.id, clock) <= 561
        # a quarter of the quiet time (10 h → 9000 s), ±10 % jitter
        assert 8100 <= due_in(store, quiet.id, clock) <= 9900

        assert await sched.step() == []  # nothing due yet
        clock.now = NOW + timedelta(seconds=600)
        results = await sched.step()
        assert [(r.source_id, r.outcome) for r in results] == [(busy.id, "not-modified")]
        # nothing new: a little longer than last time
        assert due_in(store, busy.id, clock) > 459
        assert len(feed_server.hits(f"/{samples.make_outlets(2, seed=4)[1].slug}/feed")) == 1
    finally:
        await close(refresher, fetcher)


async def test_failing_source_backs_off_exponentially(store, feed_server):
    clock = Clock(NOW)
    url = feed_server.route("/broken", lambda request: Response(500, b"oops"))
    source = store.add_source(url, poll_interval=600)
    sched, refresher, fetcher = await scheduler(store, clock)
    try:
        waits = []
        for _ in range(3):
            [result] = await sched.step()
            assert result.outcome == "failed" and result.reason == "http-500"
            waits.append(due_in(store, source.id, clock))
            clock.now = store.get_source(source.id).next_due_at
        assert waits == [600, 1200, 2400]
        assert store.get_source(source.id).consecutive_failures == 3
    finally:
        await close(refresher, fetcher)


async def test_stop_ends_the_loop_after_the_pass_in_flight(store, feed_server):
    outlet = samples.make_outlets(1, seed=4, base_url=feed_server.base_url)[0]
    body = samples.rss(outlet, samples.make_articles(outlet, 6, seed=1)).encode()
    url = feed_server.route("/slow", lambda request: Response(200, body, {"Content-Type": "application/rss+xml"},
                                                              delay=0.5))
    source = store.add_source(url)
    stop = asyncio.Event()
    sched, refresher, fetcher = await scheduler(store, Clock(NOW))
    try:
        loop = asyncio.create_task(sched.run(stop))
        for _ in range(500):  # until the fetch is in flight
            if feed_server.hits("/slow"):
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(loop, timeout=30)
        assert store.article_count(source.id) == 6  # the pass in flight was written, whole
        assert store.get_source(source.id).last_status == "ok"
        assert len(feed_server.hits("/slow")) == 1  # and no pass after it
    finally:
        await close(refresher, fetcher)


async def test_run_waits_for_the_next_due_source_and_stops_while_waiting(store, feed_server):
    store.add_source(publish(feed_server, 0, newest=NOW))
    stop = asyncio.Event()
    passes = []
    clock = Clock(NOW)
    fetcher = Fetcher(LOOPBACK, read_timeout=2, total_timeout=5)
    refresher = Refresher(store, fetcher, clock=clock)
    sched = Scheduler(store, refresher, clock=clock, on_pass=passes.append)
    try:
        loop = asyncio.create_task(sched.run(stop))
        for _ in range(500):
            if passes:
                break
            await asyncio.sleep(0.01)
        assert await sched.wait_seconds() == 60  # next due in ~8 minutes: wake within a minute
        stop.set()
        await asyncio.wait_for(loop, timeout=30)
        assert len(passes) == 1
    finally:
        await close(refresher, fetcher)


async def test_next_due_time_comes_from_the_store_without_counting_articles(store, feed_server):
    assert store.next_due_at() is None
    assert seconds_until_next_due(store, NOW) == MAX_SLEEP
    source = store.add_source(publish(feed_server, 0, newest=NOW))
    assert seconds_until_next_due(store, NOW) == MIN_SLEEP  # never fetched: due now
    sched, refresher, fetcher = await scheduler(store, Clock(NOW))
    try:
        await sched.step()
    finally:
        await close(refresher, fetcher)
    assert store.next_due_at() == store.get_source(source.id).next_due_at
    store.set_enabled(source.id, False)
    assert store.next_due_at() is None


def trickling_feed(server, path, release: threading.Event) -> str:
    """A feed that sends a space every 0.1 s between its elements until ``release`` is set (or
    a minute has passed): a fetch of it stays in flight for as long as the test wants."""
    outlet = samples.make_outlets(1, seed=6, base_url=server.base_url)[0]
    head, tail = samples.rss(outlet, samples.make_articles(outlet, 3, seed=2)).encode().split(b"<item>", 1)

    def body():
        yield head
        for _ in range(600):
            if release.wait(0.1):
                break
            yield b" "
        yield b"<item>" + tail

    return server.route(path, lambda request: Response(200, body(), {"Content-Type": "application/rss+xml"}))


async def poll(condition, what, deadline=60.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while loop.time() < end:
        if condition():
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize("entry", ["run_scheduler", "run_worker"])
async def test_a_slow_feed_holds_up_no_other_source(store, feed_server, entry):
    """Sources due every second beside a feed trickling in: each is refreshed again as soon as it
    is due, several times while the slow one is still in flight (and never twice at once)."""
    release = threading.Event()
    slow = store.add_source(trickling_feed(feed_server, "/slow", release))
    fast_paths = []
    for i in (1, 2):
        store.add_source(publish(feed_server, i, newest=datetime.now(timezone.utc)))
        fast_paths.append(f"/{samples.make_outlets(i + 1, seed=4)[i].slug}/feed")
    settings = LOOPBACK.with_changes(poll_interval=1, min_poll_interval=1, max_poll_interval=1,
                                     total_timeout=120)
    stop = asyncio.Event()
    run = run_scheduler(store, stop, settings=settings) if entry == "run_scheduler" else \
        run_worker(store, stop, settings=settings, batch=5)
    running = asyncio.create_task(run)
    try:
        await poll(lambda: all(len(feed_server.hits(p)) >= 3 for p in fast_paths),
                   "the fast feeds refreshed three times")
        assert len(feed_server.hits("/slow")) == 1  # still the first fetch, not a second beside it
        assert store.get_source(slow.id).last_fetched_at is None  # and still in flight
    finally:
        release.set()
        stop.set()
        await asyncio.wait_for(running, 60)
    assert store.get_source(slow.id).last_status == "ok"  # stopping let it finish


def test_statistics_are_kept_current_while_running(store, monkeypatch):
    """``keep_statistics`` calls ``Store.optimize`` on its period until stopped."""
    from newswire.scheduler import keep_statistics

    calls: list[int] = []
    monkeypatch.setattr(store, "optimize", lambda: calls.append(1))

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(keep_statistics(store, stop, every=0.01))
        while len(calls) < 3:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(main())
    assert len(calls) >= 3


def test_run_claims_its_sources_as_workers_do_on_postgresql(store):
    from newswire.scheduler import claiming_pick

    source = store.add_source("http://127.0.0.1:9/feed.xml")
    pick = claiming_pick(store)
    if store.dialect != "postgresql":
        assert pick is None  # alone on its database: it reads what is due, with no write per pick
        return
    now = datetime.now(timezone.utc)
    assert [s.id for s in pick(now, 10)] == [source.id]
    assert store.lease_due_sources("another-worker", now, limit=10) == []  # claimed: fetched once
