"""OPML import and export.

Categories come from the nesting of outlines (``News/Canada`` for a feed inside ``News`` inside
``Canada``… in document order, outermost first) or, in OPML 2.0, from a ``category`` attribute.
Export writes the same nesting back, so a round trip keeps every feed, name and category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from lxml import etree

from newswire.errors import ParseError
from newswire.parse.xmlsafe import refuse_declared_entities, xml_parser


@dataclass(frozen=True)
class OpmlFeed:
    feed_url: str
    name: str
    site_url: str | None = None
    category: str | None = None


ENTITY_REFUSED = "opml: XML entity declarations are refused"
_ENTITY_DECL = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)


def read_opml(data: bytes) -> list[OpmlFeed]:
    """Every feed outline in an OPML document. Raises ParseError for anything that is not OPML,
    and for a document that declares entities: the byte scan refuses the plain case fast, the
    parser's own view of the DTD the rest (UTF-16, padding, comments; see parse.xmlsafe)."""
    if _ENTITY_DECL.search(data):
        raise ParseError(ENTITY_REFUSED)
    try:
        root = etree.fromstring(data, xml_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(f"opml: not readable XML ({exc})") from exc
    if root is not None:
        refuse_declared_entities(root, ENTITY_REFUSED)
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise ParseError("opml: the document's root is not <opml>")
    body = next((c for c in root if isinstance(c.tag, str) and etree.QName(c).localname == "body"), None)
    if body is None:
        raise ParseError("opml: no <body> element")
    feeds: list[OpmlFeed] = []
    _walk(body, [], feeds)
    return feeds


def _walk(element: etree._Element, path: list[str], out: list[OpmlFeed]) -> None:
    for child in element:
        if not isinstance(child.tag, str) or etree.QName(child).localname != "outline":
            continue
        label = (child.get("title") or child.get("text") or "").strip()
        url = (child.get("xmlUrl") or child.get("xmlurl") or "").strip()
        if url:
            category = "/".join(path) or _attribute_category(child.get("category"))
            out.append(OpmlFeed(url, label, (child.get("htmlUrl") or "").strip() or None, category or None))
        _walk(child, path + [label] if not url and label else path, out)


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
