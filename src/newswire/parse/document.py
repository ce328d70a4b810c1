"""Bytes → RawFeed: decode, classify, then the fast reader, falling back to feedparser.

    bytes ─ encoding.decode ─ detect.classify ─┬─ json ─ jsonfeed.read_json_feed
                                               └─ xml ── xmlprep (refuse entities, repair)
                                                         ├─ well-formed feed root ─ xmlfeed.read
                                                         └─ damaged or unknown ─ fallback (feedparser)
"""

from __future__ import annotations

from newswire.errors import ParseError
from newswire.parse import detect, xmlfeed, xmlprep
from newswire.parse.encoding import decode
from newswire.parse.fallback import read_with_feedparser
from newswire.parse.jsonfeed import read_json_feed
from newswire.parse.raw import RawFeed

_XML_DECL = "<?xml"


def _without_declaration(text: str) -> str:
    """The text without its XML declaration, whose encoding no longer applies once decoded."""
    if text.startswith(_XML_DECL):
        end = text.find("?>")
        if 0 < end < 500:
            return text[end + 2:]
    return text


def read_document(content: bytes, *, url: str, content_type: str | None = None,
                  max_entries: int | None = None) -> RawFeed:
    """The feed in ``content`` as a RawFeed; ParseError when it is not a feed. Readers return
    at most ``max_entries`` entries (all when None)."""
    if not content or not content.strip():
        raise ParseError(detect.EMPTY)
    kind, text = detect.classify(decode(content, content_type))
    if kind == "json":
        return read_json_feed(text, url, max_entries=max_entries)
    xmlprep.refuse_entity_declarations(text)
    text = xmlprep.repair(text)
    data = _without_declaration(text).encode("utf-8")
    root, damaged = xmlfeed.parse_xml(data, url)
    fast: RawFeed | None = None
    if root is not None:
        if isinstance(root.tag, str) and root.tag.rpartition("}")[2].lower() == "html":
            raise ParseError(detect.HTML_PAGE)
        fmt = xmlfeed.detect_format(root)
        if fmt is not None:
            fast = xmlfeed.read(root, fmt, url, has_xml_base="xml:base" in text, max_entries=max_entries)
            if not damaged:
                return fast
    # libxml2 had to repair the structure (its recovery nests unclosed elements) or found no
    # feed: feedparser's loose parser recovers the way browsers do.
    feed = read_with_feedparser(data, url, max_entries=max_entries)
    if feed is not None and (feed.entries or feed.title or fast is None):
        return feed
    if fast is not None:
        return fast
    if detect.mentions_html(text):
        raise ParseError(detect.HTML_PAGE)
    raise ParseError(detect.UNKNOWN_XML)
