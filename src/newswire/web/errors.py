"""The web's one error boundary: whatever a request raises becomes one response, here.

    exception ─► classify(): (status, title, message) ─► JSON  {"message", "status"} (machine paths)
                                                      └► the error page, error.html     (reader paths)

The same error gets the same status on every path: a bad parameter or cursor 400, ``NotFound``
404, a wrong method 405 (with ``Allow``), a database failure (``StorageError``) 503, anything
else 500 with nothing of its internals shown. Machine paths are the API, the feeds out, the
operations endpoints and the OpenAPI document (``wants_json``).

Routes raise, never write errors themselves: ``WebError`` (or ``BadRequest``) for what they refuse,
the store's own errors for the rest. ``install`` registers one handler per exception class on
the app, and ``ErrorBoundary`` (an ASGI middleware just outside the router) catches what no
handler claims, so a 500 still passes through the app's other middleware (security headers).
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newswire.errors import NewswireError, NotFound, StorageError
from newswire.web.state import is_feed_path
from newswire.web.view import render_page

log = logging.getLogger(__name__)


class WebError(Exception):
    """A request the web refuses: its status, and a message fit for the reader and the client."""

    def __init__(self, status: int, message: str, title: str | None = None,
                 headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status, self.message = status, message
        self.title = title or TITLES.get(status, "Error")
        self.headers = dict(headers or {})  # e.g. Location on a 303 to the sign-in page, Retry-After


class BadRequest(WebError, ValueError):
    """A parameter validation could not catch (a cursor, a number too large): 400."""

    def __init__(self, message: str):
        super().__init__(400, message)


TITLES = {303: "Sign in", 400: "Bad request", 401: "Sign in needed", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          413: "Too large", 429: "Too many attempts", 500: "Something went wrong", 503: "Unavailable"}
_PAGE_WORDS = {404: "There is no page at this address.",
               405: "This address does not answer that kind of request.",
               500: "The newswire could not show this page. Try again in a moment.",
               503: "The newswire cannot read its database just now. Try again in a moment."}
_JSON_WORDS = {500: "internal server error", 503: "the database is unavailable"}

MACHINE_PATHS = ("/api/", "/fever", "/healthz", "/metrics", "/openapi.json")  # /fever: the Fever API


def wants_json(path: str) -> bool:
    """Paths whose errors are JSON: the API, feeds out and the operations endpoints."""
    return path.startswith(MACHINE_PATHS) or is_feed_path(path)


def json_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The one JSON error document: ``{"message": …, "status": …}``."""
    return JSONResponse({"message": message, "status": status}, status_code=status, headers=dict(headers or {}))


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """The one HTML error page; plain markup if the page itself cannot be rendered."""
    try:
        return render_page(request, "error.html", {"status": status, "title": title, "message": message}, status)
    except Exception:  # the template failed too: plain markup is all that is left
        log.exception("web: the error page could not be rendered")
        return HTMLResponse(f"<h1>{TITLES.get(status, 'Error')}</h1>", status_code=status)


def classify(exc: BaseException) -> tuple[int, str, str | None, Mapping[str, str]]:
    """(status, message, words for the page or None for the default, headers) for ``exc``."""
    if isinstance(exc, WebError):
        return exc.status, exc.message, exc.message, exc.headers
    if isinstance(exc, RequestValidationError):
        message = validation_message(exc)
        return 400, message, message[:1].upper() + message[1:] + ".", {}
    if isinstance(exc, StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        generic = detail in (TITLES.get(exc.status_code), "Not Found", "Method Not Allowed")
        return exc.status_code, detail, None if generic else detail, exc.headers or {}
    if isinstance(exc, NotFound):
        return 404, str(exc).removeprefix("store: "), None, {}
    if isinstance(exc, StorageError):
        return 503, _JSON_WORDS[503], None, {}
    return 500, _JSON_WORDS[500], None, {}


def respond(request: Request, exc: BaseException) -> Response:
    """The response for ``exc``: JSON on machine paths, the error page elsewhere."""
    status, message, words, headers = classify(exc)
    if status == 405:
        headers = {**headers, "Allow": allowed_methods(request)}
    if status >= 500:
        log.error("web: %s %s failed (%d)", request.method, request.url.path, status, exc_info=exc)
    if wants_json(request.url.path):
        return json_error(status, message, headers)
    page = error_page(request, status, TITLES.get(status, "Error"), words or _PAGE_WORDS.get(status, message))
    page.headers.update(headers)
    return page


def allowed_methods(request: Request) -> str:
    """Every method some route answers at this path: a path's methods may be spread over
    routers (reading in ``api``, changing in ``admin_api``), and Starlette's 405 names only the
    first route's."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.methods and compile_path(route.path)[0].match(request.url.path):
            methods |= set(route.methods)
    return ", ".join(sorted(methods))


def validation_message(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("query", "path", "body", "header"))
        parts.append(f"{where}: {item.get('msg', 'invalid')}" if where else str(item.get("msg", "invalid")))
    return "invalid parameters: " + ("; ".join(parts) or "invalid request")


async def respond_later(request: Request, exc: BaseException) -> Response:
    """``respond`` from the event loop: the error page greets who asks, and a GET's pending
    identity is looked up off the loop first (``identity.identified``)."""
    from newswire.web.identity import identified

    await identified(request)
    return respond(request, exc)


async def _handle(request: Request, exc: Exception) -> Response:
    return await respond_later(request, exc)


class ErrorBoundary:
    """Catches what no handler claimed (a bug) and answers 500 through ``respond``, inside the
    app's middleware; an error after the response has started can only end the connection."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            request = Request(scope, receive)
            await (await respond_later(request, exc))(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app`` and put ``ErrorBoundary`` innermost; call it before
    adding any other middleware so that theirs wrap its answers."""
    handled: tuple[Any, ...] = (StarletteHTTPException, RequestValidationError, WebError, NewswireError)
    for exc_class in handled:
        app.add_exception_handler(exc_class, _handle)
    app.add_middleware(ErrorBoundary)
