"""The query plans of every listing a page, the API or a feed serves: the wire and its older
pages, a source, a category, an author, a story, copies included, arrivals for the live wire and
for sync apps, and the story list. No full scan of ``articles`` and no temporary sort, on SQLite and
PostgreSQL, with and without the planner's statistics (a fresh SQLite database has none; once
``PRAGMA optimize`` has run, it has some): a filter added later made the wire at a million
articles 160 times slower, and a plan shows that on a few thousand rows, where a timing would
not. The checks are in ``plans.py``."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta

import pytest

from conftest import throwaway_postgres_database
from newswire.store import Store
from plans import AUTHORS, PER_SOURCE, SOURCES, T0, load_articles, plan_problems


@pytest.fixture(scope="module", params=[("sqlite", True), ("sqlite", False), ("postgresql", True),
                                        ("postgresql", False)],
                ids=["sqlite-statistics", "sqlite-no-statistics", "postgresql-statistics",
                     "postgresql-no-statistics"])
def loaded(request, tmp_path_factory):
    """(store, URL) of a database holding the plans' articles, loaded once for the module per
    engine and statistics (loading 20,000 articles for each test took minutes)."""
    engine, statistics = request.param
    with ExitStack() as stack:
        if engine == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'newswire.db'}"
        else:
            url = stack.enter_context(throwaway_postgres_database("newswire_plans"))
        store = stack.enter_context(Store(url))
        load_articles(url, statistics=statistics)
        yield store, url


def listings(store):
    """Name → a call that lists as a page does."""
    first = store.list_articles(limit=50)
    newest = max(a.id for a in first.items)
    middle = T0 + timedelta(minutes=SOURCES * PER_SOURCE // 2)
    return {
        "wire": lambda: store.list_articles(limit=50),
        "wire, older page": lambda: store.list_articles(limit=50, before=first.next),
        "wire, a year back": lambda: store.list_articles(limit=50, before=f"{int(middle.timestamp()) * 10**6}.{10**6}"),
        "source": lambda: store.list_articles(limit=50, source_id=3),
        "source, older page": lambda: store.list_articles(limit=50, source_id=3,
                                                          before=store.list_articles(limit=50, source_id=3).next),
        "author": lambda: store.list_articles(limit=50, author=f"Writer {AUTHORS // 2}"),
        "story": lambda: store.list_articles(limit=50, story_id=2),
        "copies included (API ?copies=true)": lambda: store.list_articles(limit=50, include_copies=True),
        "category": lambda: store.list_articles(limit=50, category="Sports"),
        "category and below, older page": lambda: store.list_articles(
            limit=50, category="News", before=store.list_articles(limit=50, category="News").next),
        "live arrivals": lambda: store.arrived_after(newest - 40, limit=50),
        "sync arrivals back": lambda: store.arrived_before(newest - 500, limit=50, include_copies=True),
        "also in": lambda: store.also_in([a.id for a in first.items]),
        "feed stamps": lambda: store.list_stamps(limit=50),
        "feed stamps, source": lambda: store.list_stamps(limit=50, source_id=3, include_copies=True),
        "feed stamps, category": lambda: store.list_stamps(limit=50, category="News"),
        "feed stamps, author": lambda: store.list_stamps(limit=50, author=f"Writer {AUTHORS // 2}"),
        "feed stamps, story": lambda: store.list_stamps(limit=50, story_id=2, include_copies=True),
        "feed stamps by id (saved)": lambda: store.stamps_of([a.id for a in first.items]),
        "feed articles": lambda: store.get_articles([a.id for a in first.items], text=False),
    }




@pytest.mark.parametrize("name", ["wire", "wire, older page", "wire, a year back", "source", "source, older page",
                                  "copies included (API ?copies=true)", "category", "category and below, older page",
                                  "live arrivals", "sync arrivals back", "feed stamps", "feed stamps, source",
                                  "feed stamps, category", "feed stamps by id (saved)", "feed articles"])
def test_listing_plan(loaded, name):
    store, url = loaded
    assert plan_problems(url, listings(store)[name]) == {}


@pytest.mark.parametrize("name", ["author", "story", "also in", "feed stamps, author", "feed stamps, story"])
def test_a_groups_listing_seeks_the_group(loaded, name):
    """A story's articles, a page's copies and an author's articles are found through their
    index and then ordered: the sort is as large as the group (an author's page costs more for
    a prolific byline), never as large as the archive."""
    store, url = loaded
    assert plan_problems(url, listings(store)[name], sorts_of_a_group=True) == {}


def test_story_list_plan(loaded):
    store, url = loaded
    assert plan_problems(url, lambda: store.list_stories(limit=50, active_since=T0)) == {}


def test_sqlite_gets_planner_statistics_when_a_store_opens(sqlite_url):
    """``Store.optimize``: the first open with articles gathers statistics (bounded), later
    opens refresh them with ``PRAGMA optimize``."""
    import sqlite3

    Store(sqlite_url).close()
    load_articles(sqlite_url, statistics=False)
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'articles'").fetchone()[0] == 0
    Store(sqlite_url).close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'articles'").fetchone()[0] > 0
