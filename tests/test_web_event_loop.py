"""Async routes never call the synchronous store on the event loop: one slow query there would
stall every request and live stream of the process. The app runs over a store whose every call
records whether it ran on a thread with a running event loop; every route is then exercised."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from newswire.store import Store
from newswire.testing.signin import sign_in
from newswire.testing import LOOPBACK, samples
from newswire.testing.feedserver import FeedServer
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from test_api import seed


class OffLoopStore:
    """``store`` with every public call checked: ``on_loop`` lists those made on an event loop."""

    def __init__(self, store: Store):
        self._store = store
        self.on_loop: list[str] = []
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._store, name)
        if name.startswith("_") or not callable(value):
            return value

        def checked(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                pass  # no loop on this thread: a worker thread, as it should be
            else:
                self.on_loop.append(name)
            return value(*args, **kwargs)

        return checked


def test_the_guard_sees_a_call_on_the_loop(sqlite_store):
    guarded = OffLoopStore(sqlite_store)

    async def careless() -> None:
        guarded.article_count()

    asyncio.run(careless())
    assert guarded.on_loop == ["article_count"]


@pytest.fixture
def guarded(store):
    seed(store)
    return OffLoopStore(store)


def test_no_route_calls_the_store_on_the_event_loop(guarded):
    app = create_app(guarded, LOOPBACK)  # type: ignore[arg-type]
    app.state.live_poll_seconds = 0.05
    app.state.live_settle_seconds = 0
    outlet = samples.Outlet("outlet7", "The Lake Ossin Observer", "http://127.0.0.1/outlet7/")
    with FeedServer() as feeds, WebServer(app) as server, httpx.Client(base_url=server.base_url, timeout=20) as client:
        sign_in(client, guarded)  # type: ignore[arg-type]  # as an admin, who may change sources
        for route in iter_route_contexts(app.routes):
            if isinstance(route.original_route, Mount) or "GET" not in (route.methods or ()) or route.path == "/live":
                continue
            url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: "Ada Moreau" if m.group(1) == "name" else "1", route.path)
            assert client.get(url).status_code < 500, url
        for path in ("/?author=Ada+Moreau", "/search?q=harbour", "/search?q=harbour&order=rank", "/stories"):
            assert client.get(path).status_code == 200, path
        with client.stream("GET", "/live") as stream:  # where the live wire starts: the newest id
            assert next(stream.iter_lines()).startswith("retry:")
        with client.stream("GET", "/live?after=0") as stream:  # the stream polls the store
            for line in stream.iter_lines():
                if line.startswith("event: article"):
                    break
        feed_url = feeds.add("/outlet7/feed.xml", samples.rss(outlet, samples.make_articles(outlet, 3)))
        assert client.post("/sources", data={"url": feed_url}).status_code == 303
        source = guarded.list_sources()[0]
        for action in ("refresh", "pause", "resume", "stories/off", "remove"):
            assert client.post(f"/sources/{source.id}/{action}").status_code == 303, action
    assert guarded.calls > 30
    assert guarded.on_loop == []
