"""An httpx transport whose connections go only to addresses the guard has vetted.

httpx resolves names inside httpcore's network backend, after any check we could make, so a
host that answers a public address to the check and ``127.0.0.1`` to the connection (DNS
rebinding) would get through. Here the network backend *is* the check: ``connect_tcp`` asks the
``AddressGuard`` for the host's addresses and connects to one of those, never resolving again.
The request itself is untouched (URL, Host header, TLS SNI and certificate checks use the name),
and the connection pool still keys connections by name.

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
    every idle connection each time it hands out a request or takes one back (a readable idle
    connection is one the server closed), so with a few dozen connections kept alive it is
    asked thousands of times in a pass; anyio's answer rebuilds every attribute of the socket
    each time, a ``getpeername`` call included. Here it is one ``poll`` of the socket."""

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
    def __init__(self, stream: typing.AsyncIterable[bytes]):
        self._stream = stream

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            await aclose()


class GuardedTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 and HTTP/2 over a connection pool that connects through ``PinnedBackend``.

    No proxy support on purpose: a proxy would do its own resolving, past the guard."""

    def __init__(self, guard: AddressGuard, *, max_connections: int, http2: bool = True,
                 ssl_context: ssl.SSLContext | None = None):
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            http1=True,
            http2=http2,
            network_backend=PinnedBackend(guard),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, typing.AsyncIterable)
        response = await self._pool.handle_async_request(httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        ))
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_ResponseStream(response.stream),
                              extensions=response.extensions)

    async def aclose(self) -> None:
        await self._pool.aclose()
