"""Make feed text safe and well-formed enough for an XML parser, before any parser sees it.

Two jobs:

* Refuse entity declarations, fast. A DOCTYPE that declares entities is how "billion laughs",
  quadratic blowup and external-entity (file or network) reads work; no real feed needs one.
  This text scan is only the quick refusal of the obvious case: a comment that seems to open a
  CDATA section hides a declaration from it, so the parsers are the real guard (xmlsafe: lxml
  refuses what its DTD declares, feedparser is handed no declarations). An ordinary DOCTYPE
  (e.g. Netscape's RSS 0.91 PUBLIC DTD) is allowed; the DTD is never loaded.
* Repair what browsers forgive: HTML named entities (``&nbsp;``, ``&eacute;``), which XML does
  not define, become numeric references; bare ``&`` becomes ``&amp;``; control characters that
  XML forbids are dropped. CDATA sections are left as they are.
"""

from __future__ import annotations

import re
from html.entities import html5

from newswire.errors import ParseError

ENTITY_REFUSED = "parse: XML entity declarations are refused (entity expansion / external entities)"

_ENTITY_DECL = re.compile(r"<!\s*ENTITY", re.I)
_CDATA = re.compile(r"<!\[CDATA\[.*?(?:\]\]>|\Z)", re.S)
# Only ampersands that are not already one of XML's five entities or a numeric reference.
_AMP = re.compile(
    r"(<!\[CDATA\[.*?(?:\]\]>|\Z))"                # 1: a CDATA section, kept as is
    r"|&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,10}|#[xX][0-9a-fA-F]{1,8});)"
    r"(?:([A-Za-z][A-Za-z0-9]{0,40});)?",
    re.S,
)
_NUMERIC = re.compile(r"&#(?:([0-9]{1,10})|[xX]([0-9a-fA-F]{1,8}));")
_HTML_ENTITIES = {
    name[:-1]: "".join(f"&#{ord(ch)};" for ch in value)
    for name, value in html5.items() if name.endswith(";")
}
_BAD_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def refuse_entity_declarations(text: str) -> None:
    """Raise ParseError when the document declares any entity outside CDATA sections."""
    if _ENTITY_DECL.search(text) is None:
        return
    if _ENTITY_DECL.search(_CDATA.sub("", text)) is not None:
        raise ParseError(ENTITY_REFUSED)


def _valid_xml_char(code: int) -> bool:
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def _fix_amp(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return m.group(1)
    name = m.group(2)
    if name is None:
        return "&amp;"
    replacement = _HTML_ENTITIES.get(name)
    return replacement if replacement is not None else f"&amp;{name};"


def _fix_numeric(m: re.Match[str]) -> str:
    dec, hexa = m.group(1), m.group(2)
    code = int(dec) if dec is not None else int(hexa, 16)
    return m.group(0) if _valid_xml_char(code) else "&#xFFFD;"


def repair(text: str) -> str:
    """``text`` with HTML entities made numeric, bare ampersands escaped and forbidden control
    characters removed."""
    if _BAD_CONTROL.search(text) is not None:
        text = _BAD_CONTROL.sub("", text)
    if "&" in text:
        text = _AMP.sub(_fix_amp, text)
        if "&#" in text:
            text = _NUMERIC.sub(_fix_numeric, text)
    return text
