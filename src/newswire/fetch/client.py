"""The Fetcher: one feed URL in, a FetchResult (bytes + headers + status) out, or a FetchError.

    fetch(url)
      └─ translate_errors            third-party exceptions → FetchError, in one place
         └─ per hop: RequestLimits.slot(host)   per-host slots and spacing (limits.py), shared
              │                                 through the database's HostGate when given one
              └─ asyncio.timeout_at(deadline)   the total timeout, from the first slot granted,
                 │                              redirects included
                 ├─ GET via httpx (never follows redirects itself); the address guard runs in
                 │  the transport's connect (or here, before sending, for an injected transport)
                 ├─ 301/302/303/307/308 → RedirectChain.follow → next hop
                 ├─ 304 → result with the validators; 2xx → result with the body, decoded in
                 │  bounded pieces (decoding.py) and size-capped as it decodes
                 └─ anything else → http_error (gone, rate-limited, http-NNN)

It never parses what it fetched; that is the parse stage's job.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import datetime, timezone
from types import TracebackType

import httpx

from newswire.config import DEFAULTS, Settings
from newswire.errors import ResponseTooLargeError
from newswire.fetch.caching import retry_after_seconds
from newswire.fetch.decoding import BodyDecoder
from newswire.fetch.errors import http_error, translate_errors
from newswire.fetch.guard import AddressGuard, AddressPolicy, Resolver, is_public_address
from newswire.fetch.limits import HostGate, RequestLimits
from newswire.fetch.redirects import REDIRECT_STATUSES, RedirectChain, validate_url
from newswire.fetch.transport import GuardedTransport
from newswire.models import FetchResult

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, "
               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8")
ACCEPT_ENCODING = "gzip, deflate, br"


def _either(value, configured):  # type: ignore[no-untyped-def]
    """An explicit argument wins; ``None`` means "as the settings say"."""
    return configured if value is None else value


class Fetcher:
    """Fetch feeds politely and safely; one per process pass, ``async with Fetcher() as f:``.

    Every ``None`` option falls back to ``settings`` (default: the built-in defaults). ``transport`` replaces the network
    (tests: ``httpx.MockTransport``); ``resolver`` replaces DNS for the address guard and, with
    the built-in transport, for the connection too. ``address_policy`` decides which resolved
    addresses may be contacted (default: globally routable only, or any address when
    ``allow_private_addresses``) — a home network might allow one LAN range, say. ``host_gate``
    shares the per-host slots and request spacing with the other processes fetching into one
    database (``Store.host_gate()``); without one, this fetcher keeps to them on its own.
    """

    def __init__(self, settings: Settings = DEFAULTS, *, allow_private_addresses: bool | None = None, max_bytes: int | None = None,
                 concurrency: int | None = None, per_host_concurrency: int | None = None,
                 connect_timeout: float | None = None, read_timeout: float | None = None,
                 total_timeout: float | None = None, user_agent: str | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, resolver: Resolver | None = None,
                 address_policy: AddressPolicy | None = None, host_gate: HostGate | None = None,
                 host_interval: float | None = None):
        allow_private = _either(allow_private_addresses, settings.allow_private_addresses)
        policy = address_policy or (None if allow_private else is_public_address)
        self._guard = AddressGuard(policy, resolver)
        self.settings = settings
        self.max_bytes = _either(max_bytes, settings.max_response_bytes)
        limit = self.concurrency = _either(concurrency, settings.concurrency)
        self._limits = RequestLimits(limit, _either(per_host_concurrency, settings.per_host_concurrency),
                                     interval=_either(host_interval, settings.host_interval), gate=host_gate)
        self.total_timeout = _either(total_timeout, settings.total_timeout)
        read = _either(read_timeout, settings.read_timeout)
        timeout = httpx.Timeout(connect=_either(connect_timeout, settings.connect_timeout),
                                read=read, write=read, pool=None)
        # Our transport checks addresses as it connects; someone else's cannot, so check first.
        self._check_before_send = transport is not None
        self._client = httpx.AsyncClient(
            transport=transport or GuardedTransport(self._guard, max_connections=limit),
            follow_redirects=False,  # each hop must pass the guard: see RedirectChain
            trust_env=False,  # no proxies from the environment: a proxy would resolve past the guard
            timeout=timeout,
            headers={"User-Agent": user_agent or settings.agent,
                     "Accept-Encoding": ACCEPT_ENCODING},
        )

    async def __aenter__(self) -> "Fetcher":
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    accept: str = FEED_ACCEPT) -> FetchResult:
        """GET ``url`` (conditionally, given validators), following up to 5 redirects.

        Returns a FetchResult with status 2xx or 304; raises FetchError (or a subclass) for
        everything else, and nothing else."""
        with translate_errors(url):
            headers = {"Accept": accept}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            chain = RedirectChain(validate_url(url))
            started = time.monotonic()
            result = await self._follow(chain, headers, etag, last_modified)
            return dataclasses.replace(result, elapsed=time.monotonic() - started)

    async def _follow(self, chain: RedirectChain, headers: dict[str, str], etag: str | None,
                      last_modified: str | None) -> FetchResult:
        """One request per hop, each under its host's slot, until a response that is not a
        redirect. The total timeout runs from the moment the first slot is granted: waiting
        behind other feeds of the same host is politeness, not slowness of this feed."""
        deadline: float | None = None
        while True:
            url = chain.url
            async with self._limits.slot(url.host):
                if deadline is None:
                    deadline = asyncio.get_running_loop().time() + self.total_timeout
                async with asyncio.timeout_at(deadline):
                    if self._check_before_send:
                        await self._guard.resolve(url.raw_host.decode("ascii"), url.port or _default_port(url))
                    response = await self._client.send(
                        self._client.build_request("GET", url, headers=headers), stream=True)
                    try:
                        if response.status_code in REDIRECT_STATUSES:
                            chain.follow(response.status_code, response.headers.get("location"))
                            continue
                        return await self._outcome(chain, response, etag, last_modified)
                    finally:
                        await response.aclose()

    async def _outcome(self, chain: RedirectChain, response: httpx.Response, etag: str | None,
                       last_modified: str | None) -> FetchResult:
        """The result of the final response, or the error its status means."""
        status = response.status_code
        if status == 304:
            # A 304 has no body, but until the client has read its (empty) end, httpcore closes
            # the connection rather than keep it for the host's next feed: a new TCP (and TLS)
            # connection for every unchanged feed of a host.
            await response.aread()
            return _result(chain, response, b"", etag, last_modified)
        if 200 <= status < 300:
            return _result(chain, response, await self._read_body(response, chain.url), None, None)
        retry_after = retry_after_seconds(response.headers.get("retry-after"), _now())
        raise http_error(status, str(chain.url), retry_after=retry_after)

    async def _read_body(self, response: httpx.Response, url: httpx.URL) -> bytes:
        """The decoded body, refused as soon as it passes ``max_bytes``: the count is of bytes
        as they leave the decoder, which yields bounded pieces (see decoding.py), so a
        compression bomb or an endless stream stops here and the rest is never read."""
        decoder = BodyDecoder.for_codings(
            response.headers.get_list("content-encoding", split_commas=True), url=str(url))
        # An injected transport (httpx.MockTransport) may hand over a body httpx already read.
        chunks = response.aiter_bytes() if response.is_stream_consumed else decoder.decode(response.aiter_raw())
        body = bytearray()
        async for chunk in chunks:
            body += chunk
            if len(body) > self.max_bytes:
                raise ResponseTooLargeError(
                    f"fetch: response from {url} is larger than {self.max_bytes} bytes")
        return bytes(body)


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _result(chain: RedirectChain, response: httpx.Response, content: bytes,
            etag: str | None, last_modified: str | None) -> FetchResult:
    """FetchResult fields; ``etag``/``last_modified`` are the ones sent, kept when a 304
    omits them."""
    return FetchResult(
        url=str(chain.url),
        status=response.status_code,
        content=content,
        headers={name.lower(): value for name, value in response.headers.items()},
        etag=response.headers.get("etag") or etag,
        last_modified=response.headers.get("last-modified") or last_modified,
        permanent_url=chain.permanent_url,
    )
