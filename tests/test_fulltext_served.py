"""Extracted page text is searched and served, on both engines, against a real teaser feed and
its pages on 127.0.0.1: a teaser is found by its title as soon as it is stored, by the words of
its page once the page is extracted (and not by words past the indexed prefix); the API's
``content_html`` and the feeds out carry the page's text, with ``content_source`` saying so."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import httpx
import sqlalchemy as sa
from alembic import command

from newswire.store import Store
from newswire.store.engine import alembic_config, create_engine
from newswire.store.search import PAGE_INDEX_CHARS
from newswire.testing import LOOPBACK, samples
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from test_fulltext import _path, extract, refresh, stored

PAGE_WORD = "quillframe"  # only on the page, in its second paragraph
FAR_WORD = "zephyrquank"  # only on the page, past the indexed prefix
FILLER = "The harbour board met again on Tuesday to discuss the ferry timetable. "


def publish_teasers(server, n: int = 2):
    """A feed whose items are one sentence and "…", and each item's page: the feed's sentence,
    a paragraph with ``PAGE_WORD``, filler past ``PAGE_INDEX_CHARS``, then ``FAR_WORD``."""
    outlet = samples.make_outlets(1, seed=5, base_url=server.base_url)[0]
    articles = samples.make_articles(outlet, n, seed=7, body_bytes=1500)
    filler = "".join(f"<p>{i} {FILLER * 20}</p>" for i in range(PAGE_INDEX_CHARS // (len(FILLER) * 20) + 2))
    for a in articles:
        lede = a.summary.split(".")[0]
        body = f"<p>{lede}.</p><p>The {PAGE_WORD} was found at the pier.</p>{filler}<p>Last, the {FAR_WORD}.</p>"
        server.add(_path(a.url), samples.article_page(a, outlet, body_html=body), "text/html; charset=utf-8")
    teasers = [replace(a, content_html=f"<p>{a.summary.split('.')[0]}…</p>", summary=a.summary.split(".")[0] + "…")
               for a in articles]
    return articles, server.add(f"/{outlet.slug}/feed", samples.rss(outlet, teasers))


async def test_a_teaser_is_found_by_its_title_at_once_and_by_its_page_once_extracted(store, feed_server):
    articles, url = publish_teasers(feed_server)
    source = store.add_source(url)
    await refresh(store, [source])
    title_word = articles[0].title.split()[0]
    assert store.search(title_word, limit=10), "found as soon as it is stored"
    assert store.search(PAGE_WORD, limit=10) == []
    assert (await extract(store)).done == 2

    hits = store.search(PAGE_WORD, limit=10)
    assert len(hits) == 2 and all(f"<mark>{PAGE_WORD}</mark>" in hit.snippet for hit in hits), hits
    assert len(store.search(PAGE_WORD, limit=10, order="newest")) == 2
    assert len(store.list_articles(query=PAGE_WORD).items) == 2
    assert len(store.list_articles(query=PAGE_WORD[:5] + "*").items) == 2  # a prefix too
    assert store.search(FAR_WORD, limit=10) == []  # past the indexed prefix
    assert all(FAR_WORD in a.page_html for a in stored(store, source.id))  # but served whole
    assert store.search(title_word, limit=10)  # the title still finds it

    # A page extracted again is indexed again: the old words go, the new ones come.
    article = stored(store, source.id)[0]
    store.save_extraction(article.id, "<p>A new lighthouse keeper.</p>", "A new lighthouse keeper.")
    assert [h.article_id for h in store.search("lighthouse", limit=10)] == [article.id]
    assert len(store.search(PAGE_WORD, limit=10)) == 1


async def test_the_api_and_the_feeds_out_carry_the_page_text(store, feed_server):
    articles, url = publish_teasers(feed_server, n=1)
    teaser_source = store.add_source(url)
    outlet = samples.make_outlets(2, seed=5, base_url=feed_server.base_url)[1]
    full = samples.make_articles(outlet, 1, seed=8, body_bytes=1500)
    full_source = store.add_source(feed_server.add(f"/{outlet.slug}/feed", samples.rss(outlet, full)))
    await refresh(store, [teaser_source, full_source])
    teaser_before = stored(store, teaser_source.id)[0]
    await extract(store)
    teaser, whole = stored(store, teaser_source.id)[0], stored(store, full_source.id)[0]
    assert teaser.page_html and not whole.page_html

    with WebServer(create_app(store, LOOPBACK)) as web:
        async with httpx.AsyncClient(base_url=web.base_url, timeout=20) as client:
            one = (await client.get(f"/api/v1/articles/{teaser.id}")).json()
            other = (await client.get(f"/api/v1/articles/{whole.id}")).json()
            found = (await client.get("/api/v1/articles", params={"q": PAGE_WORD})).json()
            atom = (await client.get("/feed.atom")).text
            rss = (await client.get("/feed.rss")).text
            feed = json.loads((await client.get("/feed.json")).text)
            newest = (await client.get("/search", params={"q": PAGE_WORD})).text
            best = (await client.get("/search", params={"q": PAGE_WORD, "order": "rank"})).text
    assert one["content_html"] == teaser.page_html and one["content_source"] == "page"
    assert other["content_html"] == whole.content_html and other["content_source"] == "feed"
    assert one["summary"] == teaser_before.summary  # the other fields are the feed's, as before
    assert [item["id"] for item in found["items"]] == [teaser.id]
    assert PAGE_WORD in atom and PAGE_WORD in rss and FAR_WORD in atom
    by_title = {item["title"]: item for item in feed["items"]}
    assert PAGE_WORD in by_title[teaser.title]["content_html"]
    assert by_title[teaser.title]["_newswire"]["content_source"] == "page"
    assert by_title[whole.title]["_newswire"]["content_source"] == "feed"
    assert f"/articles/{teaser.id}" in newest and f"/articles/{whole.id}" not in newest
    assert f"<mark>{PAGE_WORD}</mark>" in best  # the page's snippet shows why it matched


def test_the_upgrade_indexes_pages_extracted_before_it(database_url):
    """A database at 0014 with a page already extracted: after the upgrade it is found by it."""
    from newswire.models import Entry, SourceUpdate
    from datetime import datetime, timezone

    url = database_url
    now = datetime(2025, 9, 17, tzinfo=timezone.utc)
    with Store(url) as store:
        source = store.add_source("http://example.test/feed")
        store.save_refresh(source.id, SourceUpdate(fetched_at=now, status="ok", next_due_at=now),
                           [Entry(guid="a", url="http://example.test/a", title="Ferry news", published=now,
                                  text="The ferry…")])
        article_id = store.list_articles().items[0].id
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0014")
            conn.execute(sa.text("UPDATE articles SET page_text = :t, page_html = :h WHERE id = :i"),
                         {"t": f"The {PAGE_WORD} sailed.", "h": f"<p>The {PAGE_WORD} sailed.</p>", "i": article_id})
    finally:
        engine.dispose()
    with Store(url) as store:  # opening upgrades
        assert [h.article_id for h in store.search(PAGE_WORD)] == [article_id]
        store.remove_source(source.id)  # the delete trigger hands FTS5 what it indexed
        assert store.search(PAGE_WORD) == [] and store.search("ferry") == []



async def test_a_feed_out_whose_item_gains_its_page_text_is_no_longer_not_modified(store, feed_server):
    """A client polling a feed out with the validators of its last copy gets the feed again
    once an item's page text is stored (Last-Modified moves, not only the ETag), while the
    item's ``updated`` as readers see it stays the feed's."""
    _, url = publish_teasers(feed_server, n=1)
    source = store.add_source(url)
    await refresh(store, [source])  # first seen at test_fulltext.NOW, in the past
    teaser = stored(store, source.id)[0]

    def shown_updated(feed_json: str, api: dict) -> tuple[str, str | None]:
        return json.loads(feed_json)["items"][0]["date_modified"], api["updated_at"]

    with WebServer(create_app(store, LOOPBACK)) as web:
        async with httpx.AsyncClient(base_url=web.base_url, timeout=20) as client:
            before = {fmt: await client.get(f"/feed.{fmt}") for fmt in ("atom", "rss", "json")}
            updated_before = shown_updated(before["json"].text, (await client.get(f"/api/v1/articles/{teaser.id}")).json())
            for fmt, response in before.items():
                assert response.status_code == 200 and PAGE_WORD not in response.text, fmt
                unchanged = await client.get(f"/feed.{fmt}",
                                             headers={"If-Modified-Since": response.headers["last-modified"]})
                assert unchanged.status_code == 304, fmt  # nothing has changed yet

            assert (await extract(store)).done == 1

            for fmt, response in before.items():
                for name, header in (("If-Modified-Since", "last-modified"), ("If-None-Match", "etag")):
                    again = await client.get(f"/feed.{fmt}", headers={name: response.headers[header]})
                    assert again.status_code == 200 and PAGE_WORD in again.text, (fmt, name)
                    assert again.headers[header] != response.headers[header], (fmt, name)
                both = {"If-Modified-Since": again.headers["last-modified"], "If-None-Match": again.headers["etag"]}
                assert (await client.get(f"/feed.{fmt}", headers=both)).status_code == 304, fmt
            updated_after = shown_updated((await client.get("/feed.json")).text,
                                          (await client.get(f"/api/v1/articles/{teaser.id}")).json())

    assert updated_after == updated_before  # the feed's claim, not the time its page arrived
    extracted = store.get_article(teaser.id)
    assert extracted.updated_at == teaser.updated_at and extracted.changed_at > teaser.first_seen_at


def _snippets(page: str) -> dict[int, str]:
    """Article id → the snippet HTML of each result of a search page."""
    return {int(item_id): snippet for item_id, snippet in re.findall(
        r'<li class="wire-item" id="item-(\d+)".*?<p class="wire-snippet">(.*?)</p>', page, flags=re.S)}


async def test_both_orders_of_the_search_page_show_the_same_snippet(store, feed_server):
    """Newest first and best match show an article with the same snippet: from its page's
    text, the match marked, when only the page matches; from the feed's text when it does."""
    articles, url = publish_teasers(feed_server, n=2)
    source = store.add_source(url)
    await refresh(store, [source])
    assert (await extract(store)).done == 2
    feed_word = articles[0].summary.split()[1].lower()  # in the feed's teaser, and on its page

    for word in (PAGE_WORD, feed_word):
        ranked = {hit.article_id: hit.snippet for hit in store.search(word, order="rank")}
        newest = {hit.article_id: hit.snippet for hit in store.search(word, order="newest")}
        assert ranked and ranked == newest == store.search_snippets(word, list(ranked)), word
    first = next(a.id for a in stored(store, source.id) if a.title == articles[0].title)
    for word in (PAGE_WORD, feed_word):  # (another article may match by its title alone: no mark)
        assert f"<mark>{word}</mark>" in store.search_snippets(word, [first])[first].lower(), word
    by_page = {hit.article_id: hit.snippet for hit in store.search(PAGE_WORD)}
    assert len(by_page) == 2 and all("pier" in snippet for snippet in by_page.values())  # the page's sentence

    with WebServer(create_app(store, LOOPBACK)) as web:
        async with httpx.AsyncClient(base_url=web.base_url, timeout=20) as client:
            for word in (PAGE_WORD, feed_word):
                newest = _snippets((await client.get("/search", params={"q": word})).text)
                best = _snippets((await client.get("/search", params={"q": word, "order": "rank"})).text)
                assert newest and newest == best, (word, newest, best)
                assert newest == store.search_snippets(word, list(newest)), word
