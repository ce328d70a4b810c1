"""RawFeed → ParsedFeed: every normalisation, once, whichever reader filled the RawFeed.

Per entry: guid (id, else link, else a hash of title and content), canonical URL, clean title,
split and de-duplicated authors (the feed's when the entry has none), UTC dates (a date that is
not plausible counts as missing; published falls back to updated, then to ``seen_at`` marked as
estimated), sanitised content HTML, plain text, summary and snippet, categories, enclosures and
language. Only the newest ``max_items`` entries are normalised, and every field is held to the
lengths in ``limits``.
"""

from __future__ import annotations

import hashlib
import heapq
from datetime import datetime, tzinfo

from newswire.models import Enclosure, Entry, ParsedFeed
from newswire.parse import limits
from newswire.parse.authors import Byline, dedupe_authors, split_byline
from newswire.parse.dates import parse_date, plausible_date, zone
from newswire.parse.html import html_to_text, make_snippet, sanitize_html, text_line, text_to_html
from newswire.parse.lede import lede
from newswire.parse.limits import clip_html, clip_text
from newswire.parse.raw import RawEnclosure, RawEntry, RawFeed, RawText
from newswire.parse.urls import canonical_url, resolve_url

MAX_ENCLOSURES = 20
MAX_LANGUAGE = 35  # the longest language tag RFC 5646 asks implementations to support
MAX_MIME = 255


def _clipped_line(value: str, limit: int, *, is_html: bool = True) -> str:
    """One line of at most ``limit`` characters; the raw value is cut first so that a huge
    value costs no more than a long one."""
    raw = clip_html(value, limit * limits.RAW_TEXT_FACTOR)
    return clip_text(text_line(raw, is_html=is_html), limit)


def _line(raw: RawText | None, limit: int = limits.MAX_TITLE) -> str:
    return _clipped_line(raw.value, limit, is_html=raw.is_html) if raw else ""


def _as_html(raw: RawText | None) -> str:
    if raw is None or not raw.value.strip():
        return ""
    if raw.is_html:
        return clip_html(raw.value, limits.MAX_CONTENT_HTML)
    return text_to_html(clip_text(raw.value, limits.MAX_CONTENT_HTML))


def _as_text(raw: RawText | None) -> str:
    if raw is None:
        return ""
    value = clip_html(raw.value, limits.MAX_SUMMARY * limits.RAW_TEXT_FACTOR)
    text = html_to_text(value) if raw.is_html else " ".join(value.split())
    return clip_text(text, limits.MAX_SUMMARY)


def _byline(raws: list[str], publisher: str = "") -> Byline:
    """The people in an entry's author fields, and the organisation they credit (the first
    one named), each held to the limits."""
    names: list[str] = []
    credit = None
    for raw in raws:
        found = split_byline(_clipped_line(raw, limits.MAX_NAME * limits.MAX_AUTHORS), publisher)
        names = dedupe_authors([*names, *(clip_text(name, limits.MAX_NAME) for name in found.names)])
        credit = credit or (clip_text(found.credit, limits.MAX_NAME) if found.credit else None)
        if len(names) >= limits.MAX_AUTHORS:
            break
    return Byline(names[:limits.MAX_AUTHORS], credit)


def _categories(raws: list[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out = []
    for raw in raws:
        name = _clipped_line(raw or "", limits.MAX_NAME)
        key = name.casefold()
        if name and key not in seen:
            seen.add(key)
            out.append(name)
            if len(out) >= limits.MAX_CATEGORIES:
                break
    return tuple(out)


def _fits(url: str | None) -> str | None:
    """A URL is dropped rather than cut: a cut URL is a broken link."""
    return url if url and len(url) <= limits.MAX_URL else None


def _length(value: str | int | None) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _mime(value: str | None) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_MIME:
        return None
    return value.strip().lower()


def _enclosures(raws: list[RawEnclosure], base: str) -> tuple[Enclosure, ...]:
    seen: set[str] = set()
    out = []
    for raw in raws:
        url = _fits(resolve_url(raw.url, base))
        if not url or not url.startswith(("http://", "https://")) or url in seen:
            continue
        seen.add(url)
        out.append(Enclosure(url=url, type=_mime(raw.type), length=_length(raw.length)))
        if len(out) >= MAX_ENCLOSURES:
            break
    return tuple(out)


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _guid(raw: RawEntry, url: str | None, title: str, content_html: str) -> str:
    """The id, else the link, else a hash of title and content; an id longer than
    ``MAX_GUID`` becomes a digest of itself (still unique, still stable from fetch to fetch)."""
    guid = (raw.guid or "").strip() or url or resolve_url(raw.link, raw.base)
    if not guid:
        return _digest(f"{title}\n{content_html}")
    return guid if len(guid) <= limits.MAX_GUID else _digest(guid)


def _language(raw: str | None) -> str | None:
    value = (raw or "").strip()
    return value if value and len(value) <= MAX_LANGUAGE else None


def entry_dates(raw: RawEntry, tz: tzinfo, seen_at: datetime) -> tuple[datetime, datetime | None, bool]:
    """(published, updated, published_estimated): an implausible date counts as missing;
    published falls back to updated, then to ``seen_at`` (estimated)."""
    published = plausible_date(parse_date(raw.published, tz), seen_at=seen_at)
    updated = plausible_date(parse_date(raw.updated, tz), seen_at=seen_at)
    if published is not None:
        return published, updated, False
    if updated is not None:
        return updated, updated, False
    return seen_at, None, True


def build_entry(raw: RawEntry, *, feed_byline: Byline, feed_language: str | None,
                tz: tzinfo, seen_at: datetime, publisher: str = "") -> Entry:
    """One normalised Entry from what a reader found; ``publisher`` (the feed's title) is an
    organisation wherever a byline names it."""
    url = _fits(canonical_url(raw.link, raw.base))
    title = _line(raw.title)
    content_source = raw.content if raw.content and raw.content.value.strip() else raw.summary
    content_html = sanitize_html(_as_html(content_source), raw.content_base or raw.base)
    text = html_to_text(content_html)
    summary = _as_text(raw.summary)
    published, updated, estimated = entry_dates(raw, tz, seen_at)
    byline = _byline(raw.authors, publisher)
    if not byline.names:
        byline = feed_byline
    authors, credit = byline
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
        credit=credit or "",
        snippet=make_snippet(lede(text, title, [*authors, credit or ""]) or lede(summary, title, authors)),
        categories=_categories(raw.categories),
        enclosures=_enclosures(raw.enclosures, raw.base),
        language=_language(raw.language) or feed_language,
    )


def newest(raws: list[RawEntry], limit: int, *, tz: tzinfo, seen_at: datetime) -> list[RawEntry]:
    """The ``limit`` newest entries (by the time each will be listed under), in document order.

    Ties, undated entries among them, keep the earlier in the document: feeds list newest first.
    Only dates are read here, so a huge feed costs one date parse per raw entry, not one
    normalisation.
    """
    if len(raws) <= limit:
        return raws
    times = [entry_dates(raw, tz, seen_at)[0] for raw in raws]
    keep = sorted(heapq.nlargest(limit, range(len(raws)), key=times.__getitem__))
    return [raws[i] for i in keep]


def _ttl(raw: str | None) -> int | None:
    if raw and raw.strip().isdigit():
        value = int(raw.strip())
        return value if 0 < value < 10_000_000 else None
    return None


def build_feed(raw: RawFeed, *, source_timezone: str, seen_at: datetime, max_items: int) -> ParsedFeed:
    """The ParsedFeed for a RawFeed: its ``max_items`` newest entries, in document order."""
    tz = zone(source_timezone)
    title = _line(raw.title)
    feed_byline = _byline(raw.authors, title)
    language = _language(raw.language)
    entries = tuple(
        build_entry(e, feed_byline=feed_byline, feed_language=language, tz=tz, seen_at=seen_at, publisher=title)
        for e in newest(raw.entries, max_items, tz=tz, seen_at=seen_at)
    )
    return ParsedFeed(
        title=title,
        site_url=_fits(canonical_url(raw.site_url, raw.base)),
        entries=entries,
        format=raw.format,
        language=language,
        ttl_minutes=_ttl(raw.ttl),
        description=_as_text(raw.description),
    )
