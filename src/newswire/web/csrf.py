"""The CSRF check: a request that changes something on the strength of a session cookie must
carry the session's form token (``identity.csrf_token``).

Every unsafe request (POST, PUT, PATCH, DELETE, …) signed in by the session cookie is refused
with 403 unless it sends the token as the ``X-CSRF-Token`` header (scripts on our pages) or as
the ``csrf_token`` field of an urlencoded form (our forms) or of a multipart one (the OPML
upload, ``uploads``). As a middleware, no route can be
forgotten. Requests signed in by an API token, and anonymous ones, are not the browser acting
on a session, so they pass here; the permission checks (``auth``) refuse what they may not do,
and the sign-in and first-run forms check the anonymous token themselves.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newswire.web.errors import WebError, respond
from newswire.web.identity import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, csrf_matches
from newswire.web.uploads import MAX_UPLOAD_BYTES, MULTIPART_TYPE, form_parts

MAX_FORM_BYTES = 65536
FORM_TYPE = "application/x-www-form-urlencoded"


class CsrfCheck:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or scope.get("state", {}).get("via") != "session":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        given = request.headers.get(CSRF_HEADER, "")
        replay = receive
        content_type = request.headers.get("content-type", "")
        kind = content_type.split(";")[0].strip().lower()
        if not given and kind in (FORM_TYPE, MULTIPART_TYPE):
            body = await _read(receive, MAX_FORM_BYTES if kind == FORM_TYPE else MAX_UPLOAD_BYTES)
            if body is None:
                await respond(request, WebError(413, "That form is larger than this page accepts."))(scope, receive, send)
                return
            given = _form_token(body, content_type) if kind == MULTIPART_TYPE else (
                parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD, [""])[0])
            replay = _replaying(body, receive)
        if not csrf_matches(request, given):
            refusal = WebError(403, "This form has expired or did not come from this site. Reload the page and try again.")
            await respond(request, refusal)(scope, replay, send)
            return
        await self.app(scope, replay, send)


def _form_token(body: bytes, content_type: str) -> str:
    """The token field of a multipart form; empty when it has none or is not one (refused)."""
    try:
        part = form_parts(body, content_type).get(CSRF_FIELD)
    except WebError:
        return ""
    return part.text if part else ""


async def _read(receive: Receive, limit: int = MAX_FORM_BYTES) -> bytes | None:
    """The whole body, or None past ``limit`` bytes."""
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return body
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return body


def _replaying(body: bytes, then: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then the server's own messages."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()

    return receive
