"""The refresh pipeline end to end: a real feed server on 127.0.0.1 → fetch → parse → store,
on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


from sqlalchemy import event

from newswire.enrich.dedupe import prepare_copy_text
from newswire.enrich.stories import lead_of
from newswire.enrich.story_text import LeadText
from newswire.service.prepared import text_key
from newswire.testing import LOOPBACK
from newswire.fetch import Fetcher
from newswire.service.update import Refresher, _Writer
from newswire.testing import samples
from newswire.testing.feedserver import Response

NOW = datetime(2025, 9, 17, 16, 0, tzinfo=timezone.utc)


def outlet_feed(server, i, render=samples.rss, n=5, seed=1, path=None):
    outlet = samples.make_outlets(i + 1, seed=3, base_url=server.base_url)[i]
    articles = samples.make_articles(outlet, n, seed=seed)
    url = server.add(path or f"/{outlet.slug}/feed", render(outlet, articles))
    return outlet, articles, url


async def refresh_all(store, sources, **kwargs):
    async with Fetcher(LOOPBACK, read_timeout=0.5, total_timeout=2) as fetcher:
        async with Refresher(store, fetcher, clock=lambda: NOW, **kwargs) as refresher:
            return await refresher.refresh_many(sources)


async def test_three_formats_are_stored_with_bylines_and_second_pass_is_304(store, feed_server):
    urls = [outlet_feed(feed_server, i, render)[2]
            for i, render in enumerate([samples.rss, samples.atom, samples.json_feed])]
    sources = [store.add_source(u) for u in urls]
    results = await refresh_all(store, sources)
    assert [(r.outcome, r.new) for r in results] == [("fetched", 5)] * 3
    assert store.article_count() == 15
    names = [s.name for s in store.list_sources()]
    assert all(name.startswith("The ") for name in names), names  # taken from the feed title

    again = await refresh_all(store, store.list_sources())
    assert [(r.outcome, r.new, r.updated) for r in again] == [("not-modified", 0, 0)] * 3
    assert store.article_count() == 15
    last = feed_server.hits("/outlet0/feed")[-1]
    assert last.headers.get("if-none-match")


async def test_an_unchanged_pass_costs_statements_per_write_not_per_feed(store, feed_server):
    """All 304: each write of the pass (however many feeds it holds) sends at most a savepoint,
    one UPDATE and its release; no other statement, no transaction without an UPDATE."""
    urls = [outlet_feed(feed_server, i, n=1)[2] for i in range(12)]
    await refresh_all(store, [store.add_source(u) for u in urls])
    sources = store.list_sources()
    statements: list[str] = []
    transactions: list[bool] = []
    listeners = {"before_cursor_execute": lambda conn, cursor, statement, *rest: statements.append(statement.split()[0]),
                 "begin": lambda conn: transactions.append(True)}
    for name, listener in listeners.items():
        event.listen(store._engine, name, listener)
    try:
        again = await refresh_all(store, sources)
    finally:
        for name, listener in listeners.items():
            event.remove(store._engine, name, listener)
    assert [r.outcome for r in again] == ["not-modified"] * 12
    writes = [s for s in statements if s.upper() not in ("BEGIN",)]  # SQLite's BEGIN IMMEDIATE
    assert writes.count("UPDATE") == len(transactions) <= 12  # one each, as many as the writes
    assert len(writes) <= 3 * len(transactions)


async def test_article_keeps_authors_source_and_time(store, feed_server):
    outlet, articles, url = outlet_feed(feed_server, 0, n=1)
    await refresh_all(store, [store.add_source(url)])
    hit = store.search(articles[0].title.split()[-1])[0]
    article = store.get_article(hit.article_id)
    assert article.title == articles[0].title
    assert article.authors == articles[0].authors
    assert article.published_at == articles[0].published
    assert article.source_name == outlet.name
    assert "utm_source" not in article.url


async def test_one_broken_feed_never_stops_the_others(store, feed_server):
    good = [outlet_feed(feed_server, i)[2] for i in range(2)]
    feed_server.add("/html", "<html><body><h1>Not a feed</h1></body></html>", "text/html")
    feed_server.route("/boom", lambda r: Response(500, b"oops"))
    feed_server.route("/slow", lambda r: Response(200, b"<rss/>", delay=3))
    feed_server.route("/missing", lambda r: Response(404, b"no"))
    bad = [feed_server.url(p) for p in ("/html", "/boom", "/slow", "/missing")]
    sources = [store.add_source(u) for u in good + bad]
    results = {r.source_id: r for r in await refresh_all(store, sources)}
    assert store.article_count() == 10
    by_url = {s.feed_url: s for s in store.list_sources()}
    expected = {"/html": "parse-error", "/boom": "http-500", "/slow": "timeout", "/missing": "http-404"}
    for path, reason in expected.items():
        source = by_url[feed_server.url(path)]
        assert results[source.id].outcome == "failed"
        assert (source.last_status, source.consecutive_failures) == (reason, 1)
        assert source.last_error and source.next_due_at > NOW
    assert "HTML" in by_url[feed_server.url("/html")].last_error


async def test_changed_entry_is_updated_in_place(store, feed_server):
    outlet, articles, url = outlet_feed(feed_server, 0, n=3)
    source = store.add_source(url)
    await refresh_all(store, [source])
    edited = [articles[0].__class__(**{**articles[0].__dict__, "title": "Corrected headline"})] + articles[1:]
    feed_server.add(f"/{outlet.slug}/feed", samples.rss(outlet, edited))
    (result,) = await refresh_all(store, [store.get_source(source.id)])
    assert (result.new, result.updated) == (0, 1)
    assert store.article_count() == 3
    assert store.search("corrected")[0].title == "Corrected headline"


async def test_permanent_redirect_moves_the_feed_url_and_temporary_does_not(store, feed_server):
    _, _, target = outlet_feed(feed_server, 0)
    feed_server.route("/moved", lambda r: Response(301, b"", {"Location": target}))
    feed_server.route("/detour", lambda r: Response(302, b"", {"Location": target}))
    moved, detour = store.add_source(feed_server.url("/moved")), store.add_source(feed_server.url("/detour"))
    await refresh_all(store, [moved])
    assert store.get_source(moved.id).feed_url == target
    await refresh_all(store, [detour])
    assert store.get_source(detour.id).feed_url == feed_server.url("/detour")


async def test_gone_disables_and_rate_limit_honours_retry_after(store, feed_server):
    feed_server.route("/gone", lambda r: Response(410, b"gone"))
    feed_server.route("/busy", lambda r: Response(429, b"slow down", {"Retry-After": "7200"}))
    gone, busy = store.add_source(feed_server.url("/gone")), store.add_source(feed_server.url("/busy"))
    await refresh_all(store, [gone, busy])
    gone, busy = store.get_source(gone.id), store.get_source(busy.id)
    assert gone.enabled is False and "disabled" in gone.last_error
    assert busy.last_status == "rate-limited" and busy.next_due_at >= NOW + timedelta(seconds=7200)
    assert [s.id for s in store.due_sources(NOW + timedelta(days=30))] == [busy.id]


async def test_cache_headers_and_ttl_set_the_next_poll(store, feed_server):
    outlet = samples.make_outlets(1, base_url=feed_server.base_url)[0]
    url = feed_server.add("/ttl", samples.rss(outlet, samples.make_articles(outlet, 1), ttl=240))
    source = store.add_source(url, poll_interval=600)
    await refresh_all(store, [source])
    assert store.get_source(source.id).next_due_at == NOW + timedelta(minutes=240)


async def test_parsing_in_worker_processes_gives_the_same_articles(store, feed_server):
    urls = [outlet_feed(feed_server, i)[2] for i in range(3)]
    results = await refresh_all(store, [store.add_source(u) for u in urls], parse_processes=2)
    assert sum(r.new for r in results) == 15 and store.article_count() == 15


async def test_parse_workers_prepare_texts_for_the_steps_that_take_them(store, feed_server):
    """The workers also prepare each text for copy detection and story clustering; a step that
    takes them gets them by the text it reads back from the store, the same as preparing it
    there would give."""
    texts, given = set(), {}

    class Recorder:
        takes_prepared = True

        def after_store(self, store, new_ids, updated_ids, prepared={}):
            texts.update((a.text or a.summary) for a in store.get_articles(new_ids))
            given.update(prepared)

    sources = [store.add_source(outlet_feed(feed_server, i)[2]) for i in range(3)]
    async with Fetcher(LOOPBACK) as fetcher:  # the default timeouts: the workers' first imports take a while
        async with Refresher(store, fetcher, clock=lambda: NOW, parse_processes=2,
                             enrichers=[Recorder()]) as refresher:
            results = await refresher.refresh_many(sources)
    assert sum(r.new for r in results) == 15 and len(texts) == 15
    for text in texts:
        there, here = given[text_key(text)].copy, prepare_copy_text(text)
        assert (there.keys, there.words, there.ends) == (here.keys, here.words, here.ends) and len(here.keys) > 3
        assert (there.grams == here.grams).all()
        every = range(len(here.keys))
        assert (there.shingles(every) == here.shingles(every)).all() and there.signature_of(every, 128) is not None
        lead = LeadText.of(lead_of(text))
        assert given[text_key(text)].lead == lead and len(lead.words) > 3


async def test_enrichers_see_new_and_changed_ids_and_cannot_break_ingest(store, feed_server):
    outlet, articles, url = outlet_feed(feed_server, 0, n=3)
    seen = []

    class Recorder:
        def after_store(self, store, new_ids, updated_ids):
            seen.append((sorted(new_ids), sorted(updated_ids)))

    class Broken:
        def after_store(self, store, new_ids, updated_ids):
            raise RuntimeError("enricher bug")

    source = store.add_source(url)
    async with Fetcher(LOOPBACK) as fetcher:
        async with Refresher(store, fetcher, clock=lambda: NOW, enrichers=[Broken(), Recorder()]) as refresher:
            (result,) = await refresher.refresh_many([source])
            assert result.new == 3
            edited = [articles[0].__class__(**{**articles[0].__dict__, "title": "Edited"})] + articles[1:]
            feed_server.add(f"/{outlet.slug}/feed", samples.rss(outlet, edited))
            await refresher.refresh_many([store.get_source(source.id)])
    ids = sorted(a.id for a in store.list_articles().items)
    edited_id = store.search("edited")[0].article_id
    assert seen == [(ids, []), ([], [edited_id])]


async def test_enrichment_falling_behind_holds_the_writer_and_the_fetchers_back(store, feed_server, monkeypatch):
    """With a step slower than fetching, at most ``MAX_PENDING`` stored batches wait for their
    enrichment (counted from the database: stored articles less those enriched), new refreshes
    wait before fetching (counted from the feed server's requests), and every article stored is
    enriched once. The first batch is held until the writer waits for it: the bound is reached,
    not merely never crossed."""
    monkeypatch.setattr(_Writer, "MAX_BATCH", 1)  # one feed a batch: batches are counted in feeds
    per_feed, feeds = 2, 14
    sources = [store.add_source(outlet_feed(feed_server, i, n=per_feed)[2]) for i in range(feeds)]
    enriched: list[int] = []
    seen: list[tuple[int, int]] = []  # at each batch: (stored and not enriched, feeds fetched and not enriched)
    held: list[bool] = []
    refresher: Refresher

    def held_until(condition) -> bool:  # the deadline only turns a hang into a failure
        deadline = time.monotonic() + 30
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.005)
        return condition()

    class SlowStep:
        def after_store(self, store, new_ids, updated_ids):
            if not enriched:
                limit = _Writer.MAX_PENDING + refresher.in_progress_limit
                held.append(held_until(lambda: refresher._writer.waiting_for_enrichment.is_set()
                                       and len(feed_server.requests) >= limit))
            seen.append((store.article_count() - len(enriched),
                         len(feed_server.requests) - len(enriched) // per_feed))
            enriched.extend(new_ids)

    async with Fetcher(LOOPBACK, concurrency=2) as fetcher:
        async with Refresher(store, fetcher, clock=lambda: NOW, enrichers=[SlowStep()]) as refresher:
            assert refresher.in_progress_limit == 2 + 2 * 1 < feeds - _Writer.MAX_PENDING
            results = await refresher.refresh_many(sources)
    assert held == [True] and all(r.new == per_feed for r in results)
    assert max(stored for stored, _ in seen) == _Writer.MAX_PENDING * per_feed
    assert max(fetched for _, fetched in seen) == _Writer.MAX_PENDING + refresher.in_progress_limit
    assert sorted(enriched) == sorted(a.id for a in store.list_articles(limit=100, include_copies=True).items)
