"""Ingest benchmark: Newswire against the `reader` library on the same generated feeds.

Serves N generated RSS feeds on 127.0.0.1 (default 400 feeds × 50 entries of ~5 KB HTML), then in
the same run times:

  1. `newswire fetch --all --no-enrich` into a fresh SQLite file: fetch, parse, store and the
     FTS5 search index — the work `reader` does,
  2. `reader`'s update_feeds() into a fresh SQLite file (its optional search left off),
  3. a second, unchanged `newswire fetch --all` (every feed answers 304),
  4. `newswire fetch --all` into another fresh file, with syndicated-copy detection and story
     clustering as well (work `reader` does not do; printed for the record), then an unchanged
     `fetch --all` there: what the default command costs when nothing changed.

Prints entries/s, peak RSS and CPU seconds (the process and those it starts: the steadier figure
on a shared machine, see bench/process_cpu.py) for each, `reader`'s unchanged second pass beside
ours, and three lines scripts read: `ratio: X` (1 ÷ 2), `pipeline ratio: X` (4 ÷ 2) and
`unchanged ratio: X` (`reader`'s unchanged pass time ÷ ours: ≥ 1 means no slower). All run as subprocesses so each
pays its own start-up; the feed server runs in another process. Newswire's modules are compiled
to bytecode first, as `reader`'s are in site-packages. `--unchanged-only` leaves out 4 (and its
line); `--repeat N` times N unchanged passes of each, in turn, and compares the medians.

With `--database postgresql://USER@HOST:PORT/DB` it times the scale-out path instead: for each
worker count (`--workers 1,2,4`), a fresh database on that server, N `newswire worker`s and one
`newswire worker --enrich` (which fetches too), timed until every served entry is stored and
until every article has its story (see bench/workers.py), then `reader` as above. It prints
`postgres N workers: X entries/s` (stored), `postgres N workers enriched: X entries/s`, and each
divided by `reader`'s rate (`postgres N workers ratio: X`, `postgres N workers pipeline ratio: X`).

    python bench/ingest.py [--feeds 400] [--entries 50] [--body-bytes 5000] [--unchanged-only] [--repeat N]
    python bench/ingest.py --database postgresql://postgres@127.0.0.1:5432/postgres [--workers 1,2,4]
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
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import process_cpu  # noqa: E402  (bench/process_cpu.py)
import workers  # noqa: E402  (bench/workers.py)
from newswire.testing import samples  # noqa: E402
from newswire.testing.feedserver import FeedServer  # noqa: E402

READER_SCRIPT = """
import sys, time
from reader import make_reader
db, urls_file = sys.argv[1], sys.argv[2]
reader = make_reader(db)
if urls_file != "-":
    for url in open(urls_file).read().split():
        reader.add_feed(url)
start = time.perf_counter()
reader.update_feeds(scheduled=False)  # every feed, as `newswire fetch --all` (by default only those due)
print(time.perf_counter() - start)
reader.close()
"""


def serve(feeds: int, entries: int, body_bytes: int, ready: "multiprocessing.Queue",
          start: datetime | None = None) -> None:
    """Serve the feeds; articles dated back from ``start`` (``main`` passes an hour ago)."""
    server = FeedServer()
    outlets = samples.make_outlets(feeds, seed=7, base_url="http://127.0.0.1")
    total = 0
    for outlet in outlets:
        body = samples.rss(outlet, samples.make_articles(outlet, entries, seed=1, body_bytes=body_bytes,
                                                         start=start))
        total += len(body.encode())
        server.add(f"/{outlet.slug}/feed.xml", body)
    server.start()
    ready.put((server.base_url, [o.slug for o in outlets], total))
    while True:
        time.sleep(3600)


@dataclass
class Run:
    seconds: float  # the whole process, start-up included
    peak_mb: float  # its peak resident memory (its parse worker processes not included)
    stdout: str
    cpu: process_cpu.TreeCpu  # CPU seconds of it and of every process it started

    def cpu_line(self, entries: int) -> str:
        per = f", {self.cpu.total / entries * 1e3:.2f} ms an entry" if entries else ""
        return (f"CPU {self.cpu.total:.1f}s{per} (the process {self.cpu.root_seconds:.1f}s, the processes "
                f"it started {self.cpu.others:.1f}s)")


def timed(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to its end: wall time, peak RSS of that process (``wait4``'s rusage) and the
    CPU time of its process tree (``process_cpu``: steadier than the wall time here)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        status, usage, cpu = process_cpu.follow(process.pid)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode:
            sys.exit(f"{' '.join(cmd[:4])} failed ({process.returncode}):\n{err.read()[-2000:]}")
        return Run(seconds, usage.ru_maxrss / 1024, out.read(), cpu)


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def run_reader(work: Path) -> tuple[int, Run, Run]:
    """`reader`'s first pass over the feeds in ``work/urls.txt`` and its unchanged second pass."""
    reader_db = work / "reader.sqlite"
    first = timed([sys.executable, "-c", READER_SCRIPT, str(reader_db), str(work / "urls.txt")])
    stored = count(reader_db, "entries")
    second = timed([sys.executable, "-c", READER_SCRIPT, str(reader_db), "-"])
    return stored, first, second


def reader_line(stored: int, first: Run) -> str:
    return (f"reader:               {stored} entries in {first.seconds:.2f}s = {stored / first.seconds:,.0f} "
            f"entries/s [{float(first.stdout.split()[-1]):.2f}s], peak RSS {first.peak_mb:.0f} MB "
            f"(update_feeds(), search off)")


def compile_newswire(env: dict[str, str]) -> None:
    """Newswire's modules compiled to bytecode, as installing a wheel does and as `reader`'s
    are in site-packages: run from a source tree with PYTHONDONTWRITEBYTECODE set, every
    process compiled them again (about 90 ms of each start on this machine)."""
    subprocess.run([sys.executable, "-c", "import compileall, os, newswire; "
                    "compileall.compile_dir(os.path.dirname(newswire.__file__), quiet=1)"],
                   env=env, check=True, stdout=subprocess.DEVNULL)


def compare_sqlite(work: Path, opml: Path, env: dict[str, str], feeds: int, unchanged_only: bool = False,
                   repeat: int = 1) -> None:
    newswire = [sys.executable, "-m", "newswire.cli"]
    db = work / "newswire.db"
    env = {**env, "NEWSWIRE_DATABASE_URL": f"sqlite:///{db}"}
    compile_newswire(env)
    subprocess.run(newswire + ["import-opml", str(opml)], env=env, check=True, stdout=subprocess.DEVNULL)

    first = timed(newswire + ["fetch", "--all", "--no-enrich"], env)
    stored = count(db, "articles")
    reader_stored, reader_first, reader_second = run_reader(work)
    # The unchanged passes, ours and `reader`'s in turn, `repeat` times: the median of each.
    seconds = [timed(newswire + ["fetch", "--all", "--no-enrich"], env)]
    reader_seconds = [reader_second]
    for _ in range(repeat - 1):
        seconds.append(timed(newswire + ["fetch", "--all", "--no-enrich"], env))
        reader_seconds.append(timed([sys.executable, "-c", READER_SCRIPT, str(work / "reader.sqlite"), "-"]))
    second = sorted(seconds, key=lambda run: run.seconds)[len(seconds) // 2]
    reader_second = sorted(reader_seconds, key=lambda run: run.seconds)[len(reader_seconds) // 2]
    if not unchanged_only:
        enriched_db = work / "enriched.db"
        enriched_env = {**env, "NEWSWIRE_DATABASE_URL": f"sqlite:///{enriched_db}"}
        subprocess.run(newswire + ["import-opml", str(opml)], env=enriched_env, check=True,
                       stdout=subprocess.DEVNULL)
        enriched = timed(newswire + ["fetch", "--all"], enriched_env)
        enriched_stored = count(enriched_db, "articles")
        # What a user's `fetch --all` costs when nothing changed: enrichment on, as by default.
        enriched_unchanged = timed(newswire + ["fetch", "--all"], enriched_env)

    ours, theirs = stored / first.seconds, reader_stored / reader_first.seconds
    print("Each figure is a whole process, start-up included; `reader`'s own timer (update_feeds() "
          "alone) in brackets.")
    print(f"newswire --no-enrich: {stored} entries in {first.seconds:.2f}s = {ours:,.0f} entries/s, "
          f"peak RSS {first.peak_mb:.0f} MB (fetch, parse, store, FTS5 index); {first.cpu_line(stored)}")
    if not unchanged_only:
        pipeline = enriched_stored / enriched.seconds
        print(f"newswire (pipeline):  {enriched_stored} entries in {enriched.seconds:.2f}s = {pipeline:,.0f} "
              f"entries/s, peak RSS {enriched.peak_mb:.0f} MB (also syndicated copies and stories); "
              f"{pipeline / ours:.0%} of the --no-enrich rate; {enriched.cpu_line(enriched_stored)}")
    print(f"{reader_line(reader_stored, reader_first)}; {reader_first.cpu_line(reader_stored)}")
    each = (f" (each: newswire {', '.join(f'{r.seconds:.2f}' for r in seconds)}; "
            f"reader {', '.join(f'{r.seconds:.2f}' for r in reader_seconds)})" if repeat > 1 else "")
    print(f"unchanged pass (all 304), {feeds} feeds: newswire {second.seconds:.2f}s "
          f"(peak RSS {second.peak_mb:.0f} MB), reader {reader_second.seconds:.2f}s "
          f"[{float(reader_second.stdout.split()[-1]):.2f}s]{each}")
    if not unchanged_only:
        print(f"unchanged pass with enrichment on (the default fetch --all), {feeds} feeds, "
              f"{enriched_stored} articles stored: newswire {enriched_unchanged.seconds:.2f}s")
    print(f"ratio: {ours / theirs:.2f}")
    if not unchanged_only:
        print(f"pipeline ratio: {pipeline / theirs:.2f}")
    print(f"unchanged ratio: {reader_second.seconds / second.seconds:.2f}")


def compare_postgres(work: Path, opml: Path, env: dict[str, str], server_url: str, expected: int,
                     worker_counts: list[int], stall_seconds: float) -> None:
    print("Each worker run: a fresh database, N `newswire worker` + one `newswire worker --enrich` (it fetches "
          "too), timed from their start until every served entry is stored, then until each has its story.",
          flush=True)
    runs = []
    for plain in worker_counts:
        try:
            run = workers.run_workers(server_url, plain, opml, expected, env, stall_seconds=stall_seconds)
        except workers.Stalled as error:
            sys.exit(f"PostgreSQL run stalled: {error}")
        runs.append(run)
        peaks = ", ".join(f"{mb:.0f}" for mb in run.peak_mb)
        print(f"newswire {run.workers} worker(s) + 1 --enrich: {run.entries} entries stored in "
              f"{run.stored_seconds:.2f}s = {run.stored_rate:,.0f} entries/s; enriched in "
              f"{run.enriched_seconds:.2f}s = {run.enriched_rate:,.0f} entries/s; peak RSS {peaks} MB, "
              f"entries stored {', '.join(map(str, run.stored_by))} (--enrich first)", flush=True)
    reader_stored, reader_first, _ = run_reader(work)
    theirs = reader_stored / reader_first.seconds
    print(reader_line(reader_stored, reader_first))
    for run in runs:
        print(f"postgres {run.workers} workers: {run.stored_rate:.0f} entries/s")
        print(f"postgres {run.workers} workers enriched: {run.enriched_rate:.0f} entries/s")
        print(f"postgres {run.workers} workers ratio: {run.stored_rate / theirs:.2f}")
        print(f"postgres {run.workers} workers pipeline ratio: {run.enriched_rate / theirs:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=400)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--body-bytes", type=int, default=5000)
    parser.add_argument("--database", metavar="postgresql://USER@HOST:PORT/DB",
                        help="time `newswire worker`s on PostgreSQL instead of `fetch` on SQLite; DB is any "
                             "database to connect to while creating and dropping one per run")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to time with --database (default 1,2,4)")
    parser.add_argument("--stall", type=float, default=120.0,
                        help="with --database: give up when no article is stored or enriched for this many seconds")
    parser.add_argument("--unchanged-only", action="store_true",
                        help="on SQLite: the first passes and the unchanged ones only, not the enriched pipeline "
                             "(no `pipeline ratio:` line)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="on SQLite: unchanged passes of each (newswire's and reader's in turn); the medians "
                             "are compared")
    args = parser.parse_args()
    if args.database and not args.database.startswith("postgresql://"):
        parser.error("--database takes a postgresql:// URL (SQLite is the default comparison)")
    worker_counts = [int(n) for n in args.workers.split(",")]

    # Articles are dated back from an hour ago, as a real feed's are. With the samples' fixed
    # date (long past), copy detection forgot its whole window after every batch (its window
    # is measured from now) and story clustering's start-up found nothing to rebuild: the
    # pipeline figure was flattering. The enrich worker on PostgreSQL, started beside busy
    # workers, likewise rebuilds from the articles already stored that fall in its window.
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    ready: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.feeds, args.entries, args.body_bytes, ready, start),
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
        # One loopback server stands in for 400 publishers: let it take more than the default 2
        # connections a host, with no spacing between requests, as 400 real hosts would.
        env = {**os.environ, "NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": "1", "NEWSWIRE_PER_HOST_CONCURRENCY": "16",
               "NEWSWIRE_HOST_INTERVAL": "0"}
        if args.database:
            compare_postgres(work, opml, env, args.database, n_entries, worker_counts, args.stall)
        else:
            compare_sqlite(work, opml, env, args.feeds, args.unchanged_only, max(1, args.repeat))
    finally:
        server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
