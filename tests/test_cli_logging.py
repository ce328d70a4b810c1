"""What ``newswire run`` and ``serve`` write to the log: one line per pass that found something,
with counts in words, a line per purge, and nothing per request unless asked."""

from __future__ import annotations

import signal
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from newswire.models import Entry, SourceUpdate
from newswire.store import Store
from newswire.testing import samples
from test_run import Process, free_port, wait_until, web_answers


def _requests_then_stop(*args: str) -> str:
    port = free_port()
    process = Process(*args, "--port", str(port))
    try:
        wait_until(lambda: web_answers(port), "the web server", process)
        for _ in range(3):
            httpx.get(f"http://127.0.0.1:{port}/api/v1/sources")
        process.stop(signal.SIGTERM)
    finally:
        process.kill()
    return process.output


def test_serve_logs_no_line_per_request_by_default(sqlite_url):
    out = _requests_then_stop("serve", "--database", sqlite_url)
    assert "GET /" not in out and "Stopped cleanly." in out


@pytest.mark.parametrize("asked", [["--access-log"], ["NEWSWIRE_ACCESS_LOG=1"]])
def test_serve_logs_each_request_when_asked(sqlite_url, monkeypatch, asked):
    flags = [a for a in asked if a.startswith("--")]
    for setting in (a for a in asked if "=" in a):
        monkeypatch.setenv(*setting.split("=", 1))
    out = _requests_then_stop("serve", "--database", sqlite_url, *flags)
    assert out.count('"GET /api/v1/sources HTTP/1.1" 200') == 3


def test_run_says_one_line_per_pass_with_counts_in_words_and_one_per_purge(tmp_path, feed_server, monkeypatch):
    db = tmp_path / "run.db"
    outlet = samples.make_outlets(1, seed=4, base_url=feed_server.base_url)[0]
    now = datetime.now(timezone.utc)
    body = samples.rss(outlet, samples.make_articles(outlet, 3, start=now - timedelta(hours=1)))
    with Store(f"sqlite:///{db}") as store:
        source = store.add_source(feed_server.add("/feed", body))
        old = [Entry(guid=f"old{n}", url=None, title=f"Old {n}", published=now - timedelta(days=30 + n)) for n in range(2)]
        store.save_refresh(source.id, SourceUpdate(fetched_at=now - timedelta(days=30), status="ok",
                                                   next_due_at=now - timedelta(days=1)), old)
    monkeypatch.setenv("NEWSWIRE_RETENTION_DAYS", "7")
    port = free_port()
    process = Process("run", "--database", f"sqlite:///{db}", "--port", str(port))
    try:
        wait_until(lambda: "refreshed 1 source: 3 new articles, 0 updated articles, 0 failed" in process.output,
                   "the pass line", process)
        wait_until(lambda: "purged 2 articles older than the retention period" in process.output, "the purge", process)
        process.stop(signal.SIGTERM)
    finally:
        process.kill()
    assert "Newswire is following 1 source in" in process.output
    assert "GET " not in process.output
