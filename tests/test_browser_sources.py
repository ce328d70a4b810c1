"""The sources page in a real browser, signed in as an admin: at 1280×800 and on a 390×844
phone the page is never wider than the screen and every source's buttons are on screen
(Remove was once cut off, and the page 911 px wide on a phone), with a long feed URL and a
failure in words among them; then pausing and removing say that they did. One test: a browser
is slow to start."""

from __future__ import annotations

from datetime import timedelta

from newswire import accounts
from newswire.errors import FetchError
from newswire.service.decide import after_failure
from newswire.store import Store
from newswire.testing import LOOPBACK
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from newswire.web.identity import SESSION_COOKIE
from browsing import launch, playwright_or_skip
from test_browser import shot
from test_pages import T0, ZONE, seed

playwright_sync = playwright_or_skip()
expect = playwright_sync.expect

LONG_URL = "http://127.0.0.1:9/" + "a-very-long-path-segment/" * 8 + "feed.xml?token=" + "x" * 60
VIEWPORTS = ({"width": 1280, "height": 800}, {"width": 390, "height": 844})


def test_sources_page_fits_desktop_and_phone_with_every_action_on_screen(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'newswire.db'}")
    seeded = seed(store, fillers_per_source=2)
    long = store.add_source(LONG_URL, name="The Extraordinarily Long-Named Northern Peninsula Evening Telegraph")
    store.change_source(long.id, {"category": "News/Canada/Northern Peninsula"})
    store.save_refresh(long.id, after_failure(long, FetchError(
        f"fetch: HTTP 500 Internal Server Error from {LONG_URL}", reason="http-500"), T0 + timedelta(hours=1)), [])
    user = accounts.create_user(store, "admin", "test password", admin=True)
    sources = [*seeded.sources, long]
    try:
        with WebServer(create_app(store, LOOPBACK, timezone=ZONE)) as server, \
                playwright_sync.sync_playwright() as playwright:
            browser = launch(playwright)
            for viewport in VIEWPORTS:
                phone = viewport["width"] < 500
                context = browser.new_context(viewport=viewport, base_url=server.base_url, is_mobile=phone,
                                              has_touch=phone)
                context.add_cookies([{"name": SESSION_COOKIE, "value": accounts.start_session(store, user),
                                      "url": server.base_url}])
                page = context.new_page()
                page.goto("/sources")
                expect(page.locator("[data-failing]")).to_contain_text("1 of 4 sources is failing.")
                expect(page.locator(f"#source-{long.id} .last-error")).to_have_text(
                    "The server had an error (HTTP 500 Internal Server Error). It will be retried later.")
                width = viewport["width"]  # not innerWidth: a phone zooms out to a wide page, and innerWidth grows
                assert page.evaluate("document.scrollingElement.scrollWidth") <= width, viewport
                for source in sources:
                    buttons = page.locator(f"#source-{source.id} .actions .button")
                    assert buttons.count() == 4  # Refresh now, Pause, Edit, Remove
                    for button in buttons.all():
                        expect(button).to_be_visible()
                        box = button.bounding_box()
                        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (viewport, source.id, box)
                shot(page, f"sources-admin-{viewport['width']}")
                if phone:  # an action works from the phone and says so
                    page.locator(f"#source-{long.id} button", has_text="Pause").click()
                    expect(page.locator(".notice-ok")).to_have_text(f"Paused {long.name}.")
                    page.once("dialog", lambda dialog: dialog.accept())
                    page.locator(f"#source-{long.id} button.danger").click()
                    expect(page.locator(".notice-ok")).to_have_text(f"Removed {long.name} and its 0 articles.")
                    expect(page.locator(f"#source-{long.id}")).to_have_count(0)
                context.close()
            browser.close()
    finally:
        store.close()
