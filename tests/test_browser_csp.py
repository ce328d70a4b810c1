"""The Content-Security-Policy in a real browser: Chromium loads the wire, an article and the
sources page and reports no violation, while the live wire and the confirm-before-remove
behaviour (all in static/newswire.js) keep working under the policy."""

from __future__ import annotations

from typing import Iterator

import pytest

from browsing import playwright_or_skip
from newswire import accounts
from newswire.testing.signin import PASSWORD
from newswire.testing.webserver import WebServer
from test_browser import browser, seeded, server  # noqa: F401 - the module-wide browser and seeded server
from test_pages import add_article

playwright_sync = playwright_or_skip()
expect = playwright_sync.expect

# Runs before any page script, outside the page's policy (DevTools protocol), so it sees every violation.
WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture
def page(browser, server) -> Iterator[object]:  # noqa: F811 - the fixtures imported above
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.base_url)
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.console_seen = []  # type: ignore[attr-defined]
    page.on("console", lambda message: page.console_seen.append(message.text))  # type: ignore[attr-defined]
    yield page
    context.close()


def sign_in_as_admin(page, store) -> None:
    """Through the sign-in form, as a person would; it comes back to /sources."""
    if accounts.find_user(store, "admin") is None:
        accounts.create_user(store, "admin", PASSWORD, admin=True)
    page.goto("/login?next=/sources")
    page.fill("#login-name", "admin")
    page.fill("#login-password", PASSWORD)
    page.click("form.account-form button[type=submit]")
    expect(page.locator(".nav-hello")).to_contain_text("Hello, admin")
    assert page.url.endswith("/sources")


def violations(page) -> list[str]:
    reported = [m for m in page.console_seen if "Content Security Policy" in m or "Refused to" in m]
    return reported + page.evaluate("window.__csp")


def test_wire_article_and_sources_load_under_the_policy_and_the_live_wire_works(page, seeded):  # noqa: F811
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

    sign_in_as_admin(page, seeded.store)  # the remove buttons are an admin's
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


def test_a_framing_page_elsewhere_cannot_show_the_wire(page, server):  # noqa: F811
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
