"""Request values refused at the edge, before they reach the store.

    ids          a path id that is not one, or past 2³¹−1 (ids are 32-bit on PostgreSQL): 404;
                 a query-string id the same way: 400
    text         longer than its field allows: 400
    NUL          in the query string (PostgreSQL text cannot hold it): 400, for every route at
                 once (``RefuseNul``); in a form: 400 (``admin.read_form``); in a path: 404

Refusals go through the one error boundary, so pages get the error page and machines JSON.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from newswire.store.tables import MAX_ID
from newswire.web.errors import BadRequest, WebError, respond_later

MAX_AUTHOR = 200
MAX_QUERY = 500
MAX_CATEGORY = 500  # as the admin API's fields


def int_or_none(value: str | None, what: str) -> int | None:
    """A number from the query string, None when absent; 400 when it is not an id."""
    if value is None or value.strip() == "":
        return None
    number = value.strip()
    if not (number.isascii() and number.isdigit()) or int(number) > MAX_ID:
        raise BadRequest(f"The {what} id “{value[:40]}” is not valid.")
    return int(number)


def id_or_404(value: str, what: str) -> int:
    """An id from the path; 404 when it is not one (there is no such page)."""
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        raise WebError(404, f"There is no {what} “{value[:40]}” here.")
    return int(value)


def text_or_none(value: str | None, what: str, max_length: int) -> str | None:
    """Text from the query string, stripped, None when blank; 400 when longer than allowed."""
    text = (value or "").strip()
    if len(text) > max_length:
        raise BadRequest(f"invalid parameters: {what}: at most {max_length} characters")
    return text or None


def nul_fields(scope: Scope) -> list[str]:
    """The query-string fields whose name or value holds NUL."""
    query = scope.get("query_string", b"")
    if b"\x00" not in unquote_to_bytes(query):
        return []
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return sorted({name.replace("\x00", "") or "query" for name, value in pairs if "\x00" in name + value}) or ["query"]


class RefuseNul:
    """400 for a request whose query string holds a NUL character (a path that does is no page
    here: each path parameter refuses it as it refuses any other unknown value)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fields = nul_fields(scope) if scope["type"] == "http" else []
        if fields:
            refusal = BadRequest(f"invalid parameters: {', '.join(fields)} must not contain NUL")
            await (await respond_later(Request(scope, receive), refusal))(scope, receive, send)
            return
        await self.app(scope, receive, send)
