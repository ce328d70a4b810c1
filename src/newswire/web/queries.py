"""The listings every page and its JSON twin share: one function per listing, so a page, its API
twin and its feed cannot drift apart (the search page once listed syndicated copies that the
API's ``q`` left out).

    list_page   articles newest first: the wire, a source, an author, a story, search (newest)
    stamp_page  list_page's first page as stamps (ids and change times): the feeds out
    story_list_page  active stories by size and recency: /stories and /api/v1/stories

Both take the request's cursor as given: a cursor past either end of time or of the ids means
the page at that end, and one that is not a cursor at all is a ``BadRequest`` (400), whatever
the store raises for it.
"""

from __future__ import annotations

import re
from datetime import datetime

from newswire.models import ArticlePage, Story
from newswire.store import Store
from newswire.store.reading import FIRST_MICROS, LAST_MICROS, Stamp
from newswire.web.errors import BadRequest
from newswire.web.inputs import MAX_ID

CURSOR_PATTERN = r"^-?\d{1,18}\.\d{1,10}$"  # what Store.list_articles hands out as `next`, years 1–9999
STORY_CURSOR_PATTERN = r"^\d{1,10}\.\d{1,10}\.-?\d{1,18}\.\d{1,10}$"  # what Store.list_stories hands out
_MICROS = re.compile(r"-?[0-9]{1,18}")


def list_page(store: Store, *, source: int | None = None, author: str | None = None, q: str | None = None,
              story: int | None = None, before: str | None = None, limit: int = 50,
              copies: bool = False, reader: int | None = None, category: str | None = None) -> ArticlePage:
    """``Store.list_articles``: one page newest first, syndicated copies only with ``copies``;
    with ``reader`` (a user id), their muted sources and authors left out; with ``category``,
    only its sources' (and those of the categories below it). A ``story`` merged into another
    lists the story it now lives in: its articles moved there."""
    before = article_cursor(before)
    if story is not None:
        story = store.story_redirect(story) or story
    try:
        return store.list_articles(source_id=source, author=author, story_id=story, query=q or None,
                                   before=before or None, limit=limit, include_copies=copies, reader_id=reader,
                                   category=category)
    except (ValueError, OverflowError, OSError) as error:
        raise BadRequest(f"invalid parameters: before: not a cursor: {before!r}") from error


def stamp_page(store: Store, *, source: int | None = None, author: str | None = None, q: str | None = None,
               story: int | None = None, limit: int = 50, copies: bool = False,
               category: str | None = None) -> list[Stamp]:
    """``Store.list_stamps``: the first page ``list_page`` lists for the same filters, as the
    stamps the feeds out key their kept renderings on."""
    if story is not None:
        story = store.story_redirect(story) or story
    try:
        return store.list_stamps(source_id=source, author=author, story_id=story, query=q or None, limit=limit,
                                 include_copies=copies, category=category)
    except (ValueError, OverflowError, OSError) as error:
        raise BadRequest(f"invalid parameters: {error}") from error


def article_cursor(before: str | None) -> str | None:
    """An article cursor from a request, brought within the ids and times the store holds;
    BadRequest when it is not one."""
    if not before:
        return None
    _check_cursor(before, CURSOR_PATTERN)
    micros, _, article_id = before.partition(".")
    if int(article_id) > MAX_ID:  # past every id: the same page
        before = f"{micros}.{MAX_ID}"
    return within_time(before)


def story_list_page(store: Store, *, since: datetime, before: str | None = None,
               limit: int = 50) -> tuple[list[Story], str | None]:
    """``Store.list_stories``: stories updated since ``since``, and the next page's cursor."""
    if before:
        _check_cursor(before, STORY_CURSOR_PATTERN)
    try:
        return store.list_stories(limit=limit, before=within_time(before, 2) if before else None,
                                  active_since=since)
    except (ValueError, OverflowError, OSError) as error:
        raise BadRequest(f"invalid parameters: before: not a cursor: {before!r}") from error


def _check_cursor(cursor: str, pattern: str) -> None:
    if not re.fullmatch(pattern, cursor):
        raise BadRequest(f"invalid parameters: before: not a cursor: {cursor[:60]!r}")


def within_time(cursor: str, at: int = 0) -> str:
    """``cursor`` with its time (the ``at``-th dotted part) brought into the years a datetime
    holds: a time past either end means the same page as that end (before the last moment:
    everything; before the first: nothing)."""
    parts = cursor.split(".")
    if len(parts) <= at + 1 or not _MICROS.fullmatch(parts[at]):
        return cursor
    micros = int(parts[at])
    if micros > LAST_MICROS:
        parts[at], parts[-1] = str(LAST_MICROS), str(MAX_ID)
    elif micros < FIRST_MICROS:
        parts[at], parts[-1] = str(FIRST_MICROS), "0"
    return ".".join(parts)
