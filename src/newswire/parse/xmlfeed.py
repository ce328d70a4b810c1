"""RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 read with lxml: the fast path.

lxml runs in recover mode (unclosed tags and similar damage are repaired as a browser would),
never resolves entities (a document whose DTD declares one is refused: see xmlsafe), never
touches the network, and keeps libxml2's size limits. Elements are matched by a short key: core
RSS/Atom elements by local name, known extension namespaces by prefix (``dc:creator``,
``content:encoded``, ``media:content``); unknown namespaces are ignored. Readers only collect
strings into ``RawFeed``; ``assemble`` normalises them.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable

from lxml import etree

from newswire.parse.html import looks_like_html
from newswire.parse.limits import considered
from newswire.parse.raw import RawEnclosure, RawEntry, RawFeed, RawText
from newswire.parse.urls import resolve_url
from newswire.parse.xmlprep import ENTITY_REFUSED
from newswire.parse.xmlsafe import refuse_declared_entities, xml_parser

RSS1_NS = "http://purl.org/rss/1.0/"
RSS090_NS = "http://my.netscape.com/rdf/simple/0.9/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ATOM10_NS = "http://www.w3.org/2005/Atom"
ATOM03_NS = "http://purl.org/atom/ns#"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

EXTENSIONS = {
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://search.yahoo.com/mrss/": "media",
    "http://search.yahoo.com/mrss": "media",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    RDF_NS: "rdf",
}
RSS_CORE = (RSS1_NS, RSS090_NS, "http://backend.userland.com/rss2",
            "http://blogs.law.harvard.edu/tech/rss", "http://backend.userland.com/rss")

_local = threading.local()


def _parser() -> etree.XMLParser:
    """One parser per thread (lxml parsers are not shared across threads)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = xml_parser(remove_comments=True, remove_pis=True, strip_cdata=True, encoding="utf-8")
        _local.parser = parser
    return parser


def parse_xml(data: bytes, url: str) -> tuple[etree._Element | None, bool]:
    """The document's root element (None when libxml2 recovers nothing), and whether libxml2
    had to repair structure to get it.

    Raises ParseError when the document declares entities (as the parser saw its DTD).
    Undeclared namespace prefixes do not count as damage: the element keeps its prefixed name
    ("media:content"), which the key lookup still understands.
    """
    parser = _parser()
    try:
        root = etree.fromstring(data, parser, base_url=url or None)
    except (etree.XMLSyntaxError, ValueError):
        return None, True
    if root is not None:
        refuse_declared_entities(root, ENTITY_REFUSED)
    damaged = any(
        err.level >= etree.ErrorLevels.ERROR and err.domain != etree.ErrorDomains.NAMESPACE
        for err in parser.error_log
    )
    return root, damaged


class _Keys:
    """Element tag → short key, memoised; ``core`` namespaces map to bare local names."""

    def __init__(self, core: tuple[str, ...], extra: dict[str, str]):
        self.ns = dict(EXTENSIONS)
        self.ns.update(extra)
        for uri in core:
            self.ns[uri] = ""
        self.cache: dict[object, str | None] = {}

    def __call__(self, tag: object) -> str | None:
        try:
            return self.cache[tag]
        except KeyError:
            pass
        key: str | None = None
        if isinstance(tag, str):
            if tag[:1] == "{":
                uri, _, local = tag[1:].partition("}")
                prefix = self.ns.get(uri)
                if prefix is not None:
                    key = f"{prefix}:{local}" if prefix else local
            else:
                key = tag
        self.cache[tag] = key
        return key


RSS_KEYS = _Keys(RSS_CORE, {ATOM10_NS: "atom", ATOM03_NS: "atom", XHTML_NS: "xhtml"})
ATOM10_KEYS = _Keys((ATOM10_NS,), {})
ATOM03_KEYS = _Keys((ATOM03_NS,), {})


def detect_format(root: etree._Element) -> str | None:
    """"rss2", "rss09x", "rss1", "atom10" or "atom03" for a feed root; None otherwise."""
    tag = root.tag
    if not isinstance(tag, str):
        return None
    local = tag.rpartition("}")[2]
    if local == "rss":
        return "rss09x" if root.get("version", "").strip().startswith("0.9") else "rss2"
    if tag == f"{{{ATOM10_NS}}}feed":
        return "atom10"
    if tag == f"{{{ATOM03_NS}}}feed":
        return "atom03"
    if tag == "feed" and any(child.tag == "entry" for child in root):
        # an Atom feed that forgot its namespace; its version attribute still tells 0.3 apart
        return "atom03" if root.get("version", "").strip() == "0.3" else "atom10"
    if tag == f"{{{RDF_NS}}}RDF":
        for child in root:
            child_tag = child.tag if isinstance(child.tag, str) else ""
            if child_tag.startswith(f"{{{RSS1_NS}}}"):
                return "rss1"
            if child_tag.startswith(f"{{{RSS090_NS}}}"):
                return "rss09x"
    return None


# --- small readers -------------------------------------------------------------------------

def _text(el: etree._Element) -> str:
    """Text content, including the text of any child elements."""
    if len(el) == 0:
        return el.text or ""
    return "".join(el.itertext())


def _inner_markup(el: etree._Element) -> str:
    """Everything inside ``el`` as markup: escaped HTML arrives as text, inline HTML as
    serialised child elements."""
    if len(el) == 0:
        return el.text or ""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            parts.append(etree.tostring(child, encoding="unicode", with_tail=True))
        elif child.tail:
            parts.append(child.tail)
    return "".join(parts)


class _Context:
    """What entry readers need from the document: its base URL and whether xml:base occurs."""

    __slots__ = ("url", "has_xml_base")

    def __init__(self, url: str, has_xml_base: bool):
        self.url = url
        self.has_xml_base = has_xml_base

    def base(self, el: etree._Element) -> str:
        if not self.has_xml_base:
            return self.url
        return el.base or self.url


# Elements publishers use where the core one is missing: they fill a field only while it is empty,
# and the core element (RSS <title>/<description>, Atom <title>/<summary>) replaces them.
TITLE_FALLBACKS = ("dc:title", "media:title")
SUMMARY_FALLBACKS = ("dc:description", "media:description", "itunes:summary")
AUTHOR_KEYS = ("dc:creator", "dc:author", "itunes:author", "dc:contributor")


def _fallback_text(el: etree._Element, key: str, entry: RawEntry) -> None:
    """A title or summary from a secondary element (see ``TITLE_FALLBACKS``). iTunes summaries
    are plain text unless they hold markup (as feedparser decides); the others are HTML."""
    if key == "itunes:summary":
        value = _text(el)
        text = RawText(value, looks_like_html(value))
    else:
        text = RawText(_inner_markup(el))
    if key in TITLE_FALLBACKS:
        entry.title = entry.title or text
    else:
        entry.summary = entry.summary or text


def _media(el: etree._Element, key: str, entry: RawEntry, ctx: _Context) -> None:
    """media:content / media:thumbnail as enclosures, media:title / media:description as
    fallbacks; media:group holds any of these, media:content its own title and description."""
    if key in TITLE_FALLBACKS or key in SUMMARY_FALLBACKS:
        _fallback_text(el, key, entry)
        return
    if key in ("media:group", "media:content"):
        for child in el:
            child_key = RSS_KEYS(child.tag)
            if child_key in ("media:title", "media:description") or (
                    key == "media:group" and child_key in ("media:content", "media:thumbnail")):
                _media(child, child_key, entry, ctx)
        if key == "media:group":
            return
    url = el.get("url")
    if url:
        mime = el.get("type") if key == "media:content" else (el.get("type") or "image/*")
        entry.enclosures.append(RawEnclosure(url, mime, el.get("fileSize")))
        if key == "media:content" and not entry.content_base and ctx.has_xml_base:
            entry.content_base = ctx.base(el)


# --- RSS -----------------------------------------------------------------------------------

def _rss_item(item: etree._Element, ctx: _Context) -> RawEntry:
    entry = RawEntry(base=ctx.base(item), language=item.get(XML_LANG))
    permalink_guid: str | None = None
    for child in item:
        key = RSS_KEYS(child.tag)
        if key is None:
            continue
        if key == "title":
            entry.title = RawText(_inner_markup(child))
        elif key == "link":
            if not entry.link:
                entry.link = _text(child).strip() or child.get(f"{{{RDF_NS}}}resource")
        elif key == "guid":
            entry.guid = _text(child).strip()
            if child.get("isPermaLink", "true").strip().lower() != "false":
                permalink_guid = entry.guid
        elif key == "description":
            entry.summary = RawText(_inner_markup(child))
        elif key == "content:encoded" or (key == "xhtml:body" and entry.content is None):
            entry.content = RawText(_inner_markup(child))  # an XHTML <body> only without content:encoded
            if ctx.has_xml_base:
                entry.content_base = ctx.base(child)
        elif key in TITLE_FALLBACKS or key in SUMMARY_FALLBACKS:
            _fallback_text(child, key, entry)
        elif key in ("pubDate", "dc:date", "dcterms:issued", "dcterms:created", "atom:published"):
            entry.published = entry.published or _text(child)
        elif key in ("atom:updated", "dcterms:modified", "lastBuildDate"):
            entry.updated = entry.updated or _text(child)
        elif key in AUTHOR_KEYS or key == "author":
            entry.authors.append(_text(child))
        elif key == "atom:author":
            entry.authors.extend(_atom_person(child, RSS_KEYS))
        elif key in ("category", "dc:subject", "itunes:keywords"):
            entry.categories.append(_text(child))
        elif key == "enclosure":
            url = child.get("url")
            if url:
                entry.enclosures.append(RawEnclosure(url, child.get("type"), child.get("length")))
        elif key.startswith("media:"):
            _media(child, key, entry, ctx)
        elif key == "atom:link":
            _atom_link(child, entry, ctx)
        elif key in ("language", "dc:language"):
            entry.language = entry.language or _text(child).strip()
    if not entry.guid:
        entry.guid = item.get(f"{{{RDF_NS}}}about")
    if not entry.link and permalink_guid and permalink_guid.startswith(("http://", "https://")):
        entry.link = permalink_guid
    return entry


def _considered(items: list[etree._Element], max_entries: int | None) -> list[etree._Element]:
    return items if max_entries is None else considered(items, max_entries)


def read_rss(root: etree._Element, fmt: str, ctx: _Context, max_entries: int | None = None) -> RawFeed:
    feed = RawFeed(format=fmt, base=ctx.url, language=root.get(XML_LANG))
    channel = None
    items: list[etree._Element] = []
    for child in root:
        key = RSS_KEYS(child.tag)
        if key == "channel":
            channel = child
        elif key == "item":
            items.append(child)
    if channel is not None:
        feed.base = ctx.base(channel)
        channel_items = []
        fallbacks = RawEntry()  # the channel's secondary title and description
        for child in channel:
            key = RSS_KEYS(child.tag)
            if key is None:
                continue
            if key == "item":
                channel_items.append(child)
            elif key == "title":
                feed.title = feed.title or RawText(_inner_markup(child))
            elif key == "link":
                feed.site_url = feed.site_url or _text(child).strip()
            elif key == "description":
                feed.description = feed.description or RawText(_inner_markup(child))
            elif key in ("language", "dc:language"):
                feed.language = feed.language or _text(child).strip()
            elif key == "ttl":
                feed.ttl = _text(child)
            elif key in AUTHOR_KEYS or key == "author":
                feed.authors.append(_text(child))
            elif key in TITLE_FALLBACKS or key in SUMMARY_FALLBACKS:
                _fallback_text(child, key, fallbacks)
        feed.title = feed.title or fallbacks.title
        feed.description = feed.description or fallbacks.summary
        items = channel_items + items
    feed.entries = [_rss_item(item, ctx) for item in _considered(items, max_entries)]
    return feed


# --- Atom ----------------------------------------------------------------------------------

def _atom_text(el: etree._Element, atom03: bool) -> RawText | None:
    """An Atom text construct (title, summary, content) as markup or plain text. A ``mode``
    attribute is Atom 0.3's whatever the feed declares (base64 content in a 1.0 feed)."""
    atom03 = atom03 or el.get("mode") is not None
    mime = (el.get("type") or ("text/plain" if atom03 else "text")).strip().lower()
    if atom03:
        mode = (el.get("mode") or "xml").strip().lower()
        if mode == "base64":
            try:
                value = base64.b64decode(_text(el)).decode("utf-8", errors="replace")
            except (binascii.Error, ValueError):
                return None
            return RawText(value, "html" in mime)
        if mode == "escaped":
            return RawText(_text(el), mime != "text/plain")
        if mime in ("text/plain", "text"):
            return RawText(_text(el), False)
        return RawText(_xhtml_inner(el))
    if mime in ("text", "text/plain"):
        return RawText(_text(el), False)
    if mime in ("html", "text/html"):
        return RawText(_inner_markup(el))
    if mime == "xhtml" or mime.endswith("+xml") or mime.endswith("/xml"):
        return RawText(_xhtml_inner(el))
    if mime.startswith("text/"):
        return RawText(_text(el), False)
    return None  # base64 media content: nothing to show as text


def _xhtml_inner(el: etree._Element) -> str:
    """Inline XHTML: the contents of the wrapping div when there is one."""
    children = [c for c in el if isinstance(c.tag, str)]
    if len(children) == 1 and children[0].tag in (f"{{{XHTML_NS}}}div", "div") \
            and not (el.text or "").strip():
        return _inner_markup(children[0])
    return _inner_markup(el)


def _atom_person(el: etree._Element, keys: Callable[[object], str | None]) -> list[str]:
    names, emails = [], []
    for child in el:
        key = keys(child.tag)
        if key in ("name", "atom:name"):
            names.append(_text(child))
        elif key in ("email", "atom:email"):
            emails.append(_text(child))
    if names:
        return names
    if emails:
        return emails
    text = (el.text or "").strip()  # <author>Jane Doe</author>, without <name>
    return [text] if text else []


def _atom_link(el: etree._Element, entry: RawEntry, ctx: _Context) -> None:
    href = el.get("href")
    if not href:
        return
    rel = (el.get("rel") or "alternate").strip().lower()
    if ctx.has_xml_base:
        base = ctx.base(el)
        if base and base != entry.base:
            href = resolve_url(href, base) or href
    if rel == "enclosure":
        entry.enclosures.append(RawEnclosure(href, el.get("type"), el.get("length")))
    elif rel == "alternate" and not entry.link:
        mime = (el.get("type") or "text/html").lower()
        if "html" in mime:
            entry.link = href


def _atom_entry(el: etree._Element, ctx: _Context, keys: _Keys, atom03: bool) -> RawEntry:
    entry = RawEntry(base=ctx.base(el), language=el.get(XML_LANG))
    for child in el:
        key = keys(child.tag)
        if key is None:
            continue
        if key == "id":
            entry.guid = _text(child).strip()
        elif key == "title":
            entry.title = _atom_text(child, atom03)
        elif key == "link":
            _atom_link(child, entry, ctx)
        elif key == "summary":
            entry.summary = _atom_text(child, atom03)
        elif key == "content":
            content = _atom_text(child, atom03)
            if content is not None and content.value.strip():
                entry.content = content
                if ctx.has_xml_base:
                    entry.content_base = ctx.base(child)
        elif key in ("published", "issued", "created", "dc:date", "dcterms:issued"):
            entry.published = entry.published or _text(child)
        elif key in ("updated", "modified", "dcterms:modified"):
            entry.updated = entry.updated or _text(child)
        elif key == "author":
            entry.authors.extend(_atom_person(child, keys))
        elif key in AUTHOR_KEYS:
            entry.authors.append(_text(child))
        elif key in TITLE_FALLBACKS or key in SUMMARY_FALLBACKS:
            _fallback_text(child, key, entry)
        elif key == "category":
            entry.categories.append(child.get("label") or child.get("term") or _text(child))
        elif key == "dc:subject":
            entry.categories.append(_text(child))
        elif key.startswith("media:"):
            _media(child, key, entry, ctx)
    return entry


def read_atom(root: etree._Element, fmt: str, ctx: _Context, max_entries: int | None = None) -> RawFeed:
    atom03 = fmt == "atom03"
    keys = ATOM03_KEYS if atom03 else ATOM10_KEYS
    feed = RawFeed(format=fmt, base=ctx.base(root), language=root.get(XML_LANG))
    entries: list[etree._Element] = []
    for child in root:
        key = keys(child.tag)
        if key is None:
            continue
        if key == "entry":
            entries.append(child)
        elif key == "title":
            feed.title = _atom_text(child, atom03)
        elif key in ("subtitle", "tagline"):
            feed.description = _atom_text(child, atom03)
        elif key == "link":
            rel = (child.get("rel") or "alternate").strip().lower()
            if rel == "alternate" and not feed.site_url and child.get("href"):
                feed.site_url = child.get("href")
        elif key == "author":
            feed.authors.extend(_atom_person(child, keys))
        elif key == "dc:language":
            feed.language = feed.language or _text(child).strip()
    feed.entries = [_atom_entry(el, ctx, keys, atom03) for el in _considered(entries, max_entries)]
    return feed


def read(root: etree._Element, fmt: str, url: str, has_xml_base: bool,
         max_entries: int | None = None) -> RawFeed:
    """The feed under ``root`` (whose format ``detect_format`` gave) as a RawFeed, with at most
    ``max_entries`` entries (the first and the last ones; all when None)."""
    ctx = _Context(url, has_xml_base)
    if fmt.startswith("atom"):
        return read_atom(root, fmt, ctx, max_entries)
    return read_rss(root, fmt, ctx, max_entries)
