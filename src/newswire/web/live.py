"""The live wire: Server-Sent Events of newly stored articles.

    GET /live?after=<article id>[&source=<id>][&author=<name>][&category=<path>][&level=2|3]

Each new article is one event, ``event: article``, ``id: <article id>``, its data the HTML of the
wire item (``_item.html``, the same partial the pages render). Article ids grow with arrival, so
the id is a resume point: the browser's automatic reconnect sends ``Last-Event-ID`` and the
stream carries on exactly where it stopped, across a server restart too. Articles a filter skips
still move the resume point (an event with an id and no data dispatches nothing). A category's
stream keeps the sources in it when the stream starts (a reconnect takes a new look).

The stream polls ``Store.arrived_after`` in a worker thread about once a second, sends a comment
every ~15 s so proxies keep the connection, and ends when the client goes away or the server
shuts down.

Syndicated copies are known only once enrichment has seen an article (it runs just after the
write, and gives every article its story). So an article waits until it has a story, or until
``SETTLE_SECONDS`` have passed where nothing enriches, and the main wire then leaves copies out
as the page does; a source's own stream shows them.

The open page must end up listing what a reload lists (``wire_changes``). So an arrival sends
the item a reload would now show for it: on the main and author wires, a copy sends its original
again, with the new copy in its "Also in"; an original that arrived after its copies sends
itself with them in its "Also in". The item's HTML carries its publication time
(``data-at``) and its copies' ids (``data-copies``): the page puts the item where a reload
would list it, replaces the one it showed, and withdraws the copies it showed as originals. Where
the original is not on this wire (an author's wire, another author's original) a ``withdraw``
event names the copies to take away. Stories merging send nothing: a wire item does not show
its story, so a merge changes no item a reload would list (the story pages are not live).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Callable

import anyio
from fastapi import APIRouter, Header, Request
from fastapi.responses import Response, StreamingResponse

from newswire.models import Article
from newswire.store import Store
from newswire.store.articles import author_key
from newswire.web.errors import BadRequest
from newswire.web.categories import category_or_none, is_under
from newswire.web.inputs import MAX_AUTHOR, MAX_CATEGORY, int_or_none, text_or_none
from newswire.web.view import WireItem, render_item, zone_of
from newswire.web.wire_pages import wire_items

router = APIRouter(include_in_schema=False)

POLL_SECONDS = 1.0
PING_SECONDS = 15.0
RETRY_MILLISECONDS = 3000
BATCH = 100
SETTLE_SECONDS = 30.0


def event(article_id: int, html: str | None = None, name: str = "article") -> str:
    """One SSE event block. With no ``html``: only the id, which moves the client's resume point."""
    if html is None:
        return f"id: {article_id}\n\n"
    data = "\n".join(f"data: {line}" for line in html.splitlines() or [""])
    return f"event: {name}\nid: {article_id}\n{data}\n\n"


def _matches(article: Article, source_id: int | None, wanted_author: str | None,
             in_category: frozenset[int] | None = None) -> bool:
    if source_id is not None and article.source_id != source_id:
        return False
    if in_category is not None and article.source_id not in in_category:
        return False
    if wanted_author is not None and wanted_author not in (author_key(name) for name in article.authors):
        return False
    return True


class _Stopping:
    """Whether the server is going down. Two signals: ``app.state.live_stop`` (a
    ``threading.Event`` any runner may set), and, under uvicorn, the connection's cycle losing
    keep-alive, which is what uvicorn's graceful shutdown does to responses still in flight (it
    then waits for them to finish: an endless stream would hold the shutdown forever)."""

    def __init__(self, request: Request):
        self._event = getattr(request.app.state, "live_stop", None)
        cycle = getattr(request.receive, "__self__", None)
        self._cycle = cycle if isinstance(getattr(cycle, "keep_alive", None), bool) else None
        self._kept_alive = bool(self._cycle and self._cycle.keep_alive)

    def __call__(self) -> bool:
        if self._event is not None and self._event.is_set():
            return True
        return bool(self._kept_alive and self._cycle is not None and not self._cycle.keep_alive)


def settled(arrivals: list[Article], settle: float) -> list[Article]:
    """The arrivals up to the first one enrichment has not reached yet (no story, first seen
    less than ``settle`` seconds ago); order is kept, so a later one waits too."""
    cutoff = datetime.now(timezone.utc) - timedelta(seconds=settle)
    ready = []
    for article in arrivals:
        if article.story_id is None and article.first_seen_at > cutoff:
            break
        ready.append(article)
    return ready


async def stream(request: Request, after: int, *, source_id: int | None, author: str | None,
                 render: Callable[[WireItem], str], in_category: frozenset[int] | None = None,
                 poll: float = POLL_SECONDS,
                 ping: float = PING_SECONDS, settle: float = SETTLE_SECONDS) -> AsyncIterator[str]:
    """Events for articles stored after ``after``, until the client or the server goes."""
    store = request.app.state.store
    stopping = _Stopping(request)
    wanted_author = author_key(author) if author else None
    yield f"retry: {RETRY_MILLISECONDS}\n: newswire live after {after}\n\n"
    last_sent = time.monotonic()
    while not stopping() and not await request.is_disconnected():
        arrivals: list[Article] = settled(await anyio.to_thread.run_sync(
            functools.partial(store.arrived_after, after, limit=BATCH, include_copies=True)), settle)
        changes = await anyio.to_thread.run_sync(functools.partial(
            wire_changes, store, arrivals, source_id=source_id, wanted_author=wanted_author,
            in_category=in_category)) if arrivals else []
        skipped = False
        for change in changes:
            after = change.arrival_id
            if change.withdrawn:
                yield event(change.arrival_id, " ".join(map(str, change.withdrawn)), name="withdraw")
            for item in change.items:
                yield event(change.arrival_id, render(item))
            if change.items or change.withdrawn:
                last_sent, skipped = time.monotonic(), False
            else:
                skipped = True
        if skipped:
            yield event(after)
            last_sent = time.monotonic()
        if len(arrivals) >= BATCH:
            continue  # more waiting: no pause
        if time.monotonic() - last_sent >= ping:
            yield ": ping\n\n"
            last_sent = time.monotonic()
        await _sleep_watching(poll, stopping)


@dataclass(frozen=True, slots=True)
class Change:
    """What one arrival changes on an open page: the items to show (put in place, or replacing
    the one shown) and the ids of items to take away."""

    arrival_id: int
    items: tuple[WireItem, ...] = ()
    withdrawn: tuple[int, ...] = ()


def wire_changes(store: Store, arrivals: list[Article], *, source_id: int | None,
                 wanted_author: str | None, in_category: frozenset[int] | None = None) -> list[Change]:
    """For each arrival (in arrival order), what a reload would now show differently: the
    arrival itself when it is shown here, and its original (whose "Also in" it joins). On a
    wire without copies, an original that is not shown still takes its copies away. Each item is
    sent once a batch; a few queries a batch, whatever its size."""
    known = {a.id: a for a in arrivals}
    missing = {a.duplicate_of for a in arrivals if a.duplicate_of is not None} - known.keys()
    known.update((a.id, a) for a in store.get_articles(sorted(missing)))
    copies_hidden = source_id is None

    def shown(article: Article) -> bool:
        return (not copies_hidden or article.duplicate_of is None) and _matches(article, source_id, wanted_author,
                                                                                in_category)

    plan: list[tuple[int, list[Article], Article | None]] = []
    sent: set[int] = set()
    for arrival in arrivals:
        original = known.get(arrival.duplicate_of) if arrival.duplicate_of is not None else arrival
        candidates = [arrival] if original is None or original.id == arrival.id else [arrival, original]
        show = [a for a in candidates if a.id not in sent and shown(a)]
        sent.update(a.id for a in show)
        unshown = original if copies_hidden and original is not None and original.duplicate_of is None \
            and not shown(original) else None
        plan.append((arrival.id, show, unshown))
    items = {item.id: item for item in wire_items(store, [a for _, show, _ in plan for a in show])}
    unshown_ids = [unshown.id for _, _, unshown in plan if unshown is not None]
    withdrawn = store.also_in(unshown_ids) if unshown_ids else {}
    return [Change(arrival_id, tuple(items[a.id] for a in show),
                   tuple(copy_id for copy_id, _ in withdrawn.get(unshown.id, ())) if unshown else ())
            for arrival_id, show, unshown in plan]


async def _sleep_watching(seconds: float, stopping: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not stopping():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        await anyio.sleep(min(left, 0.2))


def _resume_point(last_event_id: str | None) -> int | None:
    """The browser's ``Last-Event-ID`` when it is one of our ids; anything else is ignored."""
    try:
        return int_or_none(last_event_id, "event")
    except BadRequest:
        return None


@router.get("/live")
async def live(request: Request, after: str | None = None, source: str | None = None,
               author: str | None = None, category: str | None = None, level: int = 2,
               last_event_id: str | None = Header(default=None)) -> Response:
    """The live wire as ``text/event-stream``; see the module docstring. A bad ``after``,
    ``source`` or ``author`` is a 400 before the stream starts."""
    source_id = int_or_none(source, "source")
    start = _resume_point(last_event_id)  # a reconnect resumes from the last event received
    if start is None:
        start = int_or_none(after, "article")
    author = text_or_none(author, "author", MAX_AUTHOR)
    category = category_or_none(text_or_none(category, "category", MAX_CATEGORY))
    in_category = None
    if category is not None:
        categories = await anyio.to_thread.run_sync(request.app.state.store.source_categories)
        in_category = frozenset(number for number, name in categories.items() if is_under(name, category))
    if start is None:
        start = await anyio.to_thread.run_sync(request.app.state.store.last_article_id)
    zone = zone_of(request)
    heading = 3 if level == 3 else 2

    def render(item: WireItem) -> str:
        return render_item(item, zone, level=heading)

    state: Any = request.app.state
    body = stream(request, start, source_id=source_id, author=author, in_category=in_category,
                  render=render, poll=getattr(state, "live_poll_seconds", POLL_SECONDS),
                  ping=getattr(state, "live_ping_seconds", PING_SECONDS),
                  settle=getattr(state, "live_settle_seconds", SETTLE_SECONDS))
    return StreamingResponse(body, media_type="text/event-stream", headers={
        "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
