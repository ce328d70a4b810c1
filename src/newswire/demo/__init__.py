"""``newswire demo``: fictional outlets publishing on 127.0.0.1, for a wire that visibly moves.

    Newsroom (generated news) ─► DemoFeeds: FeedServer on 127.0.0.1 ─► followed via OPML ─► newswire run
                                  └─ a thread makes news every few seconds and republishes feeds

``DemoFeeds`` serves each outlet's feed (RSS, Atom or JSON Feed), a home page that advertises it
and a page per article, and republishes the feeds whose outlets published (a new ETag each
time). The CLI follows ``opml_bytes()`` in a fresh database and runs the scheduler and the web
server as ``newswire run`` does, with ``demo_settings`` for short poll intervals.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Callable
from xml.sax.saxutils import escape, quoteattr

from newswire.demo.newsroom import Newsroom, Paper
from newswire.config import Settings
from newswire.sources.opml import OpmlFeed, write_opml
from newswire.testing.feedserver import FeedServer

__all__ = ["DemoFeeds", "Newsroom", "Paper", "demo_settings"]


def demo_settings(settings: Settings) -> Settings:
    """The demo's own settings: its feeds are on loopback and publish every few seconds, so
    they may be fetched and are polled every few seconds; its one server stands in for every
    outlet, so requests to it are not spaced out. Nothing else changes."""
    return settings.with_changes(allow_private_addresses=True, poll_interval=3, min_poll_interval=2,
                                 max_poll_interval=6, max_backoff=30, host_interval=0.0)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DemoFeeds:
    """``with DemoFeeds(interval=3) as feeds:`` serves the demo's feeds until the block ends,
    with news every ``interval`` seconds (0: never, the feeds stay as first published)."""

    def __init__(self, *, seed: int = 0, interval: float = 3.0, clock: Callable[[], datetime] = _utcnow):
        self.server = FeedServer()
        self.newsroom = Newsroom(self.server.base_url, seed=seed)
        self.interval = interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="newswire-demo-news", daemon=True)
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def feed_urls(self) -> list[str]:
        return [self.server.url(self.newsroom.feed_path(p)) for p in self.newsroom.outlets]

    def opml_bytes(self) -> bytes:
        """The demo's outlets as OPML: the wire under Demo/Wire, the papers under Demo/Local."""
        feeds = [OpmlFeed(self.server.url(self.newsroom.feed_path(p)), p.outlet.name, p.outlet.site_url,
                          "Demo/Wire" if p is self.newsroom.wire else "Demo/Local")
                 for p in self.newsroom.outlets]
        return write_opml(feeds, title="Newswire demo").encode("utf-8")

    def start(self) -> "DemoFeeds":
        self.newsroom.backlog(self._clock())
        self.publish({p.outlet.slug for p in self.newsroom.outlets})
        self.server.start()
        if self.interval > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.server.stop()

    def __enter__(self) -> "DemoFeeds":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def tick(self) -> set[str]:
        """Make some news now and republish the feeds it changed; returns their slugs."""
        with self._lock:
            changed = self.newsroom.tick(self._clock())
            self.publish(changed)
        return changed

    def publish(self, slugs: set[str]) -> None:
        for slug in slugs:
            paper = self.newsroom.paper(slug)
            body, content_type = self.newsroom.render(paper)
            self.server.add(self.newsroom.feed_path(paper), body, content_type)
            self.server.add(f"/{slug}/", _home_page(paper, self.newsroom.feed_path(paper), content_type),
                            "text/html; charset=utf-8")
            for article in self.newsroom.articles[slug]:
                path = article.url.removeprefix(self.server.base_url)
                self.server.add(path, _article_page(paper, article), "text/html; charset=utf-8")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()


def _home_page(paper: Paper, feed_path: str, content_type: str) -> str:
    name = escape(paper.outlet.name)
    kind = content_type.split(";")[0]
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{name}</title>"
            f"<link rel=\"alternate\" type={quoteattr(kind)} href={quoteattr(feed_path)} title={quoteattr(name)}>"
            f"</head><body><h1>{name}</h1><p>A fictional outlet of the Newswire demo.</p></body></html>")


def _article_page(paper: Paper, article) -> str:
    title = escape(article.title)
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} | {escape(paper.outlet.name)}"
            f"</title></head><body><article><h1>{title}</h1><p class=\"byline\">{escape(', '.join(article.authors))}"
            f"</p><time datetime=\"{article.published.isoformat()}\"></time>{article.content_html}</article>"
            "</body></html>")
