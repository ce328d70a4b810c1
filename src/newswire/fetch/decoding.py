"""Content-Encoding decoded in bounded pieces, so the size cap can stop a compression bomb.

httpx's decoders turn each network chunk into all the output it stands for: 64 KB of gzip can
be 64 MB, and a 2 KB brotli body can be gigabytes, all allocated before any size check runs.
``BodyDecoder`` instead yields at most ``MAX_CHUNK`` bytes at a time and decodes the rest only
when asked for more, so the fetcher's count of decoded bytes stops the body at the cap with
memory bounded by the cap plus one piece.

One content-coding layer at most: ``gzip, gzip`` multiplies a bomb's ratio and no feed needs
it, so a stacked coding is refused (reason "stacked-encoding") before anything is decoded.
``identity`` is no layer. A registered coding we cannot decode (zstd, compress) is a "decode"
error; an unregistered token (``utf-8``, ``none``, sent by misconfigured servers) is ignored,
as httpx and browsers ignore it.

Decoder errors (``zlib.error``, ``brotli.error``) are left to ``errors.translate_errors``.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import Protocol

import brotli

from newswire.errors import FetchError

MAX_CHUNK = 64 * 1024
# The IANA registry of HTTP content codings: any of these we cannot decode is an error.
REGISTERED = frozenset({"aes128gcm", "br", "compress", "dcb", "dcz", "deflate", "exi", "gzip",
                        "identity", "pack200-gzip", "x-compress", "x-gzip", "zstd"})


class _Layer(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def flush(self) -> Iterator[bytes]: ...


def _pieces(out: bytes) -> Iterator[bytes]:
    """``out`` in slices of at most MAX_CHUNK bytes (a decoder may overshoot its limit a little)."""
    if len(out) <= MAX_CHUNK:
        if out:
            yield out
        return
    for start in range(0, len(out), MAX_CHUNK):
        yield out[start:start + MAX_CHUNK]


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        return _pieces(data)

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (``wbits`` 31) or deflate (15: zlib-wrapped, falling back to raw deflate when the
    first bytes are not a zlib header, as some servers send it and httpx accepts it)."""

    def __init__(self, wbits: int):
        self._wbits = wbits
        self._z = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._started and data:
            self._started = True
            if self._wbits == zlib.MAX_WBITS:
                try:
                    zlib.decompressobj(zlib.MAX_WBITS).decompress(data[:64], 1)
                except zlib.error:
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
        while data and not self._z.eof:
            out = self._z.decompress(data, MAX_CHUNK)
            yield from _pieces(out)
            data = self._z.unconsumed_tail
            # a full piece with no input left may still have output pending inside zlib
            while not data and len(out) == MAX_CHUNK and not self._z.eof:
                out = self._z.decompress(b"", MAX_CHUNK)
                yield from _pieces(out)

    def flush(self) -> Iterator[bytes]:
        return _pieces(self._z.flush()) if not self._z.eof else iter(())


class _Brotli:
    """brotli's ``output_buffer_limit`` (brotli >= 1.2) stops each call at about MAX_CHUNK;
    the decoder keeps the input it has not turned into output yet."""

    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def _drain(self) -> Iterator[bytes]:
        while not self._d.is_finished():
            out = self._d.process(b"", output_buffer_limit=MAX_CHUNK // 2)
            if not out:
                return
            yield from _pieces(out)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data or self._d.is_finished():
            return
        yield from _pieces(self._d.process(data, output_buffer_limit=MAX_CHUNK // 2))
        while not self._d.can_accept_more_data() and not self._d.is_finished():
            out = self._d.process(b"", output_buffer_limit=MAX_CHUNK // 2)
            if not out:
                return
            yield from _pieces(out)

    def flush(self) -> Iterator[bytes]:
        return self._drain()


_DECODERS = {"gzip": lambda: _Zlib(31), "x-gzip": lambda: _Zlib(31),
             "deflate": lambda: _Zlib(zlib.MAX_WBITS), "br": _Brotli}


class BodyDecoder:
    """The decoder for a response's Content-Encoding: ``feed`` each raw chunk, then ``flush``;
    both yield decoded pieces of at most MAX_CHUNK bytes, lazily."""

    def __init__(self, layer: _Layer):
        self._layer = layer

    @classmethod
    def for_codings(cls, codings: list[str], *, url: str) -> "BodyDecoder":
        """The decoder for ``codings`` (the Content-Encoding values, in header order); raises
        FetchError "stacked-encoding" for more than one layer, "decode" for one we lack."""
        names = [c.strip().lower() for c in codings]
        layers = [c for c in names if c in REGISTERED and c != "identity"]
        if len(layers) > 1:
            raise FetchError(
                f"fetch: refused the body from {url}: it is compressed in {len(layers)} layers "
                f"({', '.join(layers)}); only one Content-Encoding is accepted",
                reason="stacked-encoding")
        if not layers:
            return cls(_Identity())
        make = _DECODERS.get(layers[0])
        if make is None:
            raise FetchError(f"fetch: cannot decode the body from {url}: unsupported Content-Encoding "
                             f"{layers[0]}", reason="decode")
        return cls(make())

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._layer.feed(data)

    def flush(self) -> Iterator[bytes]:
        return self._layer.flush()

    async def decode(self, raw: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """Every decoded piece of a raw body stream, in order."""
        async for chunk in raw:
            for piece in self.feed(chunk):
                yield piece
        for piece in self.flush():
            yield piece
