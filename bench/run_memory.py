"""Peak memory of a real `newswire run` over 1,000,000 articles whose last week fills the
enrichment windows (issue 10's goal: under 500 MB).

    python bench/run_memory.py [--articles 1000000] [--week 100000] [--sources 1000] [--only first|restart]

Builds (once, cached under bench/.out/, rebuilt when older than ``--max-age`` hours, since the
windows look back from the real clock) a SQLite database with bench/serve.py's generator:
``--articles`` articles, the newest ``--week`` of them published over the 7 days before the build,
the rest over the two years before that. Its sources' feeds are 127.0.0.1 URLs due in ten years,
so `run` fetches nothing: what it does is start up, which is where its memory peaks. On a
working copy of that database it starts `newswire run` on a free loopback port twice: a first
start (no article has its copy or story decision yet, so the rebuild also decides and writes
them all) and a restart on the same database after a SIGTERM (the rebuild reads the stored
decisions back). Each time it samples the process every 0.2 s (RSS; PSS from
/proc/PID/smaps_rollup, which counts the pages shared with its children once; the RSS of its
children), takes the kernel's own peak (VmHWM), and prints them with the start-up time and the
CPU time the process had used by then.

Start-up is done when story clustering says its window is rebuilt (its INFO log line; the
process runs as `newswire run` with the `newswire.service` loggers at INFO on stderr, nothing
else changed), then sampling goes on for ``--settle`` seconds and the API must answer. The
RSS when the API first answers ("base": the process before its windows, give or take the
rebuild's first seconds) and when the copy window is rebuilt (its log line) split the peak into
the base process, the copy window ("+copies") and the story window ("+stories").

The week's articles are bench/serve.py's: 60 words drawn from a 20,000-word Zipfian vocabulary
and a 7-word title, no two about one event, so every article is a story of its own: more
stories than real news makes (bench/memory.py's corpus has 4.5 articles an event), with
shorter texts.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from serve import build, free_port  # noqa: E402

OUT = HERE / ".out"
STAMP = "%Y%m%dT%H%M"
# `newswire run` itself, with the enrichment steps' INFO lines (the rebuilds' ends) on stderr.
RUN = ("import logging, sys; logging.basicConfig(level=logging.WARNING, stream=sys.stderr, "
       "format='%(asctime)s %(name)s %(message)s'); logging.getLogger('newswire.service').setLevel(logging.INFO); "
       "from newswire.cli import main; sys.argv[0] = 'newswire'; main()")
COPIES_DONE = re.compile(r"copies: indexed (\d+) recent articles")
STORIES_DONE = re.compile(r"stories: (\d+) active stories rebuilt")


def cached_db(articles: int, week: int, sources: int, max_age_hours: float) -> tuple[Path, datetime]:
    """The newest cached database of this shape built less than ``max_age_hours`` ago, else a new
    one (older ones of the shape removed): the path and when its week ends."""
    OUT.mkdir(exist_ok=True)
    prefix = f"run-{articles}-{week}-{sources}-"
    now = datetime.now(timezone.utc)
    found = sorted(OUT.glob(prefix + "*.db"))
    for old in found[:-1]:
        old.unlink()
    if found:
        built = datetime.strptime(found[-1].stem[len(prefix):], STAMP).replace(tzinfo=timezone.utc)
        if (now - built).total_seconds() < max_age_hours * 3600:
            return found[-1], built
        found[-1].unlink()
    now = now.replace(second=0, microsecond=0)
    db = OUT / f"{prefix}{now.strftime(STAMP)}.db"
    started = time.perf_counter()
    tmp = db.with_suffix(".tmp")
    build(tmp, articles, sources, now=now, recent=week)
    tmp.rename(db)
    print(f"built {db.name} in {time.perf_counter() - started:.0f} s", flush=True)
    return db, now


def status_kb(pid: int, *fields: str) -> list[int]:
    values = dict.fromkeys(fields, 0)
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name = line.split(":", 1)[0]
            if name in values:
                values[name] = int(line.split()[1])
    return [values[f] for f in fields]


def pss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far: start-up's cost, which wall time under a shared
    machine's load is not."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (the parse workers and their helpers)."""
    out, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            for task in os.listdir(f"/proc/{parent}/task"):
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    kids = [int(k) for k in f.read().split()]
                out.extend(kids)
                todo.extend(kids)
        except OSError:
            pass
    return out


@dataclass
class Start:
    """What one start of `newswire run` took."""
    label: str
    seconds: float = float("nan")  # until the story window was rebuilt
    cpu: float = float("nan")  # the process's CPU seconds (user + system) by then
    copies_at: float = float("nan")
    rss_at_copies: float = float("nan")  # MB
    rss_at_ready: float = float("nan")
    peak_rss: float = 0.0  # sampled
    peak_pss: float = 0.0
    peak_children: float = 0.0
    hwm: float = 0.0  # the kernel's peak RSS (VmHWM)
    rss_settled: float = float("nan")
    base_rss: float = float("nan")  # when the API first answered
    windows: str = ""
    lines: list[str] = field(default_factory=list)


def start_run(db: Path, label: str, settle: float, timeout: float) -> Start:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "NEWSWIRE_TIMEZONE": "UTC"}
    env.pop("NEWSWIRE_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-c", RUN, "run", "--port", str(port), "--database", f"sqlite:///{db}"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    result = Start(label)
    t0 = time.perf_counter()
    events: dict[str, float] = {}

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            result.lines.append(line.rstrip())
            if m := COPIES_DONE.search(line):
                events["copies"] = time.perf_counter() - t0
                result.windows += f"copies {int(m.group(1)):,} articles"
            elif m := STORIES_DONE.search(line):
                events["stories"] = time.perf_counter() - t0
                result.windows += f", stories {int(m.group(1)):,}"

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    ready_at = None
    next_probe = 0.0
    try:
        while True:
            now = time.perf_counter() - t0
            if proc.poll() is not None:
                raise SystemExit(f"newswire run exited ({proc.returncode}):\n" + "\n".join(result.lines[-30:]))
            rss, hwm = status_kb(proc.pid, "VmRSS", "VmHWM")
            pss = pss_kb(proc.pid)
            kids = sum(status_kb(k, "VmRSS")[0] for k in children(proc.pid) if os.path.exists(f"/proc/{k}"))
            result.peak_rss = max(result.peak_rss, rss / 1024)
            result.peak_pss = max(result.peak_pss, pss / 1024)
            result.peak_children = max(result.peak_children, kids / 1024)
            result.hwm = hwm / 1024
            if "copies" in events and result.rss_at_copies != result.rss_at_copies:
                result.copies_at, result.rss_at_copies = events["copies"], rss / 1024
            if "stories" in events and ready_at is None:
                ready_at = now
                result.seconds, result.rss_at_ready = events["stories"], rss / 1024
                result.cpu = cpu_seconds(proc.pid)
            if result.base_rss != result.base_rss and now >= next_probe:
                next_probe = now + 1.0
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code < 500:
                        result.base_rss = rss / 1024
                except httpx.HTTPError:
                    pass
            if ready_at is not None and now - ready_at >= settle:
                result.rss_settled = rss / 1024
                answer = httpx.get(base + "/api/v1/articles", timeout=30)
                if answer.status_code != 200:
                    raise SystemExit(f"the API answered {answer.status_code} after start-up")
                break
            if now > timeout:
                raise SystemExit(f"no start-up after {timeout:.0f} s:\n" + "\n".join(result.lines[-30:]))
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return result


def show(starts: list[Start]) -> None:
    print(f"{'start':10} {'start-up s':>10} {'cpu s':>6} {'peak RSS':>9} {'VmHWM':>7} {'peak PSS':>9} {'children':>9} "
          f"{'base':>6} {'+copies':>8} {'+stories':>9} {'settled':>8}   (MB)")
    for s in starts:
        print(f"{s.label:10} {s.seconds:10.0f} {s.cpu:6.0f} {s.peak_rss:9.0f} {s.hwm:7.0f} {s.peak_pss:9.0f} {s.peak_children:9.0f} "
              f"{s.base_rss:6.0f} {s.rss_at_copies - s.base_rss:+8.0f} {s.rss_at_ready - s.rss_at_copies:+9.0f} "
              f"{s.rss_settled:8.0f}   {s.windows}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--week", type=int, default=100_000, help="articles in the last 7 days (of --articles)")
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--max-age", type=float, default=12, help="hours before the cached database is rebuilt")
    parser.add_argument("--settle", type=float, default=10, help="seconds sampled after start-up")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a start may take")
    parser.add_argument("--only", choices=("first", "restart"), help="one start only (restart: a second start "
                                                                      "on the working copy a previous --keep left)")
    parser.add_argument("--keep", action="store_true", help="keep the working copy (bench/.out/run-work.db)")
    args = parser.parse_args()

    db, built = cached_db(args.articles, args.week, args.sources, args.max_age)
    work = OUT / "run-work.db"
    if args.only != "restart":
        for leftover in OUT.glob("run-work.db*"):
            leftover.unlink()
        shutil.copyfile(db, work)
    print(f"{args.articles:,} articles from {args.sources:,} sources, {args.week:,} in the week before "
          f"{built:%Y-%m-%d %H:%M} UTC ({(datetime.now(timezone.utc) - built).total_seconds() / 3600:.1f} h ago); "
          f"{db.stat().st_size / 2**30:.1f} GiB", flush=True)
    starts = []
    try:
        for label in ("first", "restart"):
            if args.only and args.only != label:
                continue
            starts.append(start_run(work, label, args.settle, args.timeout))
            show(starts[-1:])
            sys.stdout.flush()
    finally:
        if not args.keep:
            for leftover in OUT.glob("run-work.db*"):
                leftover.unlink()
    print()
    show(starts)


if __name__ == "__main__":
    main()
