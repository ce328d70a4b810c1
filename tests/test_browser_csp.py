"""The Content-Security-Policy in a real browser: Chromium loads the wire, an article and the
sources page and reports no violation, while the live wire and the confirm-before-remove
behaviour (all in static/newswire.js) keep working under the policy."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from newswire.store import Store
from newswire.testing import LOOPBACK
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from test_pages import ZONE, Seeded, add_article, seed

CHROMIUM = "/usr/bin/chromium"

if not os.path.exists(CHROMIUM):
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)
playwright_sync = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")
expect = playwright_sync.expect

# Runs before any page script, outside the page's policy (DevTools protocol), so it sees every violation.
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Iterator[Seeded]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('csp') / 'newswire.db'}")
    yield seed(store)
    store.close()


@pytest.fixture(scope="module")
def server(seeded) -> Iterator[WebServer]:
    app = create_app(seeded.store, LOOPBACK, timezone=ZONE)
    app.state.live_poll_seconds = 0.1
    app.state.live_settle_seconds = 0  # articles stored here are not enriched
    with WebServer(app) as s:
        yield s


@pytest.fixture
def page(server) -> Iterator[object]:
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.base_url)
        context.set_default_timeout(10_000)
        context.add_init_script(WATCH_VIOLATIONS)
        page = context.new_page()
        page.console_seen = []  # type: ignore[attr-defined]
        page.on("console", lambda message: page.console_seen.append(message.text))  # type: ignore[attr-defined]
        yield page
        context.close()
        browser.close()


def violations(page) -> list[str]:
    reported = [m for m in page.console_seen if "Content Security Policy" in m or "Refused to" in m]
    return reported + page.evaluate("window.__csp")


def test_wire_article_and_sources_load_under_the_policy_and_the_live_wire_works(page, seeded):
    response = page.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    new_id = add_article(seeded.store, seeded.sources[1].id, "csp-live", "Port Alder ferry returns under a policy")
    expect(page.locator("main .wire-item").first).to_have_attribute("id", f"item-{new_id}")
    assert violations(page) == []

    page.goto(f"/articles/{seeded.ferry_id}")
    expect(page.locator(".story-body")).to_contain_text("ferry timetable vote")
    expect(page.locator("aside [data-live-status]")).to_have_attribute("data-state", "live")
    assert violations(page) == []

    page.goto("/sources")
    expect(page.locator("table.sources tbody tr")).to_have_count(3)
    asked: list[str] = []

    def refuse(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    page.locator(f"#source-{seeded.sources[2].id} button.danger").click()
    expect(page.locator("table.sources tbody tr")).to_have_count(3)
    assert asked and asked[0].startswith("Remove The Cedar Falls Herald")
    assert seeded.sources[2].id in [s.id for s in seeded.store.list_sources()]
    assert violations(page) == []


def test_a_framing_page_elsewhere_cannot_show_the_wire(page, server):
    """The clickjacking defence itself: a page that frames the wire gets nothing in the frame."""
    with WebServer(framing_app(server.url("/sources"))) as evil:
        page.goto(evil.url("/"))
        frame = page.frame_locator("iframe")
        expect(page.locator("iframe")).to_be_attached()
        page.wait_for_timeout(500)  # let the refused frame settle; nothing below depends on timing
        assert frame.locator("table.sources").count() == 0


def framing_app(target: str):
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    async def home(request):
        return HTMLResponse(f'<!doctype html><title>elsewhere</title><iframe src="{target}"></iframe>')

    return Starlette(routes=[Route("/", home)])
