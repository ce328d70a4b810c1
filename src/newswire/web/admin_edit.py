"""Editing one source in the browser: ``GET /sources/{id}/edit`` shows its form (name, feed URL,
category, full text, story merging), ``POST`` saves it through ``Store.change_source``, the call
``newswire edit`` and the admin API's PATCH make. A refused value shows the form again with what
was typed and why; a saved one goes back to the sources page with what changed.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from newswire.errors import NotFound, SourceExistsError
from newswire.models import Source
from newswire.sources.opml import web_url
from newswire.web.admin import back_to_sources_later, read_form
from newswire.web.auth import require_admin
from newswire.web.errors import WebError
from newswire.web.categories import category_or_none
from newswire.web.inputs import MAX_CATEGORY, id_or_404
from newswire.web.state import store_of
from newswire.web.view import render_page

router = APIRouter(include_in_schema=False)

MAX_NAME, MAX_URL = 500, 2000
LABELS = {"name": "name", "feed_url": "feed URL", "category": "category", "full_text": "full text",
          "merge_stories": "story merging"}


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?![0-9])")  # "javascript:", not "localhost:8080"


def _has_valid_port(url: str) -> bool:
    try:
        urlsplit(url).port
    except ValueError:
        return False
    return True


def _source_or_404(request: Request, source_id: str) -> Source:
    number = id_or_404(source_id, "source")
    try:
        return store_of(request).get_source(number)
    except NotFound:
        raise WebError(404, f"There is no source #{number}.") from None


def _page(request: Request, source: Source, values: dict[str, Any], error: str | None = None) -> HTMLResponse:
    return render_page(request, "source_edit.html", {"source": source, "values": values,
                                                     "notice": ("error", error) if error else None},
                       status=422 if error else 200)


@router.get("/sources/{source_id}/edit", response_class=HTMLResponse, dependencies=[Depends(require_admin)])
def edit_page(request: Request, source_id: str) -> HTMLResponse:
    source = _source_or_404(request, source_id)
    return _page(request, source, {"name": source.name, "feed_url": source.feed_url, "category": source.category,
                                   "full_text": source.full_text, "merge_stories": source.merge_stories})


def read_changes(form: dict[str, str]) -> tuple[dict[str, Any], str | None]:
    """The form's values as ``change_source`` takes them, and what is wrong with them (None:
    nothing). Unticked boxes are not sent: absent is off."""
    url = form.get("feed_url", "").strip()
    if url and "://" not in url and not _SCHEME.match(url):  # "example.com/feed", as the follow form takes it
        url = "https://" + url
    values = {"name": form.get("name", "").strip(), "feed_url": url,
              "category": category_or_none(form.get("category")), "full_text": bool(form.get("full_text")),
              "merge_stories": bool(form.get("merge_stories"))}
    if not values["name"]:
        return values, "Give the source a name."
    if len(values["name"]) > MAX_NAME or len(values["category"] or "") > MAX_CATEGORY:
        return values, f"A name or category is at most {MAX_NAME} characters."
    if len(url) > MAX_URL or web_url(url) != url or any(c.isspace() for c in url) or not _has_valid_port(url):
        return values, "The feed URL must be a web address (http:// or https://) with a host name."
    return values, None


@router.post("/sources/{source_id}/edit")
async def save_source(request: Request, source_id: str) -> Response:
    form = await read_form(request)
    store = store_of(request)
    source = await run_in_threadpool(_source_or_404, request, source_id)
    values, problem = read_changes(form)
    if problem:
        return await run_in_threadpool(_page, request, source, values, problem)
    changes = {key: value for key, value in values.items() if value != getattr(source, key)}
    if not changes:
        return await back_to_sources_later(request, "ok", f"Nothing changed in {source.name}.")
    try:
        await run_in_threadpool(store.change_source, source.id, changes)
    except SourceExistsError as exists:
        return await run_in_threadpool(_page, request, source, values,
                                       f"Another source (#{exists.source_id}) already follows that feed URL.")
    except NotFound:
        return await back_to_sources_later(request, "error", f"There is no source #{source.id} (already removed?).")
    what = ", ".join(LABELS[key] for key in LABELS if key in changes)
    fetch = " It is fetched from its new address on the next pass." if "feed_url" in changes else ""
    return await back_to_sources_later(request, "ok", f"Saved {values['name']}: {what} changed.{fetch}")
