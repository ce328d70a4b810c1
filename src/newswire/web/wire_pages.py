"""The reader's pages: the wire, a source's wire, a category's, an author's, one article, and
search.

Each is a sync ``def`` route (FastAPI runs it in its threadpool) that reads through the store,
builds ``WireItem``s and renders a template from ``view``. Every listing page is live on its
newest page: it names the ``/live`` stream (``live.py``) that continues it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Iterable, Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from newswire.errors import NotFound
from newswire.models import Article
from newswire.store import Store
from newswire.web.admin import failing_notice, starter_list
from newswire.web.categories import category_counts, category_path, known_category
from newswire.web.errors import BadRequest, WebError
from newswire.web.inputs import MAX_AUTHOR, MAX_CATEGORY, MAX_QUERY, id_or_404, int_or_none, text_or_none
from newswire.web.queries import list_page
from newswire.web.reader_view import reader_context, reader_of
from newswire.web.state import store_of
from newswire.web.view import WireItem, path_quote, render_page, safe_href

WIRE_PAGE_SIZE = 30
SIDEBAR_SIZE = 20
SEARCH_LIMIT = 20

router = APIRouter(include_in_schema=False)


# -- wire listings

def listing(request: Request, *, before: str | None, source_id: int | None = None,
            author: str | None = None, limit: int = WIRE_PAGE_SIZE,
            reader: int | None = None, category: str | None = None) -> tuple[list[WireItem], str | None]:
    """One page of wire items and the cursor of the next; copies show only on a source's wire;
    with ``reader``, that reader's muted sources and authors are left out."""
    store = store_of(request)
    try:
        page = list_page(store, source=source_id, author=author, before=before, limit=limit,
                         copies=source_id is not None, reader=reader, category=category)
    except BadRequest:
        raise BadRequest("That “Older” link is not one this newswire made; start again from the newest.") from None
    return wire_items(store, page.items), page.next


def wire_items(store: Store, articles: tuple[Article, ...] | list[Article]) -> list[WireItem]:
    """The items of a listing, each with where else it ran and its story's coverage."""
    also_in = store.also_in([a.id for a in articles])  # copies: one query for the page
    coverage = coverage_of(store, articles)  # stories: one query for the page
    return [WireItem.of(a, also_in.get(a.id, ()), coverage.get(a.id)) for a in articles]


def coverage_of(store: Store, articles: Iterable[Article]) -> dict[int, tuple[int, int]]:
    """Article id → (story id, source count) for the articles whose story has ≥ 2 sources."""
    articles = [a for a in articles if a.story_id is not None]
    counts = store.story_counts([a.story_id for a in articles if a.story_id is not None])
    return {a.id: (a.story_id, counts[a.story_id][1]) for a in articles
            if a.story_id in counts and counts[a.story_id][1] >= 2}


def live_url(source_id: int | None = None, author: str | None = None, level: int = 2,
             category: str | None = None) -> str:
    params: dict[str, str | int] = {}
    if source_id is not None:
        params["source"] = source_id
    if author:
        params["author"] = author
    if category:
        params["category"] = category
    if level != 2:
        params["level"] = level
    return "/live" + ("?" + urlencode(params) if params else "")


def wire_context(request: Request, *, before: str | None, heading: str, live: str,
                 source_id: int | None = None, author: str | None = None, category: str | None = None,
                 older_params: Mapping[str, Any] = {}, own_wire: bool = False) -> dict[str, Any]:
    """What every wire listing page passes to ``wire.html``. The live mark is read before the
    listing, so an article stored meanwhile comes by the stream (the page drops repeats). Only
    the newest page is live: an "Older" page must not grow at the top. For a signed-in reader,
    their marks (``reader_view``); ``own_wire``: the whole wire, their mutes applied and their
    visit recorded."""
    newest_id = store_of(request).last_article_id()
    user = reader_of(request)
    items, next_cursor = listing(request, before=before, source_id=source_id, author=author, category=category,
                                 reader=user.id if user and own_wire else None)
    mine = reader_context(request, items, newest_id=newest_id,
                          scope={"source": source_id, "author": author, "category": category},
                          visit=own_wire and not before)
    kept = {k: v for k, v in older_params.items() if v not in (None, "")}
    older = "?" + urlencode({**kept, "before": next_cursor}) if next_cursor else None
    newest = request.url.path + ("?" + urlencode(kept) if kept else "")
    return {"items": items, "older": older, "newer": newest if before else None, "heading": heading,
            "live_url": None if before else live, "live_after": None if before else newest_id, **mine}


def health_context(store: Store) -> dict[str, Any]:
    """What the wire says about the sources: ``failing`` ("3 of 31 sources are failing.") and
    ``all_failing`` (every followed source failed: an empty wire says so rather than "No
    articles yet"). One aggregate over the sources table."""
    failing, followed = store.source_health_counts()
    return {"failing": failing_notice(failing, followed), "all_failing": bool(followed) and failing == followed}


@router.get("/", response_class=HTMLResponse)
def wire(request: Request, before: str | None = None, source: str | None = None,
         author: str | None = None, category: str | None = None) -> HTMLResponse:
    with store_of(request).snapshot():  # each listing page's reads: one transaction
        return _wire(request, before, source, author, category)


def _wire(request: Request, before: str | None, source: str | None, author: str | None,
          category: str | None) -> HTMLResponse:
    store = store_of(request)
    source_id = int_or_none(source, "source")
    author = text_or_none(author, "author", MAX_AUTHOR)
    categories = store.source_categories().values()
    category = known_category(categories, text_or_none(category, "category", MAX_CATEGORY))
    filters: list[tuple[str, str]] = []
    if source_id is not None:
        try:
            filters.append(("Source", store.get_source(source_id).name))
        except NotFound:
            raise WebError(404, f"There is no source #{source_id}.") from None
    if author:
        filters.append(("Author", store.author_name(author) or author))
    if category:
        filters.append(("Category", category))
    context = wire_context(request, before=before, heading="Newswire",
                           live=live_url(source_id, author, category=category),
                           source_id=source_id, author=author, category=category,
                           older_params={"source": source_id, "author": author, "category": category},
                           own_wire=source_id is None and not author and not category)
    empty = None
    if not context["items"] and not before and not filters:
        sources = store.list_sources()
        empty = {"no_sources": not sources, "starter": starter_list() if not sources else None}
    feed = "/feed.atom" + ("?" + urlencode({"category": category}) if category else "")
    return render_page(request, "wire.html", {**context, **health_context(store), "filters": filters,
                                              "empty": empty, "feed_url": feed, "category": category,
                                              "categories": category_counts(categories)})


@router.get("/categories/{name:path}", response_class=HTMLResponse)
def category_page(request: Request, name: str, before: str | None = None) -> HTMLResponse:
    """The wire of one category's sources and of those below it, with its own feed."""
    with store_of(request).snapshot():
        categories = store_of(request).source_categories().values()
        category = known_category(categories, name) if "\x00" not in name and len(name) <= MAX_CATEGORY else None
        if category is None:
            raise WebError(404, "There is no such category.")
        context = wire_context(request, before=before, heading=category, live=live_url(category=category),
                               category=category)
    return render_page(request, "wire.html", {**context, "kicker": "Category", "category": category,
                                              "categories": category_counts(categories),
                                              "feed_url": category_path(category) + "/feed.atom"})


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source_page(request: Request, source_id: str, before: str | None = None) -> HTMLResponse:
    number = id_or_404(source_id, "source")
    with store_of(request).snapshot():
        try:
            source = store_of(request).get_source(number)
        except NotFound:
            raise WebError(404, f"There is no source #{number}.") from None
        context = wire_context(request, before=before, heading=source.name or f"Source #{number}",
                               live=live_url(source_id=number), source_id=number)
    return render_page(request, "wire.html", {**context, "source": source, "kicker": "Source",
                                              "feed_url": f"/sources/{number}/feed.atom"})


@router.get("/authors/{name:path}", response_class=HTMLResponse)  # "AP/Reuters" is one author
def author_page(request: Request, name: str, before: str | None = None) -> HTMLResponse:
    with store_of(request).snapshot():
        display = store_of(request).author_name(name) if "\x00" not in name else None
        if display is None:
            raise WebError(404, f"No article here is by “{name}”.")
        context = wire_context(request, before=before, heading=display, live=live_url(author=display),
                               author=display)
    return render_page(request, "wire.html", {**context, "kicker": "Author",
                                              "feed_url": f"/authors/{path_quote(display)}/feed.atom"})


# -- one article

@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: str) -> HTMLResponse:
    store = store_of(request)
    number = id_or_404(article_id, "article")
    user = reader_of(request)
    if user is not None:  # opening an article is reading it (an id that is not stored changes nothing)
        store.mark_read(user.id, [number])
    with store.snapshot():  # after the mark: the page's reads in one transaction, which sees it
        live_after = store.last_article_id()
        try:
            article = store.get_article(number)
        except NotFound:
            raise WebError(404, f"There is no article #{number}; it may have been removed "
                                "with its source.") from None
        items, _ = listing(request, before=None, limit=SIDEBAR_SIZE, reader=user.id if user else None)
        copies, canonical = store.copies_of(number), _canonical(store, article.duplicate_of)
        mine = reader_context(request, [*items, WireItem.of(article)], newest_id=live_after)
        coverage = coverage_of(store, [article]).get(article.id)
    return render_page(request, "article.html", {**mine,
        "article": article, "original": safe_href(article.url), "items": items,
        "copies": copies, "canonical": canonical, "coverage": coverage,
        "live_url": live_url(level=3), "live_after": live_after, "live_max": SIDEBAR_SIZE,
    })


def _canonical(store: Store, article_id: int | None) -> Article | None:
    """The article a copy repeats, when it is still stored."""
    if article_id is None:
        return None
    found = store.get_articles([article_id])
    return found[0] if found else None


# -- search

_WORD = re.compile(r"\w")


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", order: str = "newest", before: str | None = None) -> HTMLResponse:
    """Newest matches first by default (a newswire's question is usually "what is new about
    this?"), twenty a page with an "Older matches" cursor; "Best match" ranks recent matches."""
    q = text_or_none(q, "q", MAX_QUERY) or ""
    order = "rank" if order == "rank" else "newest"
    newest_id = store_of(request).last_article_id()
    items: list[WireItem] = []
    message = older = None
    if not q:
        message = ("Search every stored article: words, “a phrase in quotes”, or a prefix with a star "
                   "(harbo*).")
    elif not _WORD.search(q):
        message = f"“{q}” holds no words to search for. Try a name, a place or a phrase."
    elif order == "newest":
        items, older = _newest_matches(store_of(request), q, before)
    else:
        items = _best_matches(store_of(request), q)
    if q and not message and not items:
        message = f"No {'older ' if before else ''}articles match “{q}”."
    mine = reader_context(request, items, newest_id=newest_id, scope={"q": q}) if items else {}
    return render_page(request, "search.html", {**mine,
        "q": q, "order": order, "items": items, "message": message, "older": older, "more": bool(before),
        "feed_url": "/feed.atom?" + urlencode({"q": q}) if q else None,
    })


def _newest_matches(store: Store, q: str, before: str | None) -> tuple[list[WireItem], str | None]:
    """The page of ``/api/v1/articles?q=`` (its JSON twin: the same query, copies left out, the
    same cursor), each with the snippet "Best match" shows it with (the store's, from its
    page's text when only that matches); and the link to older matches."""
    try:
        page = list_page(store, q=q, before=before, limit=SEARCH_LIMIT)
    except BadRequest:
        raise BadRequest("That link to older matches is not valid.") from None
    snippets = store.search_snippets(q, [a.id for a in page.items])
    items = [replace(item, snippet_html=Markup(snippets[item.id])) if item.id in snippets else item
             for item in wire_items(store, page.items)]  # not in snippets: removed meanwhile
    return items, "/search?" + urlencode({"q": q, "order": "newest", "before": page.next}) if page.next else None


def _best_matches(store: Store, q: str) -> list[WireItem]:
    """The best matches among recent articles, each story once, as on the wire and in the
    newest-first listing: syndicated copies are left out by the search itself (so a page stays
    full), and each original shows where else it ran ("Also in", one query for the page)."""
    hits = store.search(q, limit=SEARCH_LIMIT, order="rank", include_copies=False)
    also_in = store.also_in([hit.article_id for hit in hits])
    return [WireItem.of_hit(hit, also_in.get(hit.article_id, ())) for hit in hits]
