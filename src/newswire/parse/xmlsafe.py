"""XML parsing that never expands an entity: the real guard for feeds and OPML alike.

A text scan for ``<!ENTITY`` (xmlprep) is only a fast refusal: a comment that seems to open a
CDATA section (``<!-- <![CDATA[ -->``), a UTF-16 file or enough padding hides a DOCTYPE from a
scan, never from a parser. So the parsers are set up to be safe on their own:

* lxml (``xml_parser``): entities unresolved, no DTD loaded, no network, libxml2's size and
  amplification limits kept (``huge_tree`` off). libxml2 still substitutes internal entities
  inside attribute values, so ``refuse_declared_entities`` then asks the parsed document's own
  internal DTD subset — what the parser saw, comments and encodings understood — and refuses a
  document that declares any entity.
* feedparser (``without_declarations``): its expat parser expands internal entities, and its
  loose parser expands the "safe" ones its own regular expressions find before the root. It is
  handed text in which no ``<!DOCTYPE`` or ``<!ENTITY`` remains anywhere, so neither has any
  declaration to expand, wherever it hides.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from newswire.errors import ParseError

# A DOCTYPE with no internal subset declares nothing (and its DTD is never loaded): removed.
_PLAIN_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[<>]*>")
# Whatever could still start a declaration, anywhere: escaped into text.
_DECLARATION = re.compile(rb"<!(\s*(?:DOCTYPE|ENTITY))", re.I)


def xml_parser(**options: Any) -> etree.XMLParser:
    """An lxml parser that recovers from damage but never resolves entities, loads a DTD or
    touches the network; ``options`` add to these (comments, CDATA, encoding)."""
    return etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False,
                           load_dtd=False, dtd_validation=False, attribute_defaults=False, **options)


def refuse_declared_entities(root: etree._Element, message: str) -> None:
    """Raise ParseError(``message``) when the parsed document's internal DTD subset declares an
    entity (general or parameter, internal or external)."""
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and next(dtd.iterentities(), None) is not None:
        raise ParseError(message)


def without_declarations(data: bytes) -> bytes:
    """``data`` (UTF-8) with no DOCTYPE or ENTITY declaration left for feedparser to honour: a plain
    DOCTYPE (Netscape's RSS 0.91, say) is removed; any other ``<!DOCTYPE``/``<!ENTITY``, in a
    comment or not, becomes text."""
    if b"<!" not in data:
        return data
    data = _PLAIN_DOCTYPE.sub(b"", data)
    return _DECLARATION.sub(rb"&lt;!\1", data)
