"""HEAD wherever GET answers: the request is served as a GET and its body dropped, so the status
and headers (Content-Type, Content-Length, ETag, …) are exactly those of the GET (RFC 9110 9.3.2).

FastAPI routes answer only the methods they declare, so without this every page, feed and
``/healthz`` answered HEAD with 405 (load balancers and link checkers use HEAD). An endless body
(the live stream) ends at its headers: once the response is complete the server reports the
client gone, and the stream stops.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        done = False

        async def headers_only(message: Message) -> None:
            nonlocal done
            if done:
                return
            if message["type"] == "http.response.body":
                done = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        async def gone_once_done() -> Message:
            if done:
                return {"type": "http.disconnect"}
            return await receive()

        await self.app({**scope, "method": "GET"}, gone_once_done, headers_only)
