"""Bylines into clean, de-duplicated author names.

Feeds put several people in one field ("By Ha Tu Thanh and Alanna Smith"), shout them
("BY JANE DOE"), or use RSS's ``email (Name)`` form; the store keys authors by
``normalise_author_name`` so "Jane Doe" and "jane  doe" are one person. Names come out in NFC,
so every later stage sees one spelling of "José" whether the feed composed its accent or not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_EMAIL_NAME = re.compile(r"^\s*[^\s@()<>]+@[^\s@()<>]+\s*\((?P<name>[^()]*)\)\s*$")
_NAME_EMAIL = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<[^\s@<>]+@[^\s@<>]+>\s*$")
_MAILTO = re.compile(r"^\s*mailto:", re.I)
_BY = re.compile(r"^\s*(?:by|par|written by|posted by)\b\s*:?\s*", re.I)
_SPLIT = re.compile(r"\s*(?:,|;|\||&|\band\b|\bet\b)\s*", re.I)
_EDGE_PUNCT = " \t\r\n.,;:-–—|/\"'“”"


def normalise_author_name(name: str) -> str:
    """The key two spellings of one author share: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def _tidy(name: str) -> str:
    name = " ".join(name.split()).strip(_EDGE_PUNCT)
    name = _BY.sub("", name).strip(_EDGE_PUNCT)
    letters = [c for c in name if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        name = " ".join(w.capitalize() if w.isalpha() else w.title() for w in name.split())
    return name


def _unwrap_email(raw: str) -> str:
    m = _EMAIL_NAME.match(raw)
    if m and m.group("name").strip():
        return m.group("name")
    m = _NAME_EMAIL.match(raw)
    if m and m.group("name").strip():
        return m.group("name")
    return _MAILTO.sub("", raw)


def split_authors(raw: str) -> list[str]:
    """Names in one byline string, in NFC, in order, without "By"/"Par" and without duplicates.

    >>> split_authors("By Ha Tu Thanh and Alanna Smith")
    ['Ha Tu Thanh', 'Alanna Smith']
    """
    if not raw or not raw.strip():
        return []
    raw = unicodedata.normalize("NFC", raw)
    text = _BY.sub("", _unwrap_email(" ".join(raw.split())))
    names = (_tidy(part) for part in _SPLIT.split(text))
    return dedupe_authors(names)


def dedupe_authors(names: Iterable[str]) -> list[str]:
    """Non-empty names, first spelling kept, later spellings of the same key dropped."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        key = normalise_author_name(name)
        if key and key not in seen:
            seen.add(key)
            out.append(name)
    return out
