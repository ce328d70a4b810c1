"""A source's failure in words: each common kind of failure, made by the code that makes it in
a refresh (the network stack's exceptions through ``fetch.errors``, the guard's, the parser's)
and recorded as ``decide.after_failure`` records it, reads as one sentence with no errno, no
stage prefix and no URL (the sources page shows the URL once, in its own line)."""

from __future__ import annotations

import socket
import ssl
from datetime import datetime, timezone

import httpx
import pytest

from newswire.errors import BlockedAddressError, ParseError, ResponseTooLargeError
from newswire.fetch import Fetcher
from newswire.fetch.errors import http_error, to_fetch_error
from newswire.models import Source
from newswire.parse import detect
from newswire.service.decide import after_failure
from newswire.sources.failures import failure_in_words
from newswire.testing import LOOPBACK

URL = "https://news.example.org/feed.xml"
NOW = datetime(2025, 9, 17, tzinfo=timezone.utc)


def recorded(error) -> str:
    """The sentence for ``error`` as a refresh would store it on its source."""
    update = after_failure(Source(id=1, feed_url=URL, name="Example"), error, NOW)
    return failure_in_words(update.status, update.error)


def connect_error(cause: BaseException) -> httpx.ConnectError:
    error = httpx.ConnectError(str(cause))
    error.__cause__ = cause
    return error


CASES = [
    ("dns", to_fetch_error(connect_error(socket.gaierror(-2, "Name or service not known")), URL),
     "The name does not resolve: no address was found for the feed's host."),
    ("refused", to_fetch_error(connect_error(ConnectionRefusedError(111, "Connection refused")), URL),
     "The server refused the connection."),
    ("timeout", to_fetch_error(httpx.ReadTimeout("timed out"), URL), "The server did not answer in time."),
    ("tls", to_fetch_error(connect_error(ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired")), URL),
     "The secure connection failed: the server's certificate is not trusted (expired, self-signed or for "
     "another name)."),
    ("http 404", http_error(404, URL), "The feed is not at this address (HTTP 404 Not Found); it may have moved."),
    ("http 500", http_error(500, URL),
     "The server had an error (HTTP 500 Internal Server Error). It will be retried later."),
    ("http 503", http_error(503, URL, retry_after=120),
     "The server asked Newswire to slow down (HTTP 503 Service Unavailable); it asked to wait 120 s. "
     "It will be retried later."),
    ("html page", ParseError(detect.HTML_PAGE), "The address gives a web page, not a feed."),
    ("not a feed", ParseError(detect.UNKNOWN_XML),
     "What the server sent is not a feed Newswire can read (RSS, Atom or JSON Feed)."),
    ("too large", ResponseTooLargeError(f"fetch: response from {URL} is larger than 10485760 bytes"),
     "The feed is larger than Newswire accepts."),
    ("private address", BlockedAddressError(
        "fetch: refused news.example.org: it resolves to a private or loopback address (not a public address; "
        "set NEWSWIRE_ALLOW_PRIVATE_ADDRESSES=1 to allow it)"),
     "The address is on a private or local network, which Newswire does not fetch "
     "(NEWSWIRE_ALLOW_PRIVATE_ADDRESSES=1 allows it)."),
]


@pytest.mark.parametrize("error, words", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_failure_reads_as_one_sentence_without_errno_or_url(error, words):
    sentence = recorded(error)
    assert sentence == words
    assert "Errno" not in sentence and "://" not in sentence and not sentence.startswith(("fetch:", "parse:"))


async def test_a_real_refused_connection_reads_as_refused():
    with socket.socket() as probe:  # a port nothing listens on: bound, then closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Fetcher(LOOPBACK) as fetcher:
        with pytest.raises(Exception) as failure:
            await fetcher.fetch(f"http://127.0.0.1:{port}/feed.xml")
    assert recorded(failure.value) == "The server refused the connection."


def test_an_unknown_failure_keeps_its_message_without_the_url():
    assert failure_in_words("error", f"fetch: unexpected error fetching {URL}: boom") == \
        "The last fetch failed: Unexpected error: boom."
    assert failure_in_words(None, None) == "The last fetch failed."
