"""Per-host politeness shared through the database (store/host_gate.py, fetch/limits.py): two
processes, or two fetchers on one database, never have more requests in flight to one host
than NEWSWIRE_PER_HOST_CONCURRENCY, their starts to one host are NEWSWIRE_HOST_INTERVAL apart,
and a killed holder's slots come back. On SQLite and on PostgreSQL.

The loopback server counts the requests in flight to it (its handler holds each one a while);
spacing is read from the times requests arrived, with room for the time a request takes from
its recorded start to the server. Each fetcher first warms up on another path of the server,
so that no paced request pays for opening the first connection (tens of milliseconds here)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from newswire.config import Settings, SettingsError
from newswire.fetch import Fetcher
from newswire.fetch.limits import LocalGate, RequestLimits
from newswire.store import Store
from newswire.store.host_gate import AdvisoryHostGate, FileHostGate, host_key
from newswire.store.engine import create_engine
from newswire.testing import LOOPBACK
from newswire.testing.feedserver import FeedServer, Request, Response

HOLD = 0.1  # seconds the server keeps each request in flight
INTERVAL = 0.4  # seconds between starts, in the spacing tests
SPACING_ROOM = 0.5  # a start may reach the server up to this share of the interval late


class CountingServer:
    """A loopback feed whose handler records each request's arrival and the most in flight."""

    def __init__(self, server: FeedServer, hold: float = HOLD):
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.arrivals: list[float] = []
        self.url = server.route("/feed.xml", self._handle)
        self.warm_url = server.add("/warm.xml", "<rss version='2.0'><channel><title>w</title></channel></rss>")
        self._hold = hold

    def _handle(self, request: Request) -> Response:
        with self._lock:
            self.arrivals.append(time.monotonic())
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        time.sleep(self._hold)
        with self._lock:
            self.in_flight -= 1
        return Response(200, b"<rss version='2.0'><channel><title>t</title></channel></rss>",
                        {"Content-Type": "application/rss+xml"})

    def gaps(self) -> list[float]:
        starts = sorted(self.arrivals)
        return [b - a for a, b in zip(starts, starts[1:])]


@pytest.fixture
def counting(feed_server: FeedServer) -> CountingServer:
    return CountingServer(feed_server)


def _settings(per_host: int = 2, interval: float = 0.0) -> Settings:
    return LOOPBACK.with_changes(per_host_concurrency=per_host, host_interval=interval)


async def _fetch_all(fetcher: Fetcher, url: str, times: int) -> None:
    await asyncio.gather(*(fetcher.fetch(f"{url}?n={n}") for n in range(times)))


async def _warm(counting: CountingServer, *fetchers: Fetcher) -> None:
    for fetcher in fetchers:
        await fetcher.fetch(counting.warm_url)


# --- in one process ---------------------------------------------------------------------------

@pytest.mark.parametrize("stores", [1, 2], ids=["one store", "two stores"])
def test_fetchers_on_one_database_never_exceed_the_per_host_limit(database_url, counting, stores):
    opened = [Store(database_url) for _ in range(stores)]

    async def go() -> None:
        gates = [opened[i % stores].host_gate() for i in range(2)]
        assert all(gate is not None for gate in gates)
        async with Fetcher(_settings(), host_gate=gates[0]) as one, Fetcher(_settings(), host_gate=gates[1]) as two:
            await asyncio.gather(_fetch_all(one, counting.url, 8), _fetch_all(two, counting.url, 8))

    try:
        asyncio.run(go())
    finally:
        for store in opened:
            store.close()
    assert len(counting.arrivals) == 16
    assert counting.most <= 2  # each fetcher alone allows 2: four at once without the gate


def test_starts_to_one_host_are_spaced_by_the_interval_across_fetchers(database_url, counting):
    """Two stores: two gates, each with a file of its own open or a connection of its own, as
    two processes would have (the processes themselves are in the test of the limit below)."""
    interval = INTERVAL
    first, second = Store(database_url), Store(database_url)

    async def go() -> None:
        async with Fetcher(_settings(interval=interval), host_gate=first.host_gate()) as one, \
                Fetcher(_settings(interval=interval), host_gate=second.host_gate()) as two:
            await _warm(counting, one, two)
            await asyncio.gather(_fetch_all(one, counting.url, 3), _fetch_all(two, counting.url, 3))

    try:
        asyncio.run(go())
    finally:
        first.close()
        second.close()
    assert len(counting.arrivals) == 6
    assert min(counting.gaps()) >= interval * (1 - SPACING_ROOM)


def test_one_process_without_a_database_spaces_its_own_starts(counting):
    interval = INTERVAL

    async def go() -> None:
        async with Fetcher(_settings(per_host=4, interval=interval)) as fetcher:
            await _warm(counting, fetcher)
            await _fetch_all(fetcher, counting.url, 4)

    asyncio.run(go())
    assert len(counting.arrivals) == 4
    assert min(counting.gaps()) >= interval * (1 - SPACING_ROOM)


def test_no_interval_means_no_spacing_and_hosts_are_paced_apart():
    gate = LocalGate(clock=lambda: 100.0)
    assert gate.try_start("a.example", 1.0) == 0.0
    assert gate.try_start("a.example", 1.0) == pytest.approx(1.0)  # same moment: wait the interval
    assert gate.try_start("b.example", 1.0) == 0.0  # another host is not held up by it


# --- across processes --------------------------------------------------------------------------

FETCHER = """
import asyncio, os, sys, time
from newswire.fetch import Fetcher
from newswire.store import Store
from newswire.testing import LOOPBACK

url, feed, warm, times, go_file = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
store = Store(url)
settings = LOOPBACK.with_changes(per_host_concurrency=2, host_interval=float(sys.argv[6]))

async def main():
    async with Fetcher(settings, host_gate=store.host_gate()) as fetcher:
        await fetcher.fetch(warm)
        print("ready", flush=True)
        while not os.path.exists(go_file):
            await asyncio.sleep(0.01)
        await asyncio.gather(*(fetcher.fetch(f"{feed}?p={os.getpid()}&n={n}") for n in range(times)))

asyncio.run(main())
store.close()
print("done", flush=True)
"""


def _start_together(database_url: str, counting: CountingServer, tmp_path: Path, *, times: int,
                    interval: float) -> None:
    """Two processes that fetch the counting server's feed ``times`` times each, released at
    the same moment."""
    Store(database_url).close()  # migrated here, not by both at once
    go_file = tmp_path / "go"
    children = [subprocess.Popen([sys.executable, "-c", FETCHER, database_url, counting.url, counting.warm_url, str(times), str(go_file),
                                  str(interval)], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        go_file.touch()
        for child in children:
            out, _ = child.communicate(timeout=60)
            assert child.returncode == 0 and out.strip() == "done"
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()


def test_two_processes_never_exceed_the_per_host_limit(database_url, counting, tmp_path):
    _start_together(database_url, counting, tmp_path, times=10, interval=0.0)
    assert len(counting.arrivals) == 20
    assert counting.most <= 2


HOLDER = """
import sys, time
from newswire.store import Store

gate = Store(sys.argv[1]).host_gate()
print(gate.try_slot("feeds.example", 2), gate.try_slot("feeds.example", 2), flush=True)
time.sleep(120)
"""


def test_a_killed_holders_slots_come_back(database_url):
    store = Store(database_url)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, database_url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().split() == ["0", "1"]
        gate = store.host_gate()
        assert gate is not None
        assert gate.try_slot("feeds.example", 2) is None  # both held by the other process
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        deadline = time.monotonic() + 10
        taken = gate.try_slot("feeds.example", 2)
        while taken is None and time.monotonic() < deadline:  # PostgreSQL ends the session on its own time
            time.sleep(0.05)
            taken = gate.try_slot("feeds.example", 2)
        assert taken == 0
        assert gate.try_slot("feeds.example", 2) == 1
    finally:
        if holder.poll() is None:
            holder.kill()
        store.close()


# --- the gates themselves ----------------------------------------------------------------------

def test_a_gate_never_hands_out_a_slot_twice_and_takes_them_back(database_url):
    one, two = Store(database_url), Store(database_url)
    try:
        first, second = one.host_gate(), two.host_gate()
        assert first is not None and second is not None
        assert first.try_slot("Feeds.Example", 2) == 0
        assert second.try_slot("feeds.example", 2) == 1  # host names are case-blind
        assert first.try_slot("feeds.example", 2) is None and second.try_slot("feeds.example", 2) is None
        assert first.try_slot("other.example", 2) == 0  # each host has its own
        first.release_slot("feeds.example", 0)
        first.release_slot("feeds.example", 0)  # twice is harmless
        assert second.try_slot("feeds.example", 2) == 0
        first.release_slot("feeds.example", 1)  # not its slot: nothing happens
        assert first.try_slot("feeds.example", 2) is None
    finally:
        one.close()
        two.close()


def test_a_gate_paces_one_host_and_not_another(database_url):
    one, two = Store(database_url), Store(database_url)
    try:
        first, second = one.host_gate(), two.host_gate()
        assert first is not None and second is not None
        assert first.try_start("feeds.example", 30.0) == 0.0
        wait = second.try_start("feeds.example", 30.0)
        assert 25.0 < wait <= 30.0
        assert second.try_start("other.example", 30.0) == 0.0
        assert first.try_start("feeds.example", 0.0) == 0.0  # no interval: always now
    finally:
        one.close()
        two.close()


def _advisory_locks(url: str, host: str) -> int:
    key = host_key(host, 32)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                        "AND classid = CAST(:key AS oid) AND objsubid = 2"), {"key": key}).scalar()
    finally:
        engine.dispose()


def test_postgresql_slots_take_one_advisory_lock_each_and_leak_none(postgres_server_url):
    url = postgres_server_url
    one, two = Store(url), Store(url)
    try:
        first, second = one.host_gate(), two.host_gate()
        assert isinstance(first, AdvisoryHostGate) and isinstance(second, AdvisoryHostGate)
        assert first.try_slot("leaks.example", 3) == 0
        assert second.try_slot("leaks.example", 3) == 1  # tried past the one held elsewhere
        assert second.try_slot("leaks.example", 3) == 2
        assert first.try_slot("leaks.example", 3) is None  # tried 1 and 2: no lock stays behind
        assert _advisory_locks(url, "leaks.example") == 3
        for gate, slot in ((first, 0), (second, 1), (second, 2)):
            gate.release_slot("leaks.example", slot)
        assert _advisory_locks(url, "leaks.example") == 0
    finally:
        one.close()
        two.close()


def test_a_gate_that_cannot_reach_its_database_grants_and_does_not_raise(caplog):
    engine = create_engine("postgresql://postgres@127.0.0.1:9/nowhere")  # nothing listens on port 9
    gate = AdvisoryHostGate(engine)
    try:
        assert gate.try_slot("feeds.example", 2) == -1
        assert gate.try_start("feeds.example", 1.0) == 0.0
        gate.release_slot("feeds.example", -1)
    finally:
        gate.close()
        engine.dispose()
    assert "politeness: cannot" in caplog.text


def test_sqlite_shares_through_a_file_beside_the_database(sqlite_url, tmp_path):
    store = Store(sqlite_url)
    try:
        assert isinstance(store.host_gate(), FileHostGate)
        assert (tmp_path / "newswire.db-hosts.lock").exists()
    finally:
        store.close()
    memory = Store("sqlite://")
    assert memory.host_gate() is None  # in memory: one process, paced on its own
    memory.close()


def test_limits_refuse_a_negative_interval():
    with pytest.raises(ValueError):
        RequestLimits(4, 2, interval=-1.0)


@pytest.mark.parametrize("value", ["-1", "soon", "61", "nan"])
def test_a_bad_host_interval_stops_start_up_naming_the_variable(value):
    with pytest.raises(SettingsError, match="NEWSWIRE_HOST_INTERVAL"):
        Settings.from_env({"NEWSWIRE_HOST_INTERVAL": value})


def test_host_interval_reads_seconds_and_zero():
    assert Settings.from_env({"NEWSWIRE_HOST_INTERVAL": "0"}).host_interval == 0.0
    assert Settings.from_env({"NEWSWIRE_HOST_INTERVAL": " 1.5 "}).host_interval == 1.5
    assert Settings.from_env({}).host_interval == 0.25
