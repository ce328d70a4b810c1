"""Where a snippet starts: the body's first words of news, not its furniture.

Article bodies, wire copy above all, open with lines a reader of the wire has already seen or
does not need: the headline again, a byline ("By Ada Moreau, The Canadian Wire", "Ines Rasmussen —
The Canadian Wire", "CANADIAN WIRE STAFF") and a dateline ("LAKE OSSIN —", "OTTAWA, Ont. (CP) —").
``lede`` drops them from the start of the plain text; the wire item shows the meta line
(date | author | source) beside the snippet, so nothing is lost.

Only the opening is looked at, and only lines short enough to be furniture: a lede that merely
begins with the headline's words, or names its author in its first sentence, stays whole; one
that repeats the headline as a clause of its own ("Headline — a move residents say…") loses it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from newswire.parse.authors import normalise_author_name

MAX_FURNITURE_WORDS = 12  # a byline or a headline line; a lede's first paragraph is longer
OPENING_LINES = 3  # headline, byline, and one more (a kicker or a second byline)

_BY = re.compile(r"^(?:by|par|written by)\s+\S", re.I)
_DASH = r"(?:[—–]|--?)"
_BY_WORD = re.compile(r"^(?:by|par)\s+", re.I)
_SEPARATOR = re.compile(r"^[\s,—–-]+")
_AGENCY = re.compile(r"(?:[A-Z][\w'’.&]*[a-z][\w'’.&]*\s+){1,6}")  # Title Case words, not capitals
_AFTER_HEADLINE = re.compile(r"\s*\n\s*|\s*(?:[—–:|]|--?)\s+|[.!?]\s+")
# "LAKE OSSIN —", "OTTAWA, Ont. —", "TORONTO (CP) —", "WASHINGTON (AP) --": a place in capitals,
# optionally a region and an agency, then a dash.
_DATELINE = re.compile(
    rf"^[A-ZÀ-Þ][A-ZÀ-Þ.'’\- ]*[A-ZÀ-Þ.](?:,\s*[A-ZÀ-Þ][\w.'’ ]{{0,30}}?)?(?:\s*\([^()]{{1,40}}\))?\s*{_DASH}\s+")


def _key(text: str) -> str:
    """Text compared loosely: NFKC, case-folded, letters and digits only."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def _is_headline(line: str, title: str) -> bool:
    return bool(title) and _key(line) == _key(title)


def _is_byline(line: str, names: Iterable[str]) -> bool:
    """A short line without a sentence's end that opens with "By", names one of the article's
    authors or its credit, or is all capitals ("CANADIAN WIRE STAFF")."""
    words = line.split()
    if not words or len(words) > MAX_FURNITURE_WORDS or line.rstrip().endswith((".", "!", "?", "…", ":")):
        return False
    if _BY.match(line):
        return True
    letters = [ch for ch in line if ch.isalpha()]
    if len(letters) > 1 and all(ch.isupper() for ch in letters) and not _DATELINE.match(line + " — x"):
        return True
    key = normalise_author_name(line)
    return any(name and normalise_author_name(name) in key for name in names)


def without_dateline(text: str) -> str:
    """``text`` without a dateline at its very start."""
    match = _DATELINE.match(text)
    if match and any(ch.isalpha() for ch in match.group(0)) and len(text) > match.end():
        return text[match.end():]
    return text


def lede(text: str, title: str = "", names: Iterable[str] = ()) -> str:
    """``text`` from its first words of news: without the headline, bylines (lines naming
    ``names``, the article's authors and credit, or opening with "By") and a dateline at its
    start. The text itself when nothing is left."""
    names = [name for name in names if name]
    lines = text.lstrip().split("\n", OPENING_LINES)
    dropped = 0
    while dropped < min(OPENING_LINES, len(lines) - 1):
        line = lines[dropped].strip()
        if not (_is_headline(line, title) or _is_byline(line, names)):
            break
        dropped += 1
    rest = "\n".join(lines[dropped:]).lstrip()
    rest = _without_inline_furniture(rest, title, names) or without_dateline(rest)
    rest = _without_headline(rest, title)
    return rest if rest.strip() else text


def _without_headline(text: str, title: str) -> str:
    """``text`` without the headline repeated at its start as a sentence or a clause of its own
    ("Headline — a move residents say…", "Headline. The council…"); a lede that merely begins
    with the headline's words goes on and stays whole."""
    if not title or not text.casefold().startswith(title.casefold()):
        return text
    match = _AFTER_HEADLINE.match(text, len(title))
    if not match or match.end() >= len(text):
        return text
    rest = text[match.end():]
    return rest[0].upper() + rest[1:]


def _without_inline_furniture(text: str, title: str, names: list[str]) -> str | None:
    """Where a body's blocks ran together ("Headline Ines Rasmussen — The Canadian Wire LAKE
    OSSIN — The ministry…"): the text after a headline, byline and dateline on one line, when a
    dateline proves it; None otherwise."""
    rest = text
    if title and rest.casefold().startswith(title.casefold() + " "):
        rest = rest[len(title):].lstrip()
    rest = _BY_WORD.sub("", rest)
    consumed = True
    while consumed:
        consumed = False
        for name in names:
            if rest.casefold().startswith(name.casefold()) and rest[len(name):len(name) + 1] in (" ", ","):
                rest, consumed = _SEPARATOR.sub("", rest[len(name):]), True
    if rest == text:
        return None
    cut = without_dateline(rest)
    if cut == rest:  # an agency the byline names but the feed did not: "The Canadian Wire LAKE OSSIN —"
        agency = _AGENCY.match(rest)
        after = rest[agency.end():] if agency else rest
        cut = without_dateline(after) if agency and without_dateline(after) != after else rest
    return cut if cut != rest else None
