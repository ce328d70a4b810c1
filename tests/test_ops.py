"""Operations: /healthz and /metrics (Prometheus text format), with counters moved by real
refreshes against a feed server on 127.0.0.1."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
import sqlalchemy as sa

from newswire.testing import LOOPBACK
from newswire import __version__, metrics
from newswire.models import SourceUpdate
from newswire.service.update import Refresher
from newswire.testing import samples
from test_api import T0, seed

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? '
                    r'(-?[0-9.e+-]+|[+-]Inf|NaN)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@pytest.fixture
def store(sqlite_store):
    return sqlite_store  # these tests need SQLite only


def parse_exposition(text: str) -> dict[str, dict[tuple, float]]:
    """Samples by name and sorted label pairs; asserts every line is well-formed and every
    family has HELP and TYPE before its samples."""
    assert text.endswith("\n")
    samples_by_name: dict[str, dict[tuple, float]] = defaultdict(dict)
    helped, typed = set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind in {"counter", "gauge", "histogram", "summary", "untyped"}
            typed[name] = kind
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, labels, value = match.group(1), match.group(2) or "", match.group(3)
            family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
            assert family in helped and family in typed, f"no HELP/TYPE before {name}"
            key = tuple(sorted(LABEL.findall(labels)))
            assert key not in samples_by_name[name], f"duplicate sample {line!r}"
            samples_by_name[name][key] = float(value)
    return samples_by_name


def scrape(client) -> dict[str, dict[tuple, float]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse_exposition(response.text)


# /healthz

def test_healthz_ok_with_article_count(store, client):
    seed(store)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "articles": 4}


def test_healthz_503_when_the_database_cannot_be_read(store, client, sqlite_url):
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE articles RENAME TO articles_gone"))
    engine.dispose()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("error", "unavailable")
    assert "articles_gone" not in response.text and "sqlite" not in response.text.lower()


# /metrics

def test_metrics_exposition_and_store_gauges(store, client):
    ids = seed(store)
    store.save_refresh(ids["post"], SourceUpdate(fetched_at=T0, status="timeout", next_due_at=T0,
                                                 consecutive_failures=1, error="fetch: timed out"))
    paused = store.add_source("http://example.test/paused.xml", name="Paused")
    store.set_enabled(paused.id, False)
    store.add_source("http://example.test/new.xml", name="New")
    found = scrape(client)
    assert found["newswire_articles_stored"] == {(): 4}
    assert found["newswire_sources"] == {(("health", "ok"),): 1, (("health", "failing"),): 1,
                                         (("health", "disabled"),): 1, (("health", "new"),): 1}
    assert found["newswire_build_info"] == {(("version", __version__),): 1}
    buckets = found["newswire_fetch_duration_seconds_bucket"]
    bounds = sorted((float(dict(k)["le"]), v) for k, v in buckets.items())
    assert bounds[0][0] == 0.05 and bounds[-1][0] == float("inf")
    assert [v for _, v in bounds] == sorted(v for _, v in bounds)  # cumulative
    assert bounds[-1][1] == found["newswire_fetch_duration_seconds_count"][()]


def test_registry_renders_escaped_labels_and_cumulative_buckets():
    registry = metrics.Registry(buckets=(0.1, 1.0))
    registry.record_fetch("failed", 'odd "reason"\\\n', 0.5)
    registry.record_fetch("fetched", None, 0.05)
    registry.record_fetch("fetched", None, 3.0)
    found = parse_exposition(registry.render())
    assert found["newswire_fetches_total"] == {
        (("outcome", "failed"), ("reason", 'odd \\"reason\\"\\\\\\n')): 1,
        (("outcome", "fetched"), ("reason", "none")): 2}
    assert found["newswire_fetch_duration_seconds_bucket"] == {
        (("le", "0.1"),): 1, (("le", "1"),): 2, (("le", "+Inf"),): 3}
    assert found["newswire_fetch_duration_seconds_sum"] == {(): 3.55}
    assert found["newswire_fetch_duration_seconds_count"] == {(): 3}


async def test_refreshes_move_the_fetch_counters(store, client, feed_server):
    outlet = samples.make_outlets(1)[0]
    good = store.add_source(feed_server.add("/good.xml", samples.rss(outlet, samples.make_articles(outlet, 3))),
                            name="Good")
    missing = store.add_source(feed_server.url("/missing.xml"), name="Missing")
    before = scrape(client)
    async with Refresher(store, settings=LOOPBACK) as refresher:
        fetched = await refresher.refresh(store.get_source(good.id))
        again = await refresher.refresh(store.get_source(good.id))  # the server answers 304
        failed = await refresher.refresh(store.get_source(missing.id))
    assert (fetched.outcome, again.outcome, failed.outcome, failed.reason) == \
        ("fetched", "not-modified", "failed", "http-404")
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        key = tuple(sorted(labels.items()))
        return after[name].get(key, 0) - before.get(name, {}).get(key, 0)

    assert moved("newswire_fetches_total", outcome="fetched", reason="none") == 1
    assert moved("newswire_fetches_total", outcome="not-modified", reason="none") == 1
    assert moved("newswire_fetches_total", outcome="failed", reason="http-404") == 1
    assert moved("newswire_fetch_duration_seconds_count") == 3
    assert moved("newswire_fetch_duration_seconds_bucket", le="+Inf") == 3
    assert after["newswire_fetch_duration_seconds_sum"][()] > before["newswire_fetch_duration_seconds_sum"][()]
    assert after["newswire_articles_stored"] == {(): 3}
    assert after["newswire_sources"][(("health", "failing"),)] == 1
    assert after["newswire_sources"][(("health", "ok"),)] == 1


def test_metrics_add_every_workers_counters_to_this_process(store, client):
    """In the PostgreSQL deployment the fetches happen in `newswire worker` processes: each
    writes its counters to the database, and /metrics adds them to this process's own. A
    worker gone for a day is folded into one row, and the sums never go down."""
    from datetime import datetime, timedelta, timezone

    def counters(*fetches: tuple[str, str, float]) -> metrics.Snapshot:
        registry = metrics.Registry()
        for outcome, reason, seconds in fetches:
            registry.record_fetch(outcome, reason, seconds)
        return registry.snapshot()

    now = datetime.now(timezone.utc)
    before = scrape(client)
    store.share_metrics("host-a:1", now - timedelta(days=2), counters(("fetched", None, 0.2), ("fetched", None, 3)))
    store.share_metrics("host-b:2", now, counters(("failed", "timeout", 20.0)))
    store.share_metrics("host-b:2", now, counters(("failed", "timeout", 20.0), ("fetched", None, 0.01)))  # replaces
    store.share_metrics("host-c:3", now, counters())  # folds host-a, silent for two days, into "retired"

    def moved(found, name: str, **labels: str) -> float:
        key = tuple(sorted(labels.items()))
        return found[name].get(key, 0) - before.get(name, {}).get(key, 0)

    for _ in range(2):  # the same sums before and after another write folds nothing more
        found = scrape(client)
        assert moved(found, "newswire_fetches_total", outcome="fetched", reason="none") == 3
        assert moved(found, "newswire_fetches_total", outcome="failed", reason="timeout") == 1
        assert moved(found, "newswire_fetch_duration_seconds_count") == 4
        assert moved(found, "newswire_fetch_duration_seconds_bucket", le="0.25") == 2
        assert moved(found, "newswire_fetch_duration_seconds_bucket", le="+Inf") == 4
        assert found["newswire_workers_reporting"] == {(): 2}  # b and c; a is retired
        store.share_metrics("host-c:3", now, counters())
    with store._read() as conn:
        owners = set(conn.execute(sa.text("SELECT owner FROM process_metrics")).scalars())
    assert owners == {"retired", "host-b:2", "host-c:3"}


def test_an_unreadable_counters_row_counts_as_nothing():
    assert metrics.Snapshot.from_json("{not json") == metrics.Snapshot()
    assert metrics.Snapshot.from_json('{"buckets": [1], "fetches": 3}') == metrics.Snapshot()
