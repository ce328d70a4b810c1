"""The PostgreSQL half of `bench/ingest.py`: `newswire worker` processes sharing one database.

For one worker count, in a database of its own (created on the server, dropped afterwards):

    import-opml ─► start N `newswire worker` + one `newswire worker --enrich` (every source is
    due at once: an imported source has never been fetched)
        ─► poll `articles` until every served entry is stored        (the ingest figure)
        ─► poll until every article has its story_id                 (enrichment caught up)
    ─► SIGTERM the workers (SIGKILL after a grace period), with each one's peak RSS

The `--enrich` worker claims sources like the others (it is a fetch worker that also follows
the articles table), so N workers means N + 1 processes fetching. Story clustering gives every
article a story, a story of its own at least, so `story_id IS NOT NULL` is what marks an article
as enriched; copy detection runs before it in the same step, on the same batch.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from newswire.testing.postgres import scratch_database

POLL = 0.25  # seconds between two counts
STOP_GRACE = 20.0  # seconds a worker gets to finish its writes after SIGTERM


@dataclass
class WorkerRun:
    workers: int  # plain workers, besides the one `--enrich`
    entries: int
    stored_seconds: float  # from the first worker's start until every entry was stored
    enriched_seconds: float  # ... until every stored entry had its story
    peak_mb: list[float]  # each worker's peak RSS, the `--enrich` one first
    stored_by: list[int]  # articles each worker stored, the `--enrich` one first

    @property
    def stored_rate(self) -> float:
        return self.entries / self.stored_seconds

    @property
    def enriched_rate(self) -> float:
        return self.entries / self.enriched_seconds


class Stalled(Exception):
    """The count stopped growing, or a worker died, before reaching what was served."""


@contextmanager
def article_counts(url: str) -> Iterator[Callable[[], tuple[int, int]]]:
    """A probe: (articles stored, articles with a story) in the database at ``url``, on one
    connection kept open while the probe is in use."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        yield lambda: tuple(conn.execute("SELECT count(*), count(story_id) FROM articles").fetchone())


def wait_for(count: Callable[[], int], expected: int, workers: list[subprocess.Popen], *,
             stall_seconds: float, what: str) -> None:
    """Poll ``count()`` until it reaches ``expected``. Raises Stalled when it has not grown for
    ``stall_seconds`` or a worker has exited, saying how far it got."""
    last, last_change = -1, time.monotonic()
    while True:
        now = count()
        if now >= expected:
            return
        if now != last:
            last, last_change = now, time.monotonic()
        dead = [w for w in workers if w.poll() is not None]
        if dead:
            raise Stalled(f"{what}: {now} of {expected}, and worker pid {dead[0].pid} exited "
                          f"({dead[0].returncode})")
        if time.monotonic() - last_change > stall_seconds:
            raise Stalled(f"{what}: stuck at {now} of {expected} for {stall_seconds:.0f}s")
        time.sleep(POLL)


def start_workers(newswire: list[str], env: dict[str, str], plain: int, logs: Path) -> list[subprocess.Popen]:
    """One `newswire worker --enrich` then ``plain`` `newswire worker`s, each logging to a file
    of its own under ``logs`` (lines left unwrapped, for ``stored_by_each``)."""
    return [start_worker(newswire, env, logs, i, extra) for i, extra in enumerate([["--enrich"]] + [[]] * plain)]


def start_worker(newswire: list[str], env: dict[str, str], logs: Path, index: int, options: list[str],
                 *, append: bool = False) -> subprocess.Popen:
    """One `newswire worker` with ``options``, logging to ``logs/worker-<index>.log`` (lines
    left unwrapped); ``append`` keeps what an earlier worker of that index wrote there."""
    with open(logs / f"worker-{index}.log", "a" if append else "w") as log:
        return subprocess.Popen(newswire + ["worker", *options], env={**env, "COLUMNS": "200"}, stdout=log,
                                stderr=subprocess.STDOUT)


def stop_workers(workers: list[subprocess.Popen], grace: float = STOP_GRACE) -> list[float]:
    """SIGTERM each worker, SIGKILL any still running after ``grace`` seconds; each one's peak
    RSS in MB (its parse worker processes not included)."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    peaks = []
    for worker in workers:
        peak = float("nan")  # unknown for one reaped already (it had died)
        while worker.returncode is None:
            pid, status, usage = os.wait4(worker.pid, os.WNOHANG)
            if pid:
                worker.returncode = os.waitstatus_to_exitcode(status)
                peak = usage.ru_maxrss / 1024
            elif time.monotonic() > deadline:
                print(f"worker pid {worker.pid} still running {grace:.0f}s after SIGTERM: killed", file=sys.stderr)
                worker.kill()
                deadline = float("inf")  # now wait for it to go
            else:
                time.sleep(0.1)
        peaks.append(peak)
    return peaks


def source_outcomes(url: str) -> str:
    """How each source's last refresh ended, counted: why articles are missing after a stall."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT last_status, last_error, lease_owner IS NOT NULL, count(*) FROM sources "
                            "GROUP BY 1, 2, 3 ORDER BY 4 DESC").fetchall()
    return "\n".join(f"  {n} source(s): last status {status}, error {error!r}{', leased' if leased else ''}"
                     for status, error, leased, n in rows)


def stored_by_each(logs: Path) -> list[int]:
    """New articles each worker reported storing (its pass lines), the `--enrich` one first:
    how the sources were shared out."""
    return [sum(int(n) for n in re.findall(r"(\d+) new articles?", log.read_text(errors="replace")))
            for log in sorted(logs.glob("worker-*.log"), key=lambda p: int(p.stem.split("-")[1]))]


def tail(logs: Path, lines: int = 15) -> str:
    return "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
                     for log in sorted(logs.glob("worker-*.log")))


def run_workers(server_url: str, plain: int, opml: Path, expected: int, env: dict[str, str], *,
                stall_seconds: float = 120.0) -> WorkerRun:
    """Import ``opml`` into a scratch database, let ``plain`` workers and one `--enrich` worker
    fetch it all, and time until ``expected`` articles are stored and enriched."""
    newswire = [sys.executable, "-m", "newswire.cli"]
    with scratch_database(server_url, "newswire_bench") as url, tempfile.TemporaryDirectory(prefix="newswire-workers-") as logs:
        # Per-host limits are shared by every worker on the database: keep each process's share of
        # the one loopback server what it was alone, so this measures scaling out, not politeness.
        per_host = int(env.get("NEWSWIRE_PER_HOST_CONCURRENCY", "2")) * (plain + 1)
        env = {**env, "NEWSWIRE_DATABASE_URL": url, "NEWSWIRE_PER_HOST_CONCURRENCY": str(per_host)}
        subprocess.run(newswire + ["import-opml", str(opml)], env=env, check=True, stdout=subprocess.DEVNULL)
        with article_counts(url) as counts:
            start = time.perf_counter()
            workers = start_workers(newswire, env, plain, Path(logs))
            try:
                wait_for(lambda: counts()[0], expected, workers, stall_seconds=stall_seconds, what="stored")
                stored = time.perf_counter() - start
                wait_for(lambda: counts()[1], expected, workers, stall_seconds=stall_seconds, what="enriched")
                enriched = time.perf_counter() - start
            except Stalled as error:
                raise Stalled(f"{plain} worker(s) + 1 --enrich: {error}\n{source_outcomes(url)}\n"
                              f"{tail(Path(logs))}") from None
            finally:
                peaks = stop_workers(workers)
        shares = stored_by_each(Path(logs))
    return WorkerRun(plain, expected, stored, enriched, peaks, shares)
