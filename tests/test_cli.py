"""The ``newswire`` command line against a real feed server and a real SQLite file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from newswire.cli import app
from newswire.testing import samples

runner = CliRunner(env={"COLUMNS": "300"})


def cli(db_url, *args):
    result = runner.invoke(app, [*args, "--database", db_url], catch_exceptions=False)
    return result.exit_code, result.output


def publish(server, i, n=4):
    outlet = samples.make_outlets(i + 1, seed=5, base_url=server.base_url)[i]
    articles = samples.make_articles(outlet, n, seed=2)
    return outlet, articles, server.add(f"/{outlet.slug}/rss", samples.rss(outlet, articles))


def test_add_feed_then_same_feed_again_is_a_clear_message(sqlite_url, feed_server):
    outlet, _, url = publish(feed_server, 0)
    code, out = cli(sqlite_url, "add", url)
    assert code == 0 and f"Following {outlet.name} as source #1" in out
    code, out = cli(sqlite_url, "add", url, "--name", "Again")
    assert code == 1 and "already following" in out
    code, out = cli(sqlite_url, "sources")
    assert out.count(outlet.name) == 1


def test_add_site_url_discovers_its_feed(sqlite_url, feed_server):
    outlet, _, url = publish(feed_server, 0)
    feed_server.add("/site", f'<html><head><link rel="alternate" type="application/rss+xml" '
                             f'href="/{outlet.slug}/rss"></head><body>home</body></html>', "text/html")
    code, out = cli(sqlite_url, "add", feed_server.url("/site"), "--name", "Chosen name")
    assert code == 0 and url in out and "Chosen name" in out
    code, out = cli(sqlite_url, "add", feed_server.url("/site"))
    assert code == 1 and "already following" in out


def test_add_page_without_feed_and_blocked_address_are_clear_errors(sqlite_url, feed_server, monkeypatch):
    feed_server.add("/plain", "<html><body>no feeds here</body></html>", "text/html")
    code, out = cli(sqlite_url, "add", feed_server.url("/plain"))
    assert code == 1 and "error:" in out and "not a feed" in out
    monkeypatch.setenv("NEWSWIRE_ALLOW_PRIVATE_ADDRESSES", "0")
    code, out = cli(sqlite_url, "add", feed_server.url("/plain"))
    assert code == 1 and "127.0.0.1" in out


def test_opml_round_trip_through_the_cli(sqlite_url, tmp_path):
    opml = tmp_path / "in.opml"
    opml.write_text('<opml version="2.0"><body><outline text="News"><outline text="Canada">'
                    '<outline text="Maple Harbour Gazette" xmlUrl="http://feeds.test/mh"/></outline></outline>'
                    '<outline text="Solo" xmlUrl="http://feeds.test/solo"/></body></opml>')
    code, out = cli(sqlite_url, "import-opml", str(opml))
    assert code == 0 and "Imported 2 feeds (0 already followed)" in out
    code, out = cli(sqlite_url, "import-opml", str(opml))
    assert "Imported 0 feeds (2 already followed)" in out
    exported = tmp_path / "out.opml"
    assert cli(sqlite_url, "export-opml", str(exported))[0] == 0
    other = f"sqlite:///{tmp_path / 'other.db'}"
    cli(other, "import-opml", str(exported))
    code, out = cli(other, "export-opml")
    assert out == exported.read_text()
    assert 'text="Canada"' in out and 'xmlUrl="http://feeds.test/mh"' in out


def test_fetch_summary_sources_health_and_search(sqlite_url, feed_server):
    _, articles, url = publish(feed_server, 0)
    feed_server.add("/html", "<html><body>nope</body></html>", "text/html")
    cli(sqlite_url, "add", url, "--no-fetch")
    cli(sqlite_url, "import-opml", _opml_file(feed_server))
    code, out = cli(sqlite_url, "fetch")
    assert code == 0
    assert "fetched: 1" in out and "failed: 1 (parse-error: 1)" in out and "new articles: 4" in out
    code, out = cli(sqlite_url, "fetch")
    assert "fetched: 0" in out and "new articles: 0" in out  # nothing due yet
    code, out = cli(sqlite_url, "fetch", "--all")
    assert "not modified: 1" in out
    code, out = cli(sqlite_url, "sources")
    for column in ("Last fetch", "Status", "Failures", "Last error", "Next due", "Articles"):
        assert column in out
    assert "parse-error" in out and "not-modified" in out
    assert "gives a web page" in " ".join(out.split())  # the error in words, as the sources page says it
    code, out = cli(sqlite_url, "search", articles[0].title)
    assert code == 0 and articles[0].title in out
    code, out = cli(sqlite_url, "search", "zzzznotaword")
    assert "No articles match" in out


def _opml_file(server):
    import tempfile

    path = tempfile.mktemp(suffix=".opml")
    with open(path, "w") as f:
        f.write(f'<opml><body><outline text="Broken" xmlUrl="{server.url("/html")}"/></body></opml>')
    return path


def test_process_killed_mid_write_loses_nothing_committed(tmp_path, feed_server):
    """SIGKILL a fetch while it writes: the file stays consistent, every feed is either wholly
    stored or not at all, and the next pass completes the rest."""
    feeds, per_feed = 60, 40
    outlets = samples.make_outlets(feeds, seed=9, base_url=feed_server.base_url)
    opml = tmp_path / "f.opml"
    body = ""
    for outlet in outlets:
        url = feed_server.add(f"/{outlet.slug}/rss", samples.rss(outlet, samples.make_articles(outlet, per_feed)))
        body += f'<outline text="{outlet.name}" xmlUrl="{url}"/>'
    opml.write_text(f"<opml><body>{body}</body></opml>")
    db = tmp_path / "k.db"
    env = {**os.environ, "NEWSWIRE_DATABASE_URL": f"sqlite:///{db}", "NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": "1"}
    newswire = [sys.executable, "-m", "newswire.cli"]
    subprocess.run(newswire + ["import-opml", str(opml)], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(newswire + ["fetch"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stored = 0
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and stored == 0:
        time.sleep(0.005)
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        except sqlite3.OperationalError:
            pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = [c for (c,) in conn.execute(
            "SELECT count(a.id) FROM sources s LEFT JOIN articles a ON a.source_id = s.id GROUP BY s.id")]
    assert set(counts) <= {0, per_feed}, counts
    assert sum(counts) < feeds * per_feed, "the fetch finished before it could be killed"
    subprocess.run(newswire + ["fetch"], env=env, check=True, capture_output=True)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == feeds * per_feed


@pytest.mark.parametrize("why", ["--no-enrich", "another process enriches"])
def test_fetch_without_enrichment_leaves_copies_for_the_next_enriching_pass(sqlite_url, tmp_path, why):
    """``--no-enrich``, or another process holding the enricher lock (a ``run``, which follows
    what this one stores): ``fetch`` stores without copy or story steps of its own, and the
    next ``fetch`` that takes the lock catches up."""
    from newswire.demo import DemoFeeds
    from newswire.service.enrichment import ENRICHER_LOCK
    from newswire.store import Store

    opml = tmp_path / "demo.opml"
    with DemoFeeds(seed=3, interval=3600) as feeds:  # the demo's papers republish wire copy
        opml.write_bytes(feeds.opml_bytes())
        cli(sqlite_url, "import-opml", str(opml))
        store = Store(sqlite_url)
        holder = store.role_lock(ENRICHER_LOCK)
        try:
            if why == "--no-enrich":
                code, out = cli(sqlite_url, "fetch", "--no-enrich")
            else:
                assert holder.try_acquire()
                code, out = cli(sqlite_url, "fetch")
                holder.release()
            assert code == 0 and "failed: 0" in out
            every = lambda: store.list_articles(include_copies=True, limit=200).items  # noqa: E731
            assert every() and all(a.duplicate_of is None and a.story_id is None for a in every())
            # The next pass that enriches rebuilds from the database and catches up.
            assert cli(sqlite_url, "fetch", "--all")[0] == 0
            assert any(a.duplicate_of for a in every()) and all(a.story_id for a in every())
        finally:
            holder.release()
            store.close()


def test_add_enriches_only_while_no_other_process_does(sqlite_url):
    """``add`` asks for the enricher lock as ``fetch`` does: held elsewhere, its first fetch is
    left to the holder; free, it enriches, catching up on what was stored without it."""
    from newswire.demo import DemoFeeds
    from newswire.service.enrichment import ENRICHER_LOCK
    from newswire.store import Store
    from newswire.sources.opml import read_opml

    with DemoFeeds(seed=3, interval=3600) as feeds:
        first, second = [f.feed_url for f in read_opml(feeds.opml_bytes())][:2]
        store = Store(sqlite_url)
        holder = store.role_lock(ENRICHER_LOCK)
        try:
            assert holder.try_acquire()
            assert cli(sqlite_url, "add", first)[0] == 0
            holder.release()
            every = lambda: store.list_articles(include_copies=True, limit=200).items  # noqa: E731
            assert every() and all(a.story_id is None for a in every())
            assert cli(sqlite_url, "add", second)[0] == 0
            assert {a.source_id for a in every()} == {1, 2} and all(a.story_id for a in every())
        finally:
            holder.release()
            store.close()
