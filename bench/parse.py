"""Parse-stage throughput: newswire's parser (fast path and feedparser fallback) vs plain
feedparser, on generated feeds (50 feeds × 50 entries of ~5 KB HTML by default).

    .venv/bin/python bench/parse.py [--feeds 50] [--entries 50] [--body 5000] [--repeat 3]

Prints entries/s for each and the ratio to plain feedparser. Measures parse + normalise +
sanitise for newswire; feedparser's own default work (which includes its sanitiser) for the peer.
"""

from __future__ import annotations

import argparse
import io
import time
from datetime import datetime, timezone
from unittest import mock

import feedparser

from newswire.parse import parse_feed, xmlfeed
from newswire.testing import samples

SEEN_AT = datetime(2025, 9, 18, tzinfo=timezone.utc)


def _corpus(feeds: int, entries: int, body: int) -> list[tuple[str, bytes]]:
    renderers = [samples.rss, samples.atom, samples.json_feed]
    docs = []
    for i, outlet in enumerate(samples.make_outlets(feeds)):
        articles = samples.make_articles(outlet, entries, body_bytes=body)
        docs.append((outlet.site_url + "feed", renderers[i % 3](outlet, articles).encode()))
    return docs


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=50)
    ap.add_argument("--entries", type=int, default=50)
    ap.add_argument("--body", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    docs = _corpus(args.feeds, args.entries, args.body)
    xml_docs = [d for d in docs if not d[1].lstrip().startswith(b"{")]
    total = args.feeds * args.entries
    total_xml = len(xml_docs) * args.entries

    def newswire_all() -> None:
        for url, body in docs:
            assert len(parse_feed(body, url=url, seen_at=SEEN_AT).entries) == args.entries

    def newswire_fallback() -> None:
        with mock.patch.object(xmlfeed, "detect_format", return_value=None):
            for url, body in xml_docs:
                feed = parse_feed(body, url=url, seen_at=SEEN_AT)
                assert feed.format.startswith("feedparser:") and len(feed.entries) == args.entries

    def plain_feedparser() -> None:
        for url, body in xml_docs:
            assert len(feedparser.parse(io.BytesIO(body)).entries) == args.entries

    fast = total / _best(newswire_all, args.repeat)
    fallback = total_xml / _best(newswire_fallback, args.repeat)
    peer = total_xml / _best(plain_feedparser, args.repeat)
    print(f"corpus: {args.feeds} feeds x {args.entries} entries, ~{args.body} B HTML each "
          f"(RSS/Atom/JSON Feed in turn; feedparser runs on the {len(xml_docs)} XML feeds)")
    print(f"newswire fast path     {fast:10.0f} entries/s")
    print(f"newswire fallback      {fallback:10.0f} entries/s  (feedparser + same normalisation)")
    print(f"plain feedparser       {peer:10.0f} entries/s")
    print(f"ratio fast/feedparser  {fast / peer:10.1f}x")


if __name__ == "__main__":
    main()
