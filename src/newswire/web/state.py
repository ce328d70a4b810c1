"""What every route reads off the app: the one ``Store``, the one frozen ``Settings`` and the
process's kept feed renderings, all put on ``app.state`` by ``create_app``."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from newswire.config import Settings
from newswire.store import Store
from newswire.web.feed_cache import FeedCache


FEED_NAMES = ("feed.atom", "feed.rss", "feed.json")


def store_of(request: HTTPConnection) -> Store:
    return request.app.state.store


def settings_of(request: HTTPConnection) -> Settings:
    return request.app.state.settings


def feed_cache_of(request: HTTPConnection) -> FeedCache:
    return request.app.state.feed_cache


def is_feed_path(path: str) -> bool:
    """Whether ``path`` is one of the feeds out (``/feed.atom``, ``/sources/3/feed.rss``, …): their
    errors are JSON, and feed readers may sign them with ``?token=``."""
    return path.rstrip("/").rsplit("/", 1)[-1] in FEED_NAMES
