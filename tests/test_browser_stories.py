"""Copies and stories in a real browser: the demo's papers (wire copy republished with other
bylines and footers) go through the real pipeline — feed server, fetch, parse, store, copy
detection, story clustering — and Chromium reads the result."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import pytest

from newswire.testing import LOOPBACK
from newswire.demo import DemoFeeds
from newswire.fetch import Fetcher
from newswire.service.enrichment import index_enrichers
from newswire.service.update import Refresher
from newswire.sources.opml import read_opml
from newswire.store import Store
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from test_browser import browser, shot  # noqa: F401 - the module-wide browser fixture
from test_pages import ZONE

playwright_sync = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")
expect = playwright_sync.expect


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('stories') / 'newswire.db'}")
    with pytest.MonkeyPatch.context() as env, DemoFeeds(seed=5, interval=0) as feeds:
        env.setenv("NEWSWIRE_ALLOW_PRIVATE_ADDRESSES", "1")  # module-wide: before conftest's autouse
        sources = [store.add_source(f.feed_url, name=f.name) for f in read_opml(feeds.opml_bytes())]

        async def refresh() -> None:
            async with Fetcher(LOOPBACK) as fetcher:
                async with Refresher(store, fetcher, enrichers=index_enrichers()) as refresher:
                    await refresher.refresh_many(sources)

        # Playwright's sync API may already run an event loop on this thread.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, refresh()).result()
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(store) -> Iterator[WebServer]:
    with WebServer(create_app(store, LOOPBACK, timezone=ZONE)) as s:
        yield s


@pytest.fixture
def page(browser, server):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_wire_shows_each_syndicated_story_once_and_links_full_coverage(page, store):
    copies = [a for a in store.list_articles(include_copies=True, limit=200).items if a.duplicate_of]
    assert copies, "the demo's wire copy should have been detected"
    page.goto("/")
    also_in = page.locator("main .wire-item .also-in")
    expect(also_in.first).to_be_visible()
    assert also_in.first.inner_text().startswith("Also in: ")
    copy_ids = {a.id for a in copies}
    listed = {int(i) for i in page.locator("main .wire-item").evaluate_all("els => els.map(e => e.dataset.id)")}
    assert not listed & copy_ids, "a syndicated copy is listed on the wire"
    shot(page, "wire-with-copies")

    coverage = page.locator("main .wire-item .coverage a").first
    expect(coverage).to_contain_text("Full coverage (")
    coverage.click()
    expect(page.locator("h1")).to_be_visible()
    groups = page.locator("main .story-source")
    assert groups.count() >= 2
    assert page.locator(".kicker").inner_text().casefold() == "story"
    shot(page, "story-page")


def test_article_page_lists_its_copies_and_a_copy_links_its_original(page, store):
    copy = next(a for a in store.list_articles(include_copies=True, limit=200).items if a.duplicate_of)
    page.goto(f"/articles/{copy.duplicate_of}")
    expect(page.locator(".story-copies")).to_contain_text(copy.source_name)
    page.goto(f"/articles/{copy.id}")
    expect(page.locator(".story-copy-of a")).to_have_attribute("href", f"/articles/{copy.duplicate_of}")
    page.locator("nav a[href='/stories']").first.click()
    expect(page).to_have_url(re.compile(r"/stories$"))
    expect(page.locator("main")).to_contain_text("sources")
