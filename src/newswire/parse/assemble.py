"""RawFeed → ParsedFeed: every normalisation, once, whichever reader filled the RawFeed.

Per entry: guid (id, else link, else a hash of title and content), canonical URL, clean title,
split and de-duplicated authors (the feed's when the entry has none), UTC dates (a date that is
not plausible counts as missing; published falls back to updated, then to ``seen_at`` marked as
estimated), sanitised content HTML, plain text,
summary and snippet, categories, enclosures and language.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, tzinfo

from newswire.models import Enclosure, Entry, ParsedFeed
from newswire.parse.authors import dedupe_authors, split_authors
from newswire.parse.dates import parse_date, plausible_date, zone
from newswire.parse.html import html_to_text, make_snippet, sanitize_html, text_line, text_to_html
from newswire.parse.raw import RawEnclosure, RawEntry, RawFeed, RawText
from newswire.parse.urls import canonical_url, resolve_url

MAX_ENCLOSURES = 20


def _line(raw: RawText | None) -> str:
    return text_line(raw.value, is_html=raw.is_html) if raw else ""


def _as_html(raw: RawText | None) -> str:
    if raw is None or not raw.value.strip():
        return ""
    return raw.value if raw.is_html else text_to_html(raw.value)


def _as_text(raw: RawText | None) -> str:
    if raw is None:
        return ""
    return html_to_text(raw.value) if raw.is_html else " ".join(raw.value.split())


def _authors(raws: list[str]) -> list[str]:
    names: list[str] = []
    for raw in raws:
        names.extend(split_authors(text_line(raw)))
    return dedupe_authors(names)


def _categories(raws: list[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out = []
    for raw in raws:
        name = text_line(raw or "")
        key = name.casefold()
        if name and key not in seen:
            seen.add(key)
            out.append(name)
    return tuple(out)


def _length(value: str | int | None) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _enclosures(raws: list[RawEnclosure], base: str) -> tuple[Enclosure, ...]:
    seen: set[str] = set()
    out = []
    for raw in raws:
        url = resolve_url(raw.url, base)
        if not url or not url.startswith(("http://", "https://")) or url in seen:
            continue
        seen.add(url)
        mime = raw.type.strip().lower() if isinstance(raw.type, str) and raw.type.strip() else None
        out.append(Enclosure(url=url, type=mime, length=_length(raw.length)))
        if len(out) >= MAX_ENCLOSURES:
            break
    return tuple(out)


def _guid(raw: RawEntry, url: str | None, title: str, content_html: str) -> str:
    guid = (raw.guid or "").strip()
    if guid:
        return guid
    link = url or resolve_url(raw.link, raw.base)
    if link:
        return link
    digest = hashlib.sha256(f"{title}\n{content_html}".encode("utf-8", "surrogatepass"))
    return "sha256:" + digest.hexdigest()


def build_entry(raw: RawEntry, *, feed_authors: list[str], feed_language: str | None,
                tz: tzinfo, seen_at: datetime) -> Entry:
    """One normalised Entry from what a reader found."""
    url = canonical_url(raw.link, raw.base)
    title = _line(raw.title)
    content_source = raw.content if raw.content and raw.content.value.strip() else raw.summary
    content_html = sanitize_html(_as_html(content_source), raw.content_base or raw.base)
    text = html_to_text(content_html)
    summary = _as_text(raw.summary)
    published = plausible_date(parse_date(raw.published, tz), seen_at=seen_at)
    updated = plausible_date(parse_date(raw.updated, tz), seen_at=seen_at)
    estimated = False
    if published is None:
        published, estimated = (updated, False) if updated else (seen_at, True)
    authors = _authors(raw.authors) or feed_authors
    return Entry(
        guid=_guid(raw, url, title, content_html),
        url=url,
        title=title,
        authors=tuple(authors),
        published=published,
        updated=updated,
        published_estimated=estimated,
        summary=summary,
        content_html=content_html,
        text=text,
        snippet=make_snippet(_without_heading(text, title) or summary),
        categories=_categories(raw.categories),
        enclosures=_enclosures(raw.enclosures, raw.base),
        language=(raw.language or "").strip() or feed_language,
    )


def _without_heading(text: str, title: str) -> str:
    """Article bodies often open with their own headline as a block of its own; a snippet
    should not repeat it. (A lede that merely begins with the headline's words stays whole.)"""
    if title and text.startswith(title) and text[len(title):len(title) + 1] in ("\n", ""):
        return text[len(title):].lstrip()
    return text


def _ttl(raw: str | None) -> int | None:
    if raw and raw.strip().isdigit():
        value = int(raw.strip())
        return value if 0 < value < 10_000_000 else None
    return None


def build_feed(raw: RawFeed, *, source_timezone: str, seen_at: datetime) -> ParsedFeed:
    """The ParsedFeed for a RawFeed, entries in document order."""
    tz = zone(source_timezone)
    feed_authors = _authors(raw.authors)
    language = (raw.language or "").strip() or None
    entries = tuple(
        build_entry(e, feed_authors=feed_authors, feed_language=language, tz=tz, seen_at=seen_at)
        for e in raw.entries
    )
    return ParsedFeed(
        title=_line(raw.title),
        site_url=canonical_url(raw.site_url, raw.base),
        entries=entries,
        format=raw.format,
        language=language,
        ttl_minutes=_ttl(raw.ttl),
        description=_as_text(raw.description),
    )
