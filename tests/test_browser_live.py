"""The live wire agrees with a reload, in a real browser (Playwright driving Debian's Chromium).

Articles arrive while the page is open: out of publication order, syndicated copies of a story,
and the story's original arriving after its copies. Each arrival goes through what a refresh
does (store, then the copy detector, then a story), so the stream sees what enrichment decided.
After the last arrival the open page must list exactly what a fresh load lists: the same
articles in the same order, with the same "Also in" links. All text is generated here.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest

from newswire.models import Entry, SourceUpdate
from newswire.service.copies import CopyEnricher
from newswire.store import Store
from newswire.testing import LOOPBACK
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from browsing import launch, playwright_or_skip

playwright_sync = playwright_or_skip()
expect = playwright_sync.expect

NOW = datetime.now(timezone.utc).replace(microsecond=0)  # the copy detector's window is relative to now
PAPERS = ["The Canadian Wire", "Port Alder Post", "Lake Ossin Courier", "Fernwick Tribune"]
WORDS = ("harbour council ferry budget transit vote residents officials plan spring hearing levy bridge "
         "library shoreline permit grant clinic road market school rink water said would after before").split()


def paragraphs(seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(14, 20))).capitalize() + "." for _ in range(4)]


def entry(guid: str, title: str, minutes: int, seed: int) -> Entry:
    text = paragraphs(seed)
    return Entry(guid=guid, url=f"http://news.test/{guid}", title=title, authors=("Ada Moreau",),
                 published=NOW + timedelta(minutes=minutes), summary=text[0],
                 content_html="".join(f"<p>{p}</p>" for p in text), text="\n".join(text), snippet=text[0][:200])


class Newsroom:
    """Stores an article as a refresh would: the write, then copies, then its story."""

    def __init__(self, store: Store):
        self.store = store
        self.copies = CopyEnricher(store)
        self.sources = [store.add_source(f"http://127.0.0.1:9/{i}/feed.xml", name=name)
                        for i, name in enumerate(PAPERS)]

    def publish(self, paper: int, item: Entry) -> int:
        # First seen now, not at import: the live wire holds an article without a story for
        # a while after it is first seen, and these must wait for theirs.
        seen = datetime.now(timezone.utc)
        update = SourceUpdate(fetched_at=seen, status="ok", next_due_at=seen + timedelta(minutes=30))
        result = self.store.save_refresh(self.sources[paper].id, update, [item])
        self.copies.after_store(self.store, result.new_ids, result.updated_ids)
        (new_id,) = result.new_ids
        canonical = self.store.get_article(new_id).duplicate_of
        story = (self.store.get_article(canonical).story_id if canonical else None) \
            or self.store.create_story(item.title, NOW)
        self.store.assign_stories([(new_id, story)])
        return new_id


@pytest.fixture
def newsroom(tmp_path) -> Iterator[Newsroom]:
    store = Store(f"sqlite:///{tmp_path / 'newswire.db'}")
    room = Newsroom(store)
    for i in range(5):  # an hour apart, an hour ago and earlier
        room.publish(1 + i % 3, entry(f"own-{i}", f"Local report {i}", -60 * (i + 1), seed=100 + i))
    yield room
    store.close()


@pytest.fixture
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


def listed(page) -> list[tuple[str, list[str]]]:
    """The wire as a reader sees it: each item's link, and the links of its "Also in"."""
    return page.locator("main ol.wire > .wire-item").evaluate_all("""items => items.map(item => [
        item.querySelector('.wire-title a').getAttribute('href'),
        Array.from(item.querySelectorAll('.also-in a')).map(a => a.getAttribute('href'))])""")


def test_the_open_wire_lists_what_a_reload_lists_after_live_arrivals(browser, newsroom):
    app = create_app(newsroom.store, LOOPBACK, timezone=ZoneInfo("America/Toronto"))
    app.state.live_poll_seconds = 0.1
    with WebServer(app) as server:
        context = browser.new_context(base_url=server.base_url)
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            page.goto("/")
            expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
            page.evaluate("window.__sameDocument = true")
            publish = newsroom.publish

            newest = publish(1, entry("newest", "Newest local report", 0, seed=1))
            middle = publish(2, entry("middle", "Report from before", -150, seed=2))  # between two shown
            expect(page.locator("main .wire-item").nth(3)).to_have_attribute("id", f"item-{middle}")
            first_copy = publish(2, entry("story-2", "Ferry vote delayed", -20, seed=3))  # a wire story's copy
            second_copy = publish(3, entry("story-3", "Ferry vote delayed", -10, seed=3))
            first_item = page.locator(f"#item-{first_copy}")
            expect(first_item.locator(".also-in a")).to_have_attribute("href", f"/articles/{second_copy}")
            expect(page.locator(f"#item-{second_copy}")).to_have_count(0)
            original = publish(0, entry("story-0", "Ferry vote delayed", -30, seed=3))  # the wire's, late
            oldest = publish(1, entry("oldest", "The oldest report", -600, seed=4))
            expect(page.locator(f"#item-{oldest}")).to_be_attached()  # the last arrival: all are in

            assert page.evaluate("window.__sameDocument") is True  # no reload happened
            live = listed(page)
            fresh = context.new_page()
            fresh.goto("/")
            assert live == listed(fresh)
            assert [href for href, _ in live][:3] == [f"/articles/{newest}", f"/articles/{original}",
                                                      f"/articles/{newsroom.store.list_articles().items[2].id}"]
            assert dict(live)[f"/articles/{original}"] == [f"/articles/{first_copy}", f"/articles/{second_copy}"]
            assert live[-1][0] == f"/articles/{oldest}"
        finally:
            context.close()


def test_an_item_sent_again_keeps_the_readers_marks_and_buttons(browser, newsroom):
    """A signed-in reader's item whose "Also in" grows is replaced in place: it keeps its read
    and saved marks and its buttons, which still work."""
    from newswire import accounts
    from newswire.web.identity import SESSION_COOKIE

    store = newsroom.store
    original = newsroom.publish(1, entry("story-1", "Ferry vote delayed", -20, seed=5))
    user = accounts.create_user(store, "ada", "correct horse battery")
    store.set_saved(user.id, [original])
    app = create_app(store, LOOPBACK, timezone=ZoneInfo("America/Toronto"))
    app.state.live_poll_seconds = 0.1
    with WebServer(app) as server:
        context = browser.new_context(base_url=server.base_url)
        context.set_default_timeout(15_000)
        context.add_cookies([{"name": SESSION_COOKIE, "value": accounts.start_session(store, user),
                              "url": server.base_url}])
        try:
            page = context.new_page()
            page.goto("/")
            expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
            item = page.locator(f"#item-{original}")
            expect(item).to_have_attribute("data-saved", "1")
            copy = newsroom.publish(2, entry("story-2", "Ferry vote delayed", -10, seed=5))
            expect(item.locator(".also-in a")).to_have_attribute("href", f"/articles/{copy}")
            expect(item).to_have_attribute("data-saved", "1")
            item.locator('button[data-reader="read"]').click()
            expect(item).to_have_attribute("data-read", "1")
            assert store.article_states(user.id, [original])[original][0] is True
        finally:
            context.close()
