"""Full text from an article's page, and whether a feed only gives a teaser. Pure: no I/O.

    page bytes ─► nesting.flatten_nesting_bytes (tags past 200 levels dropped, text kept)
               ─► trafilatura.bare_extraction (offline: the HTML we fetched, never a URL to fetch)
               ─► main text as trafilatura XML ─► HTML ─► sanitize_html(base = page URL)
               ─► ExtractedPage(html, text, authors, published)   or None when there is no main text

``is_teaser`` compares a feed's text with the page's once a page is extracted; ``looks_like_teaser``
is the cheap guess made on a new article before any page is fetched.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime

from newswire.parse.html import html_to_text, sanitize_html
from newswire.parse.nesting import flatten_nesting, flatten_nesting_bytes

MIN_TEXT_CHARS = 200  # less main text than this is a stub, a paywall or an index page
TEASER_RATIO = 0.4  # the feed's text is under 40 % of the page's …
TEASER_MARGIN = 500  # … and the page has at least this many more characters
SHORT_ENTRY_CHARS = 1200  # only an entry shorter than this can be guessed a teaser
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_TEASER_ENDINGS = re.compile(
    r"(?:…|\.\.\.|\[\s*(?:…|\.\.\.)\s*\][\s.]*"
    r"|\b(?:read more|continue reading|read the (?:full|whole|rest of the) (?:story|article))\b[^.!?]{0,120}[.!?]?)$",
    re.I)
_DOUBLED_SPACE = re.compile(r"\s\s")


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """The main text of a page: ``html`` sanitised (relative links resolved against the page),
    ``text`` plain; ``authors`` and ``published`` from the page's metadata where it has them
    (``published`` only when the page states a time with its zone, never a bare date)."""

    html: str
    text: str
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    title: str | None = None


def extract_page(html: bytes | str, url: str) -> ExtractedPage | None:
    """The main text and metadata of an article page, or None when it has no main text
    (empty, not HTML, a stub). Never raises for bad input."""
    import trafilatura
    from trafilatura.htmlprocessing import convert_to_html

    if not html or (isinstance(html, bytes) and not html.strip()) or (isinstance(html, str) and not html.strip()):
        return None
    # libxml2 under trafilatura drops all below 256 levels: flatten past the limit, text kept
    html = flatten_nesting_bytes(html) if isinstance(html, bytes) else flatten_nesting(html)
    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_links=True, include_formatting=True,
            include_tables=True, include_images=False, include_comments=False,
            date_extraction_params={"extensive_search": False, "original_date": True,
                                    "outputformat": _DATE_FORMAT})
    except Exception:  # noqa: BLE001 - a hostile page must not break the extraction pass
        return None
    if doc is None or doc.body is None:
        return None
    body = convert_to_html(copy.deepcopy(doc.body))  # <html><body>…</body></html>
    body = body.find("body") if body.find("body") is not None else body
    _drop_title_heading(body, doc.title)
    from lxml import etree

    inner = "".join(etree.tostring(child, encoding="unicode", method="html") for child in body)
    safe = sanitize_html(inner, url)
    text = html_to_text(safe)
    if len(text) < MIN_TEXT_CHARS:
        return None
    return ExtractedPage(html=safe, text=text, authors=_authors(doc.author),
                         published=_published(doc.date), title=doc.title or None)


def _drop_title_heading(body, title: str | None) -> None:
    """The page repeats its headline above the text; our page shows the title already."""
    wanted = " ".join((title or "").split()).casefold()
    while wanted and len(body) and body[0].tag in ("h1", "h2", "h3"):
        if " ".join("".join(body[0].itertext()).split()).casefold() != wanted:
            return
        body.remove(body[0])


def _authors(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    from newswire.parse.authors import split_authors

    return tuple(split_authors(value))


def _published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.strptime(value, _DATE_FORMAT)
    except ValueError:
        return None  # a date without a time or zone: too vague to replace an estimate
    return moment if moment.tzinfo is not None else None


def is_teaser(feed_text: str, page_text: str) -> bool:
    """The feed gave a teaser: its text is much shorter than the page's main text."""
    feed, page = len(" ".join(feed_text.split())), len(" ".join(page_text.split()))
    return feed < TEASER_RATIO * page and page - feed >= TEASER_MARGIN


def looks_like_teaser(entry_text: str) -> bool:
    """A guess from the feed alone: short text that trails off ("…", "[...]", "Read more",
    "Continue reading"). Empty text is no teaser: there is nothing to complete."""
    # A long text's opening settles it (on the writer's thread, for every entry stored) without
    # joining all its words: the opening's words, the last maybe cut short, begin the text's.
    # Cheapest first, and exact: an opening of SHORT_ENTRY_CHARS + 1 characters that neither
    # starts with whitespace nor has two whitespace characters in a row collapses to at least
    # SHORT_ENTRY_CHARS (only a trailing one can go), found by one scan, no words built.
    # ``\s``, ``str.isspace`` and ``str.split`` agree on what whitespace is (tests/test_extract.py).
    opening = entry_text[:SHORT_ENTRY_CHARS + 1]
    if len(opening) > SHORT_ENTRY_CHARS and not opening[0].isspace() and _DOUBLED_SPACE.search(opening) is None:
        return False
    if len(" ".join(entry_text[:2 * SHORT_ENTRY_CHARS].split())) >= SHORT_ENTRY_CHARS:
        return False
    text = " ".join(entry_text.split())
    return bool(text) and len(text) < SHORT_ENTRY_CHARS and _TEASER_ENDINGS.search(text) is not None
