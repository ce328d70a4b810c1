"""The intermediate shape every reader (lxml, JSON Feed, feedparser) fills in.

Readers only pull strings out of a document; ``assemble`` does every normalisation once, so the
three readers cannot drift apart in how they treat dates, authors, URLs or HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class RawText:
    """A piece of text as found, and whether it is HTML (escaped or inline) or plain text."""

    value: str
    is_html: bool = True


@dataclass(slots=True)
class RawEnclosure:
    url: str
    type: str | None = None
    length: str | int | None = None


@dataclass(slots=True)
class RawEntry:
    base: str = ""  # effective base URL for this entry's links (xml:base, then the feed URL)
    guid: str | None = None
    link: str | None = None
    title: RawText | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    updated: str | None = None
    summary: RawText | None = None
    content: RawText | None = None
    content_base: str | None = None  # base for links inside ``content`` when it differs
    categories: list[str] = field(default_factory=list)
    enclosures: list[RawEnclosure] = field(default_factory=list)
    language: str | None = None


@dataclass(slots=True)
class RawFeed:
    format: str
    base: str = ""
    title: RawText | None = None
    site_url: str | None = None
    language: str | None = None
    ttl: str | None = None
    description: RawText | None = None
    authors: list[str] = field(default_factory=list)
    entries: list[RawEntry] = field(default_factory=list)
