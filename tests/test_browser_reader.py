"""A signed-in reader's keys in a real browser (Chromium via Playwright, a real server on
127.0.0.1): ``m`` marks the focused item read and unread, ``s`` saves it, ``A`` marks the
view read; each change is checked in the store as well as on the page."""

from __future__ import annotations

from typing import Iterator

import pytest

from newswire import accounts
from newswire.store import Store
from newswire.testing import LOOPBACK
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from newswire.web.identity import SESSION_COOKIE
from browsing import launch, playwright_or_skip
from test_reader_state import entry, refresh

playwright_sync = playwright_or_skip()
expect = playwright_sync.expect


@pytest.fixture
def site(tmp_path) -> Iterator[tuple[Store, WebServer, int, list[int]]]:
    store = Store(f"sqlite:///{tmp_path / 'newswire.db'}")
    source = store.add_source("http://127.0.0.1/news.xml", name="Daily News")
    ids = refresh(store, source.id, [entry(n) for n in range(1, 5)])
    user = accounts.create_user(store, "ada", "correct horse battery")
    with WebServer(create_app(store, LOOPBACK)) as server:
        yield store, server, user.id, ids
    store.close()


@pytest.fixture
def page(site):
    store, server, user_id, ids = site
    with playwright_sync.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(base_url=server.base_url)
        context.set_default_timeout(10_000)
        token = accounts.start_session(store, store.get_user(user_id))
        context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": server.base_url}])
        yield context.new_page()
        context.close()
        browser.close()


def test_m_s_and_A_change_the_readers_state(site, page):
    store, server, user_id, ids = site
    newest = ids[-1]
    page.goto("/")
    item = page.locator(f"#item-{newest}")
    expect(item).to_have_attribute("data-read", "0")
    page.keyboard.press("j")
    expect(item).to_have_class("wire-item is-focused")
    page.keyboard.press("m")
    expect(item).to_have_attribute("data-read", "1")
    assert store.article_states(user_id, [newest]) == {newest: (True, False)}
    page.keyboard.press("m")
    expect(item).to_have_attribute("data-read", "0")
    page.keyboard.press("s")
    expect(item).to_have_attribute("data-saved", "1")
    expect(item.locator('button[data-reader="save"]')).to_have_text("★ Saved")
    assert store.saved_ids(user_id) == [newest]
    page.keyboard.press("Shift+A")
    page.wait_for_load_state()
    for article_id in ids:
        expect(page.locator(f"#item-{article_id}")).to_have_attribute("data-read", "1")
    assert store.unread_ids(user_id) == []


def test_the_buttons_work_in_place_and_opening_marks_read(site, page):
    store, server, user_id, ids = site
    page.goto("/")
    item = page.locator(f"#item-{ids[0]}")
    item.locator('button[data-reader="save"]').click()
    expect(item).to_have_attribute("data-saved", "1")
    assert page.url.endswith("/")  # no reload, no lost place
    item.locator(".wire-title a").click()
    page.wait_for_url(f"**/articles/{ids[0]}")
    page.go_back()
    page.reload()
    expect(page.locator(f"#item-{ids[0]}")).to_have_attribute("data-read", "1")
