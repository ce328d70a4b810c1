"""The media proxy in a real browser: Chromium shows an article's image, loaded from Newswire's
/media/ path, and never contacts the publisher itself."""

from __future__ import annotations

from newswire.store import Store
from newswire.testing import LOOPBACK
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app
from test_media_proxy import PNG, store_article

from browsing import launch, playwright_or_skip

playwright_sync = playwright_or_skip()


def test_an_article_image_loads_through_the_proxy(tmp_path, feed_server):
    feed_server.add("/pixel.png", PNG, "image/png")
    store = Store(f"sqlite:///{tmp_path / 'newswire.db'}")
    article = store_article(store, f'<p>Harbour</p><img src="{feed_server.url("/pixel.png")}" alt="pixel">')
    requested: list[str] = []
    with WebServer(create_app(store, LOOPBACK.with_changes(media_proxy=True))) as server, \
            playwright_sync.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(server.url(f"/articles/{article}"))
            image = page.locator("article img[alt=pixel]")
            image.wait_for()
            page.wait_for_function("img => img.complete", arg=image.element_handle())
            assert image.evaluate("img => img.naturalWidth") == 1
            assert image.get_attribute("src").startswith("/media/")
        finally:
            browser.close()
    store.close()
    assert not [url for url in requested if url.startswith(feed_server.base_url)]
    hits = feed_server.hits("/pixel.png")
    assert hits and all(hit.headers["user-agent"].startswith("Newswire/") for hit in hits)
