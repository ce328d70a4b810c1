"""The web's one error boundary: every failure a route raises becomes a response here.

    route raises ─► handler (by exception class) ─► status ─► JSON for machine paths
                                                             └► error page for the reader's

Paths that belong to machines (``/api/``, feeds out, ``/healthz``, ``/metrics``, the OpenAPI
document) get JSON ``{"message": …, "status": …}``; every other path gets the friendly HTML page.
``install`` registers the handlers on the app.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from newswire.errors import NotFound
from newswire.web.view import render_page

log = logging.getLogger(__name__)


class PageError(Exception):
    """Raised by a route to answer with the friendly error page."""

    def __init__(self, status: int, title: str, message: str):
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


MACHINE_PATHS = ("/api/", "/healthz", "/metrics", "/openapi.json", "/docs", "/redoc")


def wants_json(path: str) -> bool:
    """Paths whose errors are JSON: the API, feeds out and the operations endpoints."""
    if path.startswith(MACHINE_PATHS):
        return True
    return path.rstrip("/").rsplit("/", 1)[-1].startswith("feed.")


def json_error(status: int, message: str, headers: Mapping[str, str] | None = None,
               **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, "status": status, **extra}, status_code=status,
                        headers=dict(headers or {}))


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render_page(request, "error.html", {"status": status, "title": title, "message": message}, status)


_TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           500: "Something went wrong", 503: "Unavailable"}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(status, "Error")
    if wants_json(request.url.path):
        extra = {} if isinstance(exc.detail, str) else {"detail": exc.detail}
        return json_error(status, detail, exc.headers, **extra)
    message = {404: "There is no page at this address.",
               405: "This address does not answer that kind of request."}.get(status, detail)
    page = error_page(request, status, _TITLES.get(status, "Error"), message)
    for name, value in (exc.headers or {}).items():
        page.headers[name] = value
    return page


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(e) for e in exc.errors()]
    message = "; ".join(problems) or "invalid request"
    if wants_json(request.url.path):
        return json_error(422, message)
    return error_page(request, 400, "Bad request", message[:1].upper() + message[1:] + ".")


def _describe(error: Mapping[str, Any]) -> str:
    where = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body", "header")]
    field = ".".join(where) or "request"
    return f"{field}: {error.get('msg', 'invalid')}"


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    if wants_json(request.url.path):
        return json_error(exc.status, exc.message)
    return error_page(request, exc.status, exc.title, exc.message)


async def _not_found(request: Request, exc: Exception) -> Response:
    if wants_json(request.url.path):
        return json_error(404, str(exc))
    return error_page(request, 404, "Not found", "There is nothing here by that name.")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("web: %s %s failed", request.method, request.url.path, exc_info=exc)
    if wants_json(request.url.path):
        return json_error(500, "internal error: the server could not answer this request")
    try:
        return error_page(request, 500, "Something went wrong",
                          "The newswire could not show this page. Try again in a moment.")
    except Exception:  # the error page itself failed: plain text is all that is left
        return HTMLResponse("<h1>Something went wrong</h1>", status_code=500)


def install(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""
    handlers: Iterable[tuple[Any, Any]] = (
        (StarletteHTTPException, _http_error),
        (RequestValidationError, _validation_error),
        (PageError, _page_error),
        (NotFound, _not_found),
        (Exception, _server_error),
    )
    for exc_class, handler in handlers:
        app.add_exception_handler(exc_class, handler)
