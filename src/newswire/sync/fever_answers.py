"""Fever API answers: the JSON members, built from what the store gives.

    refused / base      {"api_version": 3, "auth": 0}; with auth 1 also last_refreshed_on_time
    Groups              sources grouped by category: the full path is the group's title, sources
                        without one are in "Uncategorized" (FreshRSS's default category); group
                        ids derive from the title, so they stay put as categories come and go
    feed, item          one feed object, one item object
    id_list             ids as the comma-separated string Fever uses

Newswire stores no favicons, so every feed points at one generic image (``FAVICON``).
Pure, no I/O.
"""

from __future__ import annotations

import html
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from newswire.models import Article, Source
from newswire.sync.fever_params import MAX_ID

API_VERSION = 3
UNCATEGORIZED = "Uncategorized"
FAVICON_ID = 1
# A 1x1 transparent GIF, as a data: URI without its "data:" (the form Fever's favicons take).
FAVICON = "image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def refused() -> dict[str, Any]:
    """The answer to a missing or wrong key: nothing but the version and ``auth: 0``."""
    return {"api_version": API_VERSION, "auth": 0}


def base(sources: Iterable[Source]) -> dict[str, Any]:
    """What every authenticated answer holds; ``last_refreshed_on_time`` is the latest fetch of
    any source (0 before the first), as FreshRSS reports it."""
    fetched = [unix(s.last_fetched_at) for s in sources if s.last_fetched_at is not None]
    return {"api_version": API_VERSION, "auth": 1, "last_refreshed_on_time": max(fetched, default=0)}


def unix(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment is not None else 0


def id_list(ids: Iterable[int]) -> str:
    return ",".join(str(i) for i in ids)


def group_title(source: Source) -> str:
    return (source.category or "").strip() or UNCATEGORIZED


def group_ids(titles: Iterable[str]) -> dict[str, int]:
    """A positive id for each title, from its CRC-32: the same title keeps its id while others
    come and go; a rare collision moves the later title (in sorted order) to the next free id."""
    ids: dict[str, int] = {}
    taken: set[int] = set()
    for title in sorted(set(titles)):
        ident = zlib.crc32(title.encode("utf-8")) % MAX_ID + 1
        while ident in taken:
            ident = ident % MAX_ID + 1
        ids[title] = ident
        taken.add(ident)
    return ids


@dataclass(frozen=True, slots=True)
class Groups:
    """Each group's id and title, and the feeds in it (each feed in exactly one)."""

    ids: dict[str, int]
    members: dict[int, tuple[int, ...]]  # group id -> source ids

    @classmethod
    def of(cls, sources: Sequence[Source]) -> "Groups":
        ids = group_ids(group_title(s) for s in sources)
        members: dict[int, list[int]] = {}
        for source in sources:
            members.setdefault(ids[group_title(source)], []).append(source.id)
        return cls(ids, {group: tuple(feeds) for group, feeds in members.items()})

    def groups(self) -> list[dict[str, Any]]:
        return [{"id": ident, "title": title} for title, ident in self.ids.items()]

    def feeds_groups(self) -> list[dict[str, Any]]:
        return [{"group_id": group, "feed_ids": id_list(feeds)} for group, feeds in self.members.items()]

    def feeds_in(self, group_id: int) -> tuple[int, ...]:
        return self.members.get(group_id, ())


def feed(source: Source) -> dict[str, Any]:
    return {"id": source.id, "favicon_id": FAVICON_ID, "title": source.name, "url": source.feed_url,
            "site_url": source.site_url or "", "is_spark": 0,
            "last_updated_on_time": unix(source.last_fetched_at)}


def favicons() -> list[dict[str, Any]]:
    return [{"id": FAVICON_ID, "data": FAVICON}]


def item(article: Article, read: bool, saved: bool) -> dict[str, Any]:
    """One item; its ``html`` is what the article page shows: the publisher's full text when it
    was fetched, else the feed's content, else its text or summary (escaped)."""
    return {"id": article.id, "feed_id": article.source_id, "title": article.title,
            "author": ", ".join(article.authors), "html": body_html(article), "url": article.url or "",
            "is_saved": int(saved), "is_read": int(read), "created_on_time": unix(article.published_at)}


def body_html(article: Article) -> str:
    if article.best_html:  # already sanitised when stored
        return article.best_html
    text = article.text or article.summary or article.snippet
    return f"<p>{html.escape(text)}</p>" if text else ""
