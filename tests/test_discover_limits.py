"""Discovery fans out to a bounded number of candidates, best first.

A site page is written by whoever owns the site: 500 advertised feeds must not become 500
outbound requests. Candidates on the page's own host, and typed RSS/Atom/JSON Feed links, are
tried first.
"""

from __future__ import annotations

import pytest

from newswire.errors import ParseError
from newswire.fetch import Fetcher
from newswire.service.subscribe import follow
from newswire.sources.discover import MAX_CANDIDATES, find_feed_links
from newswire.store import Store
from newswire.testing.feedserver import FeedServer, Response

RSS = ("<rss version='2.0'><channel><title>Found</title><link>http://site.test/</link>"
       "<item><title>One</title><link>http://site.test/1</link></item></channel></rss>")


def _page(links: list[str]) -> bytes:
    return ("<html><head><title>Site</title>" + "".join(links) + "</head><body>Hi</body></html>").encode()


def _link(href: str, kind: str = "application/rss+xml") -> str:
    return f'<link rel="alternate" type="{kind}" href="{href}">'


async def test_a_page_with_500_broken_feed_links_makes_a_bounded_number_of_requests(
        feed_server: FeedServer, sqlite_store: Store) -> None:
    for i in range(500):
        feed_server.route(f"/f{i}", lambda r: Response(404, b"gone", {"Content-Type": "text/plain"}))
    page = feed_server.route("/", lambda r: Response(
        200, _page([_link(f"/f{i}") for i in range(500)]), {"Content-Type": "text/html"}))
    async with Fetcher(allow_private_addresses=True, host_interval=0) as fetcher:
        with pytest.raises(ParseError, match="none of the advertised feeds"):
            await follow(sqlite_store, fetcher, page)
    feed_requests = [r for r in feed_server.requests if r.path != "/"]
    assert len(feed_requests) == MAX_CANDIDATES
    assert [r.path for r in feed_requests] == [f"/f{i}" for i in range(MAX_CANDIDATES)]


async def test_a_same_host_feed_listed_after_many_others_is_still_found(
        feed_server: FeedServer, sqlite_store: Store) -> None:
    # 30 broken links on another host name (localhost: the same server) first, then the site's own
    port = feed_server.base_url.rsplit(":", 1)[1]
    for i in range(30):
        feed_server.route(f"/x{i}", lambda r: Response(404, b"gone", {"Content-Type": "text/plain"}))
    others = [_link(f"http://localhost:{port}/x{i}") for i in range(30)]
    feed_server.add("/own.xml", RSS)
    page = feed_server.route("/", lambda r: Response(
        200, _page(others + [_link("/own.xml")]), {"Content-Type": "text/html"}))
    async with Fetcher(allow_private_addresses=True, host_interval=0) as fetcher:
        source = await follow(sqlite_store, fetcher, page)
    assert source.feed_url == feed_server.url("/own.xml")
    assert [r.path for r in feed_server.requests] == ["/", "/own.xml"]


def test_candidates_are_capped_and_ranked() -> None:
    links = ([_link(f"https://other.test/{i}") for i in range(20)]
             + [_link("/generic.xml", "application/xml"), _link("/typed.atom", "application/atom+xml"),
                _link("https://other.test/typed.json", "application/feed+json"),
                _link("/comments.rss")])
    found = find_feed_links(_page(links), "https://site.test/")
    assert len(found) == MAX_CANDIDATES == 10
    # same host first (typed before generic XML), then other hosts' typed links in page order
    assert found[:3] == ["https://site.test/typed.atom", "https://site.test/comments.rss",
                         "https://site.test/generic.xml"]
    assert found[3:] == [f"https://other.test/{i}" for i in range(7)]


def test_only_http_links_are_candidates() -> None:
    links = [_link("javascript:alert(1)"), _link("file:///etc/passwd"), _link("ftp://site.test/f"),
             _link("/ok.xml")]
    assert find_feed_links(_page(links), "https://site.test/") == ["https://site.test/ok.xml"]
