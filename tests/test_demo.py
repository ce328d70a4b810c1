"""The demo: fictional outlets with syndicated wire copy, in three feed formats, served on
127.0.0.1 and followed live by ``newswire demo``."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from newswire.demo import DemoFeeds
from newswire.demo.newsroom import WIRE_NAME, Newsroom
from newswire.parse import parse_feed
from test_run import Process, article_counts, free_port, integrity, wait_until, web_answers

NOW = datetime(2025, 9, 17, 16, 0, tzinfo=timezone.utc)


@pytest.fixture
def newsroom():
    room = Newsroom("http://127.0.0.1:9", seed=1)
    room.backlog(NOW)
    for i in range(10):
        room.tick(NOW + timedelta(seconds=3 * (i + 1)))
    return room


def parsed(room, paper):
    body, content_type = room.render(paper)
    return parse_feed(body.encode(), url=room.feed_path(paper), content_type=content_type, seen_at=NOW)


def test_at_least_eight_outlets_in_three_formats_all_parseable(newsroom):
    assert len(newsroom.papers) >= 8
    assert len({p.outlet.name for p in newsroom.outlets}) == len(newsroom.outlets)
    assert {p.format for p in newsroom.papers} == {"rss", "atom", "json"}
    formats = set()
    for paper in newsroom.outlets:
        feed = parsed(newsroom, paper)
        formats.add(feed.format)
        assert feed.title == paper.outlet.name
        assert len(feed.entries) == len(newsroom.articles[paper.outlet.slug]) > 0
        assert all(e.authors and e.published and not e.published_estimated for e in feed.entries)
    assert formats == {"rss2", "atom10", "json1"}


def test_wire_copy_is_republished_with_different_bylines_and_footers(newsroom):
    copies = defaultdict(list)  # wire story title -> (paper, entry) for each paper that ran it
    for paper in newsroom.papers:
        for entry in parsed(newsroom, paper).entries:
            if any(entry.title == story.title for story in newsroom.wire_stories):
                copies[entry.title].append((paper, entry))
    assert len(copies) == len(newsroom.wire_stories) >= 3
    for title, runs in copies.items():
        assert len(runs) >= 3, title
        assert len({entry.url for _, entry in runs}) == len(runs)  # each outlet its own URL
        assert len({entry.authors for _, entry in runs}) >= 2, runs  # different bylines
        footers = {paper.footer for paper, entry in runs if paper.footer in _text(entry.content_html)}
        assert len(footers) == len(runs)  # each copy ends with its own outlet's footer
    all_authors = {a for runs in copies.values() for _, entry in runs for a in entry.authors}
    assert "Canadian Wire staff" in all_authors
    # "By Ada Moreau, The Canadian Wire": the agency is the credit, not an author (issue 9)
    assert WIRE_NAME not in all_authors
    assert WIRE_NAME in {entry.credit for runs in copies.values() for _, entry in runs}


def _text(html: str) -> str:
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


def test_generation_is_deterministic_and_fictional(newsroom):
    again = Newsroom("http://127.0.0.1:9", seed=1)
    again.backlog(NOW)
    for i in range(10):
        again.tick(NOW + timedelta(seconds=3 * (i + 1)))
    assert again.articles == newsroom.articles
    for paper in newsroom.outlets:
        assert paper.outlet.site_url.startswith("http://127.0.0.1:9/")


def test_demo_feeds_republish_with_new_articles(monkeypatch):
    with DemoFeeds(interval=0) as feeds:
        import httpx

        url = feeds.feed_urls()[1]
        first = httpx.get(url)
        home = httpx.get(feeds.newsroom.papers[0].outlet.site_url)
        assert first.status_code == 200 and 'rel="alternate"' in home.text
        article = feeds.newsroom.articles[feeds.newsroom.papers[0].outlet.slug][0]
        assert article.title in httpx.get(article.url).text
        for _ in range(20):
            feeds.tick()
        second = httpx.get(url)
        assert second.headers["etag"] != first.headers["etag"]
        assert b"<opml" in feeds.opml_bytes() and feeds.opml_bytes().count(b"xmlUrl=") == len(feeds.feed_urls())


def test_newswire_demo_runs_and_the_wire_keeps_moving(tmp_path):
    db = tmp_path / "demo.db"
    port = free_port()
    process = Process("demo", "--port", str(port), "--database", f"sqlite:///{db}", "--interval", "1")
    try:
        wait_until(lambda: f"http://127.0.0.1:{port}" in process.output, "the URL to open", process)
        wait_until(lambda: web_answers(port), "the web server", process)
        first = wait_until(lambda: sum(article_counts(db).values()), "the first articles", process)
        wait_until(lambda: sum(article_counts(db).values()) > first, "more articles", process)
        assert len(article_counts(db)) >= 9
        code = process.stop(signal.SIGTERM)
    finally:
        process.kill()
    assert code == 0 and "Stopped cleanly." in process.output, process.output
    assert integrity(db) == "ok"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_newswire_demo_removes_its_temporary_folder_when_stopped(tmp_path, monkeypatch, sig):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    port = free_port()
    process = Process("demo", "--port", str(port), "--interval", "1")
    try:
        wait_until(lambda: f"http://127.0.0.1:{port}" in process.output, "the URL to open", process)
        (folder,) = scratch.glob("newswire-demo-*")
        assert (folder / "demo.db").exists()
        wait_until(lambda: web_answers(port), "the web server", process)
        code = process.stop(sig)
    finally:
        process.kill()
    assert code == 0 and "Stopped cleanly." in process.output, process.output
    assert list(scratch.iterdir()) == []


def test_newswire_demo_removes_its_folder_when_it_cannot_start(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = subprocess.run([sys.executable, "-m", "newswire.cli", "demo", "--port", str(taken.getsockname()[1])],
                                env={**os.environ, "TMPDIR": str(scratch)}, capture_output=True,
                                text=True, timeout=60)
    assert result.returncode == 1 and "cannot listen" in result.stderr
    assert list(scratch.iterdir()) == []
