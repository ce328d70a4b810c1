"""``newswire purge``, ``export`` and ``backup`` on real databases (SQLite, and PostgreSQL where
the ``database_url`` fixture gives one)."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree
from typer.testing import CliRunner

from newswire.cli import app
from newswire.models import Enclosure, Entry, SourceUpdate
from newswire.parse import parse_feed
from newswire.store import Store

runner = CliRunner(env={"COLUMNS": "300"})
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def cli(db_url, *args, env=None):
    result = runner.invoke(app, [*args, "--database", db_url], catch_exceptions=False, env=env)
    return result.exit_code, result.output


def entry(n: int, at: datetime, **changes) -> Entry:
    values = dict(guid=f"g{n}", url=f"http://127.0.0.1/a/{n}", title=f"Harbour story {n} « café »",
                  authors=("Ada Moreau", "Jean Tremblay"), published=at, updated=at + timedelta(minutes=5),
                  summary=f"Summary {n}", content_html=f"<p>Body {n} &amp; more</p>", text=f"Body {n} & more",
                  snippet=f"Body {n}", categories=("Local", "Politics"), language="fr",
                  enclosures=(Enclosure(f"http://127.0.0.1/a/{n}.jpg", "image/jpeg", 1234),))
    values.update(changes)
    return Entry(**values)


def fill(url: str, ages_in_days: list[int]) -> None:
    with Store(url) as store:
        source = store.add_source("http://127.0.0.1/news.xml", name="Maple Harbour Gazette")
        store.save_refresh(source.id, SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW),
                           [entry(n, NOW - timedelta(days=age, minutes=n)) for n, age in enumerate(ages_in_days)])


# purge

def test_purge_once_with_days_or_the_setting(database_url):
    fill(database_url, [1, 10, 40, 50])
    code, out = cli(database_url, "purge")
    assert code == 1 and "--days" in out and "NEWSWIRE_RETENTION_DAYS" in out
    code, out = cli(database_url, "purge", "--days", "30")
    assert code == 0 and "Purged 2 articles published before" in out
    code, out = cli(database_url, "purge", env={"NEWSWIRE_RETENTION_DAYS": "7"})
    assert code == 0 and "Purged 1 article published before" in out
    with Store(database_url) as store:
        assert [a.guid for a in store.list_articles().items] == ["g0"]
    code, out = cli(database_url, "purge", "--days", "3")
    assert code == 2 and "7 or more" in out


def test_purge_vacuum_switches_an_old_sqlite_database_to_give_space_back(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # tables before auto_vacuum: as databases made before retention
        conn.execute("CREATE TABLE before_us (x)")
    url = f"sqlite:///{path}"
    fill(url, [40, 41])
    code, out = cli(url, "purge", "--days", "30")
    assert code == 0 and "--vacuum" in out
    fill_more = [entry(n + 10, NOW - timedelta(days=40), text="x" * 50_000) for n in range(20)]
    with Store(url) as store:
        store.save_refresh(1, SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW), fill_more)
    code, out = cli(url, "purge", "--days", "30", "--vacuum")
    assert code == 0 and "Purged 20 articles" in out and "back to the file system" in out
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone() == (2,)
        assert conn.execute("PRAGMA freelist_count").fetchone() == (0,)


# export

def test_export_jsonl_carries_every_field(database_url, tmp_path):
    fill(database_url, [3, 2, 1])
    target = tmp_path / "out.jsonl"
    code, out = cli(database_url, "export", "--output", str(target))
    assert code == 0 and "Exported 3 articles" in out
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    with Store(database_url) as store:
        stored = store.get_articles([a.id for a in store.list_articles().items][::-1])  # oldest first
    assert [r["id"] for r in records] == [a.id for a in stored]
    for record, article in zip(records, stored):
        assert record["title"] == article.title and "«" in record["title"]
        assert record["guid"] == article.guid and record["url"] == article.url
        assert record["authors"] == ["Ada Moreau", "Jean Tremblay"]
        assert record["source"] == {"id": article.source_id, "name": "Maple Harbour Gazette"}
        assert datetime.fromisoformat(record["published_at"]) == article.published_at
        assert datetime.fromisoformat(record["updated_at"]) == article.updated_at
        assert datetime.fromisoformat(record["first_seen_at"]) == article.first_seen_at
        assert record["content_html"] == article.content_html and record["text"] == article.text
        assert record["summary"] == article.summary and record["language"] == "fr"
        assert record["categories"] == ["Local", "Politics"]
        assert record["enclosures"] == [{"url": article.enclosures[0].url, "type": "image/jpeg", "length": 1234}]
        assert record["story_id"] is None and record["duplicate_of"] is None


def test_export_since_keeps_the_later_articles_and_goes_to_stdout(database_url):
    fill(database_url, [10, 5, 1])
    since = (NOW - timedelta(days=6)).date().isoformat()
    code, out = cli(database_url, "export", "--since", since)
    assert code == 0
    assert [json.loads(line)["guid"] for line in out.splitlines()] == ["g1", "g2"]
    code, out = cli(database_url, "export", "--since", "last tuesday")
    assert code == 2 and "not a date" in out


def test_export_pages_through_more_than_one_page(sqlite_url):
    fill(sqlite_url, [1] * 5)
    with Store(sqlite_url) as store:
        assert [a.guid for a in store.iter_articles(page=2)] == ["g4", "g3", "g2", "g1", "g0"]  # oldest first
        assert [a.guid for a in store.iter_articles(since=NOW - timedelta(days=1, minutes=2), page=2)] == ["g2", "g1", "g0"]


def test_export_atom_is_well_formed_and_reads_back(database_url, tmp_path):
    fill(database_url, [2, 1])
    target = tmp_path / "out.atom"
    code, _ = cli(database_url, "export", "--format", "atom", "--output", str(target))
    assert code == 0
    data = target.read_bytes()
    root = etree.fromstring(data)  # well-formed, or this raises
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    feed = parse_feed(data, url="http://127.0.0.1:8000/export.atom", seen_at=NOW)
    assert feed.format == "atom10"
    assert [e.title for e in feed.entries] == ["Harbour story 0 « café »", "Harbour story 1 « café »"]  # oldest first
    first = feed.entries[0]
    assert first.authors == ("Ada Moreau", "Jean Tremblay") and first.published == NOW - timedelta(days=2)
    assert "Body 0 &amp; more" in first.content_html and set(first.categories) == {"Local", "Politics"}


# backup

def test_backup_of_a_database_being_written_opens_and_has_the_rows(sqlite_url, tmp_path):
    fill(sqlite_url, [1])
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        with Store(sqlite_url) as store:
            n = 100
            while not stop.is_set():
                store.save_refresh(1, SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW),
                                   [entry(n, NOW, text="y" * 2000)])
                written.append(n)
                n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        target = tmp_path / "copy.db"
        code, out = cli(sqlite_url, "backup", str(target))
        during = len(written)
    finally:
        stop.set()
        writer.join()
    assert code == 0 and "Backed up to" in out
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert not list(tmp_path.glob(".copy.db.*"))  # no partial file left beside it
    with Store(f"sqlite:///{target}") as copy:
        count = copy.article_count()
        assert 1 + 20 <= count <= 1 + during + 1
        assert copy.search("Harbour")  # the search index came along


def test_backup_refuses_postgresql_and_names_pg_dump(tmp_path):
    code, out = cli("postgresql://newswire@db.invalid/newswire", "backup", str(tmp_path / "x.db"))
    assert code == 1 and "pg_dump" in out and len(out.strip().splitlines()) == 1


def test_backup_of_a_missing_database_is_an_error_not_an_empty_copy(tmp_path):
    code, out = cli(f"sqlite:///{tmp_path / 'nothing.db'}", "backup", str(tmp_path / "x.db"))
    assert code == 1 and "no database" in out
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "nothing.db").exists()


@pytest.mark.parametrize("command", [["--help"]])
def test_the_new_commands_are_listed(command):
    result = runner.invoke(app, command)
    for name in ("purge", "export", "backup", "remove", "pause", "resume", "edit"):
        assert name in result.output
