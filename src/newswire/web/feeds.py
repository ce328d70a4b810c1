"""Feeds out: the wire re-published as Atom 1.0, RSS 2.0 and JSON Feed 1.1.

    GET /feed.{atom,rss,json}                    the wire (latest 50); ?source= ?author= ?q=
    GET /sources/{id}/feed.{atom,rss,json}       one source's articles; ?author= ?q=
    GET /authors/{name}/feed.{atom,rss,json}     one author's articles; ?source= ?q=
    GET /categories/{name}/feed.{atom,rss,json}  the sources of one category and those below it; ?q=
    (the wire's feed takes ?category= too)

    request ─► title, links (FeedHead), filters ─► Store.list_stamps (ids and change times)
            ─► kept rendering for the same head and stamps? (feed_cache) ─► bytes, ETag ─► 200 / 304
            ─► else Store.get_articles ─► Feed ─► render_atom / render_rss / render_json ─► keep it

Each item's content is the article's best text (``Article.best_html``): the text extracted from
the publisher's page when the feed gave a teaser, else the feed's own; JSON Feed items say which
in ``_newswire.content_source``. Entries without a byline carry their outlet as the author of their ``atom:source``, so the feed
itself needs no made-up author. XML is built with lxml, never by pasting strings, and every text is first stripped of the
characters XML 1.0 forbids. Each response carries a strong ETag (a hash of the body) and
Last-Modified (never later than now, whatever dates the items carry), and answers 304 to a
matching conditional GET. Entry ids are the article's page URL on this server
(``{base}articles/{id}``): stable as long as the server's address is.

Absolute links start at ``NEWSWIRE_BASE_URL`` when it is set; then every request gets the same
links and the response is ``Cache-Control: public``. Without it they start at the address the
request was made to (its Host header), which differs per request and is the client's to choose,
so the response is ``private`` with ``Vary: Host``: a shared cache never keeps one client's Host
for the next (cache poisoning). The web edge refuses hosts outside the allowed list either way.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any, Callable, Iterable, Sequence
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Request, Response
from lxml import etree

from newswire import __version__
from newswire.errors import NotFound
from newswire.models import Article
from newswire.store import Store
from newswire.store.reading import Stamp
from newswire.web.display import as_utc, utc_iso
from newswire.web.api import MAX_ID, AuthorParam, CategoryParam, QueryParam, SourceParam, error_responses
from newswire.web.categories import category_path, known_category
from newswire.web.inputs import MAX_CATEGORY
from newswire.web.feed_cache import Rendered
from newswire.web.queries import stamp_page
from newswire.web.state import feed_cache_of, settings_of, store_of

FEED_SIZE = 50
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ILLEGAL_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str | None) -> str:
    """``value`` without the characters XML 1.0 cannot carry (controls, surrogates, U+FFFE/F)."""
    return _ILLEGAL_XML.sub("", value or "")


@dataclass(frozen=True)
class Feed:
    """What every format renders: the feed's own metadata and its full articles, newest first."""

    title: str
    description: str
    self_url: str
    home_url: str
    base_url: str  # ends with "/"
    items: tuple[Article, ...]
    shared: bool = False  # links from the configured base URL: a shared cache may keep the response

    @property
    def updated(self) -> datetime:
        return max((_updated(a) for a in self.items), default=EPOCH)

    @property
    def last_modified(self) -> datetime:
        """When the newest change among the items was stored: its first sight, the feed's
        update of it, or the store's own change time (a refresh's update, its page's text
        extracted), which moves when an entry's content does though what readers see as its
        ``updated`` does not."""
        return max((max(a.first_seen_at, a.updated_at or a.first_seen_at, a.changed_at or a.first_seen_at)
                    for a in self.items), default=EPOCH)

    def item_id(self, article: Article) -> str:
        return f"{self.base_url}articles/{article.id}"

    def item_link(self, article: Article) -> str:
        return article.url or self.item_id(article)


def _updated(article: Article) -> datetime:
    return max(article.published_at, article.updated_at or article.published_at)


# renderers: Feed -> bytes

def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {k: xml_text(v) for k, v in attrib.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def render_atom(feed: Feed) -> bytes:
    root = etree.Element(_A + "feed", nsmap={None: ATOM_NS})
    for element in atom_head(feed):
        root.append(element)
    for article in feed.items:
        root.append(atom_entry(feed, article))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


_A = "{%s}" % ATOM_NS


def atom_head(feed: Feed) -> list[etree._Element]:
    """The Atom feed's own elements, before its entries (``newswire export`` streams them)."""
    holder = etree.Element(_A + "feed", nsmap={None: ATOM_NS})
    _sub(holder, _A + "id", feed.self_url)
    _sub(holder, _A + "title", feed.title)
    _sub(holder, _A + "subtitle", feed.description)
    _sub(holder, _A + "updated", utc_iso(feed.updated))
    _sub(holder, _A + "link", rel="self", type="application/atom+xml", href=feed.self_url)
    _sub(holder, _A + "link", rel="alternate", type="text/html", href=feed.home_url)
    _sub(holder, _A + "generator", "Newswire", version=__version__)
    return list(holder)


def atom_entry(feed: Feed, article: Article) -> etree._Element:
    """One article as an Atom ``entry`` element."""
    a = _A
    entry = etree.Element(a + "entry", nsmap={None: ATOM_NS})
    _sub(entry, a + "id", feed.item_id(article))
    _sub(entry, a + "title", article.title, type="text")
    _sub(entry, a + "updated", utc_iso(_updated(article)))
    _sub(entry, a + "published", utc_iso(article.published_at))
    for name in article.authors:
        _sub(_sub(entry, a + "author"), a + "name", name)
    _sub(entry, a + "link", rel="alternate", type="text/html", href=feed.item_link(article))
    for enclosure in article.enclosures:
        attrib = {"rel": "enclosure", "href": enclosure.url}
        if enclosure.type:
            attrib["type"] = enclosure.type
        if enclosure.length:
            attrib["length"] = str(enclosure.length)
        _sub(entry, a + "link", **attrib)
    for category in article.categories:
        _sub(entry, a + "category", term=category)
    _sub(entry, a + "summary", article.summary or article.snippet, type="text")
    _sub(entry, a + "content", article.best_html, type="html")
    source = _sub(entry, a + "source")
    _sub(source, a + "id", f"{feed.base_url}sources/{article.source_id}")
    _sub(source, a + "title", article.source_name)
    _sub(_sub(source, a + "author"), a + "name", article.source_name)  # Atom: every entry has an author
    _sub(source, a + "link", rel="self", type="application/atom+xml",
         href=f"{feed.base_url}sources/{article.source_id}/feed.atom")
    return entry


def render_rss(feed: Feed) -> bytes:
    root = etree.Element("rss", version="2.0", nsmap={"atom": ATOM_NS, "dc": DC_NS, "content": CONTENT_NS})
    channel = _sub(root, "channel")
    _sub(channel, "title", feed.title)
    _sub(channel, "link", feed.home_url)
    _sub(channel, "description", feed.description)
    _sub(channel, "{%s}link" % ATOM_NS, rel="self", type="application/rss+xml", href=feed.self_url)
    _sub(channel, "lastBuildDate", format_datetime(as_utc(feed.updated), usegmt=True))
    _sub(channel, "generator", f"Newswire {__version__}")
    for article in feed.items:
        item = _sub(channel, "item")
        _sub(item, "title", article.title)
        _sub(item, "link", feed.item_link(article))
        _sub(item, "guid", feed.item_id(article), isPermaLink="false")
        _sub(item, "pubDate", format_datetime(as_utc(article.published_at), usegmt=True))
        for name in article.authors:
            _sub(item, "{%s}creator" % DC_NS, name)
        for category in article.categories:
            _sub(item, "category", category)
        _sub(item, "description", article.summary or article.snippet)
        _sub(item, "{%s}encoded" % CONTENT_NS, article.best_html)
        if article.enclosures:  # RSS 2.0 allows one
            first = article.enclosures[0]
            _sub(item, "enclosure", url=first.url, length=str(first.length or 0),
                 type=first.type or "application/octet-stream")
        _sub(item, "source", article.source_name, url=f"{feed.base_url}sources/{article.source_id}/feed.rss")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def render_json(feed: Feed) -> bytes:
    def item(article: Article) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": feed.item_id(article), "url": feed.item_link(article), "title": article.title,
            "content_html": article.best_html, "summary": article.summary or article.snippet,
            "date_published": utc_iso(article.published_at), "date_modified": utc_iso(_updated(article)),
            "authors": [{"name": name} for name in article.authors],
            "tags": list(article.categories),
            "_newswire": {"source": {"id": article.source_id, "name": article.source_name},
                          "published_estimated": article.published_estimated,
                          "content_source": article.content_source},
        }
        if article.language:
            out["language"] = article.language
        if article.enclosures:
            out["attachments"] = [{"url": e.url, "mime_type": e.type or "application/octet-stream",
                                   **({"size_in_bytes": e.length} if e.length else {})} for e in article.enclosures]
        return out

    document = {"version": "https://jsonfeed.org/version/1.1", "title": feed.title,
                "home_page_url": feed.home_url, "feed_url": feed.self_url, "description": feed.description,
                "items": [item(a) for a in feed.items]}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class AtomResponse(Response):
    media_type = "application/atom+xml"


class RssResponse(Response):
    media_type = "application/rss+xml"


class JsonFeedResponse(Response):
    media_type = "application/feed+json"


FORMATS: dict[str, tuple[type[Response], Callable[[Feed], bytes], str]] = {
    "atom": (AtomResponse, render_atom, "Atom 1.0"),
    "rss": (RssResponse, render_rss, "RSS 2.0"),
    "json": (JsonFeedResponse, render_json, "JSON Feed 1.1"),
}


# building a feed from a request

@dataclass(frozen=True)
class Links:
    """Where a feed's absolute links start, and whether they are the same for every request."""

    base: str  # ends with "/"
    self_url: str
    shared: bool


def links_of(request: Request) -> Links:
    """The configured base URL's links when there is one, else the request's own (see the
    module docstring)."""
    configured = settings_of(request).base_url
    if not configured:
        return Links(str(request.base_url), str(request.url), shared=False)
    base = configured.rstrip("/") + "/"
    query = request.url.query
    return Links(base, base + request.url.path.lstrip("/") + (f"?{query}" if query else ""), shared=True)


@dataclass(frozen=True, slots=True)
class FeedHead:
    """Everything a feed's rendering holds besides its items (hashable: a kept rendering's key)."""

    title: str
    description: str
    self_url: str
    home_url: str
    base_url: str
    shared: bool


def head_of(request: Request, *, title: str, description: str, home_path: str) -> FeedHead:
    """A feed's head, its links starting where ``links_of`` says."""
    links = links_of(request)
    return FeedHead(title=title, description=description, self_url=links.self_url,
                    home_url=links.base + home_path.lstrip("/"), base_url=links.base, shared=links.shared)


def _feed(head: FeedHead, items: Iterable[Article]) -> Feed:
    return Feed(title=head.title, description=head.description, self_url=head.self_url, home_url=head.home_url,
                base_url=head.base_url, items=tuple(items), shared=head.shared)


def serve_feed(request: Request, fmt: str, head: FeedHead, stamps: Sequence[Stamp]) -> Response:
    """The feed of the articles ``stamps`` name (``Store.list_stamps``/``stamps_of``), as
    ``fmt``: the rendering this process kept for the same head and stamps (see ``feed_cache``),
    else the articles loaded and rendered, and kept. Validators and 304 as ``validated_response``."""
    response_class, render, _ = FORMATS[fmt]
    cache = feed_cache_of(request)
    key, version = (fmt, head), tuple(stamps)
    kept = cache.get(key, version)
    if kept is None:
        feed = _feed(head, store_of(request).get_articles([stamp[0] for stamp in stamps], text=False))
        body = render(feed)
        # Last-Modified is capped at now, once, at the rendering: a feed's future-dated items
        # must not make a client's cache believe in a time that has not come, and capped at each
        # request instead, it moved every second and no If-Modified-Since matched
        kept = Rendered(body, etag_of(body), min(as_utc(feed.last_modified), datetime.now(timezone.utc)))
        cache.put(key, version, kept)
    return validated_response(request, kept, response_class, shared=head.shared)


def build_feed(request: Request, store: Store, fmt: str, *, title: str, description: str, home_path: str,
               source: int | None, author: str | None, q: str | None, category: str | None = None) -> Response:
    stamps = stamp_page(store, source=source, author=author, q=q, limit=FEED_SIZE, copies=source is not None,
                        category=category)
    if q:
        title += f" — search: {q}"
        description += f", matching “{q}”"
        home_path = "/search?" + urlencode({"q": q})
    return serve_feed(request, fmt, head_of(request, title=title, description=description, home_path=home_path),
                      stamps)


def _source_name(store: Store, source: int | None) -> str | None:
    return None if source is None else (store.get_source(source).name or f"source {source}")


def _author_name(store: Store, name: str) -> str:
    stored = store.author_name(name) if "\x00" not in name else None
    if stored is None:
        raise NotFound(f"no author {name}")
    return stored


def etag_of(body: bytes) -> str:
    """A strong ETag: a hash of the body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def validated_response(request: Request, rendered: Rendered, response_class: type[Response], *,
                       shared: bool = False) -> Response:
    """The body with validators, or 304 when the client's copy is current. If-None-Match
    wins over If-Modified-Since (RFC 9110 13.2.2). ``rendered.last_modified`` is never in the
    future (``serve_feed`` caps it when it renders). ``shared``: the body is the same whoever
    asks, so shared caches may keep it."""
    etag = rendered.etag
    last_modified = rendered.last_modified
    headers = {"ETag": etag, "Last-Modified": format_datetime(last_modified, usegmt=True),
               "Cache-Control": "public, max-age=60" if shared else "private, max-age=60"}
    if not shared:
        headers["Vary"] = "Host"
    if _not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    return response_class(content=rendered.body, headers=headers)


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if not since:
        return False
    try:
        client_time = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if client_time.tzinfo is None:
        client_time = client_time.replace(tzinfo=timezone.utc)
    return as_utc(last_modified).replace(microsecond=0) <= client_time


# the routes

router = APIRouter(tags=["feeds"])


JSON_FEED_SCHEMA = {"type": "object", "required": ["version", "title", "home_page_url", "feed_url", "items"],
                    "properties": {"version": {"type": "string"}, "title": {"type": "string"},
                                   "items": {"type": "array", "items": {
                                       "type": "object", "required": ["id", "url", "title", "content_html",
                                                                      "date_published", "authors"]}}}}


def feed_responses(kind: str, response_class: type[Response]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI responses of a feed route: the feed, 304, and the JSON errors."""
    body = JSON_FEED_SCHEMA if response_class is JsonFeedResponse else {"type": "string"}
    return {
        200: {"description": f"The feed as {kind}", "content": {response_class.media_type: {"schema": body}}},
        304: {"description": "Not modified since the copy named by If-None-Match / If-Modified-Since"},
        **error_responses("No such source or author"),
    }


def _add_routes(fmt: str) -> None:
    response_class, _, kind = FORMATS[fmt]

    def wire(request: Request, source: SourceParam = None, author: AuthorParam = None,
             q: QueryParam = None, category: CategoryParam = None) -> Response:
        store = store_of(request)
        with store.snapshot():  # the feed's reads: one transaction, one state of the database
            title, description = "Newswire", "The latest articles from every source"
            source_name = _source_name(store, source)
            if source_name:
                title, description = f"{title} — {source_name}", f"The latest articles from {source_name}"
            if author:
                author = _author_name(store, author)
                title, description = f"{title} — {author}", f"{description}, by {author}"
            category = known_category(store.source_categories().values(), category)
            if category:
                title, description = f"{title} — {category}", f"{description}, in {category}"
            home = "/" + (("?" + urlencode({"source": source})) if source else "")
            return build_feed(request, store, fmt, title=title, description=description, home_path=home,
                              source=source, author=author, q=q, category=category)

    def by_category(request: Request, name: Annotated[str, Path(min_length=1, max_length=MAX_CATEGORY)],
                    q: QueryParam = None) -> Response:
        store = store_of(request)
        with store.snapshot():  # the feed's reads: one transaction, one state of the database
            category = known_category(store.source_categories().values(), name) or ""
            return build_feed(request, store, fmt, title=f"Newswire — {category}",
                              description=f"The latest articles in {category}", home_path=category_path(category),
                              source=None, author=None, q=q, category=category)

    def by_source(request: Request, source_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                  author: AuthorParam = None, q: QueryParam = None) -> Response:
        store = store_of(request)
        with store.snapshot():  # the feed's reads: one transaction, one state of the database
            name = _source_name(store, source_id)
            title, description = f"Newswire — {name}", f"The latest articles from {name}"
            if author:
                author = _author_name(store, author)
                title, description = f"{title} — {author}", f"{description}, by {author}"
            return build_feed(request, store, fmt, title=title, description=description,
                              home_path=f"/sources/{source_id}", source=source_id, author=author, q=q)

    def by_author(request: Request, name: Annotated[str, Path(min_length=1, max_length=200)],
                  source: SourceParam = None, q: QueryParam = None) -> Response:
        store = store_of(request)
        with store.snapshot():  # the feed's reads: one transaction, one state of the database
            author = _author_name(store, name)
            title, description = f"Newswire — {author}", f"The latest articles by {author}"
            source_name = _source_name(store, source)
            if source_name:
                title, description = f"{title} — {source_name}", f"{description} in {source_name}"
            return build_feed(request, store, fmt, title=title, description=description,
                              home_path=f"/authors/{quote(author, safe='')}", source=source, author=author, q=q)

    for path, endpoint, what in ((f"/feed.{fmt}", wire, "the wire"),
                                 (f"/sources/{{source_id}}/feed.{fmt}", by_source, "one source"),
                                 (f"/authors/{{name:path}}/feed.{fmt}", by_author, "one author"),
                                 (f"/categories/{{name:path}}/feed.{fmt}", by_category, "one category")):
        router.add_api_route(path, endpoint, methods=["GET"], response_class=response_class,
                             responses=feed_responses(kind, response_class), summary=f"{kind} feed of {what}",
                             operation_id=f"feed_{endpoint.__name__}_{fmt}")


for _fmt in FORMATS:
    _add_routes(_fmt)

