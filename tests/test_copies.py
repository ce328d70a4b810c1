"""Syndicated copies through the service and the store, on SQLite and PostgreSQL: the enricher
marks ``duplicate_of``, the wire shows each story once with "Also in", the article page lists
copies, the API reports them, a restart rebuilds the index, and the demo's wire copies collapse.
All text is fictional, generated here or by ``newswire.demo``."""

from __future__ import annotations

import random
from dataclasses import replace
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import httpx

from newswire.testing import LOOPBACK
from newswire.demo.newsroom import Newsroom
from newswire.fetch import Fetcher
from newswire.models import Entry, SourceUpdate
from newswire.service.copies import CopyEnricher
from newswire.service.update import Refresher
from newswire.store import Store
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app

T0 = datetime(2025, 9, 17, 12, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(hours=6)
PAPERS = ["The Canadian Wire", "Ottawa Citizen", "Montreal Gazette"]
WORDS = ("harbour council ferry budget transit vote residents officials plan spring hearing levy bridge "
         "library shoreline permit grant clinic road market school rink water said would after before "
         "the a of to and in on for with at by from").split()


def clock() -> datetime:
    return NOW


def body(seed: int, paragraphs: int = 5) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 16))).capitalize() + "."
                     for _ in range(3)) for _ in range(paragraphs)]


def entry(guid: str, title: str, paragraphs: list[str], published: datetime, byline: str = "",
          footer: str = "") -> Entry:
    lines = [line for line in (byline, *paragraphs, footer) if line]
    return Entry(guid=guid, url=f"http://news.test/{guid}", title=title, authors=("Ada Moreau",),
                 published=published, summary=paragraphs[0], content_html="".join(f"<p>{p}</p>" for p in lines),
                 text="\n".join(lines), snippet=paragraphs[0][:200])


def ok() -> SourceUpdate:
    return SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW + timedelta(minutes=30))


def save(store: Store, enricher: CopyEnricher, source_id: int, *entries: Entry) -> list[int]:
    result = store.save_refresh(source_id, ok(), entries)
    enricher.after_store(store, result.new_ids, result.updated_ids)
    return list(result.new_ids)


@pytest.fixture
def sources(store):
    return [store.add_source(f"http://news.test/{i}/feed.xml", name=name) for i, name in enumerate(PAPERS)]


@pytest.fixture
def syndicated(store, sources):
    """One wire story in three sources (the wire's first, the papers' later, with their own
    bylines and footers) and one unrelated story."""
    enricher = CopyEnricher(store, clock=clock)
    story = body(1)
    ids = []
    for i, source in enumerate(sources):
        footer = f"{source.name} — Our website is the place for the latest news." if i else ""
        ids += save(store, enricher, source.id, entry(f"w{i}", f"Ferry vote delayed ({i})", story,
                                                      T0 + timedelta(minutes=10 * i), f"By Ada Moreau, {PAPERS[0]}",
                                                      footer))
    other = save(store, enricher, sources[1].id, entry("own", "Library hours extended", body(2), T0))[0]
    return enricher, ids, other


def test_copies_point_to_the_earliest(store, syndicated):
    _, (wire, citizen, gazette), other = syndicated
    found = {a.id: a.duplicate_of for a in store.get_articles([wire, citizen, gazette, other])}
    assert found == {wire: None, citizen: wire, gazette: wire, other: None}
    assert [a.id for a in store.copies_of(wire)] == [citizen, gazette]
    assert store.also_in([wire, other]) == {wire: [(citizen, "Ottawa Citizen"), (gazette, "Montreal Gazette")]}


def test_copy_detection_reads_what_the_rebuild_reads_of_each_article_stored(store, sources, syndicated):
    # After each write the step reads only its columns (``Store.copy_texts``), in the order
    # asked, as the rebuild reads them (``recent_for_copies``), with what each copies now: a
    # summary where there is no text, a future date capped at the first sighting.
    _, (wire, citizen, gazette), other = syndicated
    future = store.save_refresh(sources[2].id, ok(), [replace(entry("late", "Dated ahead", body(3), NOW + timedelta(days=2)),
                                                               text="")]).new_ids[0]
    rebuilt = {row.id: row for row in store.recent_for_copies(T0 - timedelta(days=1))}
    read = store.copy_texts([gazette, 999_999, future, wire])
    assert [(row.text.id, row.duplicate_of) for row in read] == [(gazette, wire), (future, None), (wire, None)]
    assert all(row.text == rebuilt[row.text.id] for row in read)
    late = read[1].text
    assert late.text == body(3)[0] and late.published_at < NOW + timedelta(days=1)
    assert store.copy_texts([]) == []


def test_texts_prepared_in_the_parse_workers_give_the_same_copies(store, sources, monkeypatch):
    """The enricher indexes a text prepared beforehand (``prepare_entries``, as the parse
    workers hand it over) without preparing it again, and decides as it would have."""
    from newswire.enrich import dedupe
    from newswire.service.prepared import prepare_entries

    enricher = CopyEnricher(store, clock=clock)
    story = [entry(f"p{i}", "Ferry vote delayed", body(1), T0 + timedelta(minutes=i), footer=f"Footer {i}.")
             for i in range(len(sources))]
    prepared = prepare_entries(story)
    monkeypatch.setattr(dedupe, "prepare_copy_text", lambda *args: pytest.fail("prepared again"))
    ids = []
    for source, one in zip(sources, story):
        result = store.save_refresh(source.id, ok(), [one])
        enricher.after_store(store, result.new_ids, (), prepared=prepared)
        ids += result.new_ids
    assert [a.duplicate_of for a in store.get_articles(ids)] == [None, ids[0], ids[0]]


def test_a_text_prepared_ahead_carries_the_shingles_and_signature_the_detector_would_make():
    # The parse workers make the whole text's shingles and MinHash signature too; the detector
    # takes them when the source's boilerplate keeps every unit, and makes its own otherwise.
    from newswire.enrich import dedupe

    text = "\n".join(body(5, paragraphs=6))
    ahead, plain = dedupe.prepare_copy_text(text, ahead=True), dedupe.prepare_copy_text(text)
    every = list(range(len(plain.keys)))
    assert plain.whole is None and plain.signature_of(every, dedupe.NUM_PERM) is None
    assert (ahead.shingles(every) == plain.shingles(every)).all()
    hasher = dedupe.MinHasher(dedupe.NUM_PERM, dedupe.MINHASH_SEED)
    assert (ahead.signature_of(every, dedupe.NUM_PERM) == hasher.signature(plain.shingles(every))).all()
    assert ahead.signature_of(every[1:], dedupe.NUM_PERM) is None  # a unit dropped: made again
    assert ahead.signature_of(every, 64) is None  # another detector's permutations
    assert (ahead.shingles(every[1:]) == plain.shingles(every[1:])).all()
    detectors = dedupe.CopyDetector(), dedupe.CopyDetector()
    for n, prepared in enumerate((ahead, plain)):
        detectors[n].index(1, 1, text, T0, prepared=prepared)
        assert detectors[n].index(2, 2, text, T0 + timedelta(hours=1), prepared=prepared).canonical_id == 1


def test_the_wire_lists_a_story_once(store, syndicated):
    _, (wire, citizen, gazette), other = syndicated
    assert {a.id for a in store.list_articles().items} == {wire, other}
    assert {a.id for a in store.list_articles(include_copies=True).items} == {wire, citizen, gazette, other}
    assert [a.id for a in store.arrived_after(0)] == [wire, other]
    assert len(store.arrived_after(0, include_copies=True)) == 4


def test_an_older_copy_arriving_later_becomes_canonical(store, sources, syndicated):
    enricher, (wire, citizen, gazette), _ = syndicated
    late = store.add_source("http://news.test/late/feed.xml", name="Early Bird Courier")
    first = save(store, enricher, late.id, entry("early", "Ferry vote delayed", body(1), T0 - timedelta(hours=1)))[0]
    found = {a.id: a.duplicate_of for a in store.get_articles([first, wire, citizen, gazette])}
    assert found == {first: None, wire: first, citizen: first, gazette: first}


def test_pages_show_also_in_and_the_copies(store, syndicated):
    _, (wire, citizen, gazette), other = syndicated
    app = create_app(store, LOOPBACK, timezone=ZoneInfo("America/Toronto"))
    with WebServer(app) as server, httpx.Client(base_url=server.base_url, timeout=20) as client:
        page = client.get("/").text
        listed = [int(i) for i in re.findall(r'<li class="wire-item" id="item-(\d+)"', page)]
        assert sorted(listed) == sorted([wire, other])
        also = re.findall(r'<p class="also-in">(.*?)</p>', page, flags=re.S)
        assert len(also) == 1
        assert re.sub(r"<[^>]+>", "", also[0]) == "Also in: Ottawa Citizen, Montreal Gazette"
        assert f'href="/articles/{citizen}"' in also[0] and f'href="/articles/{gazette}"' in also[0]

        article = client.get(f"/articles/{wire}").text
        copies = re.search(r'<section class="story-copies".*?</section>', article, flags=re.S).group(0)
        assert f'href="/articles/{citizen}"' in copies and "Montreal Gazette" in copies

        copy_page = client.get(f"/articles/{gazette}").text
        assert re.search(rf'class="story-copy-of">[^<]*The Canadian Wire[^<]*<a href="/articles/{wire}"', copy_page)

        source_page = client.get(f"/sources/{store.get_article(citizen).source_id}").text
        assert f'id="item-{citizen}"' in source_page  # a source's own page keeps its copies

        api = client.get("/api/v1/articles").json()
        assert {item["id"] for item in api["items"]} == {wire, other}
        with_copies = client.get("/api/v1/articles", params={"copies": "true"}).json()
        assert {item["id"]: item["duplicate_of"] for item in with_copies["items"]}[gazette] == wire
        assert client.get(f"/api/v1/articles/{citizen}").json()["duplicate_of"] == wire


def test_a_fresh_enricher_rebuilt_from_the_database_finds_later_copies(store, sources, syndicated):
    _, (wire, *_), _ = syndicated
    restarted = CopyEnricher(store, clock=clock)
    assert len(restarted.detector) == 4
    late = store.add_source("http://news.test/late/feed.xml", name="Late Herald")
    copy = save(store, restarted, late.id, entry("late", "Ferry vote put off", body(1)[:3],
                                                 T0 + timedelta(hours=2), "Herald staff"))[0]
    assert store.get_article(copy).duplicate_of == wire


def test_rebuild_marks_copies_stored_without_the_enricher(store, sources):
    story = body(3)
    for i, source in enumerate(sources):
        store.save_refresh(source.id, ok(), [entry(f"x{i}", "Bridge closes", story, T0 + timedelta(minutes=i))])
    CopyEnricher(store, clock=clock)
    assert sorted(a.duplicate_of or 0 for a in store.list_articles(include_copies=True).items) == [0, 1, 1]


def test_an_update_that_changes_the_story_unmarks_the_copy(store, sources, syndicated):
    enricher, (wire, citizen, _), _ = syndicated
    result = store.save_refresh(sources[1].id, ok(), [entry("w1", "Something else", body(9), T0 + timedelta(minutes=10))])
    assert result.updated_ids == (citizen,)
    enricher.after_store(store, result.new_ids, result.updated_ids)
    assert store.get_article(citizen).duplicate_of is None


async def test_demo_wire_copies_collapse_through_a_refresh(store, feed_server):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    room = Newsroom(feed_server.base_url, seed=3)
    room.backlog(now, wire_stories=5, own_stories=4)
    added = []
    for paper in room.outlets:
        document, content_type = room.render(paper)
        url = feed_server.add(room.feed_path(paper), document, content_type=content_type)
        added.append(store.add_source(url, name=paper.outlet.name))
    enricher = CopyEnricher(store)
    async with Fetcher(LOOPBACK, read_timeout=2, total_timeout=5) as fetcher:
        async with Refresher(store, fetcher, enrichers=[enricher]) as refresher:
            results = await refresher.refresh_many(added)
    assert all(r.outcome == "fetched" for r in results), results
    everything = store.list_articles(include_copies=True, limit=200).items
    wire_copies = [a for a in everything if a.guid.rsplit("/", 1)[-1].startswith("wire-")]
    by_story: dict[str, set[int | None]] = {}
    for article in wire_copies:
        by_story.setdefault(article.guid.rsplit("/", 1)[-1], set()).add(article.duplicate_of or article.id)
    assert len(by_story) == 5
    assert all(len(canonicals) == 1 for canonicals in by_story.values()), by_story
    assert all(a.duplicate_of is None for a in everything if a not in wire_copies)  # own stories stay
    listed = store.list_articles(limit=200).items
    assert len(listed) == len(everything) - len(wire_copies) + 5


def duplicate_of(store, *ids):
    return {a.id: a.duplicate_of for a in store.get_articles(list(ids))}


def test_removing_the_original_source_hands_its_copies_to_the_earliest_survivor(store, sources, syndicated):
    """The wire's own source goes: its copies elsewhere must not point at nothing (hidden from
    the wire, the API and the feeds). The earliest copy left becomes the original."""
    _, (wire, citizen, gazette), other = syndicated
    store.remove_source(sources[0].id)
    assert duplicate_of(store, citizen, gazette, other) == {citizen: None, gazette: citizen, other: None}
    assert {a.id for a in store.list_articles().items} == {citizen, other}
    assert store.also_in([citizen]) == {citizen: [(gazette, "Montreal Gazette")]}


def test_removing_a_copying_source_leaves_the_original_and_its_other_copies(store, sources, syndicated):
    _, (wire, citizen, gazette), _ = syndicated
    store.remove_source(sources[1].id)
    assert duplicate_of(store, wire, gazette) == {wire: None, gazette: wire}
    assert [a.id for a in store.copies_of(wire)] == [gazette]


def test_a_copy_never_points_at_an_article_that_is_gone(store, sources, syndicated):
    """A running enricher still remembers the removed original; what it writes must not point
    a newcomer at it."""
    enricher, (wire, citizen, _), _ = syndicated
    store.remove_source(sources[0].id)
    late = store.add_source("http://news.test/late/feed.xml", name="Late Herald")
    (copy,) = save(store, enricher, late.id, entry("late", "Ferry vote put off", body(1),
                                                   T0 + timedelta(hours=2), "Herald staff"))
    assert store.get_article(copy).duplicate_of in (None, citizen)


def test_the_rebuild_repairs_copies_whose_original_was_deleted_without_them(store, sources, syndicated):
    """Databases where an original was removed before removal re-pointed its copies: the next
    start's rebuild hands them to the earliest survivor."""
    _, (wire, citizen, gazette), _ = syndicated
    import sqlalchemy as sa

    with store._write() as conn:  # the old removal: the source and its articles, nothing else
        conn.execute(sa.text("DELETE FROM sources WHERE id = :id"), {"id": sources[0].id})
    assert duplicate_of(store, citizen, gazette) == {citizen: wire, gazette: wire}
    CopyEnricher(store, clock=clock)
    assert duplicate_of(store, citizen, gazette) == {citizen: None, gazette: citizen}
