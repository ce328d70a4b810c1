"""Real labelled news as a stream of feeds, through the product's own path.

The labelled sets (``/work/shared/data/stories-dev`` or the held-back halves: same format) are
read at run time, never copied. Each becomes a timeline of articles, grouped into feeds served
on 127.0.0.1 (``newswire.testing.feedserver``); simulated time advances an hour a round, each
feed grows by what it published in that hour, and the feeds with news are refreshed by the
``Refresher`` with the enrichers ``newswire fetch --all`` uses (copies, then stories), so
articles arrive per feed in publication order, feeds interleaved. Stories are read back
through ``Store.list_articles(include_copies=True)``, the call behind
``/api/v1/articles?copies=true``.

- ECB+ (``ecbplus_dev.jsonl``): each event gets a start time (events in a shuffled order,
  ``EVENT_SPACING`` apart) and its articles are spread over the following day; six feeds.
- UCI (``uci_dev.csv``): headline-only items at their own timestamps, one feed per host name.

``half`` keeps one half of the gold stories (0: even-numbered, 1: odd-numbered, ECB+ by topic
so that an event and its hard negative stay together), for tuning on one half and checking on
the other.
"""

from __future__ import annotations

import asyncio
import csv
import html
import json
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from newswire.service.enrichment import index_enrichers
from newswire.service.update import Refresher
from newswire.store import Store
from newswire.testing import LOOPBACK
from newswire.testing.feedserver import FeedServer

EVENT_SPACING = timedelta(hours=3)
ECB_FEEDS = 6
ROUND = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled article on the timeline."""

    doc_id: str
    feed: str
    title: str
    text: str  # "" for a headline-only item
    url: str
    published: datetime
    gold: str


def ecbplus(path: Path, half: int | None = None, seed: int = 9) -> list[Item]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    events = sorted({r["cluster"] for r in rows})
    rng = random.Random(seed)
    order = events[:]
    rng.shuffle(order)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    begins = {event: start + EVENT_SPACING * i for i, event in enumerate(order)}
    items = []
    for r in rows:
        at = begins[r["cluster"]] + timedelta(seconds=rng.uniform(0, 86400))
        if half is not None and (r["topic"] // 2) % 2 != half:
            continue
        feed = f"wire-{rng.randrange(ECB_FEEDS)}"
        items.append(Item(r["doc_id"], feed, r["title"], r["text"], r["url"] or f"http://ecb.test/{r['doc_id']}",
                          at, r["cluster"]))
    return sorted(items, key=lambda i: (i.published, i.doc_id))


def uci(path: Path, half: int | None = None) -> list[Item]:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    first: dict[str, int] = {}
    for r in rows:
        first[r["STORY"]] = min(first.get(r["STORY"], 1 << 62), int(r["ID"]))
    number = {story: i for i, story in enumerate(sorted(first, key=first.__getitem__))}
    items = []
    for r in rows:
        if half is not None and number[r["STORY"]] % 2 != half:
            continue
        at = datetime.fromtimestamp(int(r["TIMESTAMP"]) / 1000, timezone.utc)
        items.append(Item(r["ID"], r["HOSTNAME"] or r["PUBLISHER"], r["TITLE"], "", r["URL"], at, r["STORY"]))
    return sorted(items, key=lambda i: (i.published, i.doc_id))


def _rounds(items: list[Item]) -> Iterator[dict[str, list[Item]]]:
    """``items`` (in publication order) round by round, ``ROUND`` apart from the first: what
    each feed published in the round, feeds in the order they first published in it (none for
    a quiet round)."""
    moment = items[0].published
    position = 0
    while position < len(items):
        moment += ROUND
        by_feed: dict[str, list[Item]] = {}
        while position < len(items) and items[position].published < moment:
            by_feed.setdefault(items[position].feed, []).append(items[position])
            position += 1
        yield by_feed


def arrival_order(items: list[Item], seed: int) -> list[Item]:
    """``items`` in an order the product may see them in: rounds as ``_stream`` serves them,
    the feeds with news refreshed together and written in whichever order they finish (here a
    shuffled one), each feed's items in publication order. Within a round the product's order
    is not fixed, so a change is judged over several of these orders, not one."""
    rng = random.Random(seed)
    ordered: list[Item] = []
    for by_feed in _rounds(items):
        feeds = list(by_feed)
        rng.shuffle(feeds)
        for feed in feeds:
            ordered.extend(by_feed[feed])
    return ordered


def _rss(name: str, items: list[Item], shift: timedelta) -> str:
    entries = []
    for item in items:
        body = ""
        if item.text:
            paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in item.text.splitlines() if line.strip())
            body = (f"<description>{html.escape(' '.join(item.text.split()[:60]))}</description>"
                    f"<content:encoded><![CDATA[{paragraphs}]]></content:encoded>")
        entries.append(f"<item><title>{html.escape(item.title)}</title><link>{html.escape(item.url)}</link>"
                       f"<guid isPermaLink=\"false\">{html.escape(item.doc_id)}</guid>"
                       f"<pubDate>{format_datetime(item.published + shift)}</pubDate>{body}</item>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>{html.escape(name)}</title><link>http://127.0.0.1/</link><description>{html.escape(name)}"
            f"</description>{''.join(reversed(entries))}</channel></rss>")


async def _stream(store: Store, server: FeedServer, items: list[Item], shift: timedelta) -> None:
    feeds = sorted({item.feed for item in items})
    slug = {feed: f"/f{i}.xml" for i, feed in enumerate(feeds)}
    source = {feed: store.add_source(server.url(slug[feed]), name=feed) for feed in feeds}
    published: dict[str, list[Item]] = {feed: [] for feed in feeds}
    async with Refresher(store, settings=LOOPBACK, enrichers=index_enrichers()) as refresher:
        for by_feed in _rounds(items):
            changed = list(by_feed)
            for feed, new in by_feed.items():
                published[feed].extend(new)
            for feed in changed:
                server.add(slug[feed], _rss(feed, published[feed][-100:], shift))
            if changed:
                await refresher.refresh_many([store.get_source(source[feed].id) for feed in changed])


def stories_through_the_product(items: list[Item]) -> dict[str, int | None]:
    """Each item's story id, after streaming ``items`` through feeds, fetch and enrichment.
    The timeline is shifted to end an hour ago, as a live deployment would see it."""
    shift = (datetime.now(timezone.utc) - timedelta(hours=1)) - items[-1].published
    server = FeedServer().start()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/bench.db")
        try:
            asyncio.run(_stream(store, server, items, shift))
            by_guid: dict[str, int | None] = {}
            cursor = None
            while True:
                page = store.list_articles(include_copies=True, limit=200, before=cursor)
                by_guid.update((a.guid, a.story_id) for a in page.items)
                if page.next is None:
                    break
                cursor = page.next
        finally:
            store.close()
            server.stop()
    return {item.doc_id: by_guid.get(item.doc_id) for item in items}
