"""feedparser as the robust fallback, for documents lxml cannot make a feed of.

feedparser's loose parser copes with damage libxml2's recovery does not (mismatched nesting in
odd places, SGML-ish feeds). Its output is mapped into the same RawFeed the fast path fills, so
``assemble`` normalises both identically. It is given the already decoded, entity-checked text
as a stream (never a string, which feedparser could take for a URL or a file name), with every
DOCTYPE and ENTITY declaration taken out first (feedparser would expand what they declare: see
xmlsafe), and with sanitising off: nh3 does that later, once, for both paths.
"""

from __future__ import annotations

import io
import itertools
import re
from typing import Any

import feedparser

from newswire.parse.raw import RawEnclosure, RawEntry, RawFeed, RawText
from newswire.parse.xmlsafe import without_declarations

_ITEM_END = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>", re.I)


def _text(detail: Any, fallback: Any = None) -> RawText | None:
    if isinstance(detail, dict) and isinstance(detail.get("value"), str):
        mime = (detail.get("type") or "text/html").lower()
        return RawText(detail["value"], mime != "text/plain")
    if isinstance(fallback, str) and fallback:
        return RawText(fallback)
    return None


def _base(detail: Any, url: str) -> str:
    base = detail.get("base") if isinstance(detail, dict) else None
    return base if isinstance(base, str) and base else url


def _entry(e: Any, url: str) -> RawEntry:
    base = _base(e.get("summary_detail") or e.get("title_detail"), url)
    raw = RawEntry(base=base, guid=e.get("id"), link=e.get("link"))
    raw.title = _text(e.get("title_detail"), e.get("title"))
    raw.summary = _text(e.get("summary_detail"), e.get("summary"))
    contents = [c for c in e.get("content") or [] if isinstance(c, dict) and c.get("value")]
    if contents:
        best = max(contents, key=lambda c: len(c["value"]))
        raw.content = _text(best)
        raw.content_base = _base(best, base)
    # plain dict.get: FeedParserDict.get("updated") silently answers with "published"
    raw.published = dict.get(e, "published") or dict.get(e, "created")
    raw.updated = dict.get(e, "updated")
    for person in e.get("authors") or []:
        if isinstance(person, dict) and (person.get("name") or person.get("email")):
            raw.authors.append(person.get("name") or person.get("email"))
    if not raw.authors and e.get("author"):
        raw.authors.append(e["author"])
    for tag in e.get("tags") or []:
        if isinstance(tag, dict) and (tag.get("label") or tag.get("term")):
            raw.categories.append(tag.get("label") or tag.get("term"))
    for link in e.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "enclosure" and link.get("href"):
            raw.enclosures.append(RawEnclosure(link["href"], link.get("type"), link.get("length")))
    for media, default_type in [(m, None) for m in e.get("media_content") or []] + \
            [(m, "image/*") for m in e.get("media_thumbnail") or []]:  # as the fast path types them
        if isinstance(media, dict) and media.get("url"):
            raw.enclosures.append(RawEnclosure(
                media["url"], media.get("type") or default_type, media.get("filesize")))
    language = (e.get("title_detail") or {}).get("language") if isinstance(e.get("title_detail"), dict) else None
    raw.language = language or None
    return raw


def _format(version: str) -> str:
    return f"feedparser:{version}"


def _first_items(data: bytes, max_entries: int | None) -> bytes:
    """``data`` up to the end of its ``max_entries``-th item: feedparser reads every item it is
    given (about a millisecond each), so a feed of 100,000 is cut before, not after. Its loose
    parser copes with the cut; the items kept are the first ones (most feeds list newest first)."""
    if max_entries is None or max_entries <= 0:
        return data
    last = next(itertools.islice(_ITEM_END.finditer(data), max_entries - 1, None), None)
    return data if last is None else data[:last.end()]


def read_with_feedparser(data: bytes, url: str, *, max_entries: int | None = None) -> RawFeed | None:
    """The feed feedparser finds in ``data`` (UTF-8), or None when it finds no feed; at most
    ``max_entries`` items are read."""
    data = without_declarations(_first_items(data, max_entries))  # nothing for it to expand
    result = feedparser.parse(
        io.BytesIO(data),
        response_headers={"content-location": url, "content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,  # sanitize_html resolves, against the base feedparser found
    )
    version = result.get("version") or ""
    if not version:
        return None
    meta = result.get("feed") or {}
    feed = RawFeed(format=_format(version), base=url, language=meta.get("language") or None)
    feed.title = _text(meta.get("title_detail"), meta.get("title"))
    feed.site_url = meta.get("link")
    # <description> is its "subtitle", itunes:summary its "summary", dc:description its "content"
    feed.description = (_text(meta.get("subtitle_detail"), meta.get("subtitle"))
                        or _text(meta.get("summary_detail")) or _text(meta.get("content_detail")))
    ttl = meta.get("ttl")
    feed.ttl = ttl if isinstance(ttl, str) else None
    for person in meta.get("authors") or []:
        if isinstance(person, dict) and person.get("name"):
            feed.authors.append(person["name"])
    entries = result.get("entries") or []
    feed.entries = [_entry(e, url) for e in entries[:max_entries]]
    return feed
