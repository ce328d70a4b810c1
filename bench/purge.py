"""Retention benchmark: how long one purge batch holds SQLite's write lock, and a whole purge.

Stores ``--feeds`` × ``--entries`` generated articles (~5 KB of HTML each, FTS5 index included),
published over the last ``2 × --days`` days, with a quarter of them in stories and some marked as
copies; then purges those older than ``--days`` the way ``newswire run`` does, one batch per
transaction, and prints each batch's time (p50, p99, max: the longest the wire's writes could
wait), the total, and the space given back.

    .venv/bin/python bench/purge.py [--feeds 200] [--entries 100] [--days 30] [--batch 100] [--url …]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone

from newswire.models import SourceUpdate
from newswire.service import retention
from newswire.store import Store
from newswire.testing import samples
from store import to_entry  # bench/store.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--batch", type=int, default=retention.BATCH)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()

    now = datetime.now(timezone.utc)
    spacing = timedelta(days=2 * args.days) / args.entries
    scratch = tempfile.TemporaryDirectory(prefix="newswire-bench-")
    url = args.url or f"sqlite:///{scratch.name}/purge.db"
    store = Store(url)
    update = SourceUpdate(fetched_at=now, status="ok", next_due_at=now)
    start = time.perf_counter()
    for outlet in samples.make_outlets(args.feeds):
        source = store.add_source(f"{outlet.site_url}feed.xml", name=outlet.name)
        entries = [dataclasses.replace(to_entry(a), published=now - spacing * i)
                   for i, a in enumerate(samples.make_articles(outlet, args.entries, body_bytes=5000))]
        store.save_refresh(source.id, update, entries)
    ids = [a.id for a in store.iter_articles()]
    story_ids = store.create_stories([("story", now)] * (len(ids) // 16))
    store.assign_stories([(article, story_ids[i // 4]) for i, article in enumerate(ids[: len(story_ids) * 4])])
    store.set_duplicate_of([(ids[i + 1], ids[i]) for i in range(0, len(ids) - 1, 10)])
    print(f"stored {len(ids)} articles in {time.perf_counter() - start:.1f}s ({url})")

    cutoff = retention.cutoff_for(args.days, now)
    times: list[float] = []
    purged = 0
    start = time.perf_counter()
    while True:
        began = time.perf_counter()
        done = store.purge_batch(cutoff, limit=args.batch)
        times.append(time.perf_counter() - began)
        purged += done.articles
        if done.articles < args.batch:
            break
    total = time.perf_counter() - start
    free_before, mode = store.free_space()
    began = time.perf_counter()
    summary = retention.purge(store, cutoff)  # nothing left to purge: times the space given back
    reclaim = time.perf_counter() - began
    times.sort()
    print(f"purged {purged} articles in {len(times)} batches of {args.batch}: {total:.2f}s "
          f"({purged / total:.0f} articles/s)")
    print(f"one batch (the write lock held): p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p99 {times[int(len(times) * 0.99) - 1 if len(times) > 1 else 0] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")
    print(f"space: {free_before / 1e6:.1f} MB free after the purge ({mode}); "
          f"{summary.reclaimed_bytes / 1e6:.1f} MB given back in {reclaim:.2f}s")
    store.close()
    scratch.cleanup()


if __name__ == "__main__":
    main()
