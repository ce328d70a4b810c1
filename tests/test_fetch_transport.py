"""The fetcher's connections (``fetch.transport.GuardedTransport``): kept per origin in lanes of
one connection each, reused from one feed to the next, at most the fetcher's concurrency kept,
and the work of keeping them proportional to the requests, not to requests × connections."""

from __future__ import annotations

import asyncio

import httpcore
import pytest

from newswire.fetch import Fetcher
from newswire.testing import LOOPBACK
from newswire.testing.feedserver import FeedServer, Response

RSS = "<rss version='2.0'><channel><title>Wire</title></channel></rss>"


@pytest.fixture
def count_expiry_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a connection pool asked a kept HTTP/1.1 connection whether it had expired
    (a pool asks it of its connections each time a request starts or ends)."""
    calls = [0]
    has_expired = httpcore.AsyncHTTP11Connection.has_expired

    def counted(self: httpcore.AsyncHTTP11Connection) -> bool:
        calls[0] += 1
        return has_expired(self)

    monkeypatch.setattr(httpcore.AsyncHTTP11Connection, "has_expired", counted)
    return calls


async def test_keeping_16_connections_costs_a_few_checks_a_request(feed_server: FeedServer,
                                                                    count_expiry_checks: list[int]) -> None:
    """An unchanged pass of 96 feeds on one host, 16 at a time: each request costs its pool a
    look or two at its connection, however many are kept. One pool of 16 asked every one of them
    (and, for each idle one, went over all of them again) at each step: some 35 checks a request,
    about 15 % of an unchanged pass (bench/ingest.py)."""
    slow_304 = Response(304, b"", {"ETag": '"1"'}, delay=0.02)  # so that 16 are under way at once
    urls = [feed_server.route(f"/feed{i}", lambda request: slow_304) for i in range(96)]
    async with Fetcher(LOOPBACK, concurrency=16, per_host_concurrency=16) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(url, etag='"1"') for url in urls))
    assert [r.status for r in results] == [304] * 96
    connections = len({r.peer for r in feed_server.requests})
    assert 8 <= connections <= 16  # several at once, each reused
    assert count_expiry_checks[0] <= 3 * len(urls)  # about 2: as it starts and as it ends


async def test_at_most_the_concurrency_of_connections_is_kept() -> None:
    """Six hosts (six servers here), one feed each, by a fetcher of concurrency 2: at most two
    connections are kept, the one idle longest closed for a new host's; a host fetched again
    after its connection was closed gets a new one."""
    servers = [FeedServer() for _ in range(6)]
    for server in servers:
        server.start()
    try:
        urls = [server.add("/feed", RSS) for server in servers]
        async with Fetcher(LOOPBACK, concurrency=2) as fetcher:
            transport = fetcher._client._transport
            for url in urls:
                assert (await fetcher.fetch(url)).status == 200
                assert transport.lane_count <= 2
            assert (await fetcher.fetch(urls[-1])).status == 200  # kept: the same connection
            assert (await fetcher.fetch(urls[0])).status == 200  # closed: a new one
        assert len({r.peer for r in servers[-1].requests}) == 1
        assert len({r.peer for r in servers[0].requests}) == 2
        assert transport.lane_count == 0  # closing the fetcher closed them all
    finally:
        for server in servers:
            server.stop()


async def test_a_failed_request_gives_its_lane_back(feed_server: FeedServer) -> None:
    """A request that fails (here: too large a body, refused as it is read) frees its connection's
    lane for the next feed rather than leaving it busy for ever."""
    big = feed_server.add("/big", "x" * 5000)
    small = feed_server.add("/small", RSS)
    async with Fetcher(LOOPBACK, concurrency=1, max_bytes=1000) as fetcher:
        transport = fetcher._client._transport
        for _ in range(3):
            with pytest.raises(Exception):
                await fetcher.fetch(big)
            assert (await fetcher.fetch(small)).status == 200
            assert transport.lane_count == 1
