"""Plain dataclasses that cross the pipeline's stages.

    fetch  → FetchResult            (bytes + headers + status; never parsed)
    parse  → ParsedFeed[Entry]      (one shape for RSS, Atom, RDF and JSON Feed)
    store  ← Source, ParsedFeed     → StoreResult
    service.update → UpdateResult   (what one refresh did, for summaries and the scheduler)

All datetimes are timezone-aware and in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Enclosure:
    url: str
    type: str | None = None
    length: int | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed item, normalised. ``published_estimated`` is True when the feed gave no date
    and ``published`` is the time the entry was first seen."""

    guid: str
    url: str | None
    title: str
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    updated: datetime | None = None
    published_estimated: bool = False
    summary: str = ""
    content_html: str = ""
    text: str = ""
    snippet: str = ""
    categories: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    language: str | None = None
    credit: str = ""  # the organisation a byline credits beside its people ("The Canadian Press")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed: its own metadata and its entries, in document order."""

    title: str
    site_url: str | None
    entries: tuple[Entry, ...]
    format: str  # "rss2", "rss1", "rss09x", "atom10", "atom03", "json1", "feedparser:<version>"
    language: str | None = None
    ttl_minutes: int | None = None  # RSS <ttl>: earliest next poll hint
    description: str = ""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What the network gave back for one feed URL.

    ``status`` is the final HTTP status (200 or 304 here; other statuses raise FetchError).
    ``url`` is where the body finally came from; ``permanent_url`` is set when every redirect on
    the way was permanent (301/308) so the stored feed URL should change."""

    url: str
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class Source:
    """A followed feed and its health, as stored."""

    id: int
    feed_url: str
    name: str
    site_url: str | None = None
    category: str | None = None
    full_text: bool = False
    enabled: bool = True
    timezone: str = "UTC"  # zone used for feed dates that carry none
    poll_interval: int = 1800  # seconds
    etag: str | None = None
    last_modified: str | None = None
    last_fetched_at: datetime | None = None
    last_status: str | None = None  # "ok", "not-modified", or a failure reason tag
    last_error: str | None = None
    consecutive_failures: int = 0
    next_due_at: datetime | None = None
    created_at: datetime | None = None
    merge_stories: bool = True  # off: this source's articles never join other sources' stories
    article_count: int = 0


@dataclass(frozen=True, slots=True)
class StoreResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # Ids of the new and the changed articles, for the enrichment steps that follow a write.
    new_ids: tuple[int, ...] = field(default=(), compare=False)
    updated_ids: tuple[int, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class SearchHit:
    article_id: int
    title: str
    url: str | None
    source_id: int
    source_name: str
    authors: tuple[str, ...]
    published_at: datetime
    snippet: str  # with matches wrapped in <mark>…</mark>; everything else HTML-escaped
    rank: float


@dataclass(frozen=True, slots=True)
class SourceUpdate:
    """The outcome of one refresh, as the store should record it on the source.

    ``None`` in ``etag``/``last_modified``/``feed_url``/``enabled``/``name``/``site_url`` means
    "leave as stored"; the service decides, the store only writes."""

    fetched_at: datetime
    status: str  # "ok", "not-modified", or a failure reason tag such as "timeout", "http-500"
    next_due_at: datetime
    consecutive_failures: int = 0
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    feed_url: str | None = None
    enabled: bool | None = None
    name: str | None = None
    site_url: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """A stored article as readers see it. List views leave ``content_html`` empty and
    ``categories``/``enclosures`` unloaded; ``Store.get_article`` fills everything.
    ``published_at`` is always set: the feed's date, or the first-seen time when
    ``published_estimated``."""

    id: int
    source_id: int
    source_name: str
    guid: str
    url: str | None
    title: str
    authors: tuple[str, ...]
    published_at: datetime
    published_estimated: bool
    updated_at: datetime | None
    first_seen_at: datetime
    summary: str
    snippet: str
    language: str | None = None
    content_html: str = ""
    text: str = ""
    categories: tuple[str, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    story_id: int | None = None
    duplicate_of: int | None = None
    page_html: str = ""  # the full text extracted from the article's page, when fetched
    extraction_status: str | None = None  # None (not wanted), "pending", "done" or "failed"
    credit: str = ""  # the organisation its byline credits beside its authors
    changed_at: datetime | None = None  # when the store last changed it (a refresh, its page); full articles only

    @property
    def content_source(self) -> str:
        """Where ``best_html`` comes from: "page" when the publisher's page was extracted (only
        teasers and full-text sources' articles are, and then the page is the whole text),
        else "feed". Meaningful on a full article (``Store.get_article``), not in listings."""
        return "page" if self.page_html else "feed"

    @property
    def best_html(self) -> str:
        """The fullest sanitised HTML there is: the page's text when extracted, else the feed's
        content. What the article page, the API, the feeds out and sync clients all show."""
        return self.page_html or self.content_html


@dataclass(frozen=True, slots=True)
class Story:
    """Coverage of one event: articles from one or more sources within a sliding window."""

    id: int
    title: str  # its most central headline
    first_seen_at: datetime
    last_updated_at: datetime
    article_count: int
    source_count: int


@dataclass(frozen=True, slots=True)
class ArticlePage:
    """One page of a newest-first listing. ``next`` is an opaque cursor for the following
    (older) page, None at the end; keyset paging, so arriving articles never shift a page."""

    items: tuple[Article, ...]
    next: str | None


@dataclass(frozen=True, slots=True)
class User:
    """An account: a reader, or an admin who may also change sources and users."""

    id: int
    name: str
    is_admin: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    """One of a user's API tokens as listed on the settings page; the token itself is shown
    once, when made, and only its hash is stored."""

    id: int
    user_id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None = None
