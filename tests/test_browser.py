"""The reader in a real browser: Playwright (sync API) driving Debian's Chromium against a real
server on 127.0.0.1. One browser and one seeded server for the module; screenshots go to
``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from newswire.testing import LOOPBACK
from newswire.store import Store
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from browsing import launch, playwright_or_skip
from test_pages import ZONE, Seeded, add_article, seed

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DATE_LINE = re.compile(r"^[A-Z][a-z]+ \d{1,2}, \d{4} - \d{2}:\d{2}( \| [^|]+)? \| [^|]+$")

playwright_sync = playwright_or_skip()
expect = playwright_sync.expect


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Iterator[Seeded]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'newswire.db'}")
    yield seed(store)
    store.close()


@pytest.fixture(scope="module")
def server(seeded) -> Iterator[WebServer]:
    app = create_app(seeded.store, LOOPBACK, timezone=ZONE)
    app.state.live_poll_seconds = 0.1
    app.state.live_settle_seconds = 0  # articles stored here are not enriched
    with WebServer(app) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()  # closes the page's live stream before the server goes


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_wire_lists_several_sources_newest_first_with_date_lines(page, seeded):
    page.goto("/")
    items = page.locator("main .wire-item")
    expect(items.first).to_be_visible()
    assert items.count() == 30
    times = page.locator("main .wire-item time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert times == sorted(times, reverse=True)
    metas = page.locator("main .wire-item .meta").all_inner_texts()
    assert metas[0] == "September 17, 2025 - 14:56 | Ada Moreau, Liam Okafor | The Maple Harbour Gazette"
    assert all(DATE_LINE.match(m) for m in metas), metas
    assert len({m.rsplit(" | ", 1)[1] for m in metas}) >= 3
    expect(items.first.locator(".read-more")).to_contain_text("Read More")
    shot(page, "wire-desktop")


def test_read_more_opens_the_article_with_its_facts_and_full_text(page, seeded):
    page.goto("/")
    page.locator("main .wire-item").first.locator(".read-more").click()
    expect(page).to_have_url(re.compile(rf"/articles/{seeded.lead_id}$"))
    expect(page).to_have_title("Maple Harbour council approves new transit route | Newswire")
    facts = page.locator(".story-facts")
    expect(facts).to_contain_text("Source Feed: The Maple Harbour Gazette")
    expect(facts).to_contain_text("Author: Ada Moreau, Liam Okafor")
    expect(facts).to_contain_text("Publication Date: September 17, 2025 - 14:56")
    body = page.locator(".story-body")
    expect(body).to_contain_text("Council voted eight to three in favour of the new transit route.")
    expect(body).to_contain_text("Construction could start next year, staff said.")
    expect(page.locator("aside .wire-item")).to_have_count(20)
    shot(page, "article-desktop")
    # Two columns on a desktop: the newswire beside the article.
    story, aside = page.locator("article.story").bounding_box(), page.locator("aside.sidebar").bounding_box()
    assert aside["x"] >= story["x"] + story["width"] and aside["y"] < story["y"] + story["height"]


def test_search_finds_a_phrase_from_an_article_body(page, seeded):
    page.goto("/")
    page.locator("#nav-q").fill('"ferry timetable vote"')
    page.locator("#nav-q").press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q="))
    result = page.locator("main .wire-item").first
    expect(result).to_contain_text("Harbour commission delays ferry timetable vote")
    expect(result.locator("mark").first).to_be_visible()


def test_keyboard_j_k_move_through_the_wire_and_o_opens(page, seeded):
    page.goto("/")
    items = page.locator("main .wire-item")
    expect(items.first).to_be_visible()
    page.keyboard.press("j")
    expect(items.nth(0)).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(items.nth(2)).to_be_focused()
    expect(items.nth(2)).to_have_class(re.compile(r"\bis-focused\b"))
    page.keyboard.press("k")
    expect(items.nth(1)).to_be_focused()
    second = items.nth(1).get_attribute("data-id")
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(rf"/articles/{second}$"))


def test_new_articles_appear_at_the_top_of_the_wire_without_reload(page, seeded):
    page.goto("/")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    page.evaluate("window.__sameDocument = true")
    new_id = add_article(seeded.store, seeded.sources[1].id, "browser-live", "Port Alder ferry returns to service")
    first = page.locator("main .wire-item").first
    expect(first).to_have_attribute("id", f"item-{new_id}")
    expect(first).to_contain_text("Port Alder ferry returns to service")
    expect(first.locator(".meta")).to_have_text("September 17, 2025 - 15:56 | Omar Iqbal | The Port Alder Chronicle")
    expect(first).to_have_class(re.compile(r"\bis-new\b"))
    assert page.evaluate("window.__sameDocument") is True  # no reload happened

    # The article page's newswire is live too, and keeps its 20 items.
    page.goto(f"/articles/{seeded.ferry_id}")
    expect(page.locator("aside [data-live-status]")).to_have_attribute("data-state", "live")
    later = add_article(seeded.store, seeded.sources[2].id, "browser-live-2", "Cedar Falls library extends hours",
                        minutes_after_t0=90)
    expect(page.locator("aside .wire-item").first).to_have_attribute("id", f"item-{later}")
    expect(page.locator("aside .wire-item")).to_have_count(20)


def test_phone_width_single_column_no_horizontal_scroll(browser, server, seeded):
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server.base_url,
                                  is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        page = context.new_page()
        for path in ("/", f"/articles/{seeded.ferry_id}", "/sources", "/search?q=council"):
            page.goto(path)
            expect(page.locator("h1")).to_be_visible()
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 390, path  # innerWidth grows when a phone zooms out
            if path == "/":
                shot(page, "wire-phone")
        page.goto(f"/articles/{seeded.ferry_id}")
        story, aside = page.locator("article.story").bounding_box(), page.locator("aside.sidebar").bounding_box()
        assert aside["y"] >= story["y"] + story["height"]
        shot(page, "article-phone")
    finally:
        context.close()


def test_dark_mode_follows_the_system_setting(browser, server, seeded):
    colours = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme, base_url=server.base_url,
                                      viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"/articles/{seeded.lead_id}")
            colours[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
            if scheme == "dark":
                shot(page, "article-desktop-dark")
        finally:
            context.close()
    assert colours["light"] != colours["dark"]


def test_empty_state_and_sources_admin_render(browser, server, tmp_path):
    empty_store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with WebServer(create_app(empty_store, LOOPBACK, timezone=ZONE)) as empty:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            try:
                page = context.new_page()
                page.goto(empty.url("/"))
                expect(page.locator("main")).to_contain_text("newswire add URL")
                expect(page.locator("main")).to_contain_text("newswire demo")
                shot(page, "wire-empty")
                page.goto(server.url("/sources"))
                expect(page.locator("table.sources tbody tr")).to_have_count(3)
                shot(page, "sources-desktop")
            finally:
                context.close()
    finally:
        empty_store.close()
