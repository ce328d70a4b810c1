"""Each reader's own newswire: the routes that change a signed-in reader's state, and the
pages of what they saved and follow.

Every route here needs a signed-in user (``require_user``: a session or an API token) and
changes only that user's state, never the shared sources; they are the per-reader routes the
route-table test exempts from admin-only (``router`` is the list). Forms carry the session's
CSRF token (checked by the ``csrf`` middleware); ``static/newswire.js`` posts the same forms
with ``X-CSRF-Token`` and ``Accept: application/json`` for the keys ``m``, ``s`` and ``A``, and
gets JSON back instead of a redirect.

    POST /articles/{id}/read     read=1|0          mark read or unread
    POST /articles/{id}/save     saved=1|0         star or unstar
    POST /read-all               source, author, story, category, q, up_to_id: mark this view read
    POST /prefs/sources/{id}     muted=1|0, followed=1|0
    POST /prefs/authors/{name}   muted=1|0, followed=1|0
    POST /prefs/stories/{id}     followed=1|0
    GET  /saved, /saved/feed.atom   saved articles (the feed takes ?token=API_TOKEN)
    GET  /following              articles from followed sources, authors and stories
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from newswire.errors import NotFound
from newswire.models import User
from newswire.web.account_pages import safe_next
from newswire.web.admin import read_form
from newswire.web.auth import require_user
from newswire.web.errors import BadRequest, WebError
from newswire.web.feeds import head_of, serve_feed
from newswire.web.inputs import MAX_AUTHOR, MAX_CATEGORY, MAX_QUERY, id_or_404, int_or_none, text_or_none
from newswire.web.reader_view import reader_context
from newswire.web.state import store_of
from newswire.web.view import render_page
from newswire.web.wire_pages import wire_items

SAVED_PAGE_SIZE = 50
FEED_SIZE = 50

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_user)])


def _flag(form: dict[str, str], name: str, default: bool | None = None) -> bool | None:
    """A form's 1/0 field; 400 for anything else."""
    value = form.get(name)
    if value is None or value == "":
        return default
    if value not in ("0", "1"):
        raise BadRequest(f"invalid form: {name} must be 1 or 0")
    return value == "1"


def _answer(request: Request, form: dict[str, str], fallback: str, **state: Any) -> Response:
    """JSON for the page's script, else back to the page the form was on."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, **state})
    return RedirectResponse(safe_next(form.get("next") or fallback), status_code=303)


async def _change(request: Request, change: Callable[[], object]) -> None:
    try:
        await run_in_threadpool(change)
    except NotFound as error:
        raise WebError(404, str(error).removeprefix("store: ").capitalize() + ".") from None


async def _set_article_flag(request: Request, article_id: str, name: str,
                            apply: Callable[[int, bool], object]) -> Response:
    """One article's read or saved flag from the form's ``name`` field (default: set), through
    ``apply(article id, value)``; answers as every reader route does."""
    number = id_or_404(article_id, "article")
    form = await read_form(request)
    value = _flag(form, name, True)
    await _change(request, lambda: apply(number, bool(value)))
    return _answer(request, form, f"/articles/{number}", id=number, **{name: value})


@router.post("/articles/{article_id}/read")
async def mark_read(request: Request, article_id: str, user: User = Depends(require_user)) -> Response:
    return await _set_article_flag(request, article_id, "read",
                                   lambda number, read: store_of(request).mark_read(user.id, [number], read))


@router.post("/articles/{article_id}/save")
async def save(request: Request, article_id: str, user: User = Depends(require_user)) -> Response:
    return await _set_article_flag(request, article_id, "saved",
                                   lambda number, saved: store_of(request).set_saved(user.id, [number], saved))


@router.post("/read-all")
async def read_all(request: Request, user: User = Depends(require_user)) -> Response:
    """Mark the view the form was on read, up to the newest article stored when it was shown."""
    form = await read_form(request)
    up_to_id = int_or_none(form.get("up_to_id"), "article")
    if up_to_id is None:
        raise BadRequest("invalid form: up_to_id is required (the newest article the page showed)")
    scope = dict(source_id=int_or_none(form.get("source"), "source"),
                 author=text_or_none(form.get("author"), "author", MAX_AUTHOR),
                 story_id=int_or_none(form.get("story"), "story"),
                 category=text_or_none(form.get("category"), "category", MAX_CATEGORY),
                 query=text_or_none(form.get("q"), "q", MAX_QUERY))
    await _change(request, lambda: store_of(request).mark_all_read(user.id, up_to_id=up_to_id, **scope))
    return _answer(request, form, "/")


def _pref_values(form: dict[str, str]) -> dict[str, bool | None]:
    return {"muted": _flag(form, "muted"), "followed": _flag(form, "followed")}


@router.post("/prefs/sources/{source_id}")
async def source_pref(request: Request, source_id: str, user: User = Depends(require_user)) -> Response:
    number = id_or_404(source_id, "source")
    form = await read_form(request)
    values = _pref_values(form)
    await _change(request, lambda: store_of(request).set_source_pref(user.id, number, **values))
    return _answer(request, form, f"/sources/{number}", **values)


@router.post("/prefs/authors/{name:path}")
async def author_pref(request: Request, name: str, user: User = Depends(require_user)) -> Response:
    if not name or len(name) > MAX_AUTHOR or "\x00" in name:
        raise WebError(404, "There is no such author here.")
    form = await read_form(request)
    values = _pref_values(form)
    await _change(request, lambda: store_of(request).set_author_pref(user.id, name, **values))
    return _answer(request, form, "/", **values)


@router.post("/prefs/stories/{story_id}")
async def story_pref(request: Request, story_id: str, user: User = Depends(require_user)) -> Response:
    number = id_or_404(story_id, "story")
    form = await read_form(request)
    followed = bool(_flag(form, "followed", True))
    await _change(request, lambda: store_of(request).set_story_followed(user.id, number, followed))
    return _answer(request, form, f"/stories/{number}", followed=followed)


# -- pages of the reader's own

@router.get("/saved", response_class=HTMLResponse)
def saved_page(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    """What the reader starred, the most recently stored first."""
    store = store_of(request)
    items = wire_items(store, store.get_articles(store.saved_ids(user.id, limit=SAVED_PAGE_SIZE)))
    context = reader_context(request, items, newest_id=store.last_article_id())
    return render_page(request, "wire.html", {**context, "items": items, "heading": "Saved", "kicker": "Yours",
                                              "feed_url": "/saved/feed.atom", "read_all": None,
                                              "empty_note": "Nothing saved yet: press s on an article, "
                                                            "or its ☆ Save button."})


@router.get("/saved/feed.atom")
def saved_feed(request: Request, user: User = Depends(require_user)) -> Response:
    """The saved articles as Atom; for feed readers, ``?token=API_TOKEN`` signs in. Private:
    no shared cache may keep it."""
    store = store_of(request)
    with store.snapshot():  # the feed's reads: one transaction
        stamps = store.stamps_of(store.saved_ids(user.id, limit=FEED_SIZE))
        head = head_of(request, title=f"Newswire — saved by {user.name}", description="Articles saved on Newswire",
                       home_path="/saved")
        return serve_feed(request, "atom", replace(head, shared=False), stamps)


@router.get("/following", response_class=HTMLResponse)
def following_page(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    """The newest articles from the sources, authors and stories the reader follows."""
    store = store_of(request)
    newest = store.last_article_id()
    page = store.list_articles(followed_by=user.id, limit=SAVED_PAGE_SIZE, include_copies=True)
    items = wire_items(store, page.items)
    context = reader_context(request, items, newest_id=newest)
    return render_page(request, "wire.html", {**context, "items": items, "heading": "Following", "kicker": "Yours",
                                              "read_all": None,
                                              "empty_note": "Follow a source, an author or a story (their pages "
                                                            "have a Follow button) and their newest articles "
                                                            "gather here."})


# Paths here that change something, for the route-table test's list of per-reader routes.
MUTATING_PATHS = frozenset(route.path for route in router.routes if "POST" in getattr(route, "methods", ()))
