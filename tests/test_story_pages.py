"""Stories through the service, the store, the pages, the API and the feeds, on SQLite and
PostgreSQL. All content is fictional."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import feedparser
import pytest
from fastapi.testclient import TestClient

from newswire.testing import LOOPBACK
from newswire.testing.signin import sign_in
from newswire.fetch import Fetcher
from newswire.models import Entry, SourceUpdate
from newswire.service.stories import StoryEnricher
from test_stories import FERRY
from newswire.service.update import Refresher
from newswire.store import Store
from newswire.testing import samples
from newswire.web.app import create_app

NOW = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
ZONE = ZoneInfo("America/Toronto")
LATE = ("Port Alder ferry riders react to delayed Wexley Island timetable vote",
        "Riders of the Wexley Island ferry in Port Alder said the timetable vote delay left them guessing.")
LIBRARY = ("Cedar Falls library opens new reading room",
           "The Cedar Falls library unveiled a reading room named for the poet Ines Quesnel on Tuesday.")


def ok(at: datetime = NOW) -> SourceUpdate:
    return SourceUpdate(fetched_at=at, status="ok", next_due_at=at + timedelta(minutes=30))


def entry(guid: str, title: str, lead: str, at: datetime) -> Entry:
    return Entry(guid=guid, url=f"http://news.test/{guid}", title=title, published=at, summary=lead,
                 content_html=f"<p>{lead}</p>", text=lead, snippet=lead)


def save(store: Store, enricher: StoryEnricher, source_id: int, guid: str, title: str, lead: str,
         at: datetime) -> int:
    result = store.save_refresh(source_id, ok(), [entry(guid, title, lead, at)])
    enricher.after_store(store, result.new_ids, result.updated_ids)
    return result.new_ids[0]


@pytest.fixture
def world(store):
    """Three outlets cover the ferry vote; a fourth writes about a library."""
    sources = [store.add_source(f"http://127.0.0.1:9/o{i}/feed", name=f"The Outlet {i} Gazette") for i in range(4)]
    enricher = StoryEnricher(store)
    ids = [save(store, enricher, sources[i].id, f"ferry-{i}", *FERRY[i], NOW + timedelta(minutes=20 * i))
           for i in range(3)]
    library = save(store, enricher, sources[3].id, "library", *LIBRARY, NOW + timedelta(minutes=5))
    return store, sources, enricher, ids, library


@pytest.fixture
def client(world):
    with TestClient(create_app(world[0], LOOPBACK, timezone=ZONE), base_url="http://localhost") as c:
        sign_in(c, world[0])  # an admin: the sources page's switch changes a source
        yield c


def test_coverage_forms_one_story_with_stats(world):
    store, sources, _, ids, library = world
    articles = store.get_articles(ids + [library])
    story_ids = {a.story_id for a in articles[:3]}
    assert len(story_ids) == 1 and None not in story_ids
    assert articles[3].story_id not in story_ids
    story = store.get_story(story_ids.pop())
    assert (story.article_count, story.source_count) == (3, 3)
    assert story.first_seen_at == NOW and story.last_updated_at == NOW + timedelta(minutes=40)
    assert story.title in {title for title, _ in FERRY}
    assert [a.id for a in store.story_articles(story.id)] == ids[::-1]


def test_list_stories_orders_by_size_and_pages(world):
    store = world[0]
    stories, cursor = store.list_stories(limit=1, active_since=NOW - timedelta(hours=1))
    assert stories[0].source_count == 3 and cursor
    rest, end = store.list_stories(limit=1, before=cursor, active_since=NOW - timedelta(hours=1))
    assert rest[0].source_count == 1 and end is None
    assert store.list_stories(active_since=NOW + timedelta(days=1))[0] == []
    with pytest.raises(ValueError):
        store.list_stories(before="nonsense")


def test_rebuild_after_restart_keeps_assigning_to_the_same_story(world):
    store, sources, _, ids, _ = world
    story_id = store.get_article(ids[0]).story_id
    fresh = StoryEnricher(store)  # as on start: rebuilt from the database
    late = save(store, fresh, sources[3].id, "late", *LATE, NOW + timedelta(hours=1))
    assert store.get_article(late).story_id == story_id
    assert store.get_story(story_id).source_count == 4


def test_merge_switch_off_keeps_a_source_apart(world):
    store, sources, enricher, ids, _ = world
    store.set_merge_stories(sources[3].id, False)
    assert store.get_source(sources[3].id).merge_stories is False
    alone = save(store, enricher, sources[3].id, "late", *LATE, NOW + timedelta(hours=1))
    assert store.get_article(alone).story_id != store.get_article(ids[0]).story_id


def test_a_syndicated_copy_joins_its_canonicals_story(world):
    store, sources, enricher, ids, _ = world
    result = store.save_refresh(sources[3].id, ok(), [entry("copy", "Totally new words", "Other text.",
                                                            NOW + timedelta(hours=1))])
    store.set_duplicate_of([(result.new_ids[0], ids[0])])
    enricher.after_store(store, result.new_ids, ())
    assert store.get_article(result.new_ids[0]).story_id == store.get_article(ids[0]).story_id


def test_stories_pages(world, client):
    store, _, _, ids, library = world
    story_id = store.get_article(ids[0]).story_id
    page = client.get("/stories")
    assert page.status_code == 200
    assert '<a class="nav-link" href="/stories">Stories</a>' in page.text
    assert f'href="/stories/{story_id}"' in page.text
    assert "3 articles from 3 sources" in page.text
    assert "1 article from 1 source" in page.text
    detail = client.get(f"/stories/{story_id}")
    assert detail.status_code == 200
    sections = re.findall(r'<section class="story-source".*?</section>', detail.text, flags=re.S)
    assert len(sections) == 3 and "The Outlet 0 Gazette" in sections[0]  # first to report, first shown
    assert client.get("/stories/999999").status_code == 404
    assert client.get("/stories/abc").status_code == 404


def test_full_coverage_link_on_the_wire_and_article_page(world, client):
    store, _, _, ids, library = world
    story_id = store.get_article(ids[0]).story_id
    wire = client.get("/").text
    link = f'<a href="/stories/{story_id}">Full coverage (3 sources)</a>'
    assert wire.count(link) == 3
    assert client.get(f"/articles/{ids[1]}").text.split("<aside")[0].count(link) == 1
    assert "Full coverage" not in client.get(f"/articles/{library}").text.split('<aside')[0]


def test_api_shapes_and_story_filter(world, client):
    store, sources, _, ids, _ = world
    story_id = store.get_article(ids[0]).story_id
    listing = client.get("/api/v1/stories").json()
    assert set(listing) == {"items", "next"} and listing["next"] is None
    first = listing["items"][0]
    assert set(first) == {"id", "title", "first_seen_at", "last_updated_at", "article_count", "source_count",
                          "sources"}
    assert first["id"] == story_id and first["source_count"] == 3
    assert [s["id"] for s in first["sources"]] == [s.id for s in sources[:3]]
    paged = client.get("/api/v1/stories?limit=1").json()
    assert len(paged["items"]) == 1 and paged["next"]
    assert client.get("/api/v1/stories", params={"before": paged["next"]}).json()["items"][0]["source_count"] == 1
    detail = client.get(f"/api/v1/stories/{story_id}").json()
    assert [a["id"] for a in detail["articles"]] == ids[::-1]
    assert all(a["story_id"] == story_id for a in detail["articles"])
    filtered = client.get("/api/v1/articles", params={"story": story_id}).json()
    assert sorted(a["id"] for a in filtered["items"]) == sorted(ids)
    missing = client.get("/api/v1/stories/999999")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    assert client.get("/api/v1/stories?before=junk").status_code == 400


def test_story_feeds_parse(world, client):
    store, _, _, ids, _ = world
    story_id = store.get_article(ids[0]).story_id
    for fmt in ("atom", "rss"):
        response = client.get(f"/stories/{story_id}/feed.{fmt}")
        parsed = feedparser.parse(response.content)
        assert response.status_code == 200 and parsed.bozo == 0, fmt
        assert len(parsed.entries) == 3
    assert len(client.get(f"/stories/{story_id}/feed.json").json()["items"]) == 3
    assert client.get("/stories/999999/feed.atom").json()["status"] == 404


def test_sources_page_switch(world, client):
    store, sources, _, _, _ = world
    page = client.get(f"/sources/{sources[0].id}/edit").text  # the switch is in the source's form
    assert re.search(r'name="merge_stories" value="1" checked', page)
    response = client.post(f"/sources/{sources[0].id}/stories/off", follow_redirects=False)
    assert response.status_code == 303
    assert store.get_source(sources[0].id).merge_stories is False
    client.post(f"/sources/{sources[0].id}/stories/on")
    assert store.get_source(sources[0].id).merge_stories is True


async def test_stories_are_made_on_refresh(store, feed_server):
    outlets = samples.make_outlets(3, seed=3, base_url=feed_server.base_url)
    sources = []
    for i, outlet in enumerate(outlets):
        title, lead = FERRY[i]
        article = samples.SampleArticle(guid=f"{outlet.site_url}ferry", url=f"{outlet.site_url}ferry.html",
                                        title=title, authors=("Ada Moreau",), published=NOW + timedelta(minutes=i),
                                        summary=lead, content_html=f"<p>{lead}</p>")
        url = feed_server.add(f"/{outlet.slug}/feed", samples.rss(outlet, [article]))
        sources.append(store.add_source(url, name=outlet.name))
    async with Fetcher(LOOPBACK, read_timeout=2, total_timeout=5) as fetcher:
        async with Refresher(store, fetcher, enrichers=[StoryEnricher(store)]) as refresher:
            await refresher.refresh_many(sources)
    stories, _ = store.list_stories(active_since=NOW - timedelta(hours=1))
    assert [(s.article_count, s.source_count) for s in stories] == [(3, 3)]


def test_the_rebuild_reads_the_window_a_page_at_a_time(world, monkeypatch):
    """A restart beside a busy week reads its articles with their texts a page at a time, not the
    whole window at once; the rebuilt clusterer decides as one built from a single read."""
    from newswire.store import stories as story_rows

    store, sources, _, ids, _ = world
    pages: list[int] = []
    page_of = story_rows.recent_page

    def counted(conn, since, after_id, limit):
        rows = page_of(conn, since, after_id, limit)
        pages.append(len(rows))
        return rows

    monkeypatch.setattr(story_rows, "PAGE", 2)
    monkeypatch.setattr(story_rows, "recent_page", counted)
    fresh = StoryEnricher(store)
    assert pages == [2, 2, 0]  # four articles, two at a time, and the empty page that ends it
    late = save(store, fresh, sources[3].id, "late", *LATE, NOW + timedelta(hours=1))
    assert store.get_article(late).story_id == store.get_article(ids[0]).story_id
