"""Secrets in feed URLs are masked wherever a URL is shown: the pure redaction, the sources page
and the API (which still fetch with, and store, the real URL)."""

from __future__ import annotations

import string
from dataclasses import replace

import pytest
from hypothesis import given, strategies as st

from newswire.sources.redact import redact_text, redact_url
from test_api import ok

SECRET = "s3cr3t-Value"


@pytest.mark.parametrize("url, shown", [
    ("https://user:pass@example.com/feed", "https://***@example.com/feed"),
    ("https://token@example.com:8443/feed.xml", "https://***@example.com:8443/feed.xml"),
    ("https://u:p@ss@example.com/f", "https://***@example.com/f"),
    ("https://example.com/feed?token=abc", "https://example.com/feed?token=***"),
    ("https://example.com/feed?a=1&api_key=abc&b=2", "https://example.com/feed?a=1&api_key=***&b=2"),
    ("https://example.com/feed?KEY=abc;sig=def", "https://example.com/feed?KEY=***;sig=***"),
    ("https://example.com/f?access_token=a&auth=b&Api-Key=c&private_token=d&X-Amz-Signature=e",
     "https://example.com/f?access_token=***&auth=***&Api-Key=***&private_token=***&X-Amz-Signature=***"),
    ("https://example.com/f?%74oken=a", "https://example.com/f?%74oken=***"),
    ("https://example.com/f#access_token=abc", "https://example.com/f#access_token=***"),
    ("https://example.com/feed?page=2&monkey=3&keyword=x", "https://example.com/feed?page=2&monkey=3&keyword=x"),
    ("https://example.com/feed?token=", "https://example.com/feed?token="),
    ("https://example.com/a@b/feed", "https://example.com/a@b/feed"),  # an @ in the path is no password
    ("https://[::1]:8080/feed?key=x", "https://[::1]:8080/feed?key=***"),
    ("http://[bad/feed?key=x", "http://[bad/feed?key=***"),
    ("not a url", "not a url"),
    ("", ""),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_redact_text_masks_every_url_in_an_error_message():
    message = (f"fetch: HTTP 404 Not Found from https://ann:{SECRET}@example.com/feed?token={SECRET}; "
               f"redirected from http://example.com/x?key={SECRET}")
    shown = redact_text(message)
    assert SECRET not in shown
    assert shown == ("fetch: HTTP 404 Not Found from https://***@example.com/feed?token=***; "
                     "redirected from http://example.com/x?key=***")


SECRET_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "._-~%!$'()*+,:=@", max_size=30)
PATH_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "/._-~%!$'()*+,:=@", max_size=30)


@given(PATH_TEXT, st.sampled_from(["token", "api_key", "password", "sig", "Access-Token"]), SECRET_TEXT)
def test_redaction_never_shows_the_secret(path, name, value):
    secret = "Zq9" + value
    url = f"https://me:{secret}@example.com/{path}?a=1&{name}={secret}"
    for shown in (redact_url(url), redact_text(f"failed: {url} (again)")):
        assert f":{secret}@" not in shown and f"{name}={secret}" not in shown


@given(st.text())
def test_redaction_never_raises(text):
    assert redact_url(text).count("***") >= 0 and redact_text(text).count("***") >= 0


@pytest.fixture
def private_source(store):
    url = f"https://reader:{SECRET}@feeds.example.com/private.xml?token={SECRET}&page=1"
    source = store.add_source(url, name="")
    store.save_refresh(source.id, replace(ok(), status="http-401", error=f"fetch: HTTP 401 Unauthorized from {url}",
                                          site_url=f"https://feeds.example.com/?session={SECRET}"), [])
    return store.get_source(source.id)


def test_sources_page_and_api_show_redacted_urls_and_keep_the_real_one(store, client, private_source):
    shown = "https://***@feeds.example.com/private.xml?token=***&amp;page=1"
    page = client.get("/sources")
    assert page.status_code == 200
    assert SECRET not in page.text
    assert shown in page.text
    for body in (client.get("/api/v1/sources").json()["items"][0],
                 client.get(f"/api/v1/sources/{private_source.id}").json()):
        assert SECRET not in str(body)
        assert body["feed_url"] == shown.replace("&amp;", "&")
    source_page = client.get(f"/sources/{private_source.id}")
    assert source_page.status_code == 200 and SECRET not in source_page.text
    assert "https://feeds.example.com/?session=***" in source_page.text
    assert store.get_source(private_source.id).feed_url == private_source.feed_url  # fetched with this
    assert SECRET in private_source.feed_url and SECRET in (private_source.last_error or "")
