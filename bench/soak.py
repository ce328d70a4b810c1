"""Soak: Newswire running for a while against 1,000 feeds that publish on their own schedules, a
fifth of them misbehaving in turn, on either deployment; it fails when anything went wrong.

    python bench/soak.py [--minutes 30] [--feeds 1000]
        `newswire run` on a fresh SQLite file
    python bench/soak.py --database postgresql://postgres@127.0.0.1:5432/postgres
        in a scratch database on that server: `newswire serve`, three `newswire worker` and one
        `newswire worker --enrich`; every `--kill-every` seconds a random worker (the enricher
        included) gets SIGKILL and is started again

The feeds (bench/soakfeeds.py) publish until the end of `--minutes`; then the faults stop and the
soak waits (at most `--drain` seconds) for Newswire to catch up, and stops every process with
SIGTERM. It prints, and exits 1 when one is wrong:

- articles published by the feeds vs stored: none lost, none stored twice (or unknown);
- teaser articles whose page was extracted: all of them;
- sources stuck in a lease: a lease that expired long ago and was never taken back;
- the largest delay from publication to the wire (first seen), against a bound made of the
  soak's own intervals (fault round, backoff, Retry-After, poll interval, lease);
- resident memory (process and its parse workers) at start, middle and end, per process: flat
  for those that lived through (end within 1.5 × middle, or 100 MB more); the RSS is a sum over
  the process tree, so each line also gives the process's own share and the tree's PSS (pages
  shared between the fork server and its workers counted once);
- page latency p50/p99 during the soak (`/`, the API, a feed, a search, the sources page, one
  request every half second from this process), and any answer that is not 200;
- errors by kind: fetch failures by reason from the web node's /metrics (which, on PostgreSQL,
  adds up every worker's counters), and the processes' log lines that are not routine;
  tracebacks, internal errors and storage errors fail the soak.

The intervals are shortened so that a soak of minutes sees many polls (poll 30 to 120 s, backoff
at most 60 s, read timeout 4 s, responses capped at 1 MB; see ENV), and the feeds are spread
over 40 loopback addresses so per-host politeness works as it would on the web.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import serve as page_timing  # noqa: E402  (bench/serve.py)
import soakfeeds  # noqa: E402
import workers as pg_workers  # noqa: E402  (bench/workers.py)
from newswire.store.engine import create_engine  # noqa: E402
from newswire.testing.processes import descendants  # noqa: E402

ENV = {
    "NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": "1", "NEWSWIRE_POLL_INTERVAL": "60", "NEWSWIRE_MIN_POLL_INTERVAL": "30",
    "NEWSWIRE_MAX_POLL_INTERVAL": "120", "NEWSWIRE_MAX_BACKOFF": "60", "NEWSWIRE_CONNECT_TIMEOUT": "3",
    "NEWSWIRE_READ_TIMEOUT": "4", "NEWSWIRE_TOTAL_TIMEOUT": "10", "NEWSWIRE_MAX_RESPONSE_BYTES": str(1024 * 1024),
    "NEWSWIRE_TIMEZONE": "UTC", "PYTHONUNBUFFERED": "1", "COLUMNS": "200",
}
RETRY_AFTER = 20  # the 503s' Retry-After (soakfeeds)
LEASE = 60  # the workers' --lease
PAGES = ["/", "/api/v1/articles", "/feed.atom", "/search?q=council", "/sources"]
ROUTINE = re.compile(r"refreshed \d+ sources?:|^Worker |^Newswire is |^Open http|press Ctrl-C|^Stopped cleanly|"
                     r"^Stopping:|another (?:worker|process) is enriching|enriching: copy detection|^No admin yet|purged \d+|"
                     r"^\s*$")
FATAL_KINDS = ("traceback", "failed internal-error", "failed storage-error")
NEWSWIRE = [sys.executable, "-m", "newswire.cli"]


@dataclass
class Role:
    """One long-running Newswire process of the deployment, restarted under the same name."""

    name: str
    args: list[str]
    log: Path
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    kills: int = 0
    rss: dict[str, float] = field(default_factory=dict)  # "start"/"middle"/"end" → MB
    parts: dict[str, str] = field(default_factory=dict)  # the same moments, process by process
    pid_at: dict[str, int] = field(default_factory=dict)

    def start(self, env: dict[str, str]) -> None:
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(NEWSWIRE + self.args, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def tree_memory(pid: int) -> dict[int, tuple[float, float]]:
    """(RSS, PSS) in MB of ``pid`` and of each descendant (the parse workers' fork server and
    workers, multiprocessing's resource tracker). RSS counts a page shared by several of them
    (the fork server's imports, in each worker) once in each; PSS splits it between them."""
    found = {}
    for each in [pid, *(p.pid for p in descendants(pid))]:
        try:
            with open(f"/proc/{each}/status") as status:
                rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            with open(f"/proc/{each}/smaps_rollup") as rollup:
                pss = next((int(line.split()[1]) for line in rollup if line.startswith("Pss:")), 0)
        except (OSError, StopIteration):
            continue
        found[each] = (rss / 1024, pss / 1024)
    return found


class Pager(threading.Thread):
    """Requests the pages one at a time, half a second apart, until ``stop``; keeps every
    latency, and every answer that was not 200 (or no answer)."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base, self.latencies, self.errors = base, [], 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                latencies, errors = asyncio.run(page_timing.load(self.base, [(p, {}) for p in PAGES], 1, 10.0,
                                                                 pause=0.5))
                self.latencies += latencies
                self.errors += errors
            except httpx.HTTPError:
                self.errors += 1
                time.sleep(0.5)


@dataclass
class Tally:
    published: int
    stored: int
    lost: int
    extra: int
    teasers: int
    teasers_extracted: int
    delays: list[float]
    stuck: int
    leased: int

    @property
    def caught_up(self) -> bool:
        return not self.lost and self.teasers_extracted == self.teasers


def tally(engine: sa.Engine, world: soakfeeds.World, bases: dict[str, str]) -> Tally:
    """What the database holds against what the feeds published."""
    index = {url: i for i, url in enumerate(soakfeeds.feed_urls(world, bases))}
    wanted = {(i, world.guid(i, t)): t for i, times in soakfeeds.expected(world).items() for t in times}
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT s.feed_url, a.guid, a.first_seen_at, a.extraction_status "
                                    "FROM articles a JOIN sources s ON s.id = a.source_id")).all()
        now = conn.execute(sa.text("SELECT CURRENT_TIMESTAMP")).scalar()
        leases = conn.execute(sa.text("SELECT lease_until FROM sources WHERE lease_until IS NOT NULL")).scalars().all()
    seen = {}
    for feed_url, guid, first_seen, status in rows:
        seen[(index.get(feed_url, -1), guid)] = (_epoch(first_seen), status)
    delays = [seen[key][0] - t for key, t in wanted.items() if key in seen and t >= world.t0]
    teasers = [key for key in wanted if world.teaser(key[0]) and key in seen]
    now_s = _epoch(now)
    return Tally(published=len(wanted), stored=len(seen), lost=len(wanted.keys() - seen.keys()),
                 extra=len(seen.keys() - wanted.keys()), teasers=len(teasers),
                 teasers_extracted=sum(seen[k][1] == "done" for k in teasers), delays=delays,
                 stuck=sum(_epoch(until) < now_s - 2 * LEASE for until in leases), leased=len(leases))


def _epoch(moment) -> float:
    if isinstance(moment, str):  # SQLite keeps naive UTC text
        from datetime import datetime, timezone

        moment = datetime.fromisoformat(moment)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    elif moment.tzinfo is None:
        from datetime import timezone

        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def fetch_reasons(base: str) -> Counter[str]:
    """Fetches by outcome and failure reason, from the web node's /metrics."""
    found: Counter[str] = Counter()
    text = httpx.get(base + "/metrics", timeout=30).text
    for outcome, reason, value in re.findall(r'^newswire_fetches_total\{outcome="([^"]*)",reason="([^"]*)"\} (\S+)$',
                                             text, re.M):
        found[outcome if reason == "none" else f"{outcome} {reason}"] += int(float(value))
    workers = re.search(r"^newswire_workers_reporting (\S+)$", text, re.M)
    found["(workers reporting)"] = int(float(workers.group(1))) if workers else 0
    return found


def log_kinds(logs: list[Path]) -> Counter[str]:
    """Log lines that are not routine, by kind: a traceback, or what the line starts with."""
    kinds: Counter[str] = Counter()
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if ROUTINE.search(line) or line.startswith((" ", "\t")):
                continue
            line = re.sub(r"^\d\d:\d\d:\d\d ", "", line)
            if line.startswith("Traceback"):
                kinds["traceback"] += 1
            elif re.match(r"^[\w.]+(Error|Exception)\b|^The above exception|^During handling|^\(Background on", line):
                continue  # the rest of a traceback, counted above
            elif warning := re.search(r"\b(\w+Warning): (\w+)", line):  # a file:line: SomeWarning: … line
                kinds[f"log {warning.group(1)} from {warning.group(2)}"] += 1
            else:
                head = line.split(":", 1)[0] if ":" in line[:40] else " ".join(line.split()[:4])
                kinds[f"log {head}"] += 1
    return kinds


def pct(values: list[float], q: int) -> float:
    return page_timing.pct(values, q) if values else float("nan")


def wait_for_web(base: str, roles: list[Role], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        dead = [r for r in roles if not r.alive()]
        if dead:
            sys.exit(f"{dead[0].name} exited at start:\n{dead[0].log.read_text()[-3000:]}")
        time.sleep(0.3)
    sys.exit("the web node did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--database", help="postgresql://… (any database on the server): the scaled deployment")
    parser.add_argument("--publish-every", type=float, default=120, help="mean seconds between a feed's articles")
    parser.add_argument("--round", type=float, default=60, help="seconds each fifth of the feeds misbehaves")
    parser.add_argument("--kill-every", type=float, default=120, help="PostgreSQL: seconds between two SIGKILLs")
    parser.add_argument("--workers", type=int, default=3, help="PostgreSQL: plain workers besides the --enrich one")
    parser.add_argument("--drain", type=float, default=360, help="most seconds to wait for Newswire to catch up")
    parser.add_argument("--keep", type=Path, help="keep the logs (and the SQLite file) in this folder")
    args = parser.parse_args()

    with ExitStack() as stack:
        work = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="newswire-soak-")))
        work.mkdir(parents=True, exist_ok=True)
        failures = soak(args, work, stack)
    sys.exit(1 if failures else 0)


def soak(args: argparse.Namespace, work: Path, stack: ExitStack) -> list[str]:
    start = time.time()
    soak_end = start + args.minutes * 60
    world = soakfeeds.World(feeds=args.feeds, t0=start, publish_every=args.publish_every, publish_until=soak_end,
                            round_seconds=args.round, faults_until=soak_end, timeout_delay=6.0,
                            huge_bytes=3 * 1024 * 1024)
    ready: multiprocessing.Queue = multiprocessing.Queue()
    feeds = multiprocessing.Process(target=soakfeeds.serve, args=(world, ready), daemon=True)
    feeds.start()
    stack.callback(feeds.kill)
    bases = ready.get(timeout=120)
    opml = work / "soak.opml"
    opml.write_text(soakfeeds.opml(soakfeeds.feed_urls(world, bases)))

    if args.database:
        url = stack.enter_context(pg_workers.scratch_database(args.database, "newswire_bench"))
    else:
        url = f"sqlite:///{work / 'soak.db'}"
    env = {**os.environ, **ENV, "NEWSWIRE_DATABASE_URL": url}
    subprocess.run(NEWSWIRE + ["import-opml", str(opml)], env=env, check=True, stdout=subprocess.DEVNULL)
    port = page_timing.free_port()
    base = f"http://127.0.0.1:{port}"
    if args.database:
        roles = [Role("serve", ["serve", "--port", str(port)], work / "serve.log"),
                 Role("worker --enrich", ["worker", "--enrich", "--lease", str(LEASE)], work / "worker-0.log")]
        roles += [Role(f"worker {i}", ["worker", "--lease", str(LEASE)], work / f"worker-{i}.log")
                  for i in range(1, args.workers + 1)]
    else:
        roles = [Role("run", ["run", "--port", str(port)], work / "run.log")]
    engine = create_engine(url)
    print(f"soak: {args.feeds} feeds on {len(bases)} loopback hosts, {args.minutes:g} min, "
          f"{'PostgreSQL: ' + ', '.join(r.name for r in roles) if args.database else 'SQLite: newswire run'}; "
          f"{os.cpu_count()} CPUs (shared)", flush=True)
    try:
        return watch(args, world, bases, roles, env, base, engine, start, soak_end)
    finally:  # after a failure; nothing left running otherwise
        pg_workers.stop_workers([r.process for r in roles if r.process])
        engine.dispose()


def watch(args, world, bases, roles: list[Role], env, base: str, engine, start: float, soak_end: float) -> list[str]:
    for role in roles:
        role.start(env)
    wait_for_web(base, roles)
    pager = Pager(base)
    pager.start()
    rng = random.Random(1)
    next_kill = start + args.kill_every
    middle = start + (soak_end - start) / 2
    killed: list[str] = []
    died: list[str] = []
    sampled = {"start": start + 15, "middle": middle}
    last_report = 0.0
    while time.time() < soak_end:
        now = time.time()
        for moment, at in list(sampled.items()):
            if now >= at:
                sample_rss(roles, moment)
                del sampled[moment]
        for role in roles:
            if not role.alive() and role.process.returncode != -signal.SIGKILL:
                died.append(f"{role.name} exited ({role.process.returncode})")
                role.start(env)
        if args.database and now >= next_kill:
            victim = rng.choice([r for r in roles if r.name.startswith("worker")])
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait()
            victim.kills += 1
            killed.append(f"{time.strftime('%H:%M:%S')} {victim.name}")
            time.sleep(1.0)
            victim.start(env)
            next_kill = now + args.kill_every
        if now - last_report >= 30:
            t = tally(engine, world, bases)
            print(f"{time.strftime('%H:%M:%S')} {now - start:5.0f}s: {t.stored} stored of {t.published} to be "
                  f"published, {len(pager.latencies)} page requests", flush=True)
            last_report = now
        time.sleep(1.0)
    pager.stop.set()
    drain_started = time.time()
    while True:
        t = tally(engine, world, bases)
        if t.caught_up or time.time() - drain_started > args.drain:
            break
        time.sleep(5)
    drained = time.time() - drain_started
    sample_rss(roles, "end")
    reasons = fetch_reasons(base)
    pager.join(timeout=15)
    pg_workers.stop_workers([r.process for r in roles])  # SIGTERM, then SIGKILL after a grace period
    unclean = [f"{r.name} exited {r.process.returncode} on SIGTERM" for r in roles if r.process.returncode]
    kinds = log_kinds([r.log for r in roles])
    return report(args, world, t, drained, roles, pager, reasons, kinds, killed, died + unclean)


def sample_rss(roles: list[Role], moment: str) -> None:
    for role in roles:
        if role.alive():
            parts = tree_memory(role.process.pid)
            role.rss[moment] = sum(rss for rss, _ in parts.values())
            main = parts.get(role.process.pid, (0.0, 0.0))[0]
            role.parts[moment] = (f"this process {main:.0f}, {len(parts) - 1} others {role.rss[moment] - main:.0f}; "
                                  f"PSS {sum(pss for _, pss in parts.values()):.0f}")
            role.pid_at[moment] = role.process.pid


def report(args, world, t: Tally, drained: float, roles: list[Role], pager: Pager, reasons: Counter[str],
           kinds: Counter[str], killed: list[str], died: list[str]) -> list[str]:
    failures: list[str] = []
    lease = LEASE if args.database else 0
    bound = args.round + int(ENV["NEWSWIRE_MAX_BACKOFF"]) + RETRY_AFTER + int(ENV["NEWSWIRE_MAX_POLL_INTERVAL"]) \
        + lease + 60
    print(f"\n== soak results ({'PostgreSQL' if args.database else 'SQLite'}, {args.feeds} feeds, "
          f"{args.minutes:g} min, caught up {drained:.0f}s after publishing stopped) ==")
    print(f"articles: {t.published} published, {t.stored} stored, {t.lost} lost, {t.extra} duplicated or unknown")
    if t.lost or t.extra:
        failures.append(f"{t.lost} articles lost, {t.extra} duplicated")
    print(f"teaser articles with their page extracted: {t.teasers_extracted} of {t.teasers}")
    if t.teasers_extracted != t.teasers:
        failures.append(f"{t.teasers - t.teasers_extracted} teaser articles not extracted")
    print(f"sources leased at the end: {t.leased}; stuck (lease expired over {2 * LEASE}s ago, never taken back): "
          f"{t.stuck}")
    if t.stuck:
        failures.append(f"{t.stuck} sources stuck in a lease")
    if t.delays:
        largest = max(t.delays)
        print(f"publication → wire: p50 {statistics.median(t.delays):.0f}s, p99 {pct(t.delays, 99):.0f}s, "
              f"largest {largest:.0f}s (bound {bound}s) over {len(t.delays)} articles published during the soak")
        if largest > bound:
            failures.append(f"an article reached the wire {largest:.0f}s after publication (bound {bound}s)")
    print("resident memory, MB (process + parse workers): start / middle / end")
    for role in roles:
        shown = " / ".join(f"{role.rss[m]:.0f}" if m in role.rss else "-" for m in ("start", "middle", "end"))
        lived = role.pid_at.get("middle") is not None and role.pid_at.get("middle") == role.pid_at.get("end")
        print(f"  {role.name:16} {shown}{f'  (killed {role.kills}x)' if role.kills else ''}")
        for moment in ("start", "middle", "end"):
            if moment in role.parts:
                print(f"    {moment}: {role.parts[moment]}")
        if lived and role.rss["end"] > max(1.5 * role.rss["middle"], role.rss["middle"] + 100):
            failures.append(f"{role.name}'s memory grew from {role.rss['middle']:.0f} to {role.rss['end']:.0f} MB")
    print(f"pages during the soak: {len(pager.latencies)} requests, p50 {pct(pager.latencies, 50) * 1000:.0f} ms, "
          f"p99 {pct(pager.latencies, 99) * 1000:.0f} ms, {pager.errors} not 200")
    if pager.errors:
        failures.append(f"{pager.errors} page requests did not answer 200")
    reporting = reasons.pop("(workers reporting)")
    print("fetches by outcome (the web node's /metrics" + (f", {reporting} workers reporting" if args.database else "")
          + "): " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    print("errors logged by kind: " + (", ".join(f"{k} {v}" for k, v in kinds.most_common()) or "none"))
    if killed:
        print(f"SIGKILLed and restarted: {', '.join(killed)}")
    errors = Counter({k: v for k, v in {**reasons, **kinds}.items() if k in FATAL_KINDS and v})
    if errors:
        failures.append("errors: " + ", ".join(f"{k} {v}" for k, v in errors.items()))
    failures += died
    print("FAILED: " + "; ".join(failures) if failures else "OK")
    return failures


if __name__ == "__main__":
    main()
