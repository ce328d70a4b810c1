"""Google Reader response documents, built from our models as FreshRSS and Miniflux write them.

    item_json          one item of stream/contents and stream/items/contents
    subscription_json  one entry of subscription/list (the source's category is its one label)
    tag_list           tag/list: starred, then one folder per category
    unread_counts      unread-count: per feed, per label, and the reading list

Times: ``crawlTimeMsec``/``timestampUsec`` are when the article was first seen (what
``mark-all-as-read``'s ``ts`` is compared with), ``published``/``updated`` its own dates in seconds.
Pure functions, no I/O.
"""

from __future__ import annotations

import html
import json
import threading
from collections import OrderedDict
from functools import lru_cache
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from newswire.models import Article, Source
from newswire.sources.redact import redact_url
from newswire.sync.greader_ids import (READ, READING_LIST, STARRED, feed_stream_id, label_stream_id,
                                       long_item_id)


@lru_cache(maxsize=8192)  # unread-count converts each feed's newest time on every ask
def usec(moment: datetime) -> int:
    """Unix microseconds, exactly (no float rounding)."""
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def body_html(article: Article) -> str:
    """The fullest sanitised HTML we have: the publisher's page when extracted, else the feed's
    content, else its text or summary, escaped."""
    if article.best_html:
        return article.best_html
    text = article.text or article.summary or article.snippet
    return f"<p>{html.escape(text)}</p>" if text else ""


def labels_of(source: Source | None) -> list[str]:
    """A source's label stream ids: its category path, when it has one."""
    return [label_stream_id(source.category)] if source is not None and source.category else []


def item_json(article: Article, source: Source | None, read: bool, starred: bool) -> dict[str, Any]:
    """One item, with the reader's read and starred states among its categories."""
    categories = [READING_LIST, *labels_of(source)]
    categories += [READ] if read else []
    categories += [STARRED] if starred else []
    item: dict[str, Any] = {
        "id": long_item_id(article.id),
        "crawlTimeMsec": str(usec(article.first_seen_at) // 1000),
        "timestampUsec": str(usec(article.first_seen_at)),
        "published": int(article.published_at.timestamp()),
        "updated": int((article.updated_at or article.published_at).timestamp()),
        "title": article.title,
        "author": ", ".join(article.authors),
        "summary": {"direction": "ltr", "content": body_html(article)},
        "categories": categories,
        "origin": {"streamId": feed_stream_id(article.source_id), "title": article.source_name,
                   "htmlUrl": (source.site_url or "") if source else ""},
        "enclosure": [{"href": e.url, **({"type": e.type} if e.type else {}),
                       **({"length": str(e.length)} if e.length is not None else {})}
                      for e in article.enclosures],
    }
    if article.url:
        item["canonical"] = [{"href": article.url}]
        item["alternate"] = [{"href": article.url, "type": "text/html"}]
    return item


def subscription_json(source: Source) -> dict[str, Any]:
    """A source as a subscription; its feed URL without passwords or tokens."""
    return {
        "id": feed_stream_id(source.id),
        "title": source.name,
        "categories": [{"id": label_stream_id(source.category), "label": source.category}]
        if source.category else [],
        "url": redact_url(source.feed_url),
        "htmlUrl": redact_url(source.site_url) if source.site_url else "",
        "iconUrl": "",
        "firstitemmsec": str(usec(source.created_at) // 1000) if source.created_at else "0",
        "sortid": f"{source.id:08X}",
    }


def label_paths(category: str | None) -> list[str]:
    """The category and every category above it: the labels whose streams hold a source in
    ``category`` (a label's stream includes its sub-categories)."""
    if not category:
        return []
    parts = category.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def categories_of(sources: Iterable[Source]) -> list[str]:
    """The distinct category paths, sorted."""
    return sorted({s.category for s in sources if s.category})


def tag_list(sources: Iterable[Source]) -> dict[str, Any]:
    """tag/list: the starred state, then each category as a folder."""
    return {"tags": [{"id": STARRED},
                     *({"id": label_stream_id(c), "type": "folder"} for c in categories_of(sources))]}


def unread_counts(categories: Mapping[int, str | None], counts: Mapping[int, int],
                  newest: Mapping[int, datetime] | None = None) -> dict[str, Any]:
    """unread-count: each feed with unread items, each label summed over its feeds and those of
    its sub-categories, and the reading list; ``categories``: source id → category, every source;
    ``newest`` (source id → its newest article's time) where known."""
    newest = newest or {}
    unread = [(source_id, counts[source_id]) for source_id in sorted(categories) if counts.get(source_id, 0) > 0]
    listed = {c for c in categories.values() if c}
    labels: dict[str, list[int]] = {}
    for source_id, n in unread:
        for label in label_paths(categories[source_id]):
            if label in listed:
                labels.setdefault(label, []).append(source_id)
    rows = [_count_row(feed_stream_id(source_id), n, newest.get(source_id)) for source_id, n in unread]
    rows += [_count_row(label_stream_id(label), sum(counts[i] for i in ids), _latest(newest, ids))
             for label, ids in sorted(labels.items())]
    total = sum(n for _, n in unread)
    rows.append(_count_row(READING_LIST, total, _latest(newest, [source_id for source_id, _ in unread])))
    return {"max": total, "unreadcounts": rows}


class KeptCountAnswers:
    """Each user's last unread-count body, with what it was made from. Apps ask many times a
    minute and usually nothing changed; building and encoding a row per feed was most of the
    call's cost. The body is a function of its three inputs alone, so equal inputs (compared
    whole, in C) give the kept bytes, whichever store they came from."""

    def __init__(self, size: int = 1000):
        self._kept: OrderedDict[int, tuple[Mapping[int, str | None], Mapping[int, int],
                                           Mapping[int, datetime], bytes]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def body(self, user_id: int, categories: Mapping[int, str | None], counts: Mapping[int, int],
             newest: Mapping[int, datetime]) -> bytes:
        with self._lock:
            kept = self._kept.get(user_id)
        if kept is not None and kept[0] == categories and kept[1] == counts and kept[2] == newest:
            return kept[3]
        body = json.dumps(unread_counts(categories, counts, newest), ensure_ascii=False,
                          separators=(",", ":")).encode()
        with self._lock:
            self._kept[user_id] = (categories, counts, newest, body)
            self._kept.move_to_end(user_id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return body


def _count_row(stream_id: str, n: int, at: datetime | None) -> dict[str, Any]:
    return {"id": stream_id, "count": n, "newestItemTimestampUsec": str(usec(at)) if at else "0"}


def _latest(newest: Mapping[int, datetime], source_ids: Iterable[int]) -> datetime | None:
    return max((newest[i] for i in source_ids if i in newest), default=None)
