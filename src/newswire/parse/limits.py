"""How much of one feed the parse stage keeps: items per fetch, and each field's length.

A broken or hostile feed can hold 100,000 items or a 5 MB title; the store, the pages and search
assume what a newsroom writes. The caps apply as early as they can, so that the work spent on a
huge feed is bounded too: readers consider at most ``RAW_ITEMS_FACTOR`` times the item cap
(the head and the tail of the document: feeds list newest first, a few oldest first), and raw
text is cut before it is converted or sanitised.

Cuts are clean: text at a word boundary with "…", HTML before a tag (the sanitiser then closes
what is open), and a value that cannot be cut without changing its meaning is dropped (a URL) or
replaced by a digest of itself (a guid, which must stay unique).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import TypeVar

MAX_TITLE = 1_000            # characters of a title (entry or feed)
MAX_NAME = 200               # characters of one author name or category
MAX_AUTHORS = 20             # authors per entry
MAX_CATEGORIES = 50          # categories per entry
MAX_SUMMARY = 10_000         # characters of plain-text summary or feed description
MAX_CONTENT_HTML = 1_000_000  # characters of content HTML, cut before sanitising
MAX_URL = 2_048              # longer links are dropped (the sitemaps and browsers' old limit)
MAX_GUID = 2_048             # longer guids become "sha256:" + a digest of the whole guid
RAW_ITEMS_FACTOR = 4         # raw items considered per item kept
RAW_TEXT_FACTOR = 8          # raw characters read per character kept (markup, entities)

CUT_PUNCTUATION = " \n,;:.-–—"
_LAST_BLOCK_END = re.compile(
    r".*</(?:p|div|li|ul|ol|blockquote|figure|table|h[1-6]|pre|section|article)\s*>", re.I | re.S)

T = TypeVar("T")


def considered(items: Sequence[T], limit: int) -> list[T]:
    """At most ``limit`` items: all when they fit, else the first and the last halves.

    Whichever way a feed is ordered, its newest items are at one end.
    """
    if len(items) <= limit:
        return list(items)
    head = (limit + 1) // 2
    return [*items[:head], *items[len(items) - (limit - head):]]


def _hard_cut(text: str, at: int) -> int:
    """``at``, moved back so that a combining mark is not parted from its base character."""
    while at > 0 and unicodedata.combining(text[at]):
        at -= 1
    return at


def clip_text(text: str, limit: int) -> str:
    """``text`` when it fits in ``limit`` characters; else its first ``limit`` characters, cut
    back to the last space when one falls in the second half, with "…" appended."""
    if len(text) <= limit:
        return text
    cut = text[:_hard_cut(text, limit)]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(CUT_PUNCTUATION) + "…"


def clip_html(html: str, limit: int) -> str:
    """At most ``limit`` characters of ``html``, cut where no tag, entity or word is split:
    after the last closing block tag in the second half; else at the last space of the text
    that ends it; else before the last tag (after it when it closes an element). The result may
    leave elements open; sanitising closes them."""
    if len(html) <= limit:
        return html
    head, half = html[:limit], limit // 2
    block = _LAST_BLOCK_END.match(head, half)
    if block:
        return head[:block.end()]
    lt, gt = head.rfind("<"), head.rfind(">")
    if lt > gt:  # the cut falls inside a tag: end before it
        return head[:lt]
    space = max(head.rfind(" ", gt + 1), head.rfind("\n", gt + 1))
    if space > half:
        return head[:space]
    if lt > half:
        return head[:gt + 1] if head.startswith("</", lt) else head[:lt]
    return head[:_hard_cut(html, limit)]
