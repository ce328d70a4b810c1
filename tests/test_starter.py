"""The shipped starter list is well-formed; nothing here touches the network."""

from __future__ import annotations

from urllib.parse import urlsplit

from typer.testing import CliRunner

from newswire.cli import app
from newswire.sources.opml import read_opml
from newswire.sources.starter import starter_feeds, starter_opml_bytes
from newswire.store import Store


def test_starter_list_parses_with_enough_unique_https_feeds():
    feeds = starter_feeds()
    assert len(feeds) >= 10
    urls = [f.feed_url for f in feeds]
    assert len(set(urls)) == len(urls)
    for feed in feeds:
        parts = urlsplit(feed.feed_url)
        assert parts.scheme == "https" and parts.hostname and "." in parts.hostname, feed
        assert feed.name.strip(), feed
        assert feed.category and feed.category.startswith("Canada/"), feed


def test_starter_list_names_major_canadian_publishers():
    names = " ".join(f.name for f in starter_feeds())
    for publisher in ("National Post", "Ottawa Citizen", "The Globe and Mail", "CBC News", "CTV News",
                      "Global News", "Toronto Star", "Montreal Gazette", "Le Devoir", "La Presse"):
        assert publisher in names
    assert {"Canada/National", "Canada/Québec"} <= {f.category for f in starter_feeds()}


def test_starter_bytes_are_the_same_document():
    assert read_opml(starter_opml_bytes()) == starter_feeds()


def test_import_opml_starter_follows_the_list_without_fetching(sqlite_url, tmp_path):
    runner = CliRunner(env={"COLUMNS": "300"})
    result = runner.invoke(app, ["import-opml", "--starter", "--database", sqlite_url])
    assert result.exit_code == 0, result.output
    assert f"Imported {len(starter_feeds())} feeds (0 already followed)" in result.output
    with Store(sqlite_url) as store:
        followed = {(s.feed_url, s.name, s.category) for s in store.list_sources()}
    assert followed == {(f.feed_url, f.name, f.category) for f in starter_feeds()}

    result = runner.invoke(app, ["import-opml", "--starter", "--database", sqlite_url])
    assert "already followed" in result.output and result.exit_code == 0


def test_import_opml_needs_exactly_one_of_file_or_starter(sqlite_url, tmp_path):
    runner = CliRunner(env={"COLUMNS": "300"})
    result = runner.invoke(app, ["import-opml", "--database", sqlite_url])
    assert result.exit_code == 1 and "--starter" in result.output
    opml = tmp_path / "x.opml"
    opml.write_text('<opml><body><outline text="A" xmlUrl="https://a.test/feed"/></body></opml>')
    result = runner.invoke(app, ["import-opml", str(opml), "--starter", "--database", sqlite_url])
    assert result.exit_code == 1 and "not both" in result.output
