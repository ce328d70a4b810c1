"""Full text for teaser feeds, end to end against a real server on 127.0.0.1: marking new
articles, fetching and extracting their pages, teaser detection, failures with backoff, the
address guard, the extraction loop, the ``newswire extract`` command and the article page.
Time is driven by an injected ``now``; nothing sleeps on purpose."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
from typer.testing import CliRunner

from newswire.testing import LOOPBACK
from newswire.cli import app as cli_app
from newswire.fetch import Fetcher
from newswire.service.enrichment import index_enrichers
from newswire.service.fulltext import MAX_ATTEMPTS, extract_due, retry_delay, run_extraction
from newswire.service.update import Refresher
from newswire.store import Store
from newswire.testing import samples
from newswire.testing.feedserver import Response
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app

NOW = datetime(2025, 9, 17, 16, 0, tzinfo=timezone.utc)


def publish(server, *, n=3, seed=1, teaser=False, pages=True, outlet_index=0):
    """A feed of ``n`` articles and, with ``pages``, each article's page. ``teaser``: the feed
    gives only a first sentence ending in "…"."""
    outlet = samples.make_outlets(outlet_index + 1, seed=3, base_url=server.base_url)[outlet_index]
    articles = samples.make_articles(outlet, n, seed=seed, body_bytes=3000)
    if pages:
        for a in articles:
            server.add(_path(a.url), samples.article_page(a, outlet), "text/html; charset=utf-8")
    in_feed = [replace(a, content_html=f"<p>{a.summary.split('.')[0]}…</p>", summary=a.summary.split(".")[0] + "…")
               for a in articles] if teaser else articles
    url = server.add(f"/{outlet.slug}/feed", samples.rss(outlet, in_feed))
    return outlet, articles, url


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3].split("?")[0]


async def refresh(store, sources, enrichers=None):
    async with Fetcher(LOOPBACK, read_timeout=1, total_timeout=3) as fetcher:
        async with Refresher(store, fetcher, clock=lambda: NOW,
                             enrichers=enrichers or []) as r:
            return await r.refresh_many(sources)


async def extract(store, now=NOW, **fetcher_options):
    options = dict(settings=LOOPBACK, read_timeout=1, total_timeout=3) | fetcher_options
    async with Fetcher(**options) as fetcher:
        return await extract_due(store, fetcher, now=now, limit=50, concurrency=4)


def first_paragraph(article) -> str:
    return article.content_html.split("<p>")[1].split(".")[0]


def stored(store, source_id):
    items = store.list_articles(source_id=source_id, limit=200).items
    return store.get_articles([a.id for a in items])


async def test_full_text_source_gets_its_pages_fetched_and_stored(store, feed_server):
    _, articles, url = publish(feed_server)
    source = store.add_source(url, full_text=True)
    await refresh(store, [source])
    assert {a.extraction_status for a in stored(store, source.id)} == {"pending"}

    summary = await extract(store)
    assert (summary.done, summary.failed, summary.retrying) == (3, 0, 0)
    by_title = {a.title: a for a in stored(store, source.id)}
    for sample in articles:
        article = by_title[sample.title]
        assert article.extraction_status == "done"
        assert first_paragraph(sample) in article.page_html
        assert "All rights reserved" not in article.page_html and "MARKER" not in article.page_html
        assert article.content_html  # the feed's text is kept beside it
    pages = [r for r in feed_server.requests if "/articles/" in r.path]
    assert len(pages) == 3 and all("text/html" in r.headers["accept"] for r in pages)
    assert (await extract(store, NOW + timedelta(days=1))).attempted == 0  # done is done


async def test_articles_refreshed_with_the_copy_and_story_steps_are_marked_for_full_text(store, feed_server):
    _, _, url = publish(feed_server, n=2)
    source = store.add_source(url, full_text=True)
    await refresh(store, [source], enrichers=index_enrichers())
    assert {a.extraction_status for a in stored(store, source.id)} == {"pending"}


async def test_other_sources_articles_are_not_fetched(store, feed_server):
    _, _, url = publish(feed_server)
    source = store.add_source(url)
    await refresh(store, [source])
    assert {a.extraction_status for a in stored(store, source.id)} == {None}
    assert (await extract(store, NOW + timedelta(days=1))).attempted == 0


async def test_teaser_feed_is_detected_and_the_source_switched_to_full_text(store, feed_server):
    outlet, articles, url = publish(feed_server, teaser=True)
    source = store.add_source(url)
    await refresh(store, [source])
    assert {a.extraction_status for a in stored(store, source.id)} == {"pending"}  # looks like a teaser
    summary = await extract(store)
    assert summary.done == 3 and summary.teaser_sources == {source.id}
    assert store.get_source(source.id).full_text is True

    # Later articles are fetched because of the switch, whatever their text looks like.
    more = samples.make_articles(outlet, 1, seed=9, body_bytes=3000)
    feed_server.add(_path(more[0].url), samples.article_page(more[0], outlet), "text/html")
    feed_server.add(f"/{outlet.slug}/feed", samples.rss(outlet, more + articles))
    await refresh(store, [store.get_source(source.id)])
    fresh = [a for a in stored(store, source.id) if a.title == more[0].title]
    assert fresh[0].extraction_status == "pending"


async def test_page_fills_author_and_date_only_where_the_feed_had_none(store, feed_server):
    outlet = samples.make_outlets(1, seed=3, base_url=feed_server.base_url)[0]
    with_byline, bare = samples.make_articles(outlet, 2, seed=4, body_bytes=3000)
    for a in (with_byline, bare):
        feed_server.add(_path(a.url), samples.article_page(a, outlet), "text/html")
    items = (f"<item><title>{with_byline.title}</title><link>{with_byline.url}</link><guid>{with_byline.guid}</guid>"
             f"<dc:creator>Feed Byline</dc:creator><pubDate>{format_datetime(NOW - timedelta(hours=1))}</pubDate>"
             f"<description>Teaser one…</description></item>"
             f"<item><title>{bare.title}</title><link>{bare.url}</link><guid>{bare.guid}</guid>"
             f"<description>Teaser two…</description></item>")
    feed = ('<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{outlet.name}</title><link>{outlet.site_url}</link>{items}</channel></rss>")
    source = store.add_source(feed_server.add("/bare/feed", feed), full_text=True)
    await refresh(store, [source])
    assert (await extract(store)).done == 2
    by_title = {a.title: a for a in stored(store, source.id)}
    kept = by_title[with_byline.title]
    assert kept.authors == ("Feed Byline",) and kept.published_at == NOW - timedelta(hours=1)
    filled = by_title[bare.title]
    assert filled.authors == bare.authors
    assert filled.published_at == bare.published and not filled.published_estimated
    assert [a.id for a in store.list_articles(author=bare.authors[0]).items] == [filled.id]


async def test_a_page_date_in_the_future_does_not_replace_the_estimate(store, feed_server):
    outlet = samples.make_outlets(1, seed=3, base_url=feed_server.base_url)[0]
    (bare,) = samples.make_articles(outlet, 1, seed=6, body_bytes=3000)
    far = replace(bare, published=NOW + timedelta(days=30))  # after it was first seen: impossible
    feed_server.add(_path(bare.url), samples.article_page(far, outlet), "text/html")
    feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{outlet.name}</title>'
            f"<item><title>{bare.title}</title><link>{bare.url}</link><guid>{bare.guid}</guid>"
            f"<description>Teaser…</description></item></channel></rss>")
    source = store.add_source(feed_server.add("/far/feed", feed), full_text=True)
    await refresh(store, [source])
    assert (await extract(store)).done == 1
    (article,) = stored(store, source.id)
    assert article.published_estimated and article.published_at.year == NOW.year


def _failing_routes(server):
    outlet = samples.make_outlets(1, seed=3, base_url=server.base_url)[0]
    articles = samples.make_articles(outlet, 5, seed=5, body_bytes=3000)
    missing, slow, pdf, big, empty = articles
    server.add(_path(slow.url), "", "text/html")
    server.route(_path(slow.url), lambda r: Response(200, samples.article_page(slow, outlet).encode(),
                                                     {"Content-Type": "text/html"}, delay=1.0))
    server.add(_path(pdf.url), b"%PDF-1.4 fictional", "application/pdf")
    server.add(_path(big.url), samples.article_page(big, outlet) + "<!--" + "x" * 300_000 + "-->", "text/html")
    server.add(_path(empty.url), "<html><body><nav>Home</nav><p>Nothing here.</p></body></html>", "text/html")
    url = server.add(f"/{outlet.slug}/feed", samples.rss(outlet, articles))
    return url, {"missing": missing, "slow": slow, "pdf": pdf, "big": big, "empty": empty}


async def test_failures_record_why_keep_the_feed_text_back_off_and_end_failed(store, feed_server):
    url, cases = _failing_routes(feed_server)
    source = store.add_source(url, full_text=True)
    await refresh(store, [source])
    options = dict(total_timeout=0.3, read_timeout=0.3, max_bytes=200_000)

    now = NOW
    expected_reasons = {"http-404", "timeout", "not-html", "too-large", "no-main-text"}
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert (await extract(store, now - timedelta(seconds=1), **options)).attempted == 0  # not due yet
        summary = await extract(store, now, **options)
        assert set(summary.reasons) == expected_reasons
        if attempt < MAX_ATTEMPTS:
            assert (summary.retrying, summary.failed) == (5, 0)
        else:
            assert (summary.retrying, summary.failed) == (0, 5)
        now += retry_delay(attempt)

    articles = {a.title: a for a in stored(store, source.id)}
    for case, sample in cases.items():
        article = articles[sample.title]
        assert article.extraction_status == "failed", case
        assert article.page_html == "" and first_paragraph(sample) in article.content_html
    assert (await extract(store, now + timedelta(days=30), **options)).attempted == 0
    assert len(feed_server.hits(_path(cases["missing"].url))) == MAX_ATTEMPTS


async def test_failure_is_recorded_in_words_with_attempts_and_due_time(store, feed_server):
    url, cases = _failing_routes(feed_server)
    source = store.add_source(url, full_text=True)
    await refresh(store, [source])
    await extract(store, NOW, total_timeout=0.3, read_timeout=0.3, max_bytes=200_000)
    import sqlalchemy as sa

    from newswire.store.tables import articles as table
    with store._engine.connect() as conn:
        rows = {r.url: r for r in conn.execute(sa.select(table))}
    missing = next(r for u, r in rows.items() if _path(cases["missing"].url) in u)
    pdf = next(r for u, r in rows.items() if _path(cases["pdf"].url) in u)
    assert "404" in missing.extraction_error and missing.extraction_attempts == 1
    assert missing.extraction_due_at == NOW + timedelta(minutes=5)
    assert "application/pdf" in pdf.extraction_error and "not an HTML page" in pdf.extraction_error


async def test_page_on_a_private_address_is_refused_by_the_guard(store, feed_server):
    _, _, url = publish(feed_server, n=1)
    source = store.add_source(url, full_text=True)
    await refresh(store, [source])
    summary = await extract(store, allow_private_addresses=False)
    assert summary.reasons == {"blocked-address": 1}
    assert not [r for r in feed_server.requests if "/articles/" in r.path]


async def test_failing_extraction_never_stops_ingest(store, feed_server):
    _, articles, url = publish(feed_server, pages=False)  # every page is a 404
    source = store.add_source(url, full_text=True)

    class Broken:
        def after_store(self, store, new_ids, updated_ids):
            raise RuntimeError("enricher exploded")

    results = await refresh(store, [source], enrichers=[Broken()])
    assert results[0].outcome == "fetched" and store.article_count(source.id) == 3
    assert (await extract(store)).reasons == {"http-404": 3}
    assert store.article_count(source.id) == 3


async def test_extraction_loop_runs_until_stopped(store, feed_server):
    _, _, url = publish(feed_server, n=2)
    source = store.add_source(url, full_text=True)
    await refresh(store, [source])
    stop = asyncio.Event()
    async with Fetcher(LOOPBACK, read_timeout=1, total_timeout=3) as fetcher:
        task = asyncio.create_task(run_extraction(store, stop, fetcher=fetcher, clock=lambda: NOW))
        for _ in range(200):
            if {a.extraction_status for a in stored(store, source.id)} == {"done"}:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert {a.extraction_status for a in stored(store, source.id)} == {"done"}


def test_extract_command_reextracts_with_a_summary(sqlite_url, feed_server):
    _, _, url = publish(feed_server, n=3)
    _, _, other = publish(feed_server, n=2, pages=False, outlet_index=1)
    with Store(sqlite_url) as store:
        first, second = store.add_source(url), store.add_source(other)
        asyncio.run(refresh(store, [first, second]))
    runner = CliRunner(env={"COLUMNS": "200"})
    result = runner.invoke(cli_app, ["extract", "--source", str(first.id), "--database", sqlite_url],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "done: 3  failed: 0" in result.output
    result = runner.invoke(cli_app, ["extract", "--source", str(second.id), "--database", sqlite_url],
                           catch_exceptions=False)
    assert "done: 0  failed: 2 (http-404: 2)" in result.output
    result = runner.invoke(cli_app, ["extract", "--source", "999", "--database", sqlite_url])
    assert result.exit_code == 1 and "no source 999" in result.output
    with Store(sqlite_url) as store:
        statuses = {a.extraction_status for a in stored(store, first.id)}
    assert statuses == {"done"}


async def test_article_page_shows_the_page_text(store, feed_server):
    _, articles, url = publish(feed_server, n=1)
    source = store.add_source(url, full_text=True)
    await refresh(store, [source])
    await extract(store)
    article = stored(store, source.id)[0]
    with WebServer(create_app(store, LOOPBACK)) as web:
        async with httpx.AsyncClient(base_url=web.base_url) as client:
            page = (await client.get(f"/articles/{article.id}")).text
    assert "Full text from the publisher&#39;s page" in page or "Full text from the publisher's page" in page
    body = page.split('class="story-body"')[1].split("</div>")[0]
    assert article.page_html[:200] in body
