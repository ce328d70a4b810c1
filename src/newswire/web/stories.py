"""Stories on the web: ``/stories`` and ``/stories/{id}`` pages, their Atom/RSS/JSON feeds.

The pages read through the same ``Store`` methods as ``/api/v1/stories`` (in ``api.py``):
``list_stories`` (size, then recency, within the window) and ``get_story`` + ``story_articles``.
A story page groups the coverage by source, each source's articles newest first, sources in
the order they first covered the story: a timeline of who reported what, when.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from newswire.errors import NotFound
from newswire.models import Article
from newswire.web.api import merged_redirect
from newswire.web.errors import BadRequest, WebError
from newswire.web.feeds import FEED_SIZE, FORMATS, feed_responses, head_of, serve_feed
from newswire.web.inputs import MAX_ID, id_or_404
from newswire.web.queries import story_list_page
from newswire.web.reader_view import reader_context
from newswire.web.state import store_of
from newswire.web.view import render_page

ACTIVE = timedelta(hours=72)
PAGE_SIZE = 30

router = APIRouter(include_in_schema=False)
feed_router = APIRouter(tags=["feeds"])


def active_since() -> datetime:
    return datetime.now(timezone.utc) - ACTIVE


def by_source(articles: list[Article]) -> list[tuple[int, str, list[Article]]]:
    """(source id, name, its articles newest first), sources by their first article."""
    groups: dict[int, list[Article]] = {}
    for article in sorted(articles, key=lambda a: (a.published_at, a.id)):
        groups.setdefault(article.source_id, []).append(article)
    return [(source_id, items[0].source_name, items[::-1]) for source_id, items in groups.items()]


@router.get("/stories", response_class=HTMLResponse)
def stories_page(request: Request, before: str | None = None) -> HTMLResponse:
    try:
        stories, next_cursor = story_list_page(store_of(request), since=active_since(), before=before,
                                               limit=PAGE_SIZE)
    except BadRequest:
        raise BadRequest("That “More” link is not one this newswire made.") from None
    sources = store_of(request).story_sources([s.id for s in stories])
    return render_page(request, "stories.html", {"stories": stories, "sources": sources,
                                           "older": f"/stories?before={next_cursor}" if next_cursor else None})


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story_page(request: Request, story_id: str) -> Response:
    number = id_or_404(story_id, "story")
    store = store_of(request)
    if moved := merged_redirect(request, number, "/stories/{}"):
        return moved
    try:
        story = store.get_story(number)
    except NotFound:
        raise WebError(404, f"There is no story #{number}.") from None
    groups = by_source(store.story_articles(number))
    mine = reader_context(request, [], newest_id=store.last_article_id(), scope={"story": number})
    return render_page(request, "story.html", {**mine, "story": story, "groups": groups,
                                         "feed_url": f"/stories/{number}/feed.atom"})


def story_feed(request: Request, story_id: int, fmt: str) -> Response:
    store = store_of(request)
    with store.snapshot():  # the feed's reads: one transaction
        story = store.get_story(story_id)
        stamps = store.list_stamps(story_id=story_id, limit=FEED_SIZE, include_copies=True)  # story_articles'
        head = head_of(request, title=f"Newswire — {story.title}", description=f"Coverage of “{story.title}”",
                       home_path=f"/stories/{story_id}")
        return serve_feed(request, fmt, head, stamps)


def _add_feed_route(fmt: str) -> None:
    response_class, _, kind = FORMATS[fmt]

    def story(request: Request, story_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
        if moved := merged_redirect(request, story_id, f"/stories/{{}}/feed.{fmt}"):
            return moved
        return story_feed(request, story_id, fmt)

    responses: dict[Any, Any] = feed_responses(kind, response_class)
    feed_router.add_api_route(f"/stories/{{story_id}}/feed.{fmt}", story, methods=["GET"],
                              response_class=response_class, responses=responses,
                              summary=f"{kind} feed of one story", operation_id=f"feed_story_{fmt}")


for _fmt in FORMATS:
    _add_feed_route(_fmt)
