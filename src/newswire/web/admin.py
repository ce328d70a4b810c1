"""The sources admin: the ``/sources`` page and its forms (follow a feed, follow the starter
list, refresh now, pause, resume, remove, the per-source stories switch). Editing a source is in
``admin_edit``, OPML import and export in ``admin_opml``.

The page lists the sources with their health in words (``sources.failures``), filtered by
category and by health, and says how many are failing. A failed "Follow" shows the page again
with what was typed, so the admin corrects it rather than types it again.

Every form posts, then redirects back to ``/sources`` with a one-shot message (POST-redirect-GET);
the message travels as a random token into ``FlashMessages``, never as text in the URL. Posts
from other sites never get here: ``origin.CrossSiteCheck`` refuses them for every route.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fastapi.concurrency import run_in_threadpool

from newswire.errors import NewswireError, NotFound, SourceExistsError
from newswire.models import Source
from newswire.store import Store
from newswire.service.decide import failure_reason
from newswire.service.update import UpdateResult
from newswire.sources.failures import failure_in_words
from newswire.sources.opml import OpmlFeed
from newswire.sources.starter import starter_feeds, starter_opml_bytes
from newswire.web.categories import category_counts, category_or_none, is_under
from newswire.web.errors import BadRequest, WebError
from newswire.web.inputs import MAX_CATEGORY, id_or_404, text_or_none
from newswire.web.reader_view import unread_context
from newswire.web.state import settings_of, store_of
from newswire.web.view import render_page

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 16384

router = APIRouter(include_in_schema=False)


class FlashMessages:
    """One-shot messages carried across a POST-redirect-GET by a random token (never the text
    itself in the URL, so nobody can craft a link that shows a message of their choosing). Kept
    in the database (``Store.put_notice``), because with ``serve --workers`` the GET that the
    redirect opens may reach another process than the POST did."""

    def __init__(self, store: Store):
        self._store = store

    def put(self, kind: str, text: str) -> str:
        return self._store.put_notice(kind, text)

    def pop(self, token: str | None) -> tuple[str, str] | None:
        return self._store.take_notice(token)


def flash_of(request: Request) -> FlashMessages:
    return FlashMessages(store_of(request))


def notice_redirect(request: Request, page: str, kind: str, text: str) -> RedirectResponse:
    """Redirect to ``page``, which shows ``text`` once. It writes the notice: call it off the
    event loop (async routes await ``notice_redirect_later``)."""
    return RedirectResponse(f"{page}?" + urlencode({"flash": flash_of(request).put(kind, text)}), status_code=303)


async def notice_redirect_later(request: Request, page: str, kind: str, text: str) -> RedirectResponse:
    """``notice_redirect`` from an async route: the notice is written on a worker thread."""
    return await run_in_threadpool(notice_redirect, request, page, kind, text)


def back_to_sources(request: Request, kind: str, text: str) -> RedirectResponse:
    return notice_redirect(request, "/sources", kind, text)


async def back_to_sources_later(request: Request, kind: str, text: str) -> RedirectResponse:
    return await notice_redirect_later(request, "/sources", kind, text)


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (first value of each), at most ``MAX_FORM_BYTES``, no NUL;
    no multipart needed for these forms."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise WebError(413, "That form is larger than this page accepts.")
    fields: dict[str, str] = {}
    for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        if "\x00" in key or "\x00" in value:  # PostgreSQL text cannot hold NUL
            raise BadRequest("invalid form: text must not contain NUL")
        fields.setdefault(key, value)
    return fields


def in_words(error: Exception) -> str:
    """An error's message without the stage prefix (``fetch: ``) meant for logs."""
    text = str(error) or error.__class__.__name__
    return re.sub(r"^[a-z]+: ", "", text)


def as_sentence(error: Exception) -> str:
    """``in_words``, capitalised and ending with a full stop: for a form's error line."""
    words = in_words(error)
    return words[:1].upper() + words[1:] + ("" if words.endswith(".") else ".")


# -- the starter list

def starter_list() -> list[OpmlFeed] | None:
    """The starter list's feeds, or None when it cannot be read (the page then omits it)."""
    try:
        return starter_feeds()
    except (NewswireError, OSError):
        log.exception("web: the starter list could not be read")
        return None


# -- the page and its forms

def is_failing(source: Source) -> bool:
    """Its last fetch failed (a paused source is paused, not failing)."""
    return source.enabled and source.consecutive_failures > 0


HEALTH_FILTERS = {"failing": is_failing, "paused": lambda s: not s.enabled,
                  "ok": lambda s: s.enabled and s.consecutive_failures == 0}


def failing_notice(failing: int, followed: int) -> str | None:
    """``3 of 31 sources are failing.``; None when none is."""
    if not failing:
        return None
    return f"{failing} of {followed} source{'s' if followed != 1 else ''} {'is' if failing == 1 else 'are'} failing."


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, flash: str | None = None, category: str | None = None,
                 health: str | None = None) -> HTMLResponse:
    return render_sources(request, flash_of(request).pop(flash), category=category, health=health)


def render_sources(request: Request, notice: tuple[str, str] | None, *, category: str | None = None,
                   health: str | None = None, form: dict[str, str] | None = None, status: int = 200) -> HTMLResponse:
    """The sources page; ``form``: the "Follow a feed" form's fields as typed (after an error)."""
    category = category_or_none(text_or_none(category, "category", MAX_CATEGORY))
    keep = HEALTH_FILTERS.get(health or "")
    every = store_of(request).list_sources()
    shown = [s for s in every if (category is None or is_under(s.category, category)) and (keep is None or keep(s))]
    failing = sum(1 for s in every if is_failing(s))
    return render_page(request, "sources.html", {**unread_context(request),
        "sources": shown, "total": len(every), "notice": notice,
        "starter": starter_list() if not every else None,
        "categories": category_counts(s.category for s in every), "category": category,
        "health": health if keep else None, "form": form or {},
        "failing": failing_notice(failing, sum(1 for s in every if s.enabled)),
    }, status=status)


@router.post("/sources")
async def add_source(request: Request) -> Response:
    from newswire.service.subscribe import follow_and_fetch

    form = await read_form(request)
    url, name, full_text = form.get("url", "").strip(), form.get("name", ""), form.get("full_text", "")
    category = category_or_none(form.get("category", "")[:MAX_CATEGORY])
    if not url:
        return await back_to_sources_later(request, "error", "Enter the address of a feed or of a site that has one.")
    if "://" not in url:
        url = "https://" + url
    try:  # through the running scheduler when there is one (``newswire run`` puts it on app.state)
        source, result = await follow_and_fetch(store_of(request), settings_of(request), url,
                                                name=name.strip() or None, full_text=bool(full_text),
                                                category=category,
                                                requests=getattr(request.app.state, "refresh_requests", None))
    except NewswireError as error:  # shown with the form as typed, to correct rather than retype
        return await run_in_threadpool(render_sources, request, ("error", f"Could not follow {url}: "
                                                                 f"{_refusal(request, error)}"),
                                       form=form, status=422)
    return await back_to_sources_later(request, "ok", f"Now following {source.name}. {_first_fetch(result)}")


def _refusal(request: Request, error: NewswireError) -> str:
    """Why a feed could not be followed, in words and without its URL again."""
    if isinstance(error, SourceExistsError):
        known = f" as #{error.source_id}" if error.source_id else ""
        return f"it is already followed{known}."
    words = failure_in_words(failure_reason(error), str(error))
    return words[:1].lower() + words[1:]


def _first_fetch(result: UpdateResult) -> str:
    """What the first fetch of a newly followed source did, in words."""
    if result.outcome == "failed":  # the source stays followed; the scheduler retries
        return f"Its first fetch failed: {failure_in_words(result.reason, result.error)} It will be retried."
    return f"{result.new} article{'s' if result.new != 1 else ''} stored."


@router.post("/sources/{source_id}/refresh")
async def refresh_source(request: Request, source_id: str) -> Response:
    """Fetch one source now (through the running scheduler when there is one) and say how it went."""
    from newswire.service.subscribe import refresh_now

    number = id_or_404(source_id, "source")
    store = store_of(request)
    try:
        source = await run_in_threadpool(store.get_source, number)
    except NotFound:
        return await back_to_sources_later(request, "error", f"There is no source #{number} (already removed?).")
    result = await refresh_now(store, source, settings=settings_of(request),
                               requests=getattr(request.app.state, "refresh_requests", None))
    if result.outcome == "failed":
        return await back_to_sources_later(request, "error", f"Could not fetch {source.name}: "
                                                 f"{failure_in_words(result.reason, result.error)}")
    if result.outcome == "not-modified":
        return await back_to_sources_later(request, "ok", f"Fetched {source.name}: unchanged since the last fetch.")
    updated = f", {result.updated} updated" if result.updated else ""
    return await back_to_sources_later(request, "ok", f"Fetched {source.name}: {result.new} new "
                                          f"article{'s' if result.new != 1 else ''}{updated}.")


@router.post("/sources/starter")
def follow_starter(request: Request) -> Response:
    from newswire.service.subscribe import import_opml

    try:
        summary = import_opml(store_of(request), starter_opml_bytes(), settings_of(request))
    except (NewswireError, OSError) as error:
        return back_to_sources(request, "error", f"Could not import the starter list: {in_words(error)}")
    already = f" ({summary.already_followed} already followed)" if summary.already_followed else ""
    return back_to_sources(request, "ok", f"Following {summary.added} starter source"
                                          f"{'s' if summary.added != 1 else ''}{already}"
                                          ". Their articles arrive on the next fetch pass.")


def _source_action(request: Request, source_id: str, action: str) -> Response:
    store = store_of(request)
    number = id_or_404(source_id, "source")
    try:
        source = store.get_source(number)
        if action == "remove":
            store.remove_source(number)
            return back_to_sources(request, "ok", f"Removed {source.name} and its {source.article_count} "
                                                  f"article{'s' if source.article_count != 1 else ''}.")
        store.set_enabled(number, action == "resume")
    except NotFound:
        return back_to_sources(request, "error", f"There is no source #{number} (already removed?).")
    verb = "Resumed" if action == "resume" else "Paused"
    return back_to_sources(request, "ok", f"{verb} {source.name}.")


@router.post("/sources/{source_id}/pause")
def pause_source(request: Request, source_id: str) -> Response:
    return _source_action(request, source_id, "pause")


@router.post("/sources/{source_id}/resume")
def resume_source(request: Request, source_id: str) -> Response:
    return _source_action(request, source_id, "resume")


@router.post("/sources/{source_id}/remove")
def remove_source(request: Request, source_id: str) -> Response:
    return _source_action(request, source_id, "remove")


@router.post("/sources/{source_id}/stories/{switch}")
def merge_switch(request: Request, source_id: str, switch: str) -> Response:
    """The per-source switch: ``on`` lets its articles join other sources' stories."""
    number = id_or_404(source_id, "source")
    if switch not in ("on", "off"):
        raise WebError(404, "There is no such switch.")
    store = store_of(request)
    try:
        source = store.get_source(number)
        store.set_merge_stories(number, switch == "on")
    except NotFound:
        return back_to_sources(request, "error", f"There is no source #{number} (already removed?).")
    state = "now join" if switch == "on" else "no longer join"
    return back_to_sources(request, "ok", f"Articles from {source.name} {state} other sources' stories.")
