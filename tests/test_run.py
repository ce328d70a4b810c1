"""``newswire run`` as a user runs it: a subprocess that schedules and serves, stopped by a
signal. Whatever moment the signal lands, the process exits 0, says so, and leaves every feed
either wholly stored or not at all."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from typing import Callable

import httpx
import pytest

from newswire import accounts
from newswire.demo.newsroom import Newsroom
from newswire.store import Store
from newswire.testing import samples
from newswire.testing.processes import descendants, still_running

DEADLINE = 90  # seconds; generous, only to fail instead of hanging


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A ``newswire`` subprocess whose output is collected as it comes."""

    def __init__(self, *args: str):
        env = {**os.environ, "NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": "1", "PYTHONUNBUFFERED": "1",
               "COLUMNS": "300"}
        self.proc = subprocess.Popen([sys.executable, "-m", "newswire.cli", *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self, sig: int) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=DEADLINE)
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_until(condition: Callable[[], object], what: str, process: Process) -> object:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.proc.poll() is not None:
            pytest.fail(f"newswire exited ({process.proc.returncode}) before {what}:\n{process.output}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}:\n{process.output}")


def web_answers(port: int) -> bool:
    """/healthz, or /openapi.json where there is no /healthz yet."""
    try:
        with httpx.Client(timeout=2) as client:
            for path in ("/healthz", "/openapi.json"):
                if client.get(f"http://127.0.0.1:{port}{path}").status_code == 200:
                    return True
    except httpx.HTTPError:
        pass
    return False


def article_counts(db_path) -> dict[int, int]:
    """Articles per source, read straight from the SQLite file."""
    if not os.path.exists(db_path):
        return {}
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as conn:
            rows = conn.execute("SELECT s.id, COUNT(a.id) FROM sources s LEFT JOIN articles a "
                                "ON a.source_id = s.id GROUP BY s.id").fetchall()
    except sqlite3.OperationalError:  # tables not made yet, or busy
        return {}
    return dict(rows)


def integrity(db_path) -> str:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


FEEDS, PER_FEED = 16, 30


@pytest.fixture
def followed(tmp_path, feed_server):
    """A database following FEEDS feeds of PER_FEED articles each, none fetched yet."""
    db = tmp_path / "run.db"
    outlets = samples.make_outlets(FEEDS, seed=11, base_url=feed_server.base_url)
    renders = [samples.rss, samples.atom, samples.json_feed]
    with Store(f"sqlite:///{db}") as store:
        for i, outlet in enumerate(outlets):
            body = renders[i % 3](outlet, samples.make_articles(outlet, PER_FEED, seed=3))
            store.add_source(feed_server.add(f"/{outlet.slug}/feed", body))
    return db


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_serves_refreshes_and_stops_cleanly_on_a_signal(followed, sig):
    port = free_port()
    process = Process("run", "--port", str(port), "--database", f"sqlite:///{followed}")
    try:
        wait_until(lambda: f"http://127.0.0.1:{port}" in process.output, "the URL to open", process)
        wait_until(lambda: web_answers(port), "the web server", process)
        wait_until(lambda: sum(article_counts(followed).values()), "the first articles", process)
        code = process.stop(sig)  # most likely while the first pass is still writing
    finally:
        process.kill()
    assert code == 0, process.output
    assert "Stopped cleanly." in process.output
    assert integrity(followed) == "ok"
    counts = article_counts(followed)
    assert set(counts.values()) <= {0, PER_FEED}, counts  # each feed all or nothing
    with Store(f"sqlite:///{followed}") as store:
        sources = store.list_sources()
    assert all(s.last_status == "ok" for s in sources)  # the pass in flight finished
    assert all(s.article_count == PER_FEED for s in sources)


def test_serve_answers_without_fetching_and_stops_on_sigterm(followed):
    port = free_port()
    process = Process("serve", "--port", str(port), "--database", f"sqlite:///{followed}")
    try:
        wait_until(lambda: web_answers(port), "the web server", process)
        code = process.stop(signal.SIGTERM)
    finally:
        process.kill()
    assert code == 0 and "Stopped cleanly." in process.output, process.output
    assert sum(article_counts(followed).values()) == 0


def test_run_refuses_a_port_in_use(followed):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "newswire.cli", "run", "--port", str(port),
                                 "--database", f"sqlite:///{followed}"],
                                capture_output=True, text=True, timeout=DEADLINE,
                                env={**os.environ, "COLUMNS": "300"})
    assert result.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert sum(article_counts(followed).values()) == 0


def test_two_workers_share_the_sources_and_stop_cleanly_on_sigterm(followed, feed_server):
    """Two `newswire worker` processes on one database: every feed is refreshed once, by one
    of them, and each stops cleanly with its writes finished."""
    workers = [Process("worker", "--batch", "3", "--database", f"sqlite:///{followed}", *extra)
               for extra in ([], ["--enrich"])]
    try:
        for worker in workers:
            wait_until(lambda: "press Ctrl-C to stop" in worker.output, "the worker to start", worker)
        wait_until(lambda: sorted(article_counts(followed).values()) == [PER_FEED] * FEEDS,
                   "every feed stored", workers[0])
        codes = [worker.stop(signal.SIGTERM) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    assert codes == [0, 0] and all("Stopped cleanly." in w.output for w in workers)
    assert integrity(followed) == "ok"
    with Store(f"sqlite:///{followed}") as store:
        sources = store.list_sources()
    assert all(s.last_status == "ok" and s.article_count == PER_FEED for s in sources)
    fetched = [len(feed_server.hits(f"/outlet{i}/feed")) for i in range(FEEDS)]
    assert fetched == [1] * FEEDS  # each feed claimed by one worker, once


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
def test_kill_9_leaves_no_parse_worker_and_the_port_free(followed):
    """After kill -9 of `newswire run` (or an OOM kill), none of its parse workers lives on
    holding the listening socket: a new `newswire run` binds the same port at once."""
    port = free_port()
    database = f"sqlite:///{followed}"
    process = Process("run", "--port", str(port), "--database", database)
    restarted = None
    try:
        wait_until(lambda: web_answers(port), "the web server", process)
        wait_until(lambda: sum(article_counts(followed).values()), "the first articles", process)
        children = wait_until(lambda: len(found := descendants(process.proc.pid)) >= 2 and found,
                              "parse workers", process)  # the fork server and a worker, at least
        process.proc.send_signal(signal.SIGKILL)
        process.proc.wait(timeout=DEADLINE)
        restarted = Process("run", "--port", str(port), "--database", database)
        wait_until(lambda: web_answers(port), "the restarted web server", restarted)
        deadline = time.monotonic() + DEADLINE
        while still_running(children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not still_running(children), f"orphans of the killed process: {still_running(children)}"
    finally:
        process.kill()
        if restarted:
            restarted.kill()


def test_a_feed_followed_from_the_web_is_fetched_by_the_running_scheduler(tmp_path, feed_server):
    """`newswire run` hands a feed followed on /sources to its scheduler: the first fetch is
    reported as a refresh, and its articles get stories and full-text marking at once."""
    room = Newsroom(feed_server.base_url, seed=3)
    room.backlog(datetime.now(timezone.utc).replace(microsecond=0), wire_stories=5, own_stories=3)
    first, second = (feed_server.add(room.feed_path(p), *room.render(p)) for p in room.outlets[:2])
    db = tmp_path / "web.db"
    with Store(f"sqlite:///{db}") as store:
        store.add_source(first)
        admin = accounts.create_user(store, "admin", "admin password", admin=True)
        token = accounts.create_token(store, admin.id, "test")
    port = free_port()
    process = Process("run", "--port", str(port), "--database", f"sqlite:///{db}")

    def enriched(source_id: int) -> bool:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
            rows = conn.execute("SELECT story_id, extraction_status FROM articles WHERE source_id = ?",
                                (source_id,)).fetchall()
        return bool(rows) and all(story for story, _ in rows)

    try:
        wait_until(lambda: web_answers(port), "the web server", process)
        wait_until(lambda: enriched(1), "the first paper's stories", process)
        reports = process.output.count("refreshed ")
        added = httpx.post(f"http://127.0.0.1:{port}/sources", data={"url": second, "full_text": "1"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=DEADLINE)
        assert added.status_code == 303 and "flash=" in added.headers["location"]
        wait_until(lambda: enriched(2), "the followed paper's stories", process)
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            marks = {status for (status,) in conn.execute("SELECT extraction_status FROM articles WHERE source_id = 2")}
        assert marks and None not in marks  # its full-text box counted
        assert process.output.count("refreshed ") == reports + 1, process.output  # by the scheduler
        assert process.stop(signal.SIGTERM) == 0
    finally:
        process.kill()


def test_serve_answers_to_the_address_it_was_bound_to_and_refuses_other_hosts(tmp_path):
    """DNS rebinding: a page at evil.test pointed at this server sends Host: evil.test; the server
    answers only to the names it was given: here the --host address, beyond the loopback names."""
    port = free_port()
    process = Process("serve", "--database", f"sqlite:///{tmp_path / 'n.db'}", "--host", "127.0.0.2",
                      "--port", str(port))
    url = f"http://127.0.0.2:{port}/healthz"

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, "the web server answers", process)
        refused = httpx.get(url, headers={"Host": f"evil.test:{port}"})
        assert refused.status_code == 400 and "evil" not in refused.text
    finally:
        process.kill()
