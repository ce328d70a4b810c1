"""OPML import and export.

Categories come from the nesting of outlines (``News/Canada`` for a feed inside ``News`` inside
``Canada``… in document order, outermost first) or, in OPML 2.0, from a ``category`` attribute.
Export writes the same nesting back, so a round trip keeps every feed, name and category.

An OPML file is a stranger's document. Only http(s) feed URLs are read (``feed:`` ones become
http); an outline pointing anywhere else (``javascript:``, ``file:``, relative) is reported in
``OpmlDocument.skipped``, never followed, and a site URL that is not http(s) is dropped.
Category paths deeper than ``MAX_CATEGORY_DEPTH`` are flattened into the deepest kept one; a
file nested deeper than the XML parser reads (libxml2 stops at 256 levels) is refused, since it
would otherwise lose its feeds silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from lxml import etree

from newswire.errors import ParseError
from newswire.parse.xmlsafe import refuse_declared_entities, xml_parser

MAX_CATEGORY_DEPTH = 10
ENTITY_REFUSED = "opml: XML entity declarations are refused"
_ENTITY_DECL = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
# A bare "&" (not starting a reference), as hand-written and some exported files have in URLs:
# the recovering parser would drop "&name" from the URL; escaping it keeps the URL whole.
_BARE_AMPERSAND = re.compile(rb"&(?!#[0-9]+;|#x[0-9a-fA-F]+;|[A-Za-z_][A-Za-z0-9_.-]*;)")


@dataclass(frozen=True)
class OpmlFeed:
    feed_url: str
    name: str
    site_url: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class OpmlDocument:
    """The feeds of an OPML file, and the outline URLs left out because they are not http(s)."""

    feeds: list[OpmlFeed]
    skipped: tuple[str, ...] = ()


def read_opml(data: bytes) -> list[OpmlFeed]:
    """Every http(s) feed outline in an OPML document (see ``parse_opml``)."""
    return parse_opml(data).feeds


def parse_opml(data: bytes) -> OpmlDocument:
    """The feeds of an OPML document and the outlines skipped. Raises ParseError for anything
    that is not OPML, for a document nested deeper than the parser reads, and for one that
    declares entities: the byte scan refuses the plain case fast, the parser's own view of the
    DTD the rest (UTF-16, padding, comments; see parse.xmlsafe)."""
    if _ENTITY_DECL.search(data):
        raise ParseError(ENTITY_REFUSED)
    parser = xml_parser()
    try:
        root = etree.fromstring(_escape_bare_ampersands(data), parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(f"opml: not readable XML ({exc})") from exc
    if root is not None:
        refuse_declared_entities(root, ENTITY_REFUSED)
    _refuse_cut_short(parser)
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise ParseError("opml: the document's root is not <opml>")
    body = next((c for c in root if isinstance(c.tag, str) and etree.QName(c).localname == "body"), None)
    if body is None:
        raise ParseError("opml: no <body> element")
    feeds: list[OpmlFeed] = []
    skipped: list[str] = []
    _walk(body, [], feeds, skipped)
    if not feeds and not skipped:
        _refuse_damaged(parser)
    _refuse_unfinished(data)
    return OpmlDocument(feeds, tuple(skipped))


def _escape_bare_ampersands(data: bytes) -> bytes:
    """``data`` with bare ampersands escaped, for ASCII-compatible encodings (a UTF-16 file, with
    its NUL bytes, is left as it is: a byte pattern would cut through its characters)."""
    if b"\x00" in data[:1024]:
        return data
    return _BARE_AMPERSAND.sub(b"&amp;", data)


def _refuse_damaged(parser: etree.XMLParser) -> None:
    """A file the parser had to repair and that yields no feed is a broken file, not an empty
    list: say where it broke instead of "imported 0 feeds". (A damaged file that still yields
    feeds, say one unescaped "&" in a URL, is imported: feed readers write such files.)"""
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if errors:
        first = errors[0]
        raise ParseError(f"opml: the file is damaged at line {first.line}, column {first.column} "
                         f"({(first.message or '').strip()}); no feeds could be read")


_FINISHED = re.compile(rb"</\s*(?:[\w.-]+:)?opml\s*>\s*(?:<!--.*?-->\s*|<\?.*?\?>\s*)*\Z", re.IGNORECASE | re.DOTALL)


def _refuse_unfinished(data: bytes) -> None:
    """A file that stops before its closing </opml> was cut short (a download or copy that did
    not finish): the recovering parser would import the outlines before the cut without a word,
    and the rest would be silently missing. (UTF-16 files, with their NUL bytes, are left to the
    parser.)"""
    if b"\x00" not in data[:1024] and not _FINISHED.search(data[-4096:]):
        raise ParseError("opml: the file is damaged: it ends before its closing </opml> (cut short?); "
                         "nothing was imported")


def _refuse_cut_short(parser: etree.XMLParser) -> None:
    """libxml2 stops reading at a resource limit (256 levels of nesting, say) and, recovering,
    returns what it read so far: refuse rather than import part of the file without a word."""
    for error in parser.error_log:
        message = error.message or ""
        if error.type_name == "ERR_RESOURCE_LIMIT" or "excessive depth" in message.lower():
            what = "outlines are nested too deeply to read" if "depth" in message.lower() else message
            raise ParseError(f"opml: {what} ({error.line}:{error.column}); nothing was imported")


def web_url(url: str) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host (``feed:`` URLs made http), else None."""
    url = url.strip()
    if url[:5].lower() == "feed:":
        rest = url[5:]
        url = rest if rest[:7].lower() == "http://" or rest[:8].lower() == "https://" else "http:" + rest
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # a bad port or IPv6 literal
        return None
    return url if parts.scheme.lower() in ("http", "https") and host else None


def _walk(element: etree._Element, path: list[str], out: list[OpmlFeed], skipped: list[str]) -> None:
    """Collect the feed outlines under ``element``, in document order (recursion is bounded:
    the parser reads no deeper than 256 levels)."""
    for child in element:
        if not isinstance(child.tag, str) or etree.QName(child).localname != "outline":
            continue
        label = (child.get("title") or child.get("text") or "").strip()
        raw = (child.get("xmlUrl") or child.get("xmlurl") or "").strip()
        url = web_url(raw) if raw else None
        if url:
            category = "/".join(path) or _attribute_category(child.get("category"))
            out.append(OpmlFeed(url, label, web_url(child.get("htmlUrl") or ""), category or None))
        elif raw:
            skipped.append(raw)
        deeper = not raw and label and len(path) < MAX_CATEGORY_DEPTH
        _walk(child, path + [label] if deeper else path, out, skipped)


def _attribute_category(value: str | None) -> str | None:
    """OPML 2.0: comma-separated slash-delimited paths; the first one is the feed's category."""
    if not value:
        return None
    first = value.split(",")[0].strip().strip("/")
    return first or None


def write_opml(feeds: list[OpmlFeed], title: str = "Newswire subscriptions") -> str:
    """An OPML 2.0 document with one nested outline per category path."""
    tree: dict = {}
    for feed in feeds:
        node = tree
        for part in (feed.category or "").split("/"):
            if part:
                node = node.setdefault(("dir", part), {})
        node.setdefault(("feeds", ""), []).append(feed)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="2.0">',
             f"  <head><title>{_text(title)}</title></head>", "  <body>"]
    _emit(tree, 2, lines)
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _emit(node: dict, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    for feed in node.get(("feeds", ""), []):
        site = f" htmlUrl={quoteattr(feed.site_url)}" if feed.site_url else ""
        lines.append(f'{pad}<outline type="rss" text={quoteattr(feed.name)} title={quoteattr(feed.name)} '
                     f"xmlUrl={quoteattr(feed.feed_url)}{site}/>")
    for key, child in node.items():
        if key[0] == "dir":
            lines.append(f"{pad}<outline text={quoteattr(key[1])} title={quoteattr(key[1])}>")
            _emit(child, depth + 1, lines)
            lines.append(f"{pad}</outline>")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
