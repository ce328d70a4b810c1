"""The reader's pages: the wire, article, source, author, search and the sources admin.

Server-rendered with Jinja2 from ``templates/``; CSS and a little JS from ``static/``. Every
route reads through ``app.state.store``; sync ``def`` routes run in FastAPI's threadpool, async
ones (adding a feed) hand their store calls to a thread. One partial, ``_item.html``, renders a
wire item, here and in the live stream (``live.py``), so a pushed item looks exactly like a
served one.

Errors: ``install`` registers the app's exception handlers. HTML routes get a friendly page;
paths that belong to machines (``/api/``, feeds, ``/healthz``, ``/metrics``) get JSON
``{"message": …, "status": …}``.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from newswire.errors import NewswireError, NotFound
from newswire.models import Article, SearchHit, Source
from newswire.store import Store
from newswire.web.display import format_when

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
WIRE_PAGE_SIZE = 30
SIDEBAR_SIZE = 20
SEARCH_LIMIT = 20

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))


# -- what a wire item shows, from a listing or a search hit

@dataclass(frozen=True, slots=True)
class WireItem:
    id: int
    title: str
    source_id: int
    source_name: str
    authors: tuple[str, ...]
    published_at: datetime
    snippet: str  # plain text, escaped when rendered
    snippet_html: Markup | None = None  # search hits: <mark>ed, everything else escaped by the store
    also_in: tuple[tuple[int, str], ...] = ()  # its syndicated copies: (article id, source name)
    coverage: tuple[int, int] | None = None  # (story id, sources) when its story has two sources or more

    @classmethod
    def of(cls, article: Article, also_in: Iterable[tuple[int, str]] = ()) -> "WireItem":
        return cls(article.id, article.title, article.source_id, article.source_name, article.authors,
                   article.published_at, article.snippet or article.summary, also_in=tuple(also_in))

    @classmethod
    def of_hit(cls, hit: SearchHit) -> "WireItem":
        return cls(hit.article_id, hit.title, hit.source_id, hit.source_name, hit.authors,
                   hit.published_at, "", Markup(hit.snippet))


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return format_when(moment, zone)


def _path_quote(value: str) -> str:
    return quote(value, safe="")


def _safe_href(url: str | None) -> str | None:
    """Only web links are rendered as links (no ``javascript:`` from a feed)."""
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        return url
    return None


templates.env.filters["when"] = _when
templates.env.filters["pathq"] = _path_quote
templates.env.filters["safe_href"] = _safe_href
templates.env.globals["urlencode"] = urlencode


def render_item(item: WireItem, zone: ZoneInfo, *, level: int = 2) -> str:
    """The HTML of one wire item (an ``<li>``), as the page and the live stream send it."""
    return templates.get_template("_item.html").render(item=item, zone=zone, level=level)


def _store(request: Request) -> Store:
    return request.app.state.store


def _zone(request: Request) -> ZoneInfo:
    return request.app.state.zone


def _page(request: Request, name: str, context: Mapping[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"zone": _zone(request), **context}, status_code=status)


def _error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return _page(request, "error.html", {"status": status, "title": title, "message": message}, status)


class PageError(Exception):
    """Raised by a route to answer with the friendly error page."""

    def __init__(self, status: int, title: str, message: str):
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def _int_or_none(value: str | None, what: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    if not value.strip().isdigit():
        raise PageError(400, "Bad request", f"The {what} “{value}” is not a number.")
    return int(value)


def _id_or_404(value: str, what: str) -> int:
    if not value.isdigit():
        raise PageError(404, "Not found", f"There is no {what} “{value}” here.")
    return int(value)


# -- wire listings

def _listing(request: Request, *, before: str | None, source_id: int | None = None,
             author: str | None = None, limit: int = WIRE_PAGE_SIZE) -> tuple[list[WireItem], str | None]:
    try:
        page = _store(request).list_articles(source_id=source_id, author=author, before=before or None,
                                             limit=limit, include_copies=source_id is not None)
    except ValueError:
        raise PageError(400, "Bad request",
                        "That “Older” link is not one this newswire made; start again from the newest.") from None
    also_in = _store(request).also_in([a.id for a in page.items])  # copies: one query for the page
    coverage = _coverage(_store(request), page.items)  # stories: one query for the page
    return [replace(WireItem.of(a, also_in.get(a.id, ())), coverage=coverage.get(a.id)) for a in page.items], page.next


def _coverage(store: Store, articles: Iterable[Article]) -> dict[int, tuple[int, int]]:
    """Article id → (story id, source count) for the articles whose story has ≥ 2 sources."""
    articles = [a for a in articles if a.story_id is not None]
    counts = store.story_counts([a.story_id for a in articles if a.story_id is not None])
    return {a.id: (a.story_id, counts[a.story_id][1]) for a in articles
            if a.story_id in counts and counts[a.story_id][1] >= 2}


def _live_url(source_id: int | None = None, author: str | None = None, level: int = 2) -> str:
    params: dict[str, str | int] = {}
    if source_id is not None:
        params["source"] = source_id
    if author:
        params["author"] = author
    if level != 2:
        params["level"] = level
    return "/live" + ("?" + urlencode(params) if params else "")


def _wire_context(request: Request, *, before: str | None, heading: str, live: str,
                  source_id: int | None = None, author: str | None = None,
                  older_params: Mapping[str, Any] = {}) -> dict[str, Any]:
    """What every wire listing page passes to ``wire.html``. The live mark is read before the
    listing, so an article stored meanwhile comes by the stream (the page drops repeats). Only
    the newest page is live: an "Older" page must not grow at the top."""
    live_after = None if before else _store(request).last_article_id()
    items, next_cursor = _listing(request, before=before, source_id=source_id, author=author)
    kept = {k: v for k, v in older_params.items() if v not in (None, "")}
    older = "?" + urlencode({**kept, "before": next_cursor}) if next_cursor else None
    newest = request.url.path + ("?" + urlencode(kept) if kept else "")
    return {"items": items, "older": older, "newer": newest if before else None, "heading": heading,
            "live_url": None if before else live, "live_after": live_after}


@router.get("/", response_class=HTMLResponse)
def wire(request: Request, before: str | None = None, source: str | None = None,
         author: str | None = None) -> HTMLResponse:
    store = _store(request)
    source_id = _int_or_none(source, "source")
    author = (author or "").strip() or None
    filters: list[tuple[str, str]] = []
    if source_id is not None:
        try:
            filters.append(("Source", store.get_source(source_id).name))
        except NotFound:
            raise PageError(404, "Not found", f"There is no source #{source_id}.") from None
    if author:
        filters.append(("Author", store.author_name(author) or author))
    context = _wire_context(request, before=before, heading="Newswire", live=_live_url(source_id, author),
                            source_id=source_id, author=author,
                            older_params={"source": source_id, "author": author})
    empty = None
    if not context["items"] and not before and not filters:
        sources = store.list_sources()
        empty = {"no_sources": not sources, "starter": _starter_feeds() if not sources else None}
    return _page(request, "wire.html", {**context, "filters": filters, "empty": empty, "feed_url": "/feed.atom"})


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source_page(request: Request, source_id: str, before: str | None = None) -> HTMLResponse:
    number = _id_or_404(source_id, "source")
    try:
        source = _store(request).get_source(number)
    except NotFound:
        raise PageError(404, "Not found", f"There is no source #{number}.") from None
    context = _wire_context(request, before=before, heading=source.name or f"Source #{number}",
                            live=_live_url(source_id=number), source_id=number)
    return _page(request, "wire.html", {**context, "source": source, "kicker": "Source",
                                        "feed_url": f"/sources/{number}/feed.atom"})


@router.get("/authors/{name}", response_class=HTMLResponse)
def author_page(request: Request, name: str, before: str | None = None) -> HTMLResponse:
    display = _store(request).author_name(name)
    if display is None:
        raise PageError(404, "Not found", f"No article here is by “{name}”.")
    context = _wire_context(request, before=before, heading=display, live=_live_url(author=display),
                            author=display)
    return _page(request, "wire.html", {**context, "kicker": "Author",
                                        "feed_url": f"/authors/{_path_quote(display)}/feed.atom"})


# -- one article

@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: str) -> HTMLResponse:
    store = _store(request)
    number = _id_or_404(article_id, "article")
    live_after = store.last_article_id()
    try:
        article = store.get_article(number)
    except NotFound:
        raise PageError(404, "Not found", f"There is no article #{number}; it may have been removed "
                                          "with its source.") from None
    items, _ = _listing(request, before=None, limit=SIDEBAR_SIZE)
    copies, canonical = store.copies_of(number), _canonical(store, article.duplicate_of)
    return _page(request, "article.html", {
        "article": article, "original": _safe_href(article.url), "items": items,
        "copies": copies, "canonical": canonical, "coverage": _coverage(store, [article]).get(article.id),
        "live_url": _live_url(level=3), "live_after": live_after, "live_max": SIDEBAR_SIZE,
    })


def _canonical(store: Store, article_id: int | None) -> Article | None:
    """The article a copy repeats, when it is still stored."""
    if article_id is None:
        return None
    found = store.get_articles([article_id])
    return found[0] if found else None


# -- search

_WORD = re.compile(r"\w")


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", order: str = "newest", before: str | None = None) -> HTMLResponse:
    """Newest matches first by default (a newswire's question is usually "what is new about
    this?"), twenty a page with an "Older matches" cursor; "Best match" ranks recent matches."""
    q = q.strip()[:500]
    order = "rank" if order == "rank" else "newest"
    items: list[WireItem] = []
    message = older = None
    if not q:
        message = ("Search every stored article: words, “a phrase in quotes”, or a prefix with a star "
                   "(harbo*).")
    elif not _WORD.search(q):
        message = f"“{q}” holds no words to search for. Try a name, a place or a phrase."
    else:
        store = _store(request)
        try:
            hits = store.search(q, limit=SEARCH_LIMIT, order=order, before=before)
        except ValueError:
            raise StarletteHTTPException(400, "That link to older matches is not valid.") from None
        items = [WireItem.of_hit(hit) for hit in hits]
        if order == "newest" and len(hits) == SEARCH_LIMIT:
            last = hits[-1]
            older = "/search?" + urlencode({"q": q, "order": order,
                                            "before": store.cursor_after(last.published_at, last.article_id)})
        if not items:
            message = f"No {'older ' if before else ''}articles match “{q}”."
    return _page(request, "search.html", {
        "q": q, "order": order, "items": items, "message": message, "older": older, "more": bool(before),
        "feed_url": "/feed.atom?" + urlencode({"q": q}) if q else None,
    })


# -- the sources admin

class _Flash:
    """One-shot messages carried across a POST-redirect-GET by a random token (never the text
    itself in the URL, so nobody can craft a link that shows a message of their choosing)."""

    def __init__(self, size: int = 200):
        self._items: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def put(self, kind: str, text: str) -> str:
        token = secrets.token_urlsafe(9)
        with self._lock:
            self._items[token] = (kind, text)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return token

    def pop(self, token: str | None) -> tuple[str, str] | None:
        if not token:
            return None
        with self._lock:
            return self._items.pop(token, None)


def _flash(request: Request) -> _Flash:
    return request.app.state.flash


def _back_to_sources(request: Request, kind: str, text: str) -> RedirectResponse:
    return RedirectResponse("/sources?" + urlencode({"flash": _flash(request).put(kind, text)}), status_code=303)


def _same_origin(request: Request) -> bool:
    """Refuse cross-site form posts (a page elsewhere must not add or remove our sources)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc == request.headers.get("host", "")
    return True


def _check_origin(request: Request) -> None:
    if not _same_origin(request):
        raise PageError(403, "Forbidden", "Sources can only be changed from this site's own Sources page.")


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, flash: str | None = None) -> HTMLResponse:
    sources = _store(request).list_sources()
    return _page(request, "sources.html", {
        "sources": sources, "notice": _flash(request).pop(flash),
        "starter": _starter_feeds() if not sources else None,
    })


MAX_FORM_BYTES = 16384


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (first value of each); no multipart needed for these forms."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PageError(413, "Too large", "That form is larger than this page accepts.")
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)
    return fields


@router.post("/sources")
async def add_source(request: Request) -> Response:
    from newswire.fetch import Fetcher
    from newswire.service.subscribe import follow

    _check_origin(request)
    form = await _form(request)
    url, name, full_text = form.get("url", "").strip(), form.get("name", ""), form.get("full_text", "")
    if not url:
        return _back_to_sources(request, "error", "Enter the address of a feed or of a site that has one.")
    if "://" not in url:
        url = "https://" + url
    store = _store(request)
    try:
        async with Fetcher() as fetcher:
            source = await follow(store, fetcher, url, name=name.strip() or None, full_text=bool(full_text))
            fetched = await _first_fetch(store, fetcher, source)
    except NewswireError as error:
        return _back_to_sources(request, "error", f"Could not follow {url}: {_in_words(error)}")
    return _back_to_sources(request, "ok", f"Now following {source.name}. {fetched}")


async def _first_fetch(store: Store, fetcher: Any, source: Source) -> str:
    """Fetch a newly followed source once, so its articles show at once."""
    from newswire.service.update import Refresher

    try:
        async with Refresher(store, fetcher) as refresher:
            result = await refresher.refresh(source)
    except NewswireError as error:  # the source stays followed; the scheduler retries
        return f"Its first fetch failed ({_in_words(error)}); it will be retried."
    if result.outcome == "failed":
        return f"Its first fetch failed ({result.error or result.reason}); it will be retried."
    return f"{result.new} article{'s' if result.new != 1 else ''} stored."


def _in_words(error: Exception) -> str:
    """An error's message without the stage prefix (``fetch: ``) meant for logs."""
    text = str(error) or error.__class__.__name__
    return re.sub(r"^[a-z]+: ", "", text)


@router.post("/sources/starter")
def follow_starter(request: Request) -> Response:
    from newswire.service.subscribe import import_opml

    _check_origin(request)
    data = _starter_opml()
    if data is None:
        return _back_to_sources(request, "error", "This installation has no starter list.")
    try:
        summary = import_opml(_store(request), data)
    except NewswireError as error:
        return _back_to_sources(request, "error", f"Could not import the starter list: {_in_words(error)}")
    return _back_to_sources(request, "ok", f"Following {summary.added} starter source"
                                           f"{'s' if summary.added != 1 else ''}"
                                           f"{f' ({summary.already_followed} already followed)' if summary.already_followed else ''}"
                                           ". Their articles arrive on the next fetch pass.")


def _source_action(request: Request, source_id: str, action: str) -> Response:
    _check_origin(request)
    store = _store(request)
    number = _id_or_404(source_id, "source")
    try:
        source = store.get_source(number)
        if action == "remove":
            store.remove_source(number)
            return _back_to_sources(request, "ok", f"Removed {source.name} and its {source.article_count} "
                                                   f"article{'s' if source.article_count != 1 else ''}.")
        store.set_enabled(number, action == "resume")
    except NotFound:
        return _back_to_sources(request, "error", f"There is no source #{number} (already removed?).")
    verb = "Resumed" if action == "resume" else "Paused"
    return _back_to_sources(request, "ok", f"{verb} {source.name}.")


@router.post("/sources/{source_id}/pause")
def pause_source(request: Request, source_id: str) -> Response:
    return _source_action(request, source_id, "pause")


@router.post("/sources/{source_id}/resume")
def resume_source(request: Request, source_id: str) -> Response:
    return _source_action(request, source_id, "resume")


@router.post("/sources/{source_id}/remove")
def remove_source(request: Request, source_id: str) -> Response:
    return _source_action(request, source_id, "remove")


# -- the starter list (shipped by newswire.sources.starter when present)

def _starter_feeds() -> list[Any] | None:
    try:
        from newswire.sources import starter  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        return list(starter.starter_feeds())
    except (NewswireError, OSError):
        log.exception("pages: the starter list could not be read")
        return None


def _starter_opml() -> bytes | None:
    try:
        from newswire.sources import starter  # type: ignore[attr-defined]
    except ImportError:
        return None
    for name in ("starter_opml_bytes", "starter_opml"):
        reader = getattr(starter, name, None)
        if callable(reader):
            return reader()
    from newswire.sources.opml import write_opml

    feeds = _starter_feeds()
    return write_opml(feeds).encode("utf-8") if feeds else None


# -- install: static files, live stream, error pages

MACHINE_PATHS = ("/api/", "/healthz", "/metrics", "/openapi.json", "/docs", "/redoc")


def wants_json(path: str) -> bool:
    """Paths whose errors are JSON: the API, feeds out and the operations endpoints."""
    if path.startswith(MACHINE_PATHS):
        return True
    return path.rstrip("/").rsplit("/", 1)[-1].startswith("feed.")


def _json_error(status: int, message: str, headers: Mapping[str, str] | None = None,
                **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, "status": status, **extra}, status_code=status,
                        headers=dict(headers or {}))


_TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           500: "Something went wrong", 503: "Unavailable"}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(status, "Error")
    if wants_json(request.url.path):
        extra = {} if isinstance(exc.detail, str) else {"detail": exc.detail}
        return _json_error(status, detail, exc.headers, **extra)
    message = {404: "There is no page at this address.",
               405: "This address does not answer that kind of request."}.get(status, detail)
    page = _error_page(request, status, _TITLES.get(status, "Error"), message)
    for name, value in (exc.headers or {}).items():
        page.headers[name] = value
    return page


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(e) for e in exc.errors()]
    message = "; ".join(problems) or "invalid request"
    if wants_json(request.url.path):
        return _json_error(422, message)
    return _error_page(request, 400, "Bad request", message[:1].upper() + message[1:] + ".")


def _describe(error: Mapping[str, Any]) -> str:
    where = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body", "header")]
    field = ".".join(where) or "request"
    return f"{field}: {error.get('msg', 'invalid')}"


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    if wants_json(request.url.path):
        return _json_error(exc.status, exc.message)
    return _error_page(request, exc.status, exc.title, exc.message)


async def _not_found(request: Request, exc: Exception) -> Response:
    if wants_json(request.url.path):
        return _json_error(404, str(exc))
    return _error_page(request, 404, "Not found", "There is nothing here by that name.")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("pages: %s %s failed", request.method, request.url.path, exc_info=exc)
    if wants_json(request.url.path):
        return _json_error(500, "internal error: the server could not answer this request")
    try:
        return _error_page(request, 500, "Something went wrong",
                           "The newswire could not show this page. Try again in a moment.")
    except Exception:  # the error page itself failed: plain text is all that is left
        return HTMLResponse("<h1>Something went wrong</h1>", status_code=500)


def install(app: FastAPI) -> None:
    """Mount static files, the live stream and the error pages."""
    from newswire.web import live

    app.state.flash = _Flash()
    app.include_router(live.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    handlers: Iterable[tuple[Any, Any]] = (
        (StarletteHTTPException, _http_error),
        (RequestValidationError, _validation_error),
        (PageError, _page_error),
        (NotFound, _not_found),
        (Exception, _server_error),
    )
    for exc_class, handler in handlers:
        app.add_exception_handler(exc_class, handler)
