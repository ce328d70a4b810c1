"""An httpx transport whose connections go only to addresses the guard has vetted.

httpx resolves names inside httpcore's network backend, after any check we could make, so a
host that answers a public address to the check and ``127.0.0.1`` to the connection (DNS
rebinding) would get through. Here the network backend *is* the check: ``connect_tcp`` asks the
``AddressGuard`` for the host's addresses and connects to one of those, never resolving again.
The request itself is untouched (URL, Host header, TLS SNI and certificate checks use the name),
and connections are still kept by name (see ``GuardedTransport``'s lanes).

httpcore's exceptions are not translated here; ``errors.translate_errors`` maps them, with the
httpx ones, at the fetcher's single boundary.
"""

from __future__ import annotations

import select
import ssl
import typing

import httpcore
import httpx

from newswire.fetch.guard import AddressGuard


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connect to the guard's addresses for a host, trying each in turn (IPv6 then IPv4, say)."""

    def __init__(self, guard: AddressGuard, backend: httpcore.AsyncNetworkBackend | None = None):
        self._guard = guard
        self._backend = backend or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await self._guard.resolve(host, port)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                stream = await self._backend.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
            else:
                sock = stream.get_extra_info("socket")  # asyncio's TransportSocket, or a socket
                return _KeptStream(stream, sock) if sock is not None else stream
        assert failure is not None  # the guard never returns an empty list
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("fetch: unix sockets are not used for feeds")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _KeptStream(httpcore.AsyncNetworkStream):
    """A connection's stream that answers httpcore's "is_readable" cheaply. The pool asks it of
    its idle connection each time it hands out a request or takes one back (a readable idle
    connection is one the server closed), twice a feed; anyio's answer rebuilds every attribute
    of the socket each time, a ``getpeername`` call included. Here it is one ``poll`` of the socket."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, sock: typing.Any):
        self._stream = stream
        self._sock = sock
        self._poll = select.poll() if hasattr(select, "poll") else None
        if self._poll is not None:
            self._poll.register(sock.fileno(), select.POLLIN)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        return _KeptStream(await self._stream.start_tls(ssl_context, server_hostname, timeout), self._sock)

    def get_extra_info(self, info: str) -> typing.Any:
        if info != "is_readable":
            return self._stream.get_extra_info(info)
        if self._sock.fileno() < 0:  # closed: as httpcore, call it readable (its next read is the end)
            return True
        if self._poll is None:
            return bool(select.select([self._sock], [], [], 0)[0])
        return bool(self._poll.poll(0))


class _ResponseStream(httpx.AsyncByteStream):
    """The body of a lane's response; closing it gives the lane back (once)."""

    def __init__(self, stream: typing.AsyncIterable[bytes], on_close: typing.Callable[[], typing.Awaitable[None]]):
        self._stream = stream
        self._on_close: typing.Callable[[], typing.Awaitable[None]] | None = on_close

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        try:
            aclose = getattr(self._stream, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                await on_close()


Origin = tuple[bytes, bytes, int]  # scheme, host, port


class _Lane:
    """One connection's worth of a host: a pool of at most one connection (which reconnects
    when that connection expires or the server closes it), carrying one request at a time."""

    __slots__ = ("origin", "pool", "busy")

    def __init__(self, origin: Origin, pool: httpcore.AsyncConnectionPool):
        self.origin = origin
        self.pool = pool
        self.busy = False


class GuardedTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 and HTTP/2 over connections made through ``PinnedBackend``.

    Connections are kept in lanes: per origin, as many one-connection pools as requests to it
    have run at once, each carrying one request at a time (at most the fetcher's per-host
    limit, then; an HTTP/2 connection too: lanes do not multiplex). One pool for every connection would do the same, but httpcore's pool goes
    over all its connections, and for each idle one over all of them again, every time a
    request starts or ends: with 16 connections kept to a host that was some 15 % of an
    unchanged pass (``tests/test_fetch_transport.py`` counts the checks). A lane's pool has one
    connection to look at. At most ``max_connections`` lanes are kept: past that, the one idle
    longest is closed. The SSL context is made for the first https lane (loading the CA bundle
    takes tens of milliseconds that a pass of plain-HTTP feeds never needs).

    No proxy support on purpose: a proxy would do its own resolving, past the guard."""

    def __init__(self, guard: AddressGuard, *, max_connections: int, http2: bool = True,
                 ssl_context: ssl.SSLContext | None = None):
        self._backend = PinnedBackend(guard)
        self._max_lanes = max_connections
        self._http2 = http2
        self._ssl_context = ssl_context
        self._lanes: dict[Origin, list[_Lane]] = {}
        self._idle: dict[_Lane, None] = {}  # idle lanes, the one idle longest first
        self._count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, typing.AsyncIterable)
        url = request.url
        lane, closing = self._take((url.raw_scheme, url.raw_host, url.port or _DEFAULT_PORTS.get(url.raw_scheme, 0)))
        try:
            await self._close(closing)
            response = await lane.pool.handle_async_request(httpcore.Request(
                method=request.method,
                url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            ))
        except BaseException:
            await self._give_back(lane)
            raise
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_ResponseStream(response.stream, lambda: self._give_back(lane)),
                              extensions=response.extensions)

    @property
    def lane_count(self) -> int:
        """Lanes (kept or busy connections' pools) held now."""
        return self._count

    def _take(self, origin: Origin) -> tuple[_Lane, list[_Lane]]:
        """A free lane to ``origin`` (the first, whose connection is the likeliest still open),
        or a new one; and the idle lanes to close to make room for it. No await in here: no
        other request can take the same lane."""
        lanes = self._lanes.setdefault(origin, [])
        for lane in lanes:
            if not lane.busy:
                del self._idle[lane]
                lane.busy = True
                return lane, []
        closing = []
        while self._count >= self._max_lanes and self._idle:
            closing.append(self._drop(next(iter(self._idle))))
        lane = _Lane(origin, self._pool(origin))
        lane.busy = True
        lanes.append(lane)
        self._count += 1
        return lane, closing

    async def _give_back(self, lane: _Lane) -> None:
        if not lane.busy:
            return
        lane.busy = False
        if lane not in self._lanes.get(lane.origin, ()):  # the transport was closed meanwhile
            await lane.pool.aclose()
            return
        self._idle[lane] = None
        closing = []
        while self._count > self._max_lanes and self._idle:  # more were busy at once than kept
            closing.append(self._drop(next(iter(self._idle))))
        await self._close(closing)

    def _drop(self, lane: _Lane) -> _Lane:
        del self._idle[lane]
        lanes = self._lanes[lane.origin]
        lanes.remove(lane)
        if not lanes:
            del self._lanes[lane.origin]
        self._count -= 1
        return lane

    async def _close(self, lanes: list[_Lane]) -> None:
        for lane in lanes:
            await lane.pool.aclose()

    def _pool(self, origin: Origin) -> httpcore.AsyncConnectionPool:
        ssl_context = None
        if origin[0] == b"https":
            if self._ssl_context is None:
                self._ssl_context = httpx.create_ssl_context(trust_env=False)
            ssl_context = self._ssl_context
        return httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, max_connections=1, max_keepalive_connections=1,
            http1=True, http2=self._http2, network_backend=self._backend)

    async def aclose(self) -> None:
        lanes = [lane for group in self._lanes.values() for lane in group]
        self._lanes, self._idle, self._count = {}, {}, 0
        await self._close(lanes)


_DEFAULT_PORTS = {b"http": 80, b"https": 443}
