"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) into a RawFeed.

JSON from the wild has wrong types everywhere (a number for an id, a string for tags, null for a
list); every field is read with a type check so one odd item never loses the feed.
"""

from __future__ import annotations

import json
from typing import Any

from newswire.errors import ParseError
from newswire.parse.html import text_to_html
from newswire.parse.limits import considered
from newswire.parse.raw import RawEnclosure, RawEntry, RawFeed, RawText

VERSION_PREFIXES = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _authors(obj: dict[str, Any]) -> list[str]:
    people = _list(obj.get("authors"))
    if not people and isinstance(obj.get("author"), dict):  # JSON Feed 1.0
        people = [obj["author"]]
    names = []
    for person in people:
        if isinstance(person, dict):
            name = _str(person.get("name"))
            if name:
                names.append(name)
        elif isinstance(person, str):
            names.append(person)
    return names


def _item(obj: dict[str, Any], base: str, language: str | None) -> RawEntry:
    entry = RawEntry(base=base, language=_str(obj.get("language")) or None)
    entry.guid = _str(obj.get("id"))
    entry.link = _str(obj.get("url")) or _str(obj.get("external_url"))
    title = _str(obj.get("title"))
    entry.title = RawText(title, False) if title else None
    summary = _str(obj.get("summary"))
    entry.summary = RawText(summary, False) if summary else None
    html, text = _str(obj.get("content_html")), _str(obj.get("content_text"))
    if html and html.strip():
        entry.content = RawText(html)
    elif text and text.strip():
        entry.content = RawText(text_to_html(text))
    entry.published = _str(obj.get("date_published"))
    entry.updated = _str(obj.get("date_modified"))
    entry.authors = _authors(obj)
    entry.categories = [t for t in (_str(tag) for tag in _list(obj.get("tags"))) if t]
    for att in _list(obj.get("attachments")):
        if isinstance(att, dict) and _str(att.get("url")):
            entry.enclosures.append(RawEnclosure(
                _str(att.get("url")) or "", _str(att.get("mime_type")), att.get("size_in_bytes")))
    image = _str(obj.get("image"))
    if image:
        entry.enclosures.append(RawEnclosure(image, "image/*"))
    return entry


def read_json_feed(text: str, url: str, *, max_entries: int | None = None) -> RawFeed:
    """The JSON Feed in ``text``; ParseError when it is not JSON or not a JSON Feed. At most
    ``max_entries`` items are read (the first and the last ones)."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"parse: invalid JSON ({exc.__class__.__name__})") from exc
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith(VERSION_PREFIXES):
        raise ParseError("parse: JSON document is not a JSON Feed (no jsonfeed.org version)")
    language = _str(doc.get("language"))
    feed = RawFeed(format="json1", base=url, language=language)
    title = _str(doc.get("title"))
    feed.title = RawText(title, False) if title else None
    feed.site_url = _str(doc.get("home_page_url"))
    description = _str(doc.get("description"))
    feed.description = RawText(description, False) if description else None
    feed.authors = _authors(doc)
    items = [obj for obj in _list(doc.get("items")) if isinstance(obj, dict)]
    if max_entries is not None:
        items = considered(items, max_entries)
    feed.entries = [_item(obj, url, language) for obj in items]
    return feed
