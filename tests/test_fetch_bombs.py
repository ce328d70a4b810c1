"""Compression bombs served from the loopback server: the size cap holds for every coding.

Each bomb decodes to far more than the cap. The fetch must fail with "too-large" (or refuse a
stacked coding outright) while its peak memory stays within a small multiple of the cap: the
cap counts bytes as they leave the decoder, and the decoder never emits more than a bounded
chunk for one piece of input.
"""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Callable

import brotli
import pytest

from newswire.errors import FetchError
from newswire.fetch import Fetcher
from newswire.testing.feedserver import FeedServer, Response

CAP = 1_000_000
BOMB_SIZE = 128 * 1024 * 1024  # what each bomb decodes to: 128 times the cap
ZEROS = b"\0" * (1 << 20)


def _stream(compressor_process: Callable[[bytes], bytes], finish: Callable[[], bytes]) -> bytes:
    """Compress BOMB_SIZE zero bytes a megabyte at a time (never holding the whole plain text)."""
    parts = [compressor_process(ZEROS) for _ in range(BOMB_SIZE // len(ZEROS))]
    return b"".join(parts) + finish()


def gzip_bomb() -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    return _stream(z.compress, z.flush)


def deflate_bomb() -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 15)
    return _stream(z.compress, z.flush)


def raw_deflate_bomb() -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    return _stream(z.compress, z.flush)


def brotli_bomb() -> bytes:
    c = brotli.Compressor(quality=5)
    return _stream(c.process, c.finish)


async def _peak_while_fetching(url: str) -> tuple[FetchError, int]:
    """The error the fetch raised, and the peak of Python allocations while it ran."""
    tracemalloc.start()
    try:
        async with Fetcher(max_bytes=CAP, total_timeout=60, allow_private_addresses=True) as fetcher:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return caught.value, peak


@pytest.mark.parametrize("coding, make", [
    ("br", brotli_bomb), ("gzip", gzip_bomb), ("x-gzip", gzip_bomb),
    ("deflate", deflate_bomb), ("deflate", raw_deflate_bomb),
])
async def test_a_bomb_stops_at_the_cap_with_bounded_memory(feed_server: FeedServer, coding: str,
                                                           make: Callable[[], bytes]) -> None:
    bomb = make()
    assert len(bomb) < BOMB_SIZE // 500
    url = feed_server.route("/feed", lambda r: Response(
        200, bomb, {"Content-Encoding": coding, "Content-Type": "application/rss+xml"}))
    error, peak = await _peak_while_fetching(url)
    assert error.reason == "too-large"
    assert peak < 4 * CAP, f"peak {peak} bytes for a cap of {CAP}"


@pytest.mark.parametrize("headers", [
    {"Content-Encoding": "gzip, gzip"},
    {"Content-Encoding": "br,gzip"},
    {"Content-Encoding": "gzip, identity, deflate"},
])
async def test_stacked_codings_are_refused_before_decoding(feed_server: FeedServer,
                                                           headers: dict[str, str]) -> None:
    inner = gzip_bomb()
    bomb = gzip.compress(inner, 9)
    assert len(bomb) < 10_000
    url = feed_server.route("/feed", lambda r: Response(200, bomb, headers))
    error, peak = await _peak_while_fetching(url)
    assert error.reason == "stacked-encoding"
    assert "one Content-Encoding" in str(error)
    assert peak < 4 * CAP


async def test_stacked_codings_in_two_header_lines_are_refused(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", lambda r: Response(
        200, gzip.compress(gzip.compress(b"<rss/>")), {"Content-Encoding": "gzip"},
        repeated_headers=[("Content-Encoding", "gzip")]))
    async with Fetcher(max_bytes=CAP, allow_private_addresses=True) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(url)
    assert caught.value.reason == "stacked-encoding"


@pytest.mark.parametrize("coding", ["identity", "", "gzip, identity", "IDENTITY, GZip"])
async def test_identity_is_not_a_layer(feed_server: FeedServer, coding: str) -> None:
    plain = b"<rss version='2.0'><channel><title>Wire</title></channel></rss>"
    body = gzip.compress(plain) if "gzip" in coding.lower() else plain
    url = feed_server.route("/feed", lambda r: Response(200, body, {"Content-Encoding": coding}))
    async with Fetcher(max_bytes=CAP, allow_private_addresses=True) as fetcher:
        assert (await fetcher.fetch(url)).content == plain


@pytest.mark.parametrize("coding", ["zstd", "compress"])
async def test_a_coding_we_cannot_decode_is_a_clear_error(feed_server: FeedServer, coding: str) -> None:
    url = feed_server.route("/feed", lambda r: Response(200, b"\x28\xb5\x2f\xfd...", {"Content-Encoding": coding}))
    async with Fetcher(max_bytes=CAP, allow_private_addresses=True) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(url)
    assert caught.value.reason == "decode"
    assert f"unsupported Content-Encoding {coding}" in str(caught.value)


@pytest.mark.parametrize("coding, make", [("br", brotli_bomb), ("gzip", gzip_bomb), ("deflate", deflate_bomb)])
def test_the_decoder_never_emits_more_than_a_chunk_per_piece(coding: str, make: Callable[[], bytes]) -> None:
    """The property the cap relies on, measured directly: however much one piece of input
    expands to, it comes out in pieces of at most MAX_CHUNK bytes, lazily."""
    from newswire.fetch.decoding import MAX_CHUNK, BodyDecoder

    decoder = BodyDecoder.for_codings([coding], url="http://example.com/feed")
    bomb = make()
    produced = 0
    for piece in decoder.feed(bomb):  # the whole bomb as one input piece
        assert 0 < len(piece) <= MAX_CHUNK
        produced += len(piece)
        if produced > 4 * CAP:
            break  # lazily: stopping here leaves the rest undecoded
    assert produced > 4 * CAP


@pytest.mark.parametrize("coding, compress", [
    ("br", brotli.compress), ("gzip", gzip.compress), ("deflate", zlib.compress),
    ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as some servers send
])
def test_the_decoder_round_trips_in_small_pieces(coding: str, compress: Callable[[bytes], bytes]) -> None:
    from newswire.fetch.decoding import BodyDecoder

    plain = bytes(range(256)) * 4000
    packed = compress(plain)
    decoder = BodyDecoder.for_codings([coding], url="http://example.com/feed")
    out = bytearray()
    for i in range(0, len(packed), 7):
        for piece in decoder.feed(packed[i:i + 7]):
            out += piece
    for piece in decoder.flush():
        out += piece
    assert bytes(out) == plain
