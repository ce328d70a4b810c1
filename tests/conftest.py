"""Shared fixtures: a real feed server on 127.0.0.1, and a fresh database on each engine.

PostgreSQL tests run when NEWSWIRE_TEST_POSTGRES_URL points at a server (``.ci/run`` sets it to
postgresql://postgres@127.0.0.1:5432/test); each test session gets its own database created from
that URL, and each test a clean schema.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import pytest

from newswire.testing import LOOPBACK
from newswire.testing.feedserver import FeedServer
from newswire.testing.postgres import scratch_database

POSTGRES_ENV = "NEWSWIRE_TEST_POSTGRES_URL"

# pytest-xdist's workers start with COLUMNS=80 and LINES=24 set; rich then fixes the CLI's console
# at 80 columns when ``newswire.cli`` is imported, and the CLI tests' own COLUMNS (their CliRunner's
# env) would no longer count. Without them, the console reads the size at each print, as it does
# in a terminal.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _allow_loopback_feeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests serve feeds on 127.0.0.1; the address-guard tests switch this off themselves. One
    loopback server stands in for many publishers, so requests to it are not spaced out (the
    politeness tests, tests/test_host_gate.py, set an interval of their own)."""
    monkeypatch.setenv("NEWSWIRE_ALLOW_PRIVATE_ADDRESSES", "1")
    monkeypatch.setenv("NEWSWIRE_HOST_INTERVAL", "0")


def _sqlalchemy_pg_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


@contextmanager
def throwaway_postgres_database(prefix: str = "newswire_test") -> Iterator[str]:
    """The URL of a new database on the PostgreSQL server named by NEWSWIRE_TEST_POSTGRES_URL,
    dropped afterwards; skips the test when no server is named."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    with scratch_database(base, prefix) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A throwaway database on the PostgreSQL server named by NEWSWIRE_TEST_POSTGRES_URL."""
    with throwaway_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A URL for an empty database: a SQLite file, or a clean schema on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'newswire.db'}"
    url = request.getfixturevalue("postgres_server_url")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'newswire.db'}"


@pytest.fixture
def store(database_url):
    """A Store on a fresh database, on each engine."""
    from newswire.store import Store

    s = Store(database_url)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(sqlite_url):
    from newswire.store import Store

    s = Store(sqlite_url)
    yield s
    s.close()


@pytest.fixture
def client(store):
    """An in-process HTTP client for the web app over ``store``."""
    from fastapi.testclient import TestClient

    from newswire.web import create_app

    with TestClient(create_app(store, LOOPBACK, bound_hosts=("testserver",))) as c:  # its Host is allowed
        yield c
