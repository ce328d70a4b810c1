"""Reading query plans in tests: every SELECT a store call runs on ``articles`` is explained with
its own parameters and fails on a full scan or a temporary sort. A plan is deterministic where a
timing is not: a query that scans a million articles fails here on a few thousand.

On PostgreSQL, sequential scans and sorts are priced out (``enable_seqscan``/``enable_sort``
off), so one that still shows has no index to use instead.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import sqlalchemy as sa

from newswire.store.engine import create_engine
from newswire.store.tables import article_authors, articles, authors, sources, stories


ARTICLE_INDEXES = ("ix_articles_", "pk_articles", "uq_articles_")


@contextmanager
def captured() -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements that read (SELECT, and WITH … SELECT: the search on PostgreSQL), with
    their parameters, run on any engine meanwhile."""
    statements: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


SORTS = ("Sort", "Incremental Sort")


def _sqlite_problems(conn: sa.Connection, statement: str, parameters: Any, sorts_allowed: bool = False) -> list[str]:
    details = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    sorts = [] if sorts_allowed else [d for d in details if "TEMP B-TREE" in d]
    # Walking an index in the ORDER BY's order stops at the LIMIT: not a full scan.
    walk = not sorts and "ORDER BY" in statement and "LIMIT" in statement
    scans = [d for d in details if d.startswith("SCAN articles") and not (walk and " USING " in d)]
    return sorts + scans


def _postgres_problems(conn: sa.Connection, statement: str, parameters: Any, sorts_allowed: bool = False) -> list[str]:
    # Priced out: one still in the plan has no index to replace it.
    conn.exec_driver_sql("SET enable_seqscan = off")
    conn.exec_driver_sql(f"SET enable_sort = {'on' if sorts_allowed else 'off'}")
    plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    problems: list[str] = []

    def walk(node: dict[str, Any], limited: bool = False) -> None:
        kind = node["Node Type"]
        limited = limited or kind == "Limit"  # an ordered index walk under a LIMIT stops early
        index = node.get("Index Name", "")
        on_articles = node.get("Relation Name") == "articles" or index.startswith(ARTICLE_INDEXES)
        if (kind in SORTS and not sorts_allowed) or (on_articles and kind == "Seq Scan"):
            problems.append(kind)
        if on_articles and "Index" in kind and "Index Cond" not in node and not limited:
            problems.append(f"{kind} of all of {index}")
        if on_articles and "Index" in kind and not limited and re.search(r"\bid [<>]", node.get("Filter", "")):
            problems.append(f"{kind} of {index} filters on id instead of seeking it")
        for child in node.get("Plans", ()):
            walk(child, limited)

    walk(plan[0]["Plan"])
    return problems


def plan_problems(database_url: str, call: Callable[[], object], *, sorts_of_a_group: bool = False
                  ) -> dict[str, list[str]]:
    """Statement → its full scans of articles and temporary sorts, for each SELECT ``call`` ran.
    ``sorts_of_a_group``: the listing seeks one group's rows (a story's articles, a page's
    copies, an author's articles) and orders them; sorting that group is its cost, bounded by
    the group and not by the archive, so only scans count."""
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
                problems = check(conn, statement, parameters, sorts_of_a_group)
                if problems:
                    found[statement] = problems
    finally:
        engine.dispose()
    return found


SOURCES, PER_SOURCE = 20, 1000
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


AUTHORS, STORY_SIZE, COPY_EVERY = 200, 8, 10
CATEGORIES = ("News", "News/Canada", "Sports", "Business", "Arts")  # each a fifth of the sources


def load_articles(database_url: str, *, statistics: bool = True) -> None:
    """``SOURCES`` × ``PER_SOURCE`` articles written straight into the schema (interleaved, as a
    wire stores them), the sources in ``CATEGORIES`` by turns, each article by one of ``AUTHORS``
    authors; the newest thousand grouped into stories of ``STORY_SIZE``; every ``COPY_EVERY``-th a syndicated copy of the one before.
    With ``statistics``, the planner's statistics gathered (ANALYZE), as autovacuum does on
    PostgreSQL and ``PRAGMA optimize`` on SQLite; without, a fresh database as SQLite has it."""
    total = SOURCES * PER_SOURCE
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(sources), [{"id": i + 1, "feed_url": f"http://127.0.0.1/{i}.xml", "name": f"S{i}",
                                               "category": CATEGORIES[i % len(CATEGORIES)], "created_at": T0}
                                              for i in range(SOURCES)])
            conn.execute(sa.insert(authors), [{"id": a + 1, "name": f"Writer {a}", "key": f"writer {a}"}
                                              for a in range(AUTHORS)])
            stories_made = range(1, 1000 // STORY_SIZE + 1)
            conn.execute(sa.insert(stories), [{"id": k, "title": f"Story {k}", "first_seen_at": T0,
                                               "last_updated_at": T0 + timedelta(minutes=total),
                                               "article_count": STORY_SIZE, "source_count": 2} for k in stories_made])
            conn.execute(sa.insert(articles), [
                {"id": n + 1, "source_id": n % SOURCES + 1, "guid": f"g{n}", "title": f"Story {n}", "enclosures": [],
                 "published_at": T0 + timedelta(minutes=n), "first_seen_at": T0 + timedelta(minutes=n),
                 "content_hash": "0" * 32, "duplicate_of": n if n % COPY_EVERY == COPY_EVERY - 1 else None,
                 "story_id": (total - n - 1) // STORY_SIZE + 1 if total - n <= 1000 else None}
                for n in range(total)])
            conn.execute(sa.insert(article_authors), [{"article_id": n + 1, "author_id": n % AUTHORS + 1,
                                                       "position": 0} for n in range(total)])
        if statistics:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
