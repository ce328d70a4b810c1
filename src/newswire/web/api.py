"""The JSON API, ``/api/v1/...``: the same reads as the pages, as JSON documented in
``/openapi.json``.

    request ─► endpoint ─► Store ─► pydantic model ─► JSON
                  └─ raises ─► web.errors (the one boundary) ─► {"message": ..., "status": ...}

Errors are JSON everywhere under ``/api/``, on the feeds out and on the operations endpoints,
written by ``web.errors`` as for the pages: a bad parameter 400, ``NotFound`` 404, a database
failure 503, anything else a bare 500.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal, Sequence

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, PlainSerializer, WithJsonSchema

from newswire.models import Article, Source, Story
from newswire.sources.redact import redact_text, redact_url
from newswire.web.display import utc_iso
from newswire.web.categories import category_or_none
from newswire.web.inputs import MAX_AUTHOR, MAX_CATEGORY, MAX_ID, MAX_QUERY
from newswire.web.queries import CURSOR_PATTERN, STORY_CURSOR_PATTERN, list_page, story_list_page
from newswire.web.state import store_of

log = logging.getLogger(__name__)


# the documents

UtcDateTime = Annotated[
    datetime,
    PlainSerializer(utc_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ErrorOut(BaseModel):
    message: str
    status: int


class SourceRef(BaseModel):
    id: int
    name: str


class EnclosureOut(BaseModel):
    url: str
    type: str | None
    length: int | None


class CopyRef(BaseModel):
    """A syndicated copy of an article: where else it ran."""

    id: int
    source_name: str


class ArticleSummaryOut(BaseModel):
    """An article in a listing: everything but the content."""

    id: int
    title: str
    url: str | None
    source: SourceRef
    authors: list[str]
    credit: str | None = None  # the organisation the byline credits beside its authors
    published_at: UtcDateTime
    published_estimated: bool
    updated_at: UtcDateTime | None
    summary: str
    snippet: str
    language: str | None
    story_id: int | None
    duplicate_of: int | None
    also_in: list[CopyRef] = []  # in listings: its syndicated copies, earliest first (as the wire's "Also in")


class ArticleOut(ArticleSummaryOut):
    """One article with its sanitised content: the text extracted from the publisher's page when
    the feed gave a teaser (``content_source`` "page"), else the feed's own ("feed")."""

    content_html: str
    content_source: Literal["feed", "page"]
    categories: list[str]
    enclosures: list[EnclosureOut]


class ArticlePageOut(BaseModel):
    items: list[ArticleSummaryOut]
    next: str | None


class SourceOut(BaseModel):
    id: int
    name: str
    feed_url: str
    site_url: str | None
    category: str | None
    enabled: bool
    full_text: bool
    poll_interval: int
    health: str
    last_fetched_at: UtcDateTime | None
    last_status: str | None
    last_error: str | None
    consecutive_failures: int
    next_due_at: UtcDateTime | None
    article_count: int


class SourceListOut(BaseModel):
    items: list[SourceOut]


def source_health(source: Source) -> str:
    """"disabled", "new" (never fetched), "failing" or "ok"."""
    if not source.enabled:
        return "disabled"
    if source.last_fetched_at is None:
        return "new"
    return "failing" if source.consecutive_failures > 0 else "ok"


def _summary_fields(a: Article) -> dict[str, Any]:
    return dict(id=a.id, title=a.title, url=a.url, source=SourceRef(id=a.source_id, name=a.source_name),
                authors=list(a.authors), credit=a.credit or None, published_at=a.published_at, published_estimated=a.published_estimated,
                updated_at=a.updated_at, summary=a.summary, snippet=a.snippet, language=a.language,
                story_id=a.story_id, duplicate_of=a.duplicate_of)


def article_summary_out(a: Article, also_in: Sequence[tuple[int, str]] = ()) -> ArticleSummaryOut:
    return ArticleSummaryOut(**_summary_fields(a),
                             also_in=[CopyRef(id=copy_id, source_name=name) for copy_id, name in also_in])


def article_out(a: Article) -> ArticleOut:
    return ArticleOut(**_summary_fields(a), content_html=a.best_html, content_source=a.content_source,
                      categories=list(a.categories),
                      enclosures=[EnclosureOut(url=e.url, type=e.type, length=e.length) for e in a.enclosures])


def source_out(s: Source) -> SourceOut:
    """A source as readers may see it: URLs and errors without passwords or tokens (the store
    keeps the real feed URL to fetch with)."""
    return SourceOut(id=s.id, name=s.name, feed_url=redact_url(s.feed_url),
                     site_url=redact_url(s.site_url) if s.site_url else None, category=s.category,
                     enabled=s.enabled, full_text=s.full_text, poll_interval=s.poll_interval,
                     health=source_health(s), last_fetched_at=s.last_fetched_at, last_status=s.last_status,
                     last_error=redact_text(s.last_error) if s.last_error is not None else None, consecutive_failures=s.consecutive_failures,
                     next_due_at=s.next_due_at, article_count=s.article_count)


# parameters shared with the feeds out

def error_responses(not_found: str = "Not found") -> dict[int | str, dict[str, Any]]:
    """The JSON errors, documented as JSON whatever the route's own media type."""
    def as_json(description: str) -> dict[str, Any]:
        return {"description": description,
                "content": {"application/json": {"schema": ErrorOut.model_json_schema()}}}

    return {400: as_json("Bad parameters"), 404: as_json(not_found),
            503: as_json("The database is unavailable")}

SourceParam = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only articles of this source id.")]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL (the edge refuses it first: inputs.RefuseNul)
AuthorParam = Annotated[str | None, Query(max_length=MAX_AUTHOR, pattern=NO_NUL,
                                          description="Only articles by this author (any spelling).")]
QueryParam = Annotated[str | None, Query(max_length=MAX_QUERY, pattern=NO_NUL,
                                         description='Full-text query: words, "phrases", prefix*.')]
CategoryParam = Annotated[str | None, Query(max_length=MAX_CATEGORY, pattern=NO_NUL, description=(
    'Only articles of sources in this category or below it ("News" holds "News/Canada").'))]


# the endpoints

router = APIRouter(prefix="/api/v1", tags=["api"], responses=error_responses())


@router.get("/articles", response_model=ArticlePageOut, summary="Articles, newest first")
def list_articles(
    request: Request,
    source: SourceParam = None,
    author: AuthorParam = None,
    q: QueryParam = None,
    category: CategoryParam = None,
    story: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only articles of this story id.")] = None,
    before: Annotated[str | None, Query(pattern=CURSOR_PATTERN,
                                        description="The `next` cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page.")] = 50,
    copies: Annotated[bool, Query(description="Include syndicated copies (`duplicate_of` set).")] = False,
) -> ArticlePageOut:
    """One page of articles, newest first; pass ``next`` as ``before`` for the following page.
    Articles that arrive while paging never make a page skip or repeat an item. Syndicated copies
    are left out (each story once, as on the wire) unless ``copies=true``; each item lists its
    copies in ``also_in``. With ``q`` this is the search page's newest-first listing."""
    store = store_of(request)
    with store.snapshot():  # the page and its copies: one read transaction
        page = list_page(store, source=source, author=author, q=q, story=story, before=before,
                         limit=limit, copies=copies, category=category_or_none(category))
        also_in = store.also_in([a.id for a in page.items])  # one query for the page, as the wire's
    return ArticlePageOut(items=[article_summary_out(a, also_in.get(a.id, ())) for a in page.items],
                          next=page.next)


@router.get("/articles/{article_id}", response_model=ArticleOut, summary="One article with its content")
def get_article(request: Request, article_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> ArticleOut:
    return article_out(store_of(request).get_article(article_id))


@router.get("/sources", response_model=SourceListOut, summary="Followed sources with their health")
def list_sources(request: Request) -> SourceListOut:
    return SourceListOut(items=[source_out(s) for s in store_of(request).list_sources()])


@router.get("/sources/{source_id}", response_model=SourceOut, summary="One source with its health")
def get_source(request: Request, source_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> SourceOut:
    return source_out(store_of(request).get_source(source_id))


# -- stories: coverage of one event (the same reads as the /stories pages)

STORY_WINDOW_HOURS = 72


class StoryOut(BaseModel):
    id: int
    title: str
    first_seen_at: UtcDateTime
    last_updated_at: UtcDateTime
    article_count: int
    source_count: int
    sources: list[SourceRef]


class StoryPageOut(BaseModel):
    items: list[StoryOut]
    next: str | None


class StoryDetailOut(StoryOut):
    """A story with its coverage, newest first (syndicated copies included)."""

    articles: list[ArticleSummaryOut]


def story_out(story: Story, sources: list[tuple[int, str]]) -> StoryOut:
    return StoryOut(id=story.id, title=story.title, first_seen_at=story.first_seen_at,
                    last_updated_at=story.last_updated_at, article_count=story.article_count,
                    source_count=story.source_count, sources=[SourceRef(id=i, name=n) for i, n in sources])


@router.get("/stories", response_model=StoryPageOut, summary="Active stories by size and recency")
def list_stories(
    request: Request,
    before: Annotated[str | None, Query(pattern=STORY_CURSOR_PATTERN,
                                        description="The `next` cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page.")] = 50,
    hours: Annotated[int, Query(ge=1, le=24 * 365, description="Only stories updated in the last hours.")]
    = STORY_WINDOW_HOURS,
) -> StoryPageOut:
    """Stories updated in the last ``hours`` (default: the clustering window), most sources,
    then most articles, then most recent first."""
    store = store_of(request)
    since = datetime.now(timezone.utc) - timedelta(hours=hours)
    stories, next_cursor = story_list_page(store, since=since, before=before, limit=limit)
    sources = store.story_sources([s.id for s in stories])
    return StoryPageOut(items=[story_out(s, sources.get(s.id, [])) for s in stories], next=next_cursor)


def merged_redirect(request: Request, story_id: int, path: str) -> RedirectResponse | None:
    """A permanent redirect to the story a merged story now lives in (``path`` formats its
    address); None when the story was not merged."""
    target = store_of(request).story_redirect(story_id)
    return RedirectResponse(path.format(target), status_code=308) if target is not None else None


@router.get("/stories/{story_id}", response_model=StoryDetailOut, summary="One story with its articles",
            responses={308: {"description": "The story was merged into another: its address"}})
def get_story(request: Request, story_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Any:
    if moved := merged_redirect(request, story_id, "/api/v1/stories/{}"):
        return moved
    store = store_of(request)
    story = store.get_story(story_id)
    sources = store.story_sources([story_id]).get(story_id, [])
    return StoryDetailOut(**story_out(story, sources).model_dump(),
                          articles=[article_summary_out(a) for a in store.story_articles(story_id)])
