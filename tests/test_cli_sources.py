"""The operator's command line: --version, remove/pause/resume/edit a source by id or feed URL,
`add` fetching at once, exit codes a script can act on, the log's pass line, `make run PORT=`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newswire import __version__
from newswire.cli import app, pass_line
from newswire.service.update import UpdateResult
from newswire.store import Store
from newswire.testing import samples
from newswire.testing.feedserver import Response

runner = CliRunner(env={"COLUMNS": "300"})
ROOT = Path(__file__).resolve().parents[1]


def cli(db_url, *args):
    result = runner.invoke(app, [*args, "--database", db_url], catch_exceptions=False)
    return result.exit_code, result.output


def publish(server, i, n=4):
    outlet = samples.make_outlets(i + 1, seed=5, base_url=server.base_url)[i]
    return outlet, server.add(f"/{outlet.slug}/rss", samples.rss(outlet, samples.make_articles(outlet, n, seed=2)))


def test_version_prints_the_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"newswire {__version__}"


@pytest.fixture
def followed(database_url):
    with Store(database_url) as store:
        one = store.add_source("http://127.0.0.1:9/one.xml", name="One")
        two = store.add_source("http://127.0.0.1:9/two.xml", name="Two")
    return database_url, one.id, two.id


def test_pause_and_resume_by_id_or_feed_url(followed):
    url, one, two = followed
    code, out = cli(url, "pause", str(one))
    assert code == 0 and f"Paused One (#{one})" in out
    code, out = cli(url, "pause", "http://127.0.0.1:9/two.xml")
    assert code == 0 and f"Paused Two (#{two})" in out
    with Store(url) as store:
        assert [s.enabled for s in store.list_sources()] == [False, False]
    assert cli(url, "resume", str(two))[0] == 0
    with Store(url) as store:
        assert [s.enabled for s in store.list_sources()] == [False, True]
        assert [s.id for s in store.due_sources(store.get_source(two).created_at, include_all=True)] == [two]


def test_edit_changes_only_what_is_given(followed):
    url, one, _ = followed
    code, out = cli(url, "edit", str(one), "--name", "First", "--category", "News/Canada", "--full-text",
                    "--no-merge-stories")
    assert code == 0 and "Changed First" in out
    with Store(url) as store:
        source = store.get_source(one)
    assert (source.name, source.category, source.full_text, source.merge_stories) == ("First", "News/Canada", True, False)
    assert cli(url, "edit", "http://127.0.0.1:9/one.xml", "--category", "")[0] == 0
    with Store(url) as store:
        assert store.get_source(one).category is None and store.get_source(one).name == "First"
    code, out = cli(url, "edit", str(one))
    assert code == 2 and "nothing to change" in out


def test_remove_deletes_the_source_and_says_how_many_articles_went(followed):
    url, one, two = followed
    code, out = cli(url, "remove", "http://127.0.0.1:9/one.xml")
    assert code == 0 and f"Removed One (#{one}) and its 0 articles." in out
    with Store(url) as store:
        assert [s.id for s in store.list_sources()] == [two]


@pytest.mark.parametrize("command", ["remove", "pause", "resume"])
def test_an_unknown_source_is_one_line_and_exit_1(followed, command):
    url, *_ = followed
    for ref, said in (("99", "no source #99"), ("http://nowhere.test/feed", "no source with the feed URL")):
        code, out = cli(url, command, ref)
        assert code == 1 and said in out and "Traceback" not in out
        assert len(out.strip().splitlines()) == 1


def test_add_fetches_the_new_source_at_once(sqlite_url, feed_server):
    outlet, url = publish(feed_server, 0)
    code, out = cli(sqlite_url, "add", url)
    assert code == 0 and "Fetched: 4 new articles." in out
    with Store(sqlite_url) as store:
        assert store.article_count() == 4 and store.list_sources()[0].last_status == "ok"
    other, later = publish(feed_server, 1)
    code, out = cli(sqlite_url, "add", later, "--no-fetch")
    assert code == 0 and "`newswire fetch`" in out
    with Store(sqlite_url) as store:
        assert store.article_count() == 4


def test_add_says_when_the_first_fetch_failed_and_keeps_the_source(sqlite_url, feed_server):
    outlet = samples.make_outlets(1, seed=5, base_url=feed_server.base_url)[0]
    body = samples.rss(outlet, samples.make_articles(outlet, 2)).encode()
    answers = iter([Response(200, body, {"Content-Type": "application/rss+xml"})])  # then it breaks
    url = feed_server.route("/flaky", lambda request: next(answers, Response(500, b"down")))
    code, out = cli(sqlite_url, "add", url)
    assert code == 0 and "The first fetch failed (http-500)" in out and "newswire sources" in out
    with Store(sqlite_url) as store:
        (source,) = store.list_sources()
    assert source.last_status == "http-500" and store_count(sqlite_url) == 0


def store_count(url: str) -> int:
    with Store(url) as store:
        return store.article_count()


def test_import_of_a_malformed_opml_file_exits_1_with_one_line(sqlite_url, tmp_path):
    broken = tmp_path / "broken.opml"
    broken.write_text('<opml version="2.0"><body><outline text="x" xmlUrl="http://feeds.test/a"')
    code, out = cli(sqlite_url, "import-opml", str(broken))
    assert code == 1 and "error:" in out and "Traceback" not in out and len(out.strip().splitlines()) == 1
    broken.write_text('<opml version="2.0"><body><outline text="x" xmlUrl="http://feeds.test/a"/>'
                      '<outline text="y" xmlUrl="http://feeds.test/b"/>')  # cut short after whole outlines
    code, out = cli(sqlite_url, "import-opml", str(broken))
    assert code == 1 and "cut short" in out and len(out.strip().splitlines()) == 1
    code, out = cli(sqlite_url, "import-opml", str(tmp_path / "missing.opml"))
    assert code == 1 and "error:" in out
    with Store(sqlite_url) as store:
        assert store.list_sources() == []


def test_fetch_exits_1_when_every_source_failed_and_0_when_one_worked(sqlite_url, feed_server):
    feed_server.add("/html", "<html><body>nope</body></html>", "text/html")
    with Store(sqlite_url) as store:
        store.add_source(feed_server.url("/html"), name="Broken")
    code, out = cli(sqlite_url, "fetch")
    assert code == 1 and "every source failed" in out
    _, url = publish(feed_server, 0)
    assert cli(sqlite_url, "add", url, "--no-fetch")[0] == 0
    code, out = cli(sqlite_url, "fetch", "--all")
    assert code == 0 and "failed: 1" in out


def test_the_pass_line_counts_in_words():
    def result(outcome="fetched", new=0):
        return UpdateResult(1, outcome, new=new)

    assert pass_line([result(new=1)]) == "refreshed 1 source: 1 new article, 0 updated articles, 0 failed"
    assert pass_line([result(new=3), result("failed", 0)]) == \
        "refreshed 2 sources: 3 new articles, 0 updated articles, 1 failed"
    assert pass_line([result(), result("not-modified")]) is None  # a quiet pass says nothing


def test_make_run_takes_a_port():
    made = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "newswire run --port 8123" in made.stdout
    made = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "newswire run --port 8000" in made.stdout
