"""Who is asking: the signed-in user of each request, found once.

``Identify`` (an ASGI middleware) reads ``Authorization: Bearer TOKEN`` (an API token), else the
session cookie, and resolves it through ``newswire.accounts`` (the store is synchronous):

- for a request that changes something, at once, in a worker thread, since the checks after it
  (``csrf``, ``origin``) need to know;
- for a GET or HEAD, where it is first asked for (``current_user``): on the route's own worker
  thread, so a signed-in reader's page makes one hand-over to a thread, not two. That second
  hand-over doubled the signed-in wire's latency with four pages in flight (p50 25 → 12 ms).
  Async code on the event loop awaits ``identified`` instead, which resolves off the loop.

Routes, templates and the other checks then read it without I/O:

    current_user(request)   the User, or None
    signed_in_by(request)   "bearer", "session" or None
    csrf_token(request)     the form token of this browser (see below)

Feeds out also take ``?token=API_TOKEN`` on GET, for feed readers that cannot send headers.

CSRF tokens are an HMAC, under a server secret kept in the database (``Store.server_secret``),
of the session token, or, for a browser not signed in (the sign-in and first-run forms), of a
random ``newswire_csrf`` cookie: one per session, nothing more to store, the same on every node.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal
from urllib.parse import parse_qs

import anyio.to_thread
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from newswire import accounts
from newswire.models import User
from newswire.web.state import is_feed_path, store_of

SESSION_COOKIE = "newswire_session"
ANON_COOKIE = "newswire_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

Via = Literal["bearer", "session"]
# Requests that change nothing. Their identity is resolved lazily, so the checks that read
# ``via`` from the scope (``csrf``, ``origin``) must skip exactly these: they import this set.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PENDING = "identity_pending"


class Identify:
    """Puts ``user``, ``via`` and ``session_token`` on each HTTP request's state. A request with
    no token and no cookie of ours costs nothing: no thread, no query."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        bearer = _bearer(connection)
        session = connection.cookies.get(SESSION_COOKIE, "")
        state = scope.setdefault("state", {})
        if not (bearer or session or connection.cookies.get(ANON_COOKIE)):
            state.update(user=None, via=None, session_token="")
        elif scope["method"] in SAFE_METHODS:
            state[_PENDING] = (bearer, session)  # resolved where first asked for (``_settle``)
        else:
            user, via = await anyio.to_thread.run_sync(_resolve, connection, bearer, session)
            state.update(user=user, via=via, session_token=session if via == "session" else "")
        await self.app(scope, receive, send)


def _settle(connection: HTTPConnection) -> None:
    """Resolve a GET's identity now, if it is still pending (call off the event loop)."""
    state = connection.scope.setdefault("state", {})
    pending = state.pop(_PENDING, None)
    if pending is not None:
        bearer, session = pending
        user, via = _resolve(connection, bearer, session)
        state.update(user=user, via=via, session_token=session if via == "session" else "")


async def identified(connection: HTTPConnection) -> User | None:
    """``current_user`` for code on the event loop: a pending identity is resolved on a worker
    thread."""
    if _PENDING in connection.scope.get("state", {}):
        await anyio.to_thread.run_sync(_settle, connection)
    return current_user(connection)


def _resolve(connection: HTTPConnection, bearer: str, session: str) -> tuple[User | None, Via | None]:
    store = store_of(connection)
    load_csrf_secret(connection)
    if bearer:
        user = accounts.user_for_token(store, bearer)
        return (user, "bearer") if user else (None, None)
    if session:
        user = accounts.user_for_session(store, session)
        return (user, "session") if user else (None, None)
    return None, None


def load_csrf_secret(connection: HTTPConnection) -> str:
    """The server's CSRF key, read from the store once per app (call off the event loop)."""
    state = connection.app.state
    if getattr(state, "csrf_secret", None) is None:
        state.csrf_secret = store_of(connection).server_secret("csrf")
    return state.csrf_secret


def _bearer(connection: HTTPConnection) -> str:
    """An API token from ``Authorization: Bearer``, or from ``?token=`` on a feed's GET."""
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if connection.scope["method"] in ("GET", "HEAD") and is_feed_path(connection.url.path):
        return parse_qs(connection.url.query).get("token", [""])[0]
    return ""


def current_user(request: HTTPConnection) -> User | None:
    """The signed-in user (session cookie or Bearer token), or None. On a GET it may look the
    user up (once): call it from the route's thread, or await ``identified`` on the loop."""
    _settle(request)
    return getattr(request.state, "user", None)


def signed_in_by(request: HTTPConnection) -> Via | None:
    _settle(request)
    return getattr(request.state, "via", None)


def session_token(request: HTTPConnection) -> str:
    _settle(request)
    return getattr(request.state, "session_token", "")


def _sign(request: HTTPConnection, basis: str) -> str:
    secret = getattr(request.app.state, "csrf_secret", None) or load_csrf_secret(request)
    return hmac.new(secret.encode(), basis.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: HTTPConnection) -> str:
    """The token this browser's forms carry: bound to its session, or to its ``newswire_csrf``
    cookie when not signed in (empty when it has neither yet; see ``anonymous_csrf``)."""
    if session_token(request):
        return _sign(request, "session:" + session_token(request))
    anon = getattr(request.state, "anon_csrf", "") or request.cookies.get(ANON_COOKIE, "")
    return _sign(request, "anon:" + anon) if anon else ""


def csrf_matches(request: HTTPConnection, given: str) -> bool:
    expected = csrf_token(request)
    return bool(expected) and hmac.compare_digest(expected, given or "")


def page_context(request: Request) -> dict[str, object]:
    """What every page template sees: the user, for "Hello, NAME", and the form token."""
    return {"me": current_user(request), "csrf_token": csrf_token(request)}
