"""The parse stage: feed bytes → ParsedFeed, for RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed.

``parse_feed`` is the one way in and the one error boundary: whatever goes wrong inside, the
caller sees ``ParseError`` (message starting "parse: ") with the original exception as its
cause. The pure helpers other stages reuse live in ``newswire.parse.normalise``.

    document.read_document   bytes → RawFeed   (encoding, detection, lxml fast path, feedparser)
    assemble.build_feed      RawFeed → ParsedFeed   (dates, authors, URLs, HTML, text)
"""

from __future__ import annotations

from datetime import datetime, timezone

from newswire.config import DEFAULTS
from newswire.errors import ParseError
from newswire.models import ParsedFeed
from newswire.parse.limits import RAW_ITEMS_FACTOR

__all__ = ["parse_feed"]


def parse_feed(content: bytes, *, url: str, content_type: str | None = None,
               source_timezone: str = "UTC", seen_at: datetime,
               max_items: int = DEFAULTS.max_items_per_fetch) -> ParsedFeed:
    """Parse one fetched feed body.

    ``url`` is the feed's URL (base for relative links), ``content_type`` the HTTP header (its
    charset is a hint), ``source_timezone`` the zone for dates without one, ``seen_at`` the time
    used for entries that carry no date (``published_estimated=True``), ``max_items`` how many
    entries to keep (the newest; readers look at no more than ``RAW_ITEMS_FACTOR`` times as many).

    Raises ``newswire.errors.ParseError`` (and nothing else) for anything that is not a readable
    feed.
    """
    # Imported on first use: lxml, feedparser and nh3 are a tenth of a second of start-up that
    # a command which parses nothing (an unchanged pass, all 304) need not pay; the parse
    # workers preload them (``service.parsepool.PRELOAD``).
    from newswire.parse.assemble import build_feed
    from newswire.parse.document import read_document

    if seen_at.tzinfo is None:
        seen_at = seen_at.replace(tzinfo=timezone.utc)
    try:
        raw = read_document(bytes(content), url=url, content_type=content_type,
                            max_entries=max_items * RAW_ITEMS_FACTOR)
        return build_feed(raw, source_timezone=source_timezone, seen_at=seen_at.astimezone(timezone.utc),
                          max_items=max_items)
    except ParseError:
        raise
    except Exception as exc:  # the one boundary: third-party failures become ParseError
        raise ParseError(f"parse: could not read the feed ({type(exc).__name__}: {exc})") from exc
