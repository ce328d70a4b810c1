"""Google Reader ids: items and streams, parsed from what clients send and written as they expect.

    item    long   tag:google.com,2005:reader/item/000000000000002a   (16 hex digits)
            short  42                                                  (decimal)
    stream  user/-/state/com.google/reading-list | …/starred | …/read
            feed/<source id>  (what subscription/list gives; feed/<feed URL> is accepted too)
            user/-/label/<category path>

Clients may name the user instead of "-" (``user/1/…``); the label and state names are the same.
An item id is an article id. Pure functions, no I/O: the router maps ``ValueError`` to 400.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Literal

from newswire.store.tables import MAX_ID

ITEM_PREFIX = "tag:google.com,2005:reader/item/"
STATE_PREFIX = "user/-/state/com.google/"
LABEL_PREFIX = "user/-/label/"
FEED_PREFIX = "feed/"
READING_LIST = STATE_PREFIX + "reading-list"
STARRED = STATE_PREFIX + "starred"
READ = STATE_PREFIX + "read"
KEPT_UNREAD = STATE_PREFIX + "kept-unread"
HEX_DIGITS = frozenset(string.hexdigits)
MAX_STREAM_ID = 2100  # a feed URL may be long, but not without bound

StreamKind = Literal["reading-list", "starred", "read", "feed", "label"]
STATES: dict[str, StreamKind] = {"reading-list": "reading-list", "starred": "starred", "read": "read"}


def long_item_id(article_id: int) -> str:
    """The long form clients get in stream contents."""
    return f"{ITEM_PREFIX}{article_id:016x}"


def short_item_id(article_id: int) -> str:
    """The short (decimal) form of item refs in ``stream/items/ids``."""
    return str(article_id)


def parse_item_id(value: str) -> int:
    """An article id from a long or short item id, as FreshRSS reads them: all digits and no
    leading zero is decimal; anything else is hex after the last "/" (the long form, or its bare
    16 hex digits). A negative decimal is Google's signed 64-bit form of the same number.
    Raises ValueError for anything else, or an id no article can have."""
    text = value.strip()
    try:
        if text.lstrip("-").isdigit() and text.isascii() and not text.startswith("0"):
            number = int(text) % 2**64  # signed 64-bit → unsigned
        else:
            digits = text.rsplit("/", 1)[-1]
            if not digits or len(digits) > 16 or not set(digits) <= HEX_DIGITS:
                raise ValueError(value)
            number = int(digits, 16)
    except ValueError:
        raise ValueError(f"not an item id: {value[:80]!r}") from None
    if not 0 < number <= MAX_ID:
        raise ValueError(f"no item has the id {value[:80]!r}")
    return number


@dataclass(frozen=True, slots=True)
class Stream:
    """A parsed stream id: its kind, and the source id, feed URL or label it names."""

    kind: StreamKind
    source_id: int | None = None
    feed_url: str | None = None
    label: str | None = None


def normalise_user(stream_id: str) -> str:
    """``user/<anything>/…`` → ``user/-/…``: clients may name themselves instead of "-"."""
    if stream_id.startswith("user/"):
        parts = stream_id.split("/", 2)
        if len(parts) == 3:
            return "user/-/" + parts[2]
    return stream_id


def parse_stream(value: str) -> Stream:
    """The stream a client names. Raises ValueError for one this server does not have."""
    if len(value) > MAX_STREAM_ID:
        raise ValueError("stream id too long")
    stream_id = normalise_user(value.strip())
    if stream_id.startswith(STATE_PREFIX) and stream_id[len(STATE_PREFIX):] in STATES:
        return Stream(STATES[stream_id[len(STATE_PREFIX):]])
    if stream_id.startswith(LABEL_PREFIX) and stream_id[len(LABEL_PREFIX):].strip():
        return Stream("label", label=stream_id[len(LABEL_PREFIX):].strip())
    if stream_id.startswith(FEED_PREFIX):
        rest = stream_id[len(FEED_PREFIX):]
        if rest.isascii() and rest.isdigit():
            if not 0 < int(rest) <= MAX_ID:
                raise ValueError(f"no feed {rest[:40]}")
            return Stream("feed", source_id=int(rest))
        if rest.startswith(("http://", "https://")):
            return Stream("feed", feed_url=rest)
    raise ValueError(f"unknown stream {value[:80]!r}")


def feed_stream_id(source_id: int) -> str:
    return f"{FEED_PREFIX}{source_id}"


def label_stream_id(label: str) -> str:
    return f"{LABEL_PREFIX}{label}"
