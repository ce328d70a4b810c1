"""Far dates: rows stored before dates were clamped (9999-12-31, 0001-01-01) must still render
in every zone, on pages, feeds out, the API and the live stream, and the API's cursors must
round-trip for every representable stored time. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import given, settings as hsettings, strategies as st

from newswire.store import Store
from newswire.store.engine import create_engine
from newswire.store.reading import decode_cursor, encode_cursor
from newswire.store.tables import articles
from newswire.web.app import create_app
from newswire.web.display import as_utc, format_when, utc_iso
from test_api import entry, ok

UTC = timezone.utc
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)  # 9999-12-31 23:59:59.999999
FAR_PAST = datetime.min.replace(tzinfo=UTC)  # 0001-01-01 00:00
ZONES = ["Asia/Tokyo", "America/Toronto", "Pacific/Kiritimati", "Etc/GMT+12"]


def set_published(url: str, guid: str, moment: datetime) -> None:
    """Put ``moment`` on a stored row as an older version of Newswire could have stored it."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.update(articles).where(articles.c.guid == guid)
                         .values(published_at=moment, updated_at=moment))
    finally:
        engine.dispose()


@pytest.fixture
def far(store: Store, database_url: str) -> dict[str, int]:
    source = store.add_source("http://example.test/far.xml", name="Far Times")
    store.save_refresh(source.id, ok(), [
        entry("future", 1, ("Ada Moreau",), text="harbour future"),
        entry("past", 2, ("Ada Moreau",), text="harbour past"),
        *[entry(f"n{i}", 10 + i, ("Ada Moreau",), text="harbour normal") for i in range(3)],
    ])
    set_published(database_url, "future", FAR_FUTURE)
    set_published(database_url, "past", FAR_PAST)
    ids = {a.guid: a.id for a in store.list_articles(limit=50).items}
    return {"source": source.id, **ids}


@pytest.mark.parametrize("zone", ZONES)
def test_pages_feeds_and_api_render_far_dates_in_every_zone(store, far, zone):
    app = create_app(store, timezone=ZoneInfo(zone))
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        paths = ["/", f"/articles/{far['future']}", f"/articles/{far['past']}", "/search?q=harbour",
                 f"/sources/{far['source']}", "/authors/Ada%20Moreau", "/sources",
                 f"/api/v1/articles/{far['future']}", f"/api/v1/articles/{far['past']}", "/api/v1/articles",
                 "/feed.atom", "/feed.rss", "/feed.json", f"/sources/{far['source']}/feed.atom"]
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
        page = client.get(f"/articles/{far['future']}").text
        assert "9999" in page
        page = client.get(f"/articles/{far['past']}").text
        assert "0001" in page or ", 1 -" in page


def test_api_pages_through_far_dates_with_its_own_cursors(store, far, client):
    seen: list[int] = []
    params: dict[str, str | int] = {"limit": 1}
    for _ in range(20):
        response = client.get("/api/v1/articles", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item["id"] for item in body["items"]]
        if body["next"] is None:
            break
        params["before"] = body["next"]
    expected = [far["future"], far["n2"], far["n1"], far["n0"], far["past"]]
    assert seen == expected


def test_wire_pages_through_far_dates(store, far):
    with TestClient(create_app(store, timezone=ZoneInfo("Asia/Tokyo")), base_url="http://localhost") as client:
        response = client.get("/", params={"before": encode_cursor(FAR_FUTURE, far["future"])})
        assert response.status_code == 200
        assert f"/articles/{far['n2']}" in response.text


@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=1, max_value=2**31 - 1))
@hsettings(max_examples=300)
def test_cursors_round_trip_for_every_representable_time(moment, article_id):
    assert decode_cursor(encode_cursor(moment, article_id)) == (moment, article_id)


@pytest.mark.parametrize("cursor", ["9" * 30 + ".1", "-" + "9" * 30 + ".1", "253402300800000000.1",
                                    "-62135596800000001.1", "1e5.1", "", ".", "12", "1.-2", "١٢.3"])
def test_crafted_cursors_are_value_errors(cursor):
    with pytest.raises(ValueError):
        decode_cursor(cursor)


EDGES = st.one_of(st.datetimes(), st.datetimes(min_value=datetime(9999, 12, 30)),
                  st.datetimes(max_value=datetime(1, 1, 2)))


@pytest.mark.parametrize("moment, zone, shown", [
    (FAR_FUTURE, "UTC", "December 31, 9999 - 23:59"),
    (FAR_FUTURE, "Asia/Tokyo", "December 31, 9999 - 23:59 UTC"),  # east of UTC: past year 9999
    (FAR_FUTURE, "America/Toronto", "December 31, 9999 - 18:59"),
    (FAR_PAST, "UTC", "January 1, 1 - 00:00"),
    (FAR_PAST, "America/Toronto", "January 1, 1 - 00:00 UTC"),  # west of UTC: before year 1
    (FAR_PAST, "Etc/GMT-14", "January 1, 1 - 14:00"),  # (Etc/GMT-14 is UTC+14)
])
def test_format_when_shows_what_the_zone_cannot_hold_in_utc(moment, zone, shown):
    assert format_when(moment, ZoneInfo(zone)) == shown


@given(EDGES.map(lambda d: d.replace(tzinfo=UTC)), st.sampled_from(ZONES + ["UTC", "Asia/Kolkata"]))
@hsettings(max_examples=300)
def test_format_when_and_utc_never_raise(moment, zone):
    text = format_when(moment, ZoneInfo(zone))
    assert any(f", {year} - " in text for year in (moment.year - 1, moment.year, moment.year + 1))
    assert as_utc(moment.astimezone(ZoneInfo(zone)) if 1 < moment.year < 9999 else moment) == moment
    edge = (datetime.max if moment.year > 1 else datetime.min).replace(tzinfo=ZoneInfo(zone))
    assert utc_iso(edge)[:4] in ("9999", "0001")


def test_api_cursors_past_either_end_of_time_are_the_first_or_an_empty_page(store, far, client):
    everything = client.get("/api/v1/articles").json()["items"]
    beyond = client.get("/api/v1/articles", params={"before": "999999999999999999.5"})
    assert beyond.status_code == 200 and beyond.json()["items"] == everything
    before_time = client.get("/api/v1/articles", params={"before": "-999999999999999999.5"})
    assert before_time.status_code == 200 and before_time.json() == {"items": [], "next": None}
    stories = client.get("/api/v1/stories", params={"before": "9.9.999999999999999999.5"})
    assert stories.status_code == 200


@pytest.mark.parametrize("before", ["1." + "9" * 30, "9" * 30 + ".1", "-" + "9" * 19 + ".1", "1.99999999999999999999",
                                    "1e9.1", "١٢.3"])
def test_pages_answer_a_crafted_cursor_with_400(store, far, before):
    with TestClient(create_app(store, timezone=ZoneInfo("Asia/Tokyo")), base_url="http://localhost",
                    raise_server_exceptions=False) as client:
        for path in ("/", f"/sources/{far['source']}", "/authors/Ada%20Moreau", "/search"):
            response = client.get(path, params={"before": before, "q": "harbour"})
            assert response.status_code == 400 and "unknown host" not in response.text, (path, before)
        assert client.get("/api/v1/articles", params={"before": before}).status_code == 400
