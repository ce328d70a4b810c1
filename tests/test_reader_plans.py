"""The query plans behind a reader's unread counts and wire: no full scan of ``articles``, no
temporary sort, on SQLite and PostgreSQL. A plan is deterministic where a timing is not: a
query that scans a million articles fails here on a few hundred.

Every statement a store call runs is captured and explained with its own parameters. On
PostgreSQL, sequential scans and sorts are priced out (``enable_seqscan``/``enable_sort`` off),
so one that still shows has no index to use instead.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy as sa

from newswire.accounts import create_user
from newswire.store.engine import create_engine
from newswire.store.tables import articles, sources


ARTICLE_INDEXES = ("ix_articles_", "pk_articles", "uq_articles_")


@contextmanager
def captured() -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with parameters) run on any engine meanwhile."""
    statements: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if not executemany and statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def _sqlite_problems(conn: sa.Connection, statement: str, parameters: Any) -> list[str]:
    details = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    sorts = [d for d in details if "TEMP B-TREE" in d]
    # Walking an index in the ORDER BY's order stops at the LIMIT: not a full scan.
    walk = not sorts and "ORDER BY" in statement and "LIMIT" in statement
    scans = [d for d in details if d.startswith("SCAN articles") and not (walk and " USING " in d)]
    return sorts + scans


def _postgres_problems(conn: sa.Connection, statement: str, parameters: Any) -> list[str]:
    for method in ("seqscan", "sort"):  # priced out: one still in the plan has no index to replace it
        conn.exec_driver_sql(f"SET enable_{method} = off")
    plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    problems: list[str] = []

    def walk(node: dict[str, Any], limited: bool = False) -> None:
        kind = node["Node Type"]
        limited = limited or kind == "Limit"  # an ordered index walk under a LIMIT stops early
        index = node.get("Index Name", "")
        on_articles = node.get("Relation Name") == "articles" or index.startswith(ARTICLE_INDEXES)
        if kind in ("Sort", "Incremental Sort") or (on_articles and kind == "Seq Scan"):
            problems.append(kind)
        if on_articles and "Index" in kind and "Index Cond" not in node and not limited:
            problems.append(f"{kind} of all of {index}")
        if on_articles and "Index" in kind and not limited and re.search(r"\bid [<>]", node.get("Filter", "")):
            problems.append(f"{kind} of {index} filters on id instead of seeking it")
        for child in node.get("Plans", ()):
            walk(child, limited)

    walk(plan[0]["Plan"])
    return problems


def plan_problems(database_url: str, call: Callable[[], object]) -> dict[str, list[str]]:
    """Statement → its full scans of articles and temporary sorts, for each SELECT ``call`` ran."""
    with captured() as statements:
        call()
    assert statements, "the call ran no query"
    engine = create_engine(database_url)
    found: dict[str, list[str]] = {}
    try:
        with engine.connect() as conn:
            check = _sqlite_problems if conn.dialect.name == "sqlite" else _postgres_problems
            for statement, parameters in statements:
                if not re.search(r"\b(FROM|JOIN) articles\b", statement):
                    continue  # lookups by a page's ids (authors, categories) sort a page at most
                problems = check(conn, statement, parameters)
                if problems:
                    found[statement] = problems
    finally:
        engine.dispose()
    return found


SOURCES, PER_SOURCE = 20, 1000
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def load_articles(database_url: str) -> None:
    """``SOURCES`` × ``PER_SOURCE`` articles written straight into the schema (interleaved, as a
    wire stores them), and on PostgreSQL the statistics autovacuum would gather."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(sources), [{"id": i + 1, "feed_url": f"http://127.0.0.1/{i}.xml", "name": f"S{i}",
                                               "created_at": T0} for i in range(SOURCES)])
            conn.execute(sa.insert(articles), [
                {"source_id": n % SOURCES + 1, "guid": f"g{n}", "title": f"Story {n}", "enclosures": [],
                 "published_at": T0 + timedelta(minutes=n), "first_seen_at": T0 + timedelta(minutes=n),
                 "content_hash": "0" * 32} for n in range(SOURCES * PER_SOURCE)])
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


@pytest.fixture
def reader(store, database_url):
    """A reader who read some articles, kept some unread, saved some and marked one source
    read, among 20,000."""
    load_articles(database_url)
    ids = [a.id for a in store.list_articles(limit=200).items]
    user = create_user(store, "ada", "correct horse battery").id
    store.mark_all_read(user, up_to_id=ids[-1])
    store.mark_read(user, ids[::7])
    store.mark_read(user, [1, 2, 3], read=False)
    store.set_saved(user, ids[::11])
    store.mark_all_read(user, source_id=store.get_article(ids[0]).source_id)
    return store, user, ids


def test_unread_counts_plan(reader, database_url):
    store, user, ids = reader
    assert plan_problems(database_url, lambda: store.unread_counts(user)) == {}


def test_article_states_plan(reader, database_url):
    store, user, ids = reader
    assert plan_problems(database_url, lambda: store.article_states(user, ids[-30:])) == {}


def test_the_checker_sees_a_full_scan(reader, database_url):
    """The check itself: counting by a column no index holds is a full scan."""
    store, user, ids = reader
    engine = create_engine(database_url)

    def scan() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT count(*) FROM articles WHERE title = 'x' ORDER BY 1"))

    try:
        assert plan_problems(database_url, scan) != {}
    finally:
        engine.dispose()


def test_a_readers_wire_plan(reader, database_url):
    """The wire as a reader sees it: muted sources and authors left out, read marks looked up."""
    store, user, ids = reader
    store.set_source_pref(user, 2, muted=True)
    store.set_author_pref(user, store.get_article(ids[0]).authors[0], muted=True) if store.get_article(
        ids[0]).authors else None

    def wire() -> None:
        page = store.list_articles(reader_id=user, limit=30)
        store.article_states(user, [a.id for a in page.items])
        store.list_articles(reader_id=user, limit=30, before=page.next)

    assert plan_problems(database_url, wire) == {}


def test_mark_all_read_up_to_a_time_seeks_the_time(reader, database_url):
    """Sync apps mark everything read "up to" a time. For a reader who never marked anything,
    the first article first seen after it is found through ix_articles_first_seen_at, not by
    walking every id above the watermark (6 s at a million articles)."""
    store, _, ids = reader
    fresh = create_user(store, "bo", "correct horse battery").id
    up_to = T0 + timedelta(minutes=SOURCES * PER_SOURCE - 50)
    with captured() as statements:
        store.mark_all_read(fresh, up_to=up_to)
    [(statement, parameters)] = [s for s in statements if "first_seen_at >" in s[0]]
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                details = " ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                            parameters))
                assert "ix_articles_first_seen_at" in details, details
            else:
                assert _postgres_problems(conn, statement, parameters) == []
    finally:
        engine.dispose()
    assert len(store.unread_ids(fresh)) == 49  # first seen after up_to: minutes 19,951 to 19,999
