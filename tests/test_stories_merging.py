"""Stories found late to be one, and batches whose times span more than the window: through the
clusterer, the service, the store and the web, on SQLite and PostgreSQL. Content is fictional."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from newswire.enrich.stories import StoryClusterer
from newswire.service.stories import StoryEnricher
from newswire.testing import LOOPBACK
from newswire.web.app import create_app
from test_stories import FERRY, LIBRARY, T0
from test_story_pages import NOW, entry, ok, save


def test_an_article_that_shows_two_stories_are_one_merges_them_into_the_older():
    clusterer = StoryClusterer()
    first = clusterer.add(1, 1, *FERRY[0], T0, into=("new", 100))  # forced apart, as two stories
    second = clusterer.add(2, 2, *FERRY[1], T0 + timedelta(hours=1), into=("new", 200))
    third = clusterer.add(3, 3, *FERRY[2], T0 + timedelta(hours=2))
    assert first.key != second.key
    assert third.key == first.key and third.merged == (second.key,) and third.size == 3
    assert clusterer.add(4, 4, *FERRY[1], T0 + timedelta(hours=3)).key == first.key


def test_the_title_stays_until_the_story_has_doubled():
    clusterer = StoryClusterer()
    decisions = [clusterer.add(i, i, *FERRY[i % 3], T0 + timedelta(minutes=i)) for i in range(9)]
    assert {d.size for d in decisions} == set(range(1, 10))
    titles = [d.title for d in decisions]
    assert titles[:3] == [FERRY[0][0]] * 3  # a second and third report do not retitle it
    assert len(set(titles[3:7])) == 1  # chosen again at 4 articles, then kept until 8


def test_a_copy_never_gives_the_story_its_title():
    clusterer = StoryClusterer()
    clusterer.add(1, 1, *FERRY[0], T0)
    copy = clusterer.add(2, 2, "By Ines Rasmussen — The Canadian Wire PORT ALDER — " + FERRY[0][0], FERRY[0][1],
                         T0 + timedelta(minutes=5), same_as=1)
    assert copy.title == FERRY[0][0]


def test_a_backlog_spanning_more_than_the_window_keeps_every_story(store):
    # A new source sends four days of items in one batch: the oldest story leaves the
    # clusterer's window while the batch is placed. Every article still gets its story.
    source = store.add_source("http://127.0.0.1:9/backlog/feed", name="The Backlog Herald")
    enricher = StoryEnricher(store)
    old = NOW - timedelta(hours=100)
    entries = [entry(f"ferry-{i}", *FERRY[i], old + timedelta(minutes=10 * i)) for i in range(2)]
    entries.append(entry("library", *LIBRARY, NOW))
    result = store.save_refresh(source.id, ok(), entries)
    enricher.after_store(store, result.new_ids, result.updated_ids)
    articles = {a.title: a for a in store.get_articles(result.new_ids)}
    ferry = {articles[FERRY[i][0]].story_id for i in range(2)}
    assert len(ferry) == 1 and None not in ferry
    assert articles[LIBRARY[0]].story_id not in ferry | {None}
    assert store.get_story(ferry.pop()).article_count == 2


@pytest.fixture
def merged(store):
    """Two stories of one event, stored apart, then merged by the service."""
    sources = [store.add_source(f"http://127.0.0.1:9/m{i}/feed", name=f"The Merge Post {i}") for i in range(3)]
    enricher = StoryEnricher(store)
    a = save(store, enricher, sources[0].id, "a", *FERRY[0], NOW)
    older = store.get_article(a).story_id
    # a second story for the same event, as if the clusterer had not recognised it at first
    b = store.save_refresh(sources[1].id, ok(), [entry("b", *FERRY[1], NOW + timedelta(minutes=10))]).new_ids[0]
    younger = store.create_story("Port Alder ferry timetable vote pushed to spring", NOW)
    store.assign_stories([(b, younger)])
    fresh = StoryEnricher(store)  # rebuilt from the store: two stories, each with its article
    c = save(store, fresh, sources[2].id, "c", *FERRY[2], NOW + timedelta(minutes=20))
    return store, older, younger, [a, b, c]


def test_the_service_merges_stories_and_the_old_one_redirects(merged):
    store, older, younger, ids = merged
    assert {a.story_id for a in store.get_articles(ids)} == {older}
    assert store.get_story(older).article_count == 3
    assert store.story_redirect(younger) == older and store.story_redirect(older) is None
    assert store.get_story(younger).article_count == 0
    assert younger not in {s.id for s in store.list_stories()[0]}


def test_merged_story_addresses_redirect_on_pages_api_and_feeds(merged):
    store, older, younger, _ = merged
    with TestClient(create_app(store, LOOPBACK), base_url="http://localhost") as client:
        for path, target in ((f"/stories/{younger}", f"/stories/{older}"),
                             (f"/api/v1/stories/{younger}", f"/api/v1/stories/{older}"),
                             (f"/stories/{younger}/feed.atom", f"/stories/{older}/feed.atom")):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 308 and response.headers["location"] == target
            assert client.get(path).status_code == 200
        assert client.get(f"/stories/{older}", follow_redirects=False).status_code == 200
        # a filter on the merged story's id lists the story it now lives in
        listed = [[a["id"] for a in client.get(f"/api/v1/articles?story={story}&copies=true").json()["items"]]
                  for story in (younger, older)]
        assert len(listed[0]) == 3 and listed[0] == listed[1]


def test_leads_prepared_in_the_parse_workers_give_the_same_stories(store, monkeypatch):
    """The enricher clusters a lead prepared beforehand (``service.prepared``, as the parse
    workers hand it over) without reading it again, and places it as it would have."""
    from newswire.enrich import story_text
    from newswire.service.prepared import prepare_entries

    sources = [store.add_source(f"http://127.0.0.1:9/{name}/feed", name=name) for name in ("one", "two")]
    enricher = StoryEnricher(store)
    batches = [[entry(f"ferry-{i}", *FERRY[i], NOW - timedelta(hours=3 - i))] for i in range(3)]
    batches.append([entry("library", *LIBRARY, NOW)])
    prepared = prepare_entries([one for batch in batches for one in batch])
    monkeypatch.setattr(story_text.LeadText, "of", lambda *args, **kwargs: pytest.fail("prepared again"))
    ids = []
    for i, batch in enumerate(batches):
        result = store.save_refresh(sources[i % 2].id, ok(), batch)
        enricher.after_store(store, result.new_ids, (), prepared=prepared)
        ids += result.new_ids
    story_ids = [a.story_id for a in sorted(store.get_articles(ids), key=lambda a: a.id)]
    assert story_ids[0] == story_ids[1] == story_ids[2] != story_ids[3] and None not in story_ids


def test_a_rebuild_writes_the_stories_it_decides_a_batch_at_a_time(store, monkeypatch):
    """A first start (articles stored without their story, as by ``fetch --no-enrich``): the
    rebuild writes what it decided every ``REBUILD_WRITES`` articles, as ``after_store`` writes a
    batch, not the whole window at the end; a later article still joins a story written before."""
    from newswire.service import stories as story_service

    sources = [store.add_source(f"http://127.0.0.1:9/r{i}/feed", name=f"The Rebuild Post {i}") for i in range(4)]
    docs = [(FERRY[0], NOW), (LIBRARY, NOW + timedelta(minutes=5)), (FERRY[1], NOW + timedelta(minutes=20)),
            (FERRY[2], NOW + timedelta(minutes=40))]
    ids = [store.save_refresh(sources[i].id, ok(), [entry(f"r{i}", *doc, at)]).new_ids[0]
           for i, (doc, at) in enumerate(docs)]
    writes = []
    assign = store.assign_stories
    monkeypatch.setattr(store, "assign_stories", lambda pairs, titles={}, merges=(): (
        writes.append(list(pairs)), assign(pairs, titles, merges)))
    monkeypatch.setattr(story_service, "REBUILD_WRITES", 1)
    StoryEnricher(store)
    assert [[article for article, _ in pairs] for pairs in writes] == [[i] for i in ids]
    story = {a.id: a.story_id for a in store.get_articles(ids)}
    assert story[ids[0]] == story[ids[2]] == story[ids[3]] != story[ids[1]] and None not in story.values()
    assert store.get_story(story[ids[0]]).article_count == 3
