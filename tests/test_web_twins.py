"""A page and its JSON twin come from the same query: the search page lists exactly what
``/api/v1/articles?q=`` lists (syndicated copies left out, each story once), page after page,
on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from newswire.service.copies import CopyEnricher
from newswire.testing import LOOPBACK
from newswire.web.app import create_app
from test_copies import PAPERS, T0, body, clock, entry, save


@pytest.fixture
def client(store):
    """Three papers run one wire story (two copies), and each writes 25 stories of its own."""
    sources = [store.add_source(f"http://news.test/{i}/feed.xml", name=name) for i, name in enumerate(PAPERS)]
    enricher = CopyEnricher(store, clock=clock)
    story = body(1)
    for i, source in enumerate(sources):
        save(store, enricher, source.id, entry(f"w{i}", f"Ferry vote delayed ({i})", story,
                                               T0 + timedelta(minutes=10 * i), f"By Ada Moreau, {PAPERS[0]}"))
        save(store, enricher, source.id, *[entry(f"own{i}-{n}", f"Ferry timetable {i}-{n}", body(1000 + 100 * i + n),
                                                 T0 - timedelta(hours=n + 1, minutes=i)) for n in range(8)])
    with TestClient(create_app(store, LOOPBACK), base_url="http://localhost") as c:
        yield c


def page_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="wire-item" id="item-(\d+)"', html)]


def test_search_page_and_api_list_the_same_articles_page_after_page(client):
    page_url, api_url = "/search?q=ferry", "/api/v1/articles?q=ferry&limit=20"
    seen_page, seen_api = [], []
    while page_url:
        html = client.get(page_url).text
        api = client.get(api_url).json()
        assert page_ids(html) == [item["id"] for item in api["items"]]
        assert all(item["duplicate_of"] is None for item in api["items"])
        seen_page += page_ids(html)
        seen_api += [item["id"] for item in api["items"]]
        older = re.search(r'href="(/search\?[^"]*before=[^"]*)"', html)
        assert bool(older) == (api["next"] is not None)
        page_url = older.group(1).replace("&amp;", "&") if older else None
        api_url = f"/api/v1/articles?q=ferry&limit=20&before={api['next']}" if api["next"] else None
    assert seen_page == seen_api and len(seen_page) == 24 + 1  # 24 own stories, the wire story once


def test_search_results_say_where_else_a_story_ran_and_mark_the_words(client):
    html = client.get("/search?q=delayed").text  # only the wire story's title says it
    assert len(page_ids(html)) == 1
    assert re.search(r"<p class=\"also-in\">Also in: .*Ottawa Citizen.*Montreal Gazette", html), re.findall(r"also-in.*", html)
    assert re.search(r"<mark>[Ff]erry</mark>", client.get("/search?q=ferry").text)


def test_best_match_leaves_copies_out_too(client):
    html = client.get("/search?q=delayed&order=rank").text
    assert len(page_ids(html)) == 1
