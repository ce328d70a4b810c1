"""Bylines into clean, de-duplicated author names.

Feeds put several people in one field ("By Ha Tu Thanh and Alanna Smith"), shout them
("BY JANE DOE"), or use RSS's ``email (Name)`` form; the store keys authors by
``normalise_author_name`` so "Jane Doe" and "jane  doe" are one person. Names come out in NFC,
so every later stage sees one spelling of "José" whether the feed composed its accent or not.

Wire copy credits its agency in the same field: "By Ada Moreau, The Canadian Wire", "Ada Moreau —
The Canadian Press". The organisation is not a person: ``split_byline`` keeps it out of the
names and returns it as the byline's credit (``looks_like_organisation`` says which parts are
organisations). A byline that names only an organisation keeps it as its author: the wire still
needs someone to show.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

_EMAIL_NAME = re.compile(r"^\s*[^\s@()<>]+@[^\s@()<>]+\s*\((?P<name>[^()]*)\)\s*$")
_NAME_EMAIL = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<[^\s@<>]+@[^\s@<>]+>\s*$")
_MAILTO = re.compile(r"^\s*mailto:", re.I)
_BY = re.compile(r"^\s*(?:by|par|written by|posted by)\b\s*:?\s*", re.I)
_SPLIT = re.compile(r"\s*(?:,|;|\||&|\band\b|\bet\b)\s*|\s+[—–]+\s+|\s+-{1,2}\s+", re.I)
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


# Words that name newsrooms, not people: a byline part holding one is an organisation.
_ORGANISATION_WORDS = frozenset("""
    press wire newswire news newsroom media agency agence service services bureau network broadcasting
    radio television tv times post herald gazette tribune chronicle journal courier observer sentinel
    star sun globe daily weekly telegraph independent examiner review record reporter magazine
    newspaper newspapers presse reuters bloomberg associated staff group inc ltd corp corporation
""".split())
_ACRONYM = re.compile(r"^[A-Z]{2,6}$")  # AP, AFP, CP, CBC


class Byline(NamedTuple):
    """The people a byline names, and the organisation it credits (None when it credits none)."""

    names: list[str]
    credit: str | None


def looks_like_organisation(part: str, publisher: str = "") -> bool:
    """Whether one part of a byline names an organisation rather than a person: the feed's own
    title, a name that opens with "The", an agency's acronym, or a newsroom word (Press, News,
    Gazette, staff…)."""
    words = part.split()
    if not words:
        return False
    if publisher and normalise_author_name(part) == normalise_author_name(publisher):
        return True
    if words[0].casefold() in ("the", "la", "le", "les") and len(words) > 1:
        return True
    if len(words) == 1 and _ACRONYM.match(part):
        return True
    return any(word.casefold().strip(".") in _ORGANISATION_WORDS for word in words)


def split_byline(raw: str, publisher: str = "") -> Byline:
    """The people in one byline string, in NFC, in order, without "By"/"Par" and without
    duplicates, and the organisation credited beside them ("Name, Organisation", "Name —
    Organisation"). ``publisher``: the feed's title, an organisation wherever it appears.

    >>> split_byline("By Ada Moreau, The Canadian Wire")
    Byline(names=['Ada Moreau'], credit='The Canadian Wire')
    """
    if not raw or not raw.strip():
        return Byline([], None)
    raw = unicodedata.normalize("NFC", raw)
    text = _BY.sub("", _unwrap_email(" ".join(raw.split())))
    people, organisations = [], []
    for part in _SPLIT.split(text):
        as_written = " ".join(part.split()).strip(_EDGE_PUNCT)
        if looks_like_organisation(as_written, publisher):  # before _tidy: "AP" is not "Ap"
            organisations.append(as_written if _ACRONYM.match(as_written) else _tidy(part))
        else:
            people.append(_tidy(part))
    if not dedupe_authors(people):  # only an organisation: it is who the byline names
        return Byline(dedupe_authors(organisations), None)
    return Byline(dedupe_authors(people), ", ".join(dedupe_authors(organisations)) or None)


def split_authors(raw: str, publisher: str = "") -> list[str]:
    """The people in one byline string (see ``split_byline``).

    >>> split_authors("By Ha Tu Thanh and Alanna Smith")
    ['Ha Tu Thanh', 'Alanna Smith']
    """
    return split_byline(raw, publisher).names


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
