"""The Fetcher against a real HTTP server on 127.0.0.1 (FeedServer); MockTransport only where a
real server cannot show the behaviour."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import socket
import struct
import threading
import time
import zlib
from contextlib import contextmanager
from typing import Callable, Iterator

import brotli
import httpcore
import httpx
import pytest

from newswire.config import Settings
from newswire.testing import LOOPBACK
from newswire.errors import FetchError, ResponseTooLargeError
from newswire.fetch import FEED_ACCEPT, Fetcher, RateLimitedError
from newswire.models import FetchResult
from newswire.testing.feedserver import FeedServer, Request, Response

RSS = "<rss version='2.0'><channel><title>Wire</title></channel></rss>"


async def fetch(url: str, **options: object) -> FetchResult:
    async with Fetcher(**{"settings": LOOPBACK, **options}) as fetcher:  # type: ignore[arg-type]
        return await fetcher.fetch(url)


async def fetch_error(url: str, **options: object) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetch(url, **options)
    return caught.value


def redirect(location: str, status: int = 301) -> Response:
    return Response(status, b"", {"Location": location})


# --- success, validators, headers ---------------------------------------------------------

async def test_200_gives_body_validators_and_lowercase_headers(feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", RSS, last_modified=1_700_000_000)
    result = await fetch(url)
    etag = result.headers["etag"]
    assert result == FetchResult(
        url=url, status=200, content=RSS.encode(), headers=result.headers, etag=etag,
        last_modified="Tue, 14 Nov 2023 22:13:20 GMT", permanent_url=None, elapsed=result.elapsed)
    assert etag.startswith('"')
    assert result.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert all(name == name.lower() for name in result.headers)
    assert not result.not_modified


async def test_conditional_get_sends_validators_and_304_keeps_them(feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", RSS)
    first = await fetch(url)
    async with Fetcher(LOOPBACK) as fetcher:
        second = await fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert (second.status, second.content, second.not_modified) == (304, b"", True)
    assert second.etag == first.etag
    assert second.last_modified == first.last_modified  # the 304 omitted it; the sent one is kept
    sent = feed_server.hits("/feed")[1].headers
    assert sent["if-none-match"] == first.etag
    assert sent["if-modified-since"] == first.last_modified
    assert "if-none-match" not in feed_server.hits("/feed")[0].headers


async def test_a_304_leaves_the_connection_open_for_the_next_feed(feed_server: FeedServer) -> None:
    """An unchanged pass over a host's feeds reuses one connection, as a pass of 200s does: a 304
    (no body) must not make the client close it."""
    urls = [feed_server.add(f"/feed{i}", RSS) for i in range(4)]
    async with Fetcher(LOOPBACK, per_host_concurrency=1) as fetcher:
        first = [await fetcher.fetch(url) for url in urls]
        again = [await fetcher.fetch(url, etag=f.etag) for url, f in zip(urls, first)]
    assert [r.status for r in again] == [304] * 4
    assert len({r.peer for r in feed_server.requests}) == 1


async def test_304_with_new_validators_replaces_the_old(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", lambda r: Response(304, b"", {"ETag": '"v2"'}))
    async with Fetcher(LOOPBACK) as fetcher:
        result = await fetcher.fetch(url, etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert (result.etag, result.last_modified) == ('"v2"', "Mon, 01 Jan 2024 00:00:00 GMT")


async def test_sends_user_agent_accept_and_encodings(feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", RSS)
    await fetch(url)
    await fetch(url, user_agent="Probe/1.0")
    default, custom = (hit.headers for hit in feed_server.hits("/feed"))
    assert default["user-agent"] == LOOPBACK.agent
    assert custom["user-agent"] == "Probe/1.0"
    assert default["accept"] == FEED_ACCEPT
    assert default["accept"].startswith("application/rss+xml, application/atom+xml, application/feed+json")
    assert {e.strip() for e in default["accept-encoding"].split(",")} >= {"gzip", "deflate", "br"}


async def test_user_agent_comes_from_settings(feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", RSS)
    await fetch(url, settings=Settings.from_env({"NEWSWIRE_USER_AGENT": "ConfiguredAgent/2",
                                                 "NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": "1"}))
    assert feed_server.hits("/feed")[0].headers["user-agent"] == "ConfiguredAgent/2"


async def test_gzip_body_is_decoded(feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", RSS, gzip_body=True)
    result = await fetch(url)
    assert result.headers["content-encoding"] == "gzip"
    assert result.content == RSS.encode()


async def test_brotli_body_is_decoded(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", lambda r: Response(
        200, brotli.compress(RSS.encode()), {"Content-Encoding": "br", "Content-Type": "application/rss+xml"}))
    result = await fetch(url)
    assert result.headers["content-encoding"] == "br"
    assert result.content == RSS.encode()


async def test_corrupt_compressed_body_is_a_decode_error(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", lambda r: Response(200, b"not gzip at all", {"Content-Encoding": "gzip"}))
    error = await fetch_error(url)
    assert error.reason == "decode"
    assert isinstance(error.__cause__, zlib.error)  # decoded by fetch/decoding.py, mapped by errors.py


# --- redirects ----------------------------------------------------------------------------

async def test_permanent_redirects_give_permanent_url(feed_server: FeedServer) -> None:
    final = feed_server.add("/new/feed", RSS)
    feed_server.route("/old", lambda r: redirect("/middle", 301))
    feed_server.route("/middle", lambda r: redirect("new/feed", 308))  # relative to /middle
    result = await fetch(feed_server.url("/old"))
    assert (result.url, result.permanent_url, result.content) == (final, final, RSS.encode())


async def test_relative_location_with_dot_segments(feed_server: FeedServer) -> None:
    final = feed_server.add("/feeds/all.xml", RSS)
    feed_server.route("/a/b/c", lambda r: redirect("../../feeds/all.xml", 301))
    result = await fetch(feed_server.url("/a/b/c"))
    assert result.url == final


@pytest.mark.parametrize("temporary", [302, 303, 307])
async def test_a_temporary_hop_leaves_permanent_url_unset(feed_server: FeedServer, temporary: int) -> None:
    final = feed_server.add("/feed", RSS)
    feed_server.route("/old", lambda r: redirect("/middle", 301))
    feed_server.route("/middle", lambda r: redirect(final, temporary))
    result = await fetch(feed_server.url("/old"))
    assert (result.url, result.permanent_url, result.status) == (final, None, 200)


async def test_validators_are_sent_on_every_hop(feed_server: FeedServer) -> None:
    feed_server.route("/old", lambda r: redirect("/feed", 301))
    feed_server.route("/feed", lambda r: Response(304, b""))
    async with Fetcher(LOOPBACK) as fetcher:
        result = await fetcher.fetch(feed_server.url("/old"), etag='"e"')
    assert (result.status, result.etag, result.permanent_url) == (304, '"e"', feed_server.url("/feed"))
    assert [h.headers.get("if-none-match") for h in feed_server.requests] == ['"e"', '"e"']


async def test_redirect_loop(feed_server: FeedServer) -> None:
    feed_server.route("/a", lambda r: redirect("/b"))
    feed_server.route("/b", lambda r: redirect("/a", 302))
    error = await fetch_error(feed_server.url("/a"))
    assert error.reason == "redirect-loop"
    assert error.args[0].startswith("fetch: redirect loop")
    assert len(feed_server.requests) == 2


def chain_of(server: FeedServer, redirects: int) -> str:
    for i in range(redirects):
        server.route(f"/r{i}", lambda r, i=i: redirect(f"/r{i + 1}", 302))
    server.add(f"/r{redirects}", RSS)
    return server.url("/r0")


async def test_five_redirects_are_followed(feed_server: FeedServer) -> None:
    result = await fetch(chain_of(feed_server, 5))
    assert result.url == feed_server.url("/r5")


async def test_six_redirects_are_too_many(feed_server: FeedServer) -> None:
    error = await fetch_error(chain_of(feed_server, 6))
    assert error.reason == "too-many-redirects"
    assert len(feed_server.requests) == 6  # /r6 is never requested


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://example.com/feed", "javascript:alert(1)"])
async def test_redirect_to_a_non_http_url_is_refused(feed_server: FeedServer, location: str) -> None:
    url = feed_server.route("/feed", lambda r: redirect(location))
    assert (await fetch_error(url)).reason == "invalid-url"


async def test_redirect_without_location_is_an_http_error(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", lambda r: Response(302, b""))
    error = await fetch_error(url)
    assert (error.reason, error.status) == ("http-302", 302)


# --- statuses -----------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "reason", "words"), [
    (404, "http-404", "HTTP 404 Not Found"),
    (403, "http-403", "HTTP 403 Forbidden"),
    (500, "http-500", "HTTP 500 Internal Server Error"),
    (410, "gone", "HTTP 410 Gone"),
])
async def test_error_statuses(feed_server: FeedServer, status: int, reason: str, words: str) -> None:
    url = feed_server.route("/feed", lambda r: Response(status, b"oops", {"Content-Type": "text/plain"}))
    error = await fetch_error(url)
    assert (error.reason, error.status) == (reason, status)
    assert str(error) == f"fetch: {words} from {url}"


def http_date_in(seconds: int) -> str:
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


@pytest.mark.parametrize(("status", "retry_after", "seconds"), [
    (429, "120", 120.0),
    (503, "0", 0.0),
    (503, "in a while", None),
    (429, None, None),
])
async def test_rate_limited_carries_retry_after(feed_server: FeedServer, status: int, retry_after: str | None,
                                                seconds: float | None) -> None:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    url = feed_server.route("/feed", lambda r: Response(status, b"", headers))
    error = await fetch_error(url)
    assert isinstance(error, RateLimitedError)
    assert (error.reason, error.status, error.retry_after) == ("rate-limited", status, seconds)


async def test_retry_after_as_http_date(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", lambda r: Response(503, b"", {"Retry-After": http_date_in(600)}))
    error = await fetch_error(url)
    assert isinstance(error, RateLimitedError) and error.retry_after is not None
    assert 590 <= error.retry_after <= 600


async def test_204_is_a_result(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", lambda r: Response(204, b""))
    result = await fetch(url)
    assert (result.status, result.content) == (204, b"")


# --- size limits --------------------------------------------------------------------------

def endless() -> Iterator[bytes]:
    while True:
        yield b"<item>" + b"x" * 65536 + b"</item>"


async def test_endless_body_stops_at_the_cap(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", lambda r: Response(200, endless(), {"Content-Type": "application/rss+xml"}))
    error = await fetch_error(url, max_bytes=1_000_000, total_timeout=10)
    assert isinstance(error, ResponseTooLargeError)
    assert error.reason == "too-large"


async def test_cap_counts_decompressed_bytes(feed_server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < 10_000
    url = feed_server.route("/feed", lambda r: Response(200, bomb, {"Content-Encoding": "gzip"}))
    assert (await fetch_error(url, max_bytes=1_000_000)).reason == "too-large"


async def test_body_exactly_at_the_cap_is_accepted(feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", RSS)
    assert (await fetch(url, max_bytes=len(RSS))).content == RSS.encode()
    assert (await fetch_error(url, max_bytes=len(RSS) - 1)).reason == "too-large"


async def test_cap_comes_from_settings(feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", RSS)
    assert (await fetch_error(url, settings=LOOPBACK.with_changes(max_response_bytes=10))).reason == "too-large"


# --- timeouts -----------------------------------------------------------------------------

async def test_total_timeout(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", lambda r: Response(200, RSS.encode(), delay=2.0))
    error = await fetch_error(url, total_timeout=0.2, read_timeout=5)
    assert error.reason == "timeout"
    assert error.args[0].startswith("fetch: timed out")


async def test_total_timeout_spans_redirects(feed_server: FeedServer) -> None:
    """Each hop alone fits in the total; the two together do not."""
    feed_server.route("/a", lambda r: Response(301, b"", {"Location": "/b"}, delay=0.3))
    feed_server.route("/b", lambda r: Response(200, RSS.encode(), delay=0.3))
    error = await fetch_error(feed_server.url("/a"), total_timeout=0.5, read_timeout=5)
    assert error.reason == "timeout"
    assert len(feed_server.hits("/b")) == 1


async def test_waiting_for_a_hosts_slot_does_not_count_against_the_total_timeout(feed_server: FeedServer) -> None:
    """One connection a host: the second feed waits behind the first, then has its own time."""
    url = feed_server.route("/slow", lambda r: Response(200, RSS.encode(), delay=0.6))
    async with Fetcher(LOOPBACK, per_host_concurrency=1, total_timeout=1.0, read_timeout=5) as fetcher:
        results = await asyncio.gather(fetcher.fetch(url), fetcher.fetch(url + "?second"))
    assert [r.status for r in results] == [200, 200]


async def test_read_timeout_on_a_stalled_body(feed_server: FeedServer) -> None:
    def stalls() -> Iterator[bytes]:
        yield b"<rss>"
        time.sleep(2)
        yield b"</rss>"

    url = feed_server.route("/feed", lambda r: Response(200, stalls()))
    error = await fetch_error(url, read_timeout=0.2, total_timeout=10)
    assert error.reason == "timeout"
    assert isinstance(error.__cause__, (httpx.ReadTimeout, httpcore.ReadTimeout))


# --- transport failures -------------------------------------------------------------------

def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused() -> None:
    error = await fetch_error(f"http://127.0.0.1:{unused_port()}/feed")
    assert error.reason == "connection"
    assert error.args[0].startswith("fetch: connection failed")
    assert error.__cause__ is not None


@contextmanager
def raw_server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A server on 127.0.0.1 that reads each connection's request, then hands the connection to
    ``answer``; the URL of a feed on it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(65536)
            answer(conn)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed"
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()


@pytest.fixture
def resetting_server() -> Iterator[str]:
    """Accepts, reads the request, then resets the connection (RST, not FIN)."""
    def reset(conn: socket.socket) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    with raw_server(reset) as url:
        yield url


@pytest.fixture
def closing_server() -> Iterator[tuple[str, list[int]]]:
    """Answers each connection's first request with a keep-alive 304, then closes it, as a
    server does with idle connections; one item in the list for each connection closed."""
    served: list[int] = []

    def answer_and_close(conn: socket.socket) -> None:
        conn.sendall(b'HTTP/1.1 304 Not Modified\r\nETag: "1"\r\nContent-Length: 0\r\n\r\n')
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()
        served.append(1)  # after the close: on loopback its FIN has reached the client

    with raw_server(answer_and_close) as url:
        yield url, served


async def test_a_connection_the_server_closed_while_idle_is_not_reused(closing_server) -> None:
    """A kept connection that the server has closed reads as such (``transport._KeptStream``),
    so the next request opens a new one rather than failing on the dead one."""
    url, served = closing_server
    async with Fetcher(LOOPBACK) as fetcher:
        for attempt in range(3):
            while len(served) < attempt:  # until the server has closed the last connection
                await asyncio.sleep(0.01)
            assert (await fetcher.fetch(url, etag='"1"')).status == 304
    assert len(served) == 3


async def test_connection_reset(resetting_server: str) -> None:
    assert (await fetch_error(resetting_server)).reason == "connection"


async def test_tls_failure(feed_server: FeedServer) -> None:
    url = feed_server.add("/feed", RSS).replace("http://", "https://")  # TLS to a plain-HTTP port
    error = await fetch_error(url)
    assert error.reason == "tls"


async def test_dns_failure(feed_server: FeedServer) -> None:
    async def no_such_host(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    error = await fetch_error("http://no-such-host.test/feed", resolver=no_such_host)
    assert error.reason == "dns"
    assert isinstance(error.__cause__, socket.gaierror)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.com/feed.xml", "javascript:alert(1)", "http:///feed",
    "not a url", "http://exa mple.com/feed", "http://example.com:99999/", "",
])
async def test_invalid_urls(url: str) -> None:
    error = await fetch_error(url)
    assert error.reason == "invalid-url"
    assert error.args[0].startswith("fetch: invalid URL")


@pytest.mark.parametrize(("raised", "reason"), [
    (httpx.ConnectTimeout("slow"), "timeout"),
    (httpx.ReadError("reset"), "connection"),
    (httpx.RemoteProtocolError("garbage"), "connection"),
    (RuntimeError("surprise"), "error"),
])
async def test_transport_exceptions_become_fetch_errors(raised: Exception, reason: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    error = await fetch_error("https://example.com/feed", transport=httpx.MockTransport(handler),
                              resolver=resolver)
    assert type(error) is FetchError
    assert error.reason == reason
    assert error.__cause__ is raised
    assert error.args[0].startswith("fetch: ")


# --- concurrency --------------------------------------------------------------------------

class Gauge:
    """Counts requests the server is handling at once."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.1)
        with self._lock:
            self.active -= 1
        return Response(200, RSS.encode())


@pytest.mark.parametrize(("concurrency", "per_host", "hosts", "peak"), [
    (32, 2, ["a.test"], 2),             # per-host limit
    (1, 2, ["a.test", "b.test"], 1),    # global limit across hosts
    (32, 1, ["a.test", "b.test"], 2),   # one per host, two hosts
])
async def test_concurrency_limits(feed_server: FeedServer, concurrency: int, per_host: int,
                                  hosts: list[str], peak: int) -> None:
    gauge = Gauge()
    feed_server.route("/feed", gauge)
    port = feed_server.url("").rsplit(":", 1)[1]

    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    urls = [f"http://{host}:{port}/feed" for host in hosts for _ in range(3)]
    async with Fetcher(LOOPBACK, concurrency=concurrency, per_host_concurrency=per_host, resolver=loopback) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(url) for url in urls))
    assert [r.status for r in results] == [200] * len(urls)
    assert gauge.peak == peak
