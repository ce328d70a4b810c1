"""Ingest benchmark: Newswire against the `reader` library on the same generated feeds.

Serves N generated RSS feeds on 127.0.0.1 (default 400 feeds × 50 entries of ~5 KB HTML), then in
the same run times:

  1. `newswire fetch --all --no-enrich` into a fresh SQLite file: fetch, parse, store and the
     FTS5 search index — the work `reader` does,
  2. `reader`'s update_feeds() into a fresh SQLite file (its optional search left off),
  3. a second, unchanged `newswire fetch --all` (every feed answers 304),
  4. `newswire fetch --all` into another fresh file, with syndicated-copy detection and story
     clustering as well (work `reader` does not do; printed for the record).

Prints entries/s for each and `ratio: X` (1 ÷ 2). All run as subprocesses so each pays its own
start-up; the feed server runs in another process.

    python bench/ingest.py [--feeds 400] [--entries 50] [--body-bytes 5000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from newswire.testing import samples  # noqa: E402
from newswire.testing.feedserver import FeedServer  # noqa: E402

READER_SCRIPT = """
import sys, time
from reader import make_reader
db, urls_file = sys.argv[1], sys.argv[2]
reader = make_reader(db)
for url in open(urls_file).read().split():
    reader.add_feed(url)
start = time.perf_counter()
reader.update_feeds()
print(time.perf_counter() - start)
reader.close()
"""


def serve(feeds: int, entries: int, body_bytes: int, ready: "multiprocessing.Queue") -> None:
    server = FeedServer()
    outlets = samples.make_outlets(feeds, seed=7, base_url="http://127.0.0.1")
    total = 0
    for outlet in outlets:
        body = samples.rss(outlet, samples.make_articles(outlet, entries, seed=1, body_bytes=body_bytes))
        total += len(body.encode())
        server.add(f"/{outlet.slug}/feed.xml", body)
    server.start()
    ready.put((server.base_url, [o.slug for o in outlets], total))
    while True:
        time.sleep(3600)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=400)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--body-bytes", type=int, default=5000)
    args = parser.parse_args()

    ready: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.feeds, args.entries, args.body_bytes, ready),
                                     daemon=True)
    server.start()
    base_url, slugs, total_bytes = ready.get(timeout=600)
    urls = [f"{base_url}/{slug}/feed.xml" for slug in slugs]
    n_entries = args.feeds * args.entries
    print(f"corpus: {args.feeds} feeds x {args.entries} entries = {n_entries} entries, "
          f"{total_bytes / 1e6:.1f} MB of feeds, served from {base_url}")

    work = Path(tempfile.mkdtemp(prefix="newswire-bench-"))
    try:
        opml = work / "feeds.opml"
        opml.write_text('<opml version="2.0"><body>' + "".join(
            f'<outline text="{slug}" xmlUrl="{url}"/>' for slug, url in zip(slugs, urls)) + "</body></opml>")
        (work / "urls.txt").write_text("\n".join(urls))
        newswire = [sys.executable, "-m", "newswire.cli"]
        db = work / "newswire.db"
        # One loopback server stands in for 400 publishers: let it take more than the default 2
        # connections a host, as 400 real hosts would.
        env = {**os.environ, "NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": "1", "NEWSWIRE_PER_HOST_CONCURRENCY": "16",
               "NEWSWIRE_DATABASE_URL": f"sqlite:///{db}"}
        subprocess.run(newswire + ["import-opml", str(opml)], env=env, check=True, stdout=subprocess.DEVNULL)

        first = timed(newswire + ["fetch", "--all", "--no-enrich"], env)
        stored = count(db, "articles")
        second = timed(newswire + ["fetch", "--all", "--no-enrich"], env)
        enriched_db = work / "enriched.db"
        enriched_env = {**env, "NEWSWIRE_DATABASE_URL": f"sqlite:///{enriched_db}"}
        subprocess.run(newswire + ["import-opml", str(opml)], env=enriched_env, check=True, stdout=subprocess.DEVNULL)
        enriched = timed(newswire + ["fetch", "--all"], enriched_env)

        reader_db = work / "reader.sqlite"
        out = subprocess.run([sys.executable, "-c", READER_SCRIPT, str(reader_db), str(work / "urls.txt")],
                             capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"reader failed:\n{out.stderr}")
        reader_time = float(out.stdout.strip().splitlines()[-1])
        reader_stored = count(reader_db, "entries")

        ours, theirs = stored / first, reader_stored / reader_time
        print(f"newswire: {stored} entries in {first:.2f}s = {ours:,.0f} entries/s "
              f"(whole `newswire fetch --all --no-enrich` process, with FTS5 index)")
        print(f"reader:   {reader_stored} entries in {reader_time:.2f}s = {theirs:,.0f} entries/s "
              f"(update_feeds(), search off)")
        print(f"second pass, unchanged (all 304): {second:.2f}s for {args.feeds} feeds")
        print(f"with copy detection and stories: {count(enriched_db, 'articles')} entries in {enriched:.2f}s = "
              f"{count(enriched_db, 'articles') / enriched:,.0f} entries/s")
        print(f"ratio: {ours / theirs:.2f}")
    finally:
        server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
