"""Search collapses syndicated copies as the wire does, on SQLite and PostgreSQL: each story once,
its copies as "Also in" on the original; the search page (newest first and best match) and its
JSON twin, ``/api/v1/articles?q=``, list the same articles and the same copies. The search's
query plans stay index-driven with copies left out. All text is generated here."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from newswire.service.copies import CopyEnricher
from newswire.store.engine import create_engine
from newswire.testing import LOOPBACK
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from test_copies import PAPERS, T0, body, clock, entry, save
from plans import load_articles, plan_problems

STORIES = 4  # each carried by every paper: 4 originals, 8 copies, all matching "quarry"


@pytest.fixture
def wire(store):
    """``STORIES`` wire stories, each run by the three papers (the first paper's is the
    original), and the ids: story → [original, copy, copy]."""
    sources = [store.add_source(f"http://news.test/{i}/feed.xml", name=name) for i, name in enumerate(PAPERS)]
    enricher = CopyEnricher(store, clock=clock)
    ids: list[list[int]] = []
    for story in range(STORIES):
        text = body(100 + story)
        ids.append([save(store, enricher, source.id, entry(f"s{story}-{i}", f"Quarry report {story}", text,
                                                            T0 + timedelta(hours=story, minutes=10 * i)))[0]
                    for i, source in enumerate(sources)])
    return ids


def test_search_leaves_copies_out_before_the_limit(store, wire):
    originals = {group[0] for group in wire}
    for order in ("rank", "newest"):
        hits = store.search("quarry", limit=STORIES, order=order, include_copies=False)
        assert {hit.article_id for hit in hits} == originals, order  # a full page of originals
        assert len(store.search("quarry", limit=STORIES * 3, order=order)) == STORIES * 3  # copies by default


def _page_items(page: str) -> list[tuple[int, list[int]]]:
    """(article id, its "Also in" ids) for each result of a search page."""
    found = []
    for item in re.findall(r'<li class="wire-item".*?</li>', page, flags=re.S):
        also = re.search(r'<p class="also-in">(.*?)</p>', item, flags=re.S)
        found.append((int(re.search(r'id="item-(\d+)"', item).group(1)),
                      [int(i) for i in re.findall(r'href="/articles/(\d+)"', also.group(1))] if also else []))
    return found


def test_search_page_and_api_agree_and_show_copies_as_also_in(store, wire):
    expected = [(group[0], group[1:]) for group in reversed(wire)]  # newest story first
    app = create_app(store, LOOPBACK, timezone=ZoneInfo("America/Toronto"))
    with WebServer(app) as server, httpx.Client(base_url=server.base_url, timeout=20) as client:
        newest = _page_items(client.get("/search", params={"q": "quarry"}).text)
        api = [(item["id"], [copy["id"] for copy in item["also_in"]])
               for item in client.get("/api/v1/articles", params={"q": "quarry"}).json()["items"]]
        best = _page_items(client.get("/search", params={"q": "quarry", "order": "rank"}).text)
        names = {copy["source_name"] for item in client.get("/api/v1/articles", params={"q": "quarry"}).json()["items"]
                 for copy in item["also_in"]}
    assert newest == api == expected
    assert sorted(best) == sorted(expected)  # best match: the same originals, each with its copies
    assert names == set(PAPERS[1:])


def _plan_world(database_url: str) -> None:
    """20,000 articles titled "Story n", every third one a copy of the one before it."""
    load_articles(database_url)
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE articles SET duplicate_of = id - 1 WHERE id % 3 = 0"))
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


# What the search's design does on purpose (``store.recent``): sort a bounded window or pool of
# matches (SQLite's temporary B-tree, PostgreSQL's Sort), and walk FTS5's own index.
BY_DESIGN = re.compile(r"^(USE TEMP B-TREE FOR ORDER BY|SCAN articles_fts VIRTUAL TABLE .*|Sort|Incremental Sort)$")


def full_scans(database_url: str, call) -> dict[str, list[str]]:
    """The plan problems of ``call``'s statements (``plans``; its checker is tested in
    ``test_reader_plans``) other than the search's sorts by design: full scans of ``articles``
    or walks of a whole index of it."""
    found = {statement: [p for p in problems if not BY_DESIGN.match(p)]
             for statement, problems in plan_problems(database_url, call).items()}
    return {statement: problems for statement, problems in found.items() if problems}


def test_search_without_copies_plans_no_full_scan(store, database_url):
    """The search page's reads with copies left out, newest first (a first page and an older
    one, and its snippets) and best match, and the "Also in" lookup: no full scan of ``articles``."""
    _plan_world(database_url)
    page = store.list_articles(query="story", limit=20)
    assert page.items and all(a.duplicate_of is None for a in page.items)
    calls = {
        "newest": lambda: store.list_articles(query="story", limit=20),
        "older": lambda: store.list_articles(query="story", limit=20, before=page.next),
        "hits": lambda: store.search("story", limit=20, order="newest", include_copies=False),
        "rank": lambda: store.search("story", limit=20, order="rank", include_copies=False),
        "also in": lambda: store.also_in([a.id for a in page.items]),
        "newest page's snippets": lambda: store.search_snippets("story", [a.id for a in page.items]),
    }
    for name, call in calls.items():
        assert full_scans(database_url, call) == {}, name
    assert all(hit.article_id % 3 for hit in store.search("story", limit=20, order="rank", include_copies=False))
