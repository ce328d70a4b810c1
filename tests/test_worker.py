"""Fetch workers: leases on both engines (SKIP LOCKED on PostgreSQL), one worker step against a
real feed server, and the enrichment follower."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from newswire.testing import LOOPBACK
from newswire.models import Entry, SourceUpdate
from newswire.scheduler import Scheduler
from newswire.service.update import Refresher
from newswire.testing import samples
from newswire.worker import follow_and_enrich

NOW = datetime(2025, 9, 17, 12, 0, tzinfo=timezone.utc)


def add_sources(store, n):
    return [store.add_source(f"http://news.test/{i}/feed.xml") for i in range(n)]


def test_each_due_source_is_leased_to_one_worker_until_saved_or_expired(store):
    sources = add_sources(store, 5)
    a = store.lease_due_sources("worker-a", NOW, limit=3, lease_seconds=60)
    b = store.lease_due_sources("worker-b", NOW, limit=10, lease_seconds=60)
    assert len(a) == 3 and len(b) == 2 and not {s.id for s in a} & {s.id for s in b}
    assert store.lease_due_sources("worker-c", NOW, limit=10) == []
    assert store.due_sources(NOW) == []  # the scheduler leaves leased sources alone too
    # Saving a refresh ends the lease; the source is then due again only by its schedule.
    store.save_refresh(a[0].id, SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW))
    assert [s.id for s in store.lease_due_sources("worker-c", NOW, limit=10)] == [a[0].id]
    # A dead worker's lease expires.
    later = store.lease_due_sources("worker-d", NOW + timedelta(seconds=61), limit=10)
    assert {s.id for s in later} == {s.id for s in sources} - {a[0].id}


def test_postgresql_workers_skip_rows_another_worker_is_claiming(store, database_url):
    if store.dialect != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's")
    add_sources(store, 4)
    locked, release = threading.Event(), threading.Event()
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))

    def claiming_worker() -> None:  # holds row locks on two sources mid-claim
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT id FROM sources ORDER BY id LIMIT 2 FOR UPDATE"))
            locked.set()
            release.wait(10)

    thread = threading.Thread(target=claiming_worker)
    thread.start()
    try:
        assert locked.wait(10)
        got = store.lease_due_sources("worker-b", NOW, limit=10)  # does not wait for the locks
        assert [s.id for s in got] == [s.id for s in store.list_sources()][2:]
    finally:
        release.set()
        thread.join()
        engine.dispose()


async def test_a_worker_step_claims_refreshes_and_releases(store, feed_server):
    outlet = samples.make_outlets(1, base_url=feed_server.base_url)[0]
    url = feed_server.add("/feed", samples.rss(outlet, samples.make_articles(outlet, 4)))
    source = store.add_source(url)

    def pick(now, room):
        return store.lease_due_sources("worker-a", now, limit=room)

    async with Refresher(store, settings=LOOPBACK) as refresher:
        results = await Scheduler(store, refresher, pick=pick, clock=lambda: NOW).step()
    assert [(r.outcome, r.new) for r in results] == [("fetched", 4)]
    with store._read() as conn:
        lease = conn.execute(sa.text("SELECT lease_owner, lease_until FROM sources WHERE id = :i"),
                             {"i": source.id}).one()
    assert tuple(lease) == (None, None)


async def test_the_follower_enriches_what_any_worker_stored(store):
    source_a, source_b = add_sources(store, 2)
    body = " ".join(f"word{i}" for i in range(120))
    recent = datetime.now(timezone.utc) - timedelta(hours=1)  # the indexes keep a window up to now
    entry = lambda guid, minutes: samples_entry(guid, body, recent + timedelta(minutes=minutes))  # noqa: E731
    stop = asyncio.Event()
    follower = asyncio.create_task(follow_and_enrich(store, stop, poll=0.05))
    await asyncio.sleep(0.2)
    store.save_refresh(source_a.id, SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW), [entry("a", 0)])
    store.save_refresh(source_b.id, SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW), [entry("b", 5)])
    for _ in range(200):
        articles = store.list_articles(include_copies=True).items
        if any(a.duplicate_of for a in articles) and all(a.story_id for a in articles):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await follower
    by_guid = {a.guid: a for a in store.list_articles(include_copies=True).items}
    assert by_guid["b"].duplicate_of == by_guid["a"].id
    assert by_guid["a"].story_id and by_guid["a"].story_id == by_guid["b"].story_id


def samples_entry(guid, text, published):
    from newswire.models import Entry

    return Entry(guid=guid, url=None, title=f"Harbour council story {guid}", published=published,
                 content_html=f"<p>{text}</p>", text=text, snippet=text[:100])


def test_the_next_due_time_waits_for_a_live_lease(store):
    """While a worker holds an overdue source, idle workers sleep until its lease expires (or
    another source is due), instead of waking every second to find nothing to claim."""
    held, later = add_sources(store, 2)
    store.save_refresh(later.id, SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW + timedelta(minutes=30)))
    assert store.next_due_at() == datetime.min.replace(tzinfo=timezone.utc)  # never fetched: due now
    assert [s.id for s in store.lease_due_sources("worker-a", NOW, lease_seconds=600)] == [held.id]
    assert store.next_due_at() == NOW + timedelta(seconds=600)  # claimable when the lease expires
    overdue = SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW - timedelta(minutes=5))
    store.save_refresh(held.id, overdue)  # saving ends the lease
    assert store.next_due_at() == NOW - timedelta(minutes=5)
    store.lease_due_sources("worker-a", NOW, lease_seconds=3600)
    assert store.next_due_at() == NOW + timedelta(minutes=30)  # the other source comes first


def test_postgresql_workers_writing_the_same_new_author_do_not_deadlock(store, database_url):
    """Two workers storing articles by the same new authors each create the author rows. Created
    inside each worker's write, in the order the articles came, one write could hold "Yannick"
    and wait for "Xavier" while the other held "Xavier" and waited for "Yannick": PostgreSQL
    broke the deadlock by failing a refresh (a storage-error, the source backed off). Here the
    other worker is a transaction that creates "Xavier", waits until this write is blocked on
    it, then creates "Yannick"."""
    if store.dialect != "postgresql":
        pytest.skip("concurrent writers are PostgreSQL's")
    from newswire.store.articles import author_key

    first, second = add_sources(store, 2)
    update = SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW)
    by = lambda guid, author: Entry(guid=guid, url=None, title=guid, authors=(author,), published=NOW)  # noqa: E731
    batch = [(first.id, update, [by("y", "Yannick Young")]), (second.id, update, [by("x", "Xavier Xu")])]
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    create = sa.text("INSERT INTO authors (name, key) VALUES (:n, :k) ON CONFLICT (key) DO NOTHING")
    results: list = []
    try:
        with engine.connect() as other:
            transaction = other.begin()
            other.execute(sa.text("SET LOCAL lock_timeout = '20s'"))  # no hang, whatever happens
            other.execute(create, {"n": "Xavier Xu", "k": author_key("Xavier Xu")})
            writer = threading.Thread(target=lambda: results.extend(store.save_refreshes(batch)))
            writer.start()
            waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                              "AND wait_event_type = 'Lock'")
            for _ in range(200):  # until the write waits for "Xavier"
                if other.execute(waiting).scalar():
                    break
                threading.Event().wait(0.05)
            other.execute(create, {"n": "Yannick Young", "k": author_key("Yannick Young")})
            transaction.commit()
            writer.join(30)
    finally:
        engine.dispose()
    assert [type(r).__name__ for r in results] == ["StoreResult", "StoreResult"]
    assert sorted(a.authors for a in store.list_articles().items) == [("Xavier Xu",), ("Yannick Young",)]


async def test_the_follower_enriches_what_is_stored_while_it_rebuilds(store, monkeypatch):
    """The follower's steps rebuild from the database, then it starts following. An article stored
    after a step read the database, but before the follower's first look, was taken as covered
    by the rebuild and never enriched (the enrich worker started beside busy workers)."""
    from newswire import worker

    source = add_sources(store, 1)[0]
    body = " ".join(f"word{i}" for i in range(120))
    recent = datetime.now(timezone.utc) - timedelta(hours=1)
    update = SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW)
    store.save_refresh(source.id, update, [samples_entry("before", body, recent)])

    class StoredDuringRebuild:  # another worker's write lands just after the last step's rebuild
        def __init__(self, step):
            self.step = step

        def prepare(self, store):
            self.step.prepare(store)
            if self is wrapped[-1]:
                store.save_refresh(source.id, update, [samples_entry("during", "other " + body, recent)])

        def after_store(self, store, new_ids, updated_ids):
            self.step.after_store(store, new_ids, updated_ids)

    wrapped = [StoredDuringRebuild(step) for step in worker.index_enrichers()]
    monkeypatch.setattr(worker, "index_enrichers", lambda: wrapped)
    stop = asyncio.Event()
    follower = asyncio.create_task(follow_and_enrich(store, stop, poll=0.05))
    for _ in range(100):
        articles = store.list_articles(include_copies=True).items
        if len(articles) == 2 and all(a.story_id for a in articles):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await follower
    assert {a.guid: bool(a.story_id) for a in store.list_articles(include_copies=True).items} == \
        {"before": True, "during": True}


def test_extraction_jobs_are_claimed_by_one_process_until_saved_or_expired(store):
    """Workers claim pages as they claim sources: a claimed job is nobody else's until its
    outcome is saved or its claim expires (its claimer died)."""
    source = add_sources(store, 1)[0]
    entries = [Entry(guid=f"g{i}", url=f"http://news.test/{i}.html", title=f"t{i}", published=NOW) for i in range(5)]
    store.save_refresh(source.id, SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW), entries)
    ids = [a.id for a in store.list_articles().items]
    store.mark_extraction_pending(ids, NOW)
    a = store.claim_extractions(NOW, limit=3, lease_seconds=60)
    b = store.claim_extractions(NOW, limit=10, lease_seconds=60)
    assert len(a) == 3 and len(b) == 2 and not {j.article_id for j in a} & {j.article_id for j in b}
    assert store.claim_extractions(NOW, limit=10) == []
    store.save_extraction(a[0].article_id, "<p>page</p>", "page")
    store.save_extraction_failure(a[1].article_id, "fetch: timed out", 1, NOW + timedelta(minutes=5))
    later = store.claim_extractions(NOW + timedelta(seconds=61), limit=10)  # a[2] and b's: claims expired
    assert {j.article_id for j in later} == set(ids) - {a[0].article_id, a[1].article_id}


def test_the_enricher_lock_is_one_processs_and_freed_when_its_connection_dies(store, database_url):
    """The --enrich role: one holder at a time; the next one gets it when the holder lets go or
    its connection (the process) dies."""
    from newswire.store import Store

    other = Store(database_url, migrate=False)
    try:
        first, second = store.role_lock("enricher"), other.role_lock("enricher")
        assert first.try_acquire() and first.held()
        assert not second.try_acquire() and not second.held()
        assert other.role_lock("something-else").try_acquire()
        first.release()
        assert second.try_acquire() and second.held()
        if store.dialect == "postgresql":  # the holder's session ends as a killed process's does
            with store._read() as conn:
                conn.execute(sa.text(  # only this database's: the server is shared (a soak, other tests)
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid <> pg_backend_pid() "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))
            assert not second.held()
            assert first.try_acquire()
            first.release()
    finally:
        other.close()


def test_the_write_that_stores_a_teaser_marks_it(store):
    """A teaser (or a full-text source's article) is written pending extraction by the write
    that stores it: no step after the commit, which a SIGKILL could skip with no --enrich
    worker to catch up, decides it. Updates and articles without a URL are left alone."""
    from newswire.enrich.extract import looks_like_teaser

    plain, full = store.add_source("http://news.test/plain.xml"), store.add_source("http://news.test/full.xml",
                                                                                   full_text=True)
    ok = SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW)
    long_text = "The council voted on the budget. " * 60

    def entry(guid, text, url="http://news.test/{}.html"):
        return Entry(guid=guid, url=url.format(guid) if url else None, title=f"Story {guid}", published=NOW,
                     text=text, content_html=f"<p>{text}</p>", snippet=text[:80])

    store.save_refresh(plain.id, ok, [entry("teaser", "The council voted…"), entry("whole", long_text),
                                      entry("nourl", "The council voted…", url=None)], teaser=looks_like_teaser)
    store.save_refresh(full.id, ok, [entry("always", long_text)])  # a full-text source's: no test needed

    def statuses():
        with store._read() as conn:
            return dict(conn.execute(sa.text("SELECT guid, extraction_status FROM articles")).all())

    assert statuses() == {"teaser": "pending", "whole": None, "nourl": None, "always": "pending"}
    assert {j.url for j in store.claim_extractions(NOW, limit=10)} == {"http://news.test/teaser.html",
                                                                      "http://news.test/always.html"}
    store.save_refresh(plain.id, ok, [entry("whole", "Now it reads like a teaser…")], teaser=looks_like_teaser)
    assert statuses()["whole"] is None  # an update is left as it is


async def test_the_follower_takes_the_texts_its_own_process_prepared(store, feed_server, monkeypatch):
    """``run`` and ``worker --enrich`` enrich by following the articles table. The texts their
    own parse workers prepared reach the follower through the ``Handoff``, put there by the
    writer: it neither splits nor tokenises them again on the thread that shares the GIL with
    the event loop, and it looks as soon as a batch is stored, not at its next poll."""
    from newswire.enrich import dedupe, story_text
    from newswire.service.prepared import Handoff

    recent = datetime.now(timezone.utc) - timedelta(hours=2)  # in the indexes' windows
    sources = []
    for outlet in samples.make_outlets(2, base_url=feed_server.base_url, seed=3):
        articles = samples.make_articles(outlet, 5, seed=4, start=recent)
        sources.append(store.add_source(feed_server.add(f"/{outlet.slug}/feed.xml", samples.rss(outlet, articles))))
    again: list[str] = []
    make_copy_text, make_lead = dedupe.prepare_copy_text, story_text.LeadText.of.__func__

    def lead_of(cls, lead, *, with_words=True):
        if not with_words:  # the steps' own preparation; the parse workers' asks for the words
            again.append(lead[:20])
        return make_lead(cls, lead, with_words=with_words)

    monkeypatch.setattr(dedupe, "prepare_copy_text", lambda *a, **k: again.append("copy") or make_copy_text(*a, **k))
    monkeypatch.setattr(story_text.LeadText, "of", classmethod(lead_of))
    handoff = Handoff()
    stop = asyncio.Event()
    follower = asyncio.create_task(follow_and_enrich(store, stop, poll=60, handoff=handoff))
    while not handoff.wanted:  # listening once its steps are built
        await asyncio.sleep(0.01)
    async with Refresher(store, settings=LOOPBACK, handoff=handoff) as refresher:
        results = await refresher.refresh_many(sources)
    assert [r.new for r in results] == [5, 5]
    for _ in range(400):  # woken by the write: well before the 60 s poll
        stored = store.list_articles(include_copies=True).items
        if len(stored) == 10 and all(a.story_id for a in stored):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await follower
    assert len(stored) == 10 and all(a.story_id for a in stored)
    assert again == []
    assert not handoff.wanted and len(handoff) == 0  # the follower gone, nothing is kept


async def test_the_follower_takes_what_was_stored_in_looks_of_its_batch_not_of_a_page(store, monkeypatch):
    """A look takes up to ``FOLLOW_BATCH`` new articles. It read them as a page of the wire,
    which holds 200 at most: a full batch never came back, so the follower took each 200 for
    the end, and waited its poll (2 s) before the next: ``run`` enriched 100 articles a second
    after a burst (``bench/follow.py``)."""
    from newswire import worker

    source = add_sources(store, 1)[0]
    recent = datetime.now(timezone.utc) - timedelta(hours=1)
    looks: list[int] = []

    class Counted:
        def __init__(self, step):
            self.step = step

        def prepare(self, store):
            self.step.prepare(store)

        def after_store(self, store, new_ids, updated_ids):
            if self is wrapped[0]:
                looks.append(len(new_ids))
            self.step.after_store(store, new_ids, updated_ids)

    wrapped = [Counted(step) for step in worker.index_enrichers()]
    monkeypatch.setattr(worker, "index_enrichers", lambda: wrapped)
    stop = asyncio.Event()
    follower = asyncio.create_task(follow_and_enrich(store, stop, poll=0.05))
    await asyncio.sleep(0.3)  # built, and looking
    entries = [samples_entry(f"g{i}", f"word{i} " * 40, recent + timedelta(seconds=i)) for i in range(450)]
    store.save_refresh(source.id, SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW), entries)
    for _ in range(400):
        if sum(looks) >= 450:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await follower
    assert looks == [450]
