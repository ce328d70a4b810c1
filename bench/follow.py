"""`newswire run`'s enrichment follower: how long until every article fetched has its story.

    python bench/follow.py [--feeds 100] [--entries 50] [--body-bytes 5000] [--repeat 2]

``run`` (and ``worker --enrich``) fetch with a Refresher that runs no enrichment step and
follow the articles table with copy detection and story clustering (``worker.follow_and_enrich``),
as they must for the articles other processes store. Serves the feeds on 127.0.0.1, then in one
process, as ``run`` does: a Refresher with two parse worker processes and the follower, timed
from the first fetch until every article has its story, and the process's own CPU time (its
threads: event loop, writer, follower; not the parse workers). Twice, in turn, ``--repeat``
times: with the ``Handoff`` (the parse workers' prepared texts reach the follower, which looks
as soon as a batch is stored) and without it (the follower prepares every text itself and looks
every 2 s), each into a fresh SQLite file. Prints both and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import ingest  # noqa: E402  (bench/ingest.py: the same generated feeds)
from newswire.config import DEFAULTS  # noqa: E402
from newswire.service.prepared import Handoff  # noqa: E402
from newswire.service.update import Refresher  # noqa: E402
from newswire.store import Store  # noqa: E402
from newswire.worker import follow_and_enrich  # noqa: E402


async def one_run(db: Path, urls: list[str], handoff: Handoff | None) -> tuple[float, float]:
    """Seconds and this process's CPU seconds until every article fetched has a story."""
    store = Store(f"sqlite:///{db}")
    sources = [store.add_source(url) for url in urls]
    settings = replace(DEFAULTS, allow_private_addresses=True, per_host_concurrency=16, host_interval=0.0)
    stop = asyncio.Event()
    follower = asyncio.create_task(follow_and_enrich(store, stop, handoff=handoff))
    await asyncio.sleep(0.5)  # its steps built, as a running `run`'s are
    started, cpu = time.perf_counter(), time.process_time()
    async with Refresher(store, settings=settings, parse_processes=2, handoff=handoff) as refresher:
        await refresher.refresh_many(sources)
    print(f"  stored in {time.perf_counter() - started:.2f} s", flush=True)
    while True:
        with sqlite3.connect(db) as conn:
            left, stored = conn.execute("SELECT sum(story_id IS NULL), count(*) FROM articles").fetchone()
        if stored and not left:
            break
        await asyncio.sleep(0.05)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    stop.set()
    await follower
    store.close()
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--body-bytes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    ready: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=ingest.serve, daemon=True,
                                     args=(args.feeds, args.entries, args.body_bytes, ready, start))
    server.start()
    base_url, slugs, _ = ready.get(timeout=600)
    urls = [f"{base_url}/{slug}/feed.xml" for slug in slugs]
    work = Path(tempfile.mkdtemp(prefix="newswire-follow-"))
    runs: dict[str, list[tuple[float, float]]] = {"handoff": [], "without": []}
    try:
        for i in range(args.repeat):
            for name in ("handoff", "without"):
                handoff = Handoff() if name == "handoff" else None
                runs[name].append(asyncio.run(one_run(work / f"{name}-{i}.db", urls, handoff)))
    finally:
        server.kill()
        shutil.rmtree(work, ignore_errors=True)
    n = args.feeds * args.entries
    for name, got in runs.items():
        seconds = statistics.median(s for s, _ in got)
        cpu = statistics.median(c for _, c in got)
        print(f"{name:8s}: {n} entries fetched and in stories in {seconds:.2f} s = {n / seconds:,.0f} entries/s; "
              f"this process's CPU {cpu:.2f} s = {cpu / n * 1e3:.2f} ms/entry "
              f"(each: {', '.join(f'{s:.2f}' for s, _ in got)} s)")
    ratio = statistics.median(s for s, _ in runs["without"]) / statistics.median(s for s, _ in runs["handoff"])
    print(f"follow ratio: {ratio:.2f}  (time without the handoff / with it)")


if __name__ == "__main__":
    main()
