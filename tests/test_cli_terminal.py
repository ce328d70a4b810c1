"""What the CLI prints from feeds is text, never terminal control or rich markup, and a command
that could not do what was asked exits non-zero with one line that says why."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from newswire.cli import app
from newswire.testing.feedserver import Response

runner = CliRunner(env={"COLUMNS": "400"})

HOSTILE_TITLE = "Harbour [/] news \x1b[2J\x1b]0;owned\x07 \u202eevil\x1b]8;;file:///etc/passwd\x1b\\click\x1b]8;;\x1b\\"


def cli(db_url, *args):
    result = runner.invoke(app, [*args, "--database", db_url], catch_exceptions=False)
    return result.exit_code, result.output


def hostile_feed(feed_server) -> str:
    """A JSON Feed: JSON, unlike XML, can carry escape characters in its strings."""
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": HOSTILE_TITLE,
            "home_page_url": feed_server.url("/"),
            "items": [{"id": "g1", "title": HOSTILE_TITLE + " harbour",
                       "url": feed_server.url("/story[1]") + "?x=\x1b[31m",
                       "authors": [{"name": "Jo [bold]Writer[/bold] \u202e\x1b[5m"}],
                       "content_text": "The harbour [/] reopened today. \x1b[8m"}]}
    return feed_server.add("/hostile.json", json.dumps(feed), "application/feed+json")


def assert_inert(output: str) -> None:
    assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output
    assert "Traceback" not in output


def test_hostile_titles_are_printed_as_text_by_add_sources_fetch_and_search(sqlite_url, feed_server):
    url = hostile_feed(feed_server)
    code, out = cli(sqlite_url, "add", url)
    assert code == 0, out
    assert_inert(out)
    assert "[/]" in out  # shown literally, not read as markup
    code, out = cli(sqlite_url, "sources")
    assert code == 0, out
    assert_inert(out)
    assert "Harbour [/] news" in out
    code, out = cli(sqlite_url, "fetch", "--all")
    assert code == 0, out
    code, out = cli(sqlite_url, "search", "harbour")
    assert code == 0, out
    assert_inert(out)
    assert "reopened" in out


def test_search_shows_times_in_the_configured_zone(sqlite_url, feed_server):
    rss = ("<rss version='2.0'><channel><title>T</title><item><title>Ferry harbour</title><guid>1</guid>"
           "<pubDate>Wed, 17 Sep 2025 15:01:00 +0000</pubDate><description>ferry</description></item>"
           "</channel></rss>")
    url = feed_server.add("/t.xml", rss, "application/rss+xml")
    assert cli(sqlite_url, "add", url)[0] == 0
    assert cli(sqlite_url, "fetch", "--all")[0] == 0
    toronto = CliRunner(env={"COLUMNS": "400", "NEWSWIRE_TIMEZONE": "America/Toronto"})
    out = toronto.invoke(app, ["search", "ferry", "--database", sqlite_url]).output
    assert "September 17, 2025 - 11:01" in out
    tokyo = CliRunner(env={"COLUMNS": "400", "NEWSWIRE_TIMEZONE": "Asia/Tokyo"})
    assert "September 18, 2025 - 00:01" in tokyo.invoke(app, ["search", "ferry", "--database", sqlite_url]).output


def test_fetch_exits_non_zero_when_every_source_failed(sqlite_url, feed_server):
    good = feed_server.add("/ok.xml", "<rss version='2.0'><channel><title>T</title></channel></rss>",
                           "application/rss+xml")
    assert cli(sqlite_url, "add", good)[0] == 0
    feed_server.route("/ok.xml", lambda request: Response(500, b"down"))
    code, out = cli(sqlite_url, "fetch", "--all")
    assert code == 1
    assert "every source failed" in out and "Traceback" not in out


def test_search_and_sources_on_an_unusable_database_say_why(tmp_path):
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_bytes(b"this is not a database" * 100)
    for command in (["sources"], ["search", "harbour"], ["export-opml"]):
        result = runner.invoke(app, [*command, "--database", f"sqlite:///{not_a_db}"])
        assert result.exit_code == 1, (command, result.output)
        assert "error:" in result.output and "Traceback" not in result.output


def test_sources_hides_passwords_and_tokens_in_feed_urls(sqlite_url, feed_server):
    url = feed_server.add("/private.xml", "<rss version='2.0'><channel><title>Members</title></channel></rss>",
                          "application/rss+xml")
    secret = url.replace("http://", "http://reader:hunter2@") + "?token=abc123"
    assert cli(sqlite_url, "add", secret)[0] == 0
    code, out = cli(sqlite_url, "sources")
    assert code == 0
    assert "hunter2" not in out and "abc123" not in out and "token=***" in out
    exported = runner.invoke(app, ["export-opml", "--database", sqlite_url]).output
    assert "hunter2" in exported  # the admin's own export keeps what fetching needs
