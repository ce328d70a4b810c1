"""Every way a fetch fails, as a FetchError — decided here and nowhere else.

    FetchError (newswire.errors)         reason tag for summaries, status when HTTP said no
    ├── BlockedAddressError              "blocked-address" (raised by the guard)
    ├── ResponseTooLargeError            "too-large"      (raised while reading the body)
    ├── (FetchError)                     "stacked-encoding", "decode" (decoding.py: more than one
    │                                    Content-Encoding, or one we cannot decode)
    └── RateLimitedError                 "rate-limited"   429/503, with ``retry_after`` seconds

``translate_errors`` is the single boundary where httpx, httpcore, ssl, socket and asyncio
exceptions become FetchErrors, with the original kept as ``__cause__`` (as httpx's own
``map_httpcore_exceptions`` does). ``http_error`` turns an unwanted status into one.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import zlib
from typing import Iterator

import brotli
import httpcore
import httpx

from newswire.errors import FetchError


class RateLimitedError(FetchError):
    """The server asked us to slow down (429, or 503). ``retry_after`` is its Retry-After in
    seconds, or None when it gave none we could read."""

    def __init__(self, message: str, *, status: int, retry_after: float | None):
        super().__init__(message, reason="rate-limited", status=status)
        self.retry_after = retry_after


def http_error(status: int, url: str, *, retry_after: float | None = None) -> FetchError:
    """The error for a final status that is neither success, 304 nor a redirect we follow."""
    message = f"fetch: HTTP {status} {httpx.codes.get_reason_phrase(status)} from {url}".rstrip()
    if status in (429, 503):
        if retry_after is not None:
            message += f" (retry after {retry_after:g} s)"
        return RateLimitedError(message, status=status, retry_after=retry_after)
    if status == 410:
        return FetchError(message, reason="gone", status=status)
    return FetchError(message, reason=f"http-{status}", status=status)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it: httpx wraps httpcore, which wraps OSError and ssl errors."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


_INVALID_URL = (httpx.InvalidURL, httpx.UnsupportedProtocol, httpcore.UnsupportedProtocol, UnicodeError)
_TIMEOUT = (httpx.TimeoutException, httpcore.TimeoutException, TimeoutError)
_CONNECTION = (httpx.TransportError, httpcore.NetworkError, httpcore.ProtocolError, OSError)


def classify(exc: BaseException) -> str:
    """The reason tag for an exception from the network stack."""
    chain = list(_chain(exc))
    for tag, kinds in [
        ("invalid-url", _INVALID_URL),
        ("timeout", _TIMEOUT),
        ("dns", (socket.gaierror,)),
        ("tls", (ssl.SSLError, ssl.CertificateError)),
        ("decode", (httpx.DecodingError, zlib.error, brotli.error)),
        ("connection", _CONNECTION),
    ]:
        if any(isinstance(e, kinds) for e in chain):
            return tag
    return "error"


_WORDS = {
    "invalid-url": "invalid URL",
    "timeout": "timed out fetching",
    "dns": "cannot resolve the host of",
    "tls": "TLS handshake failed with",
    "decode": "cannot decode the body from",
    "connection": "connection failed to",
    "error": "unexpected error fetching",
}


def to_fetch_error(exc: BaseException, url: str) -> FetchError:
    reason = classify(exc)
    detail = str(exc) or type(exc).__name__
    cause = _system_cause(exc)
    if cause and cause.lower() not in detail.lower():  # "All connection attempts failed (Connection refused)"
        detail += f" ({cause})"
    return FetchError(f"fetch: {_WORDS[reason]} {url}: {detail}", reason=reason)


def _system_cause(exc: BaseException) -> str | None:
    """The operating system's words for the innermost error with an errno (httpx's own message
    for a refused connection is "All connection attempts failed"), None when there is none."""
    errors = [e for e in _chain(exc) if isinstance(e, OSError) and isinstance(e.errno, int) and e.errno > 0
              and not isinstance(e, socket.gaierror)]
    return os.strerror(errors[-1].errno) if errors else None


@contextlib.contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """Let FetchErrors through; turn any other exception into one, chained to its cause."""
    try:
        yield
    except FetchError:
        raise
    except Exception as exc:
        raise to_fetch_error(exc, url) from exc
