"""How the pages look: the Jinja2 environment, its filters, and the wire item view model.

One partial, ``_item.html``, renders a wire item on every listing page (through ``wire_item``,
which keeps rendered items: ``ItemFragments``) and in the live stream (``live.py``), so a pushed
item looks exactly like a served one. Templates live in
``templates/``; every page goes through ``render_page`` so each one gets the display zone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from newswire.models import Article, SearchHit
from newswire.sources.redact import redact_text, redact_url
from newswire.sources.failures import failure_detail, failure_in_words
from newswire.web.categories import category_path
from newswire.web.display import format_when, relative_when, utc_iso
from newswire.web.identity import page_context

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

# Every page sees ``me`` (the signed-in user, for "Hello, NAME") and ``csrf_token`` (its forms').
templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[page_context])
# Templates ship with the package and never change while it runs: without this, every
# ``{% include %}`` (one per wire item) stats its file to see whether to reload it.
templates.env.auto_reload = False


@dataclass(frozen=True, slots=True)
class WireItem:
    """What a wire item shows, from a listing or a search hit."""

    id: int
    title: str
    source_id: int
    source_name: str
    authors: tuple[str, ...]
    published_at: datetime
    snippet: str  # plain text, escaped when rendered
    snippet_html: Markup | None = None  # search hits: <mark>ed, everything else escaped by the store
    also_in: tuple[tuple[int, str], ...] = ()  # its syndicated copies: (article id, source name)
    coverage: tuple[int, int] | None = None  # (story id, sources) when its story has two sources or more

    @classmethod
    def of(cls, article: Article, also_in: Iterable[tuple[int, str]] = (),
           coverage: tuple[int, int] | None = None) -> "WireItem":
        return cls(article.id, article.title, article.source_id, article.source_name, article.authors,
                   article.published_at, article.snippet or article.summary, also_in=tuple(also_in),
                   coverage=coverage)

    @classmethod
    def of_hit(cls, hit: SearchHit, also_in: Iterable[tuple[int, str]] = ()) -> "WireItem":
        return cls(hit.article_id, hit.title, hit.source_id, hit.source_name, hit.authors,
                   hit.published_at, "", Markup(hit.snippet), also_in=tuple(also_in))


def path_quote(value: str) -> str:
    """``value`` as one path segment (an author named ``AP/Reuters`` stays one segment)."""
    return quote(value, safe="")


def safe_href(url: str | None) -> str | None:
    """Only web links are rendered as links (no ``javascript:`` from a feed)."""
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        return url
    return None


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return format_when(moment, zone)


def ago(moment: datetime, zone: ZoneInfo, *, due: bool = False) -> Markup:
    """``<time>`` saying how long ago (or how soon) ``moment`` is, the exact time on hover: an
    admin scanning the sources asks "how stale?", and the hover answers "when exactly?". With
    ``due``, a moment already past reads "now" (a fetch that is due, not one that happened)."""
    now = datetime.now(timezone.utc)
    words = "now" if due and moment <= now else relative_when(moment, now)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(utc_iso(moment), format_when(moment, zone), words)


def sort_at(moment: datetime) -> str:
    """A wire item's place in time as text that sorts as the listings do (UTC, fixed width, to
    the microsecond), so the live wire can put an arrival where a reload would list it."""
    utc = moment.astimezone(timezone.utc)
    return f"{utc.year:04d}{utc:%m%d%H%M%S%f}"


templates.env.filters["when"] = _when
templates.env.filters["sort_at"] = sort_at
templates.env.filters["ago"] = ago
templates.env.filters["due"] = lambda moment, zone: ago(moment, zone, due=True)
templates.env.filters["category_path"] = category_path
templates.env.globals["failure_in_words"] = failure_in_words
templates.env.filters["failure_detail"] = failure_detail
templates.env.filters["pathq"] = path_quote
templates.env.filters["safe_href"] = safe_href
templates.env.filters["redact_url"] = redact_url  # a feed URL as shown: no passwords, no tokens
templates.env.filters["redact_text"] = redact_text
templates.env.globals["urlencode"] = urlencode


def render_item(item: WireItem, zone: ZoneInfo, *, level: int = 2) -> str:
    """The HTML of one wire item (an ``<li>``), as the page and the live stream send it."""
    return templates.get_template("_item.html").render(item=item, zone=zone, level=level)


class ItemFragments:
    """Rendered wire items, kept by everything they show.

    Every reader of a busy newswire loads the same fifty items over and over, and rendering
    them is most of a wire page's cost. An item's HTML depends only on the item (a frozen
    ``WireItem``: any change to what it shows is a new key), the reader's (read, saved) state
    of it, whether it is new since their last visit, its heading level and the display zone;
    so it is kept under exactly that, least recently used going first."""

    def __init__(self, size: int = 4096):
        self._kept: OrderedDict[tuple[Any, ...], Markup] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def html(self, item: WireItem, zone: ZoneInfo, level: int, state: tuple[bool, bool] | None,
             unseen: bool) -> Markup:
        key = (item, zone, level, state, unseen)
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        made = Markup(templates.get_template("_item.html").render(
            item=item, zone=zone, level=level, states={item.id: state} if state else None,
            new_after=item.id - 1 if unseen else None))
        with self._lock:
            self._kept[key] = made
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return made


fragments = ItemFragments()


@pass_context
def wire_item(context: Context, item: WireItem, level: int = 2) -> Markup:
    """One item of a wire listing, with the page's reader marks (``states``, ``new_after``)."""
    states, new_after = context.get("states"), context.get("new_after")
    state = states.get(item.id) if states else None
    unseen = new_after is not None and item.id > new_after
    return fragments.html(item, context["zone"], level, state, unseen)


templates.env.globals["wire_item"] = wire_item


def zone_of(request: Request) -> ZoneInfo:
    return request.app.state.zone


def render_page(request: Request, name: str, context: Mapping[str, Any], status: int = 200) -> HTMLResponse:
    """Template ``name`` as a full page, with the display zone in its context."""
    return templates.TemplateResponse(request, name, {"zone": zone_of(request), **context}, status_code=status)
