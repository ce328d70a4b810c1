"""One author, however the name's accents are encoded: parse, store, pages and the live stream
share one key (NFKC, case-folded), and databases written before that are merged on upgrade."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import command

from newswire.models import Entry, SourceUpdate
from newswire.store import Store
from newswire.store.engine import alembic_config, create_engine

T0 = datetime(2025, 9, 17, 18, 56, tzinfo=timezone.utc)
COMPOSED = unicodedata.normalize("NFC", "José Núñez")
DECOMPOSED = unicodedata.normalize("NFD", "José Núñez")


def ok() -> SourceUpdate:
    return SourceUpdate(fetched_at=T0, status="ok", next_due_at=T0 + timedelta(minutes=30))


def entry(guid: str, author: str, minutes: int) -> Entry:
    return Entry(guid=guid, url=f"http://example.test/{guid}", title=f"Harbour report {guid}", authors=(author,),
                 published=T0 - timedelta(minutes=minutes), summary="The harbour reopened.",
                 content_html="<p>The harbour reopened.</p>", text="The harbour reopened.",
                 snippet="The harbour reopened.")


def test_composed_and_decomposed_spellings_are_one_author(store):
    source = store.add_source("http://example.test/feed", name="Gazette")
    store.save_refresh(source.id, ok(), [entry("a", COMPOSED, 1), entry("b", DECOMPOSED, 2)])
    for spelling in (COMPOSED, DECOMPOSED, DECOMPOSED.upper()):
        page = store.list_articles(author=spelling)
        assert {a.title for a in page.items} == {"Harbour report a", "Harbour report b"}
        assert store.author_name(spelling) is not None


def test_upgrade_merges_authors_stored_under_the_old_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store(url)
    source = store.add_source("http://example.test/feed", name="Gazette")
    store.save_refresh(source.id, ok(), [entry("a", "Someone", 1), entry("b", "Someone", 2), entry("c", "Someone", 3)])
    ids = sorted(a.id for a in store.list_articles().items)
    store.close()
    engine = create_engine(url)
    with engine.begin() as conn:  # as a database written before 0004 held them, at that revision
        conn.execute(sa.text("DELETE FROM article_authors"))
        conn.execute(sa.text("DELETE FROM authors"))
        conn.execute(sa.text("INSERT INTO authors (id, name, key) VALUES (1, :n, :k), (2, :m, :j)"),
                     {"n": COMPOSED, "k": COMPOSED.casefold(), "m": DECOMPOSED, "j": DECOMPOSED.casefold()})
        conn.execute(sa.text("INSERT INTO article_authors (article_id, author_id, position) "
                             "VALUES (:a, 1, 0), (:b, 2, 0), (:c, 1, 0), (:c, 2, 1)"),
                     {"a": ids[0], "b": ids[1], "c": ids[2]})
        command.downgrade(alembic_config(conn), "0003")
    store = Store(url)
    try:
        assert len(store.list_articles(author=DECOMPOSED).items) == 3
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM authors")).scalar() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM article_authors WHERE article_id = :c"),
                                {"c": ids[2]}).scalar() == 1
    finally:
        store.close()
        engine.dispose()
