"""What a signed-in reader's pages add to a listing: read and saved marks, "new since your
last visit", and the "mark all as read" form for the view. No routes (those are in
``reader.py``); the wire pages call ``reader_context`` for each listing they render.

Anonymous visitors get an empty context, so their pages stay as they were.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from fastapi import Request

from newswire.models import User
from newswire.web.identity import current_user
from newswire.web.state import store_of
from newswire.web.view import WireItem


def reader_of(request: Request) -> User | None:
    """The signed-in reader, if any (a session or an API token)."""
    return current_user(request)


def reader_context(request: Request, items: Iterable[WireItem], *, newest_id: int,
                   scope: dict[str, Any] | None = None, visit: bool = False) -> dict[str, Any]:
    """Template context for a listing: ``states`` (id → (read, saved)), ``read_all`` (the
    hidden fields of this view's "mark all as read": its scope and ``up_to_id``, the newest id
    stored when the page was made, so what arrives later stays unread), ``prefs`` on a
    source's, an author's or a story's page (for its Mute/Follow buttons) and, when ``visit``
    (the wire's newest page), ``new_after``: the id above which items are new since the
    reader's previous visit."""
    user = reader_of(request)
    if user is None:
        return {}
    store = store_of(request)
    ids = [item.id for item in items]
    context: dict[str, Any] = {"states": store.article_states(user.id, ids) if ids else {},
                               "read_all": {**{k: v for k, v in (scope or {}).items() if v not in (None, "")},
                                            "up_to_id": newest_id}}
    if any(context["read_all"].get(k) for k in ("source", "author", "story")):  # a page with Mute/Follow
        context["prefs"] = store.reader_prefs(user.id)
    if visit:
        new_after = store.record_visit(user.id, datetime.now(timezone.utc))
        context["new_after"] = new_after
        context["new_count"] = sum(1 for i in ids if i > new_after)
    return context


def unread_context(request: Request) -> dict[str, Any]:
    """For the sources page: ``unread`` (source id → unread articles, None when nobody is
    signed in) and ``muted`` (the reader's muted source ids)."""
    user = reader_of(request)
    if user is None:
        return {"unread": None, "muted": frozenset()}
    store = store_of(request)
    return {"unread": store.unread_counts(user.id), "muted": store.reader_prefs(user.id).muted_sources}
