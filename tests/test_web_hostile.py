"""Hostile input at the web edge: every route's parameters, on SQLite and PostgreSQL, answer
4xx (never 5xx, never a hang); HEAD works wherever GET does; authors with "/" have pages and
feeds. The route table is walked, so a new route is thrown the same values."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies as st
from starlette.routing import Mount

from newswire.models import Entry, SourceUpdate
from newswire.testing import LOOPBACK
from newswire.testing.signin import sign_in
from newswire.web.app import create_app
from test_api import seed

HUGE = "99999999999999999999999"
HOSTILE = [HUGE, "-1", "0", "1e9", "１２", "٣", "1.5", "", " ", "%00", "\x00", "a\x00b", "../../etc/passwd",
           "1." + "9" * 30, "9" * 30 + ".1", "-" + "9" * 19 + ".1", "1.2.3.4", "1." + HUGE, "9" * 18 + ".1",
           "-" + "9" * 18 + ".1", "😀" * 50, "x" * 5000, "<script>", "' OR 1=1 --", "%2F", "/", "\\"]
T0 = datetime(2025, 9, 17, 18, 56, tzinfo=timezone.utc)


@pytest.fixture
def app(store):
    seed(store)
    app = create_app(store, LOOPBACK)
    app.state.live_stop = threading.Event()
    app.state.live_stop.set()  # the live stream answers its headers and ends: no endless body here
    return app


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def get_routes(app) -> list[tuple[str, list[str], list[str]]]:
    """(path template, path parameters, query parameters) of every GET route."""
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount) or "GET" not in (route.methods or ()):
            continue
        original = route.original_route
        query = [p.alias for p in original.dependant.query_params] if isinstance(original, APIRoute) else []
        found.append((route.path, re.findall(r"\{(\w+)(?::\w+)?\}", route.path), query))
    return found


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: quote(values[m.group(1)], safe=""), path)


@pytest.mark.parametrize("url", [
    f"/articles/{HUGE}", f"/sources/{HUGE}", f"/stories/{HUGE}", f"/?source={HUGE}", "/?before=1." + "9" * 30,
    "/?before=" + "9" * 30 + ".1", "/search?q=ferry&before=1." + "9" * 30, "/stories?before=1.1." + "9" * 30 + ".1",
    "/stories?before=" + "9" * 30 + ".1.1.1", f"/live?after={HUGE}", f"/live?source={HUGE}",
    f"/sources/{HUGE}?before=1.1",
    "/?author=a%00b", "/search?q=ferry%00", "/authors/a%00b", "/live?author=a%00b", "/authors/a%00b/feed.atom",
    "/?author=" + "x" * 5000, "/search?q=" + "ferry " * 2000, f"/api/v1/articles?before=1.{HUGE}",
    f"/sources/{HUGE}/feed.atom", f"/stories/{HUGE}/feed.json",
])
def test_hostile_values_are_4xx(client, url):
    response = client.get(url)
    assert 400 <= response.status_code < 500, (url, response.status_code, response.text[:300])


@pytest.mark.parametrize("url", [
    "/?before=" + "9" * 18 + ".1", "/?before=-" + "9" * 18 + ".1", "/search?q=ferry&before=" + "9" * 18 + ".1",
    "/api/v1/articles?before=" + "9" * 18 + ".1", "/stories?before=1.1." + "9" * 18 + ".1", "/live?level=" + HUGE,
])
def test_cursors_past_either_end_of_time_are_that_end(client, url):
    """18 digits of microseconds is a cursor the store can hand out, clamped to years 1–9999."""
    assert client.get(url).status_code == 200, url


def test_a_crafted_cursor_overflowing_the_store_is_a_400_page(client, monkeypatch, store):
    def overflow(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(store, "list_articles", overflow)
    page = client.get("/?before=1.1")
    assert page.status_code == 400 and "<h1>Bad request</h1>" in page.text
    assert client.get("/api/v1/articles?before=1.1").status_code == 400


def test_nul_in_a_form_is_refused_before_the_store(client, store):
    sign_in(client, store)  # an admin, whom only the NUL stops
    before = [s.feed_url for s in store.list_sources()]
    response = client.post("/sources", data={"url": "http://example.test/a\x00b"}, follow_redirects=False)
    assert response.status_code == 400
    assert [s.feed_url for s in store.list_sources()] == before


def test_head_answers_like_get_without_a_body_everywhere(app, client):
    for path, params, _ in get_routes(app):
        url = fill(path, {name: "1" for name in params})
        if "{name" in path:
            url = fill(path, {name: "Ada Moreau" for name in params})
        get, head = client.get(url), client.head(url)
        assert head.status_code == get.status_code != 405, (url, head.status_code)
        assert head.content == b"", url
        assert head.headers.get("content-type") == get.headers.get("content-type"), url
    assert client.head("/static/newswire.css").status_code == 200
    assert client.head("/healthz").status_code == 200


def test_authors_with_a_slash_have_pages_and_feeds(store):
    source = store.add_source("http://example.test/wire.xml", name="The Wire")
    store.save_refresh(source.id, SourceUpdate(fetched_at=T0, status="ok", next_due_at=T0 + timedelta(minutes=30)), [
        Entry(guid="w1", url="http://example.test/w1", title="Wire story", authors=("AP/Reuters",),
              published=T0, summary="s", content_html="<p>t</p>", text="t", snippet="t")])
    with TestClient(create_app(store, LOOPBACK), base_url="http://localhost") as client:
        wire = client.get("/").text
        link = re.search(r'href="(/authors/[^"]*)">AP/Reuters<', wire).group(1)
        page = client.get(link)
        assert page.status_code == 200 and "<h1>AP/Reuters</h1>" in page.text
        feed_link = re.search(r'href="(/authors/[^"]*/feed\.atom)"', page.text).group(1)
        feed = client.get(feed_link)
        assert feed.status_code == 200 and "Wire story" in feed.text
        assert client.get("/authors/AP/Reuters").status_code == 200  # written out, too
        assert client.get("/authors/AP/Reuters/feed.json").json()["items"][0]["title"] == "Wire story"


HOSTILE_TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),  # surrogates cannot be sent
    st.integers(min_value=-10**40, max_value=10**40).map(str),
    st.from_regex(r"-?[0-9]{1,32}(\.-?[0-9]{1,32}){0,4}", fullmatch=True),
)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_route_answers_5xx_to_hostile_parameters(app, client, data):
    routes = get_routes(app)
    path, params, query = data.draw(st.sampled_from(routes), label="route")
    url = fill(path, {name: data.draw(HOSTILE_TEXT, label=name) for name in params})
    chosen = data.draw(st.lists(st.sampled_from(query), unique=True), label="query") if query else []
    values = {name: data.draw(HOSTILE_TEXT, label=name) for name in chosen}
    response = client.get(url, params=values)
    assert response.status_code < 500, (url, values, response.status_code, response.text[:300])
