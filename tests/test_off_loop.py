"""Nothing parses, sanitises or writes on the event loop: in ``newswire run`` that loop is the web
server's, and a feed that takes seconds to parse must not stall ``/healthz`` for seconds.

Each test wraps the slow parts (feed parsing, discovery, store calls) so they record the thread
they ran on, and asserts none ran on the loop's thread: deterministic, where timing the loop's
stalls would not be."""

from __future__ import annotations

import threading
import time

import pytest

from newswire.fetch import Fetcher
from newswire.service import subscribe, update
from newswire.service.update import Refresher
from newswire.testing import LOOPBACK, samples

SLOW_PARSE = 0.2  # seconds each instrumented parse takes: on the loop, it would stall it


@pytest.fixture
def store(sqlite_store):
    return sqlite_store  # where the work runs does not depend on the engine


class Threads:
    """Records which threads the wrapped callables ran on."""

    def __init__(self) -> None:
        self.seen: dict[str, set[int]] = {}

    def wrap(self, name: str, function, delay: float = 0.0):
        def wrapped(*args, **kwargs):
            self.seen.setdefault(name, set()).add(threading.get_ident())
            if delay:
                time.sleep(delay)  # a parse this slow, on the loop, would stall it this long
            return function(*args, **kwargs)
        return wrapped


def feed(server, path="/feed"):
    outlet = samples.make_outlets(1, seed=5, base_url=server.base_url)[0]
    return server.add(path, samples.rss(outlet, samples.make_articles(outlet, 4, seed=2)))


async def test_refresh_parses_off_the_loop_without_a_process_pool(store, feed_server, monkeypatch):
    threads = Threads()
    monkeypatch.setattr(update, "parse_feed", threads.wrap("parse", update.parse_feed, SLOW_PARSE))
    source = store.add_source(feed(feed_server))
    loop_thread = threading.get_ident()
    async with Fetcher(LOOPBACK) as fetcher, Refresher(store, fetcher) as refresher:
        (result,) = await refresher.refresh_many([source])
    assert (result.outcome, result.new) == ("fetched", 4)
    assert threads.seen["parse"] and loop_thread not in threads.seen["parse"]


class RecordingStore:
    """A store whose every call records the thread it ran on."""

    def __init__(self, store, threads: Threads):
        self._store, self._threads = store, threads

    def __getattr__(self, name):
        attribute = getattr(self._store, name)
        return self._threads.wrap(name, attribute) if callable(attribute) else attribute


@pytest.mark.parametrize("through_page", [False, True], ids=["feed-url", "site-page"])
async def test_follow_parses_discovers_and_writes_off_the_loop(store, feed_server, monkeypatch, through_page):
    threads = Threads()
    monkeypatch.setattr(subscribe, "parse_feed", threads.wrap("parse", subscribe.parse_feed, SLOW_PARSE))
    monkeypatch.setattr(subscribe, "find_feed_links", threads.wrap("discover", subscribe.find_feed_links))
    url = feed(feed_server)
    if through_page:
        page = f'<html><head><link rel="alternate" type="application/rss+xml" href="{url}"></head></html>'
        url = feed_server.add("/", page, "text/html")
    loop_thread = threading.get_ident()
    async with Fetcher(LOOPBACK) as fetcher:
        source = await subscribe.follow(RecordingStore(store, threads), fetcher, url)
    assert source.name.startswith("The ")
    expected = {"parse", "find_source", "add_source"} | ({"discover"} if through_page else set())
    assert expected <= set(threads.seen), threads.seen
    assert all(loop_thread not in idents for idents in threads.seen.values()), threads.seen
