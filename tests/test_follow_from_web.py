"""A feed followed from the web admin is fetched at once through the same enrichers as every
refresh: its articles are marked for full text when its box is ticked (by the write), its
syndicated copies collapse into the stories already on the wire, and it joins their stories. With
a scheduler running (``newswire run``) the scheduler fetches it and the process's enricher (the
lock holder) enriches it; without one (``newswire serve``) a Refresher of the web process's own
fetches it and the enricher of the deployment, following the articles table, enriches it.

The content is the demo's fictional newsroom: a paper republishing the same wire stories as a
paper already followed."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

from newswire.demo.newsroom import Newsroom
from newswire.fetch import Fetcher
from newswire.scheduler import run_scheduler
from newswire.service import copies
from newswire.service.enrichment import index_enrichers
from newswire.service.refresh_now import RefreshRequests
from newswire.service.update import Refresher
from newswire.testing import LOOPBACK
from newswire.testing.signin import sign_in
from newswire.web import create_app

DEADLINE = 60  # seconds; only a hang gets near it


@pytest.fixture
def store(sqlite_store):
    return sqlite_store  # how a first fetch is enriched does not depend on the engine


@pytest.fixture
def papers(feed_server):
    """Two papers' feeds on the feed server, sharing five wire stories."""
    room = Newsroom(feed_server.base_url, seed=3)
    room.backlog(datetime.now(timezone.utc).replace(microsecond=0), wire_stories=5, own_stories=3)
    urls = []
    for paper in room.outlets[:2]:
        document, content_type = room.render(paper)
        urls.append(feed_server.add(room.feed_path(paper), document, content_type=content_type))
    return urls


@pytest.fixture
def builds(monkeypatch):
    """How many copy indexes were built (each Refresher with the index steps builds one)."""
    count = []

    class Counted(copies.CopyEnricher):
        def __init__(self, *args, **kwargs):
            count.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(copies, "CopyEnricher", Counted)
    return count


async def follow_first_paper(store, url):
    source = store.add_source(url)
    async with Fetcher(LOOPBACK) as fetcher, Refresher(store, fetcher, enrichers=index_enrichers()) as refresher:
        (result,) = await refresher.refresh_many([source])
    assert result.outcome == "fetched"


def add_from_the_web(client, url) -> str:
    page = client.post("/sources", data={"url": url, "full_text": "1"})
    assert page.status_code == 200
    return page.text


def enriched(store, url) -> bool:
    source = store.find_source(url)
    articles = store.list_articles(source_id=source.id, include_copies=True, limit=200).items if source else ()
    return bool(articles) and all(a.story_id for a in articles)


def assert_enriched_like_any_refresh(store, url):
    second = store.find_source(url)
    assert second.full_text
    listed = store.list_articles(source_id=second.id, include_copies=True, limit=200).items
    own = store.get_articles([a.id for a in listed])
    assert own and all(a.extraction_status == "pending" for a in own)  # the full-text box counted
    groups: dict[str, list] = {}
    for article in store.list_articles(include_copies=True, limit=200).items:
        groups.setdefault(article.guid.rsplit("/", 1)[-1], []).append(article)
    shared = [group for slug, group in groups.items() if slug.startswith("wire-") and len(group) > 1]
    assert shared and all(len(group) == 2 for group in shared)
    for group in shared:  # one original each, the other its copy, both in one story
        assert sorted(a.duplicate_of is None for a in group) == [False, True]
        assert len({a.story_id for a in group}) == 1 and group[0].story_id


async def test_followed_without_a_scheduler_is_left_to_the_enricher_and_builds_no_index(store, papers, builds):
    """`newswire serve`: following a feed (and "Refresh now", click after click) stores and marks
    its articles but builds no copy or story index in the web process; the process holding the
    enricher lock, following the articles table, enriches them like any refresh."""
    from newswire.worker import follow_and_enrich

    await follow_first_paper(store, papers[0])
    builds.clear()
    with TestClient(create_app(store, LOOPBACK), base_url="http://localhost") as client:
        sign_in(client, store)
        page = await asyncio.to_thread(add_from_the_web, client, papers[1])
        source = store.find_source(papers[1])
        for _ in range(2):
            refreshed = await asyncio.to_thread(client.post, f"/sources/{source.id}/refresh")
            assert refreshed.status_code in (200, 303)
    assert "articles stored." in page
    assert builds == [] and not enriched(store, papers[1])
    stop = asyncio.Event()
    follower = asyncio.create_task(follow_and_enrich(store, stop, poll=0.05))
    try:
        await until_enriched(store, papers[1])
    finally:
        stop.set()
        await asyncio.wait_for(follower, DEADLINE)
    assert_enriched_like_any_refresh(store, papers[1])


async def until_enriched(store, feed_url: str) -> None:
    """Wait (up to DEADLINE) until the enricher has seen the articles of ``feed_url``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE
    while not await asyncio.to_thread(enriched, store, feed_url) and loop.time() < end:
        await asyncio.sleep(0.05)


async def test_followed_beside_a_running_scheduler_is_refreshed_by_it(store, papers, builds):
    await follow_first_paper(store, papers[0])
    builds.clear()
    stop, requests = asyncio.Event(), RefreshRequests()
    scheduler = asyncio.create_task(run_scheduler(store, stop, settings=LOOPBACK, requests=requests))
    app = create_app(store, LOOPBACK)
    app.state.refresh_requests = requests
    try:
        with TestClient(app, base_url="http://localhost") as client:
            await asyncio.to_thread(sign_in, client, store)  # off the loop: the scheduler starts meanwhile
            page = await asyncio.wait_for(asyncio.to_thread(add_from_the_web, client, papers[1]), DEADLINE)
        assert "articles stored." in page
        await until_enriched(store, papers[1])
    finally:
        stop.set()
        await asyncio.wait_for(scheduler, DEADLINE)
    assert_enriched_like_any_refresh(store, papers[1])
    assert len(builds) == 1  # the scheduler's own index, not a second one for the web
