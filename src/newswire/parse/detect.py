"""What kind of document the bytes are, decided from their first characters.

A fetch can return anything: an HTML error page, an empty body, a JSON API answer, an image.
Naming the kind early gives the user a message that says what went wrong instead of a parser
error from deep inside libxml2.
"""

from __future__ import annotations

import re

from newswire.errors import ParseError

EMPTY = "parse: empty document"
HTML_PAGE = "parse: this is an HTML page, not a feed"
BINARY = "parse: binary data, not a feed"
NO_MARKUP = "parse: not a feed (neither XML nor JSON)"
UNKNOWN_XML = "parse: unable to detect feed format (XML root is not RSS, RDF or Atom)"

_LEADING_WS = re.compile(r"[\s\ufeff\u200b]*")
_HTML_START = re.compile(
    r"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
    re.I | re.S,
)
_HTML_ANYWHERE = re.compile(r"<(?:html|head|body)[\s>]|<!doctype\s+html", re.I)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def looks_binary(text: str) -> bool:
    """True when control characters make up more than 5 % of the start of the document."""
    head = text[:1024]
    return bool(head) and len(_CONTROL.findall(head)) > len(head) * 0.05


def looks_like_html(text: str) -> bool:
    """True for a document that starts as an HTML page does."""
    return _HTML_START.match(text) is not None


def mentions_html(text: str) -> bool:
    """True when an html/head/body tag shows up near the start: used to explain a failure."""
    return _HTML_ANYWHERE.search(text[:4096]) is not None


def classify(text: str) -> tuple[str, str]:
    """("json" | "xml", text from its first meaningful character); ParseError for the rest."""
    start = _LEADING_WS.match(text).end()  # type: ignore[union-attr]
    if start == len(text):
        raise ParseError(EMPTY)
    first = text[start]
    if first in "{[":
        return "json", text[start:]
    if looks_binary(text):
        raise ParseError(BINARY)
    if first != "<":
        lt = text.find("<", start, start + 4096)
        if lt < 0:
            raise ParseError(NO_MARKUP)
        start = lt  # junk before the document (a stray PHP warning, a BOM-like byte)
    text = text[start:]
    if looks_like_html(text):
        raise ParseError(HTML_PAGE)
    return "xml", text
