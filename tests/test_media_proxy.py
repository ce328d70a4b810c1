"""The media proxy: with NEWSWIRE_MEDIA_PROXY on, article images load through /media/<signature>/
<url>, fetched from a real loopback server through the Fetcher; signatures, types, sizes and
addresses are checked, and nothing hostile gets a 500. Off, pages are as before."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from newswire.store import Store
from newswire.testing import LOOPBACK
from newswire.testing.feedserver import Response
from newswire.web.app import create_app
from newswire.web.media import MAX_MEDIA_BYTES, MediaSigner, rewrite_html, srcset_candidates
from test_api import entry, ok

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
ON = LOOPBACK.with_changes(media_proxy=True)


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def client_for(store: Store, settings=ON) -> TestClient:
    return TestClient(create_app(store, settings, bound_hosts=("testserver",)), raise_server_exceptions=False)


def store_article(store: Store, body: str) -> int:
    source = store.add_source(f"http://example.test/{len(store.list_sources())}.xml", name="Pictures")
    store.save_refresh(source.id, ok(), [entry("pic", 0, content_html=body)])
    return store.list_articles(source_id=source.id).items[0].id


def media_paths(page: str) -> list[str]:
    return re.findall(r'<img[^>]* src="(/media/[^"]+)"', page)


@pytest.fixture
def pictures(feed_server):
    feed_server.add("/pixel.png", PNG, "image/png", headers={"Cache-Control": "max-age=600"})
    feed_server.add("/page.html", b"<html><script>alert(1)</script></html>", "text/html")
    feed_server.add("/drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                    "image/svg+xml")
    feed_server.add("/huge.png", PNG + b"\0" * MAX_MEDIA_BYTES, "image/png")
    feed_server.route("/broken.png", lambda request: Response(500, b"oops", {"Content-Type": "text/plain"}))
    return feed_server


def proxied(store: Store, client: TestClient, url: str) -> str:
    """The /media/ path the article page gives for an image at ``url``."""
    article = store_article(store, f'<p>Harbour</p><img src="{url}" alt="a picture">')
    page = client.get(f"/articles/{article}")
    assert page.status_code == 200
    (path,) = media_paths(page.text)
    return path


def test_with_the_proxy_on_images_load_through_newswire(store, pictures):
    url = pictures.url("/pixel.png")
    with client_for(store) as client:
        article = store_article(store, f'<p>Harbour</p><img src="{url}" alt="p">')
        page = client.get(f"/articles/{article}")
        assert page.status_code == 200
        assert url not in page.text and pictures.base_url not in page.text
        (path,) = media_paths(page.text)
        image = client.get(path)
        assert image.status_code == 200, image.text
        assert image.content == PNG and image.headers["content-type"] == "image/png"
        assert image.headers["cache-control"] == "max-age=600"  # the publisher's caching, passed on
        assert "sandbox" in image.headers["content-security-policy"]
        again = client.get(path, headers={"If-None-Match": image.headers["etag"]})
        assert again.status_code == 304 and not again.content
    (hit, *_) = pictures.hits("/pixel.png")
    assert hit.headers["user-agent"].startswith("Newswire/") and "cookie" not in hit.headers


def test_with_the_proxy_off_pages_are_as_before_and_there_is_no_media_route(store, pictures):
    url = pictures.url("/pixel.png")
    with client_for(store, LOOPBACK) as client:
        article = store_article(store, f'<img src="{url}" alt="p">')
        page = client.get(f"/articles/{article}")
        assert f'src="{url}"' in page.text and "/media/" not in page.text
        signed = MediaSigner(bytes(32)).path(url)
        assert client.get(signed).status_code == 404
    assert pictures.hits("/pixel.png") == []


def test_tampered_signatures_are_refused(store, pictures):
    with client_for(store) as client:
        path = proxied(store, client, pictures.url("/pixel.png"))
        _, _, signature, encoded = path.split("/")
        other = MediaSigner(bytes(32)).path(pictures.url("/pixel.png"))
        flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
        for bad in (f"/media/{flipped}/{encoded}", other, f"/media/{signature}/{encoded[:-2]}",
                    f"/media/{signature}/{MediaSigner(bytes(32)).path('http://127.0.0.1:1/').rsplit('/', 1)[1]}",
                    f"/media/{signature}/%00%ff", f"/media/{'x' * 43}/{'!' * 10}", f"/media/{signature * 50}/{encoded}"):
            response = client.get(bad)
            assert response.status_code in (403, 404), (bad, response.status_code)
            assert response.status_code != 404 or bad.count("/") > 3
    assert pictures.hits("/pixel.png") == []


@pytest.mark.parametrize("path, status", [("/page.html", 415), ("/drawing.svg", 415), ("/huge.png", 413),
                                          ("/broken.png", 502), ("/missing.png", 502)])
def test_what_is_not_media_or_fails_is_a_4xx_or_502_never_a_500(store, pictures, path, status):
    with client_for(store) as client:
        response = client.get(proxied(store, client, pictures.url(path)))
        assert response.status_code == status, response.text
        assert b"alert(1)" not in response.content and b"oops" not in response.content


def test_a_dead_publisher_is_a_502(store):
    with client_for(store) as client:
        assert client.get(proxied(store, client, "http://127.0.0.1:9/gone.png")).status_code == 502


def test_private_addresses_are_refused_unless_allowed(store, pictures):
    with client_for(store, ON.with_changes(allow_private_addresses=False)) as client:
        response = client.get(proxied(store, client, pictures.url("/pixel.png")))
        assert response.status_code == 403
    assert pictures.hits("/pixel.png") == []


def test_the_key_survives_restarts_and_is_shared_by_every_node(database_url):
    url = "https://images.example.com/a.png"
    first, second = Store(database_url), Store(database_url)
    try:
        article = store_article(first, f'<img src="{url}" alt="a">')
        with client_for(first) as a, client_for(second) as b:
            assert media_paths(a.get(f"/articles/{article}").text) == media_paths(b.get(f"/articles/{article}").text)
    finally:
        first.close()
        second.close()
    assert first.server_secret("media-proxy") == Store(database_url).server_secret("media-proxy")


def test_rewriting_drops_what_cannot_be_proxied_and_keeps_the_rest():
    signer = MediaSigner(b"k" * 32)
    html = ('<p>a <a href="https://x.example/" rel="noopener noreferrer">link</a></p>'
            '<img src="https://x.example/a.png?w=1&amp;h=2" alt="A &amp; B" width="3">'
            '<img src="//x.example/b.png" alt="b"><img src="ftp://x.example/c.png" alt="c">')
    out = rewrite_html(html, signer)
    assert '<a href="https://x.example/" rel="noopener noreferrer">link</a>' in out
    assert f'<img src="{signer.path("https://x.example/a.png?w=1&h=2")}" alt="A &amp; B" width="3">' in out
    assert f'src="{signer.path("https://x.example/b.png")}"' in out
    assert "ftp:" not in out and '<img alt="c">' in out
    assert "x.example/a.png" not in out.replace("https://x.example/\"", "")
    assert rewrite_html("<p>no media</p>", signer) == "<p>no media</p>"


def test_signed_paths_round_trip_and_name_only_their_url():
    signer = MediaSigner(b"k" * 32)
    for url in ("https://x.example/a.png", "https://x.example/ünï/çødé.jpg?q=1&r=a/b#f", "http://[::1]:8/x"):
        _, _, signature, encoded = signer.path(url).split("/")
        assert signer.verify(signature, encoded) == url
        assert MediaSigner(b"j" * 32).verify(signature, encoded) is None


@pytest.mark.parametrize("srcset, expected", [
    ("a.png 1x, b.png 2x", [("a.png", "1x"), ("b.png", "2x")]),
    ("https://c.example/i/w_100,h_100/a.jpg 100w,https://c.example/b.jpg 200w",
     [("https://c.example/i/w_100,h_100/a.jpg", "100w"), ("https://c.example/b.jpg", "200w")]),
    ("a.png, b.png 2x", [("a.png", ""), ("b.png", "2x")]),
    ("  ,, ", []),
    ("a.png", [("a.png", "")]),
])
def test_srcset_is_split_as_browsers_split_it(srcset, expected):
    assert srcset_candidates(srcset) == expected
