"""A scratch PostgreSQL database for the tests and the benchmarks: made on a server, dropped on
the way out even if processes still hold connections to it."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def scratch_database(server_url: str, prefix: str = "newswire_scratch") -> Iterator[str]:
    """The URL of a new, empty database on the server behind ``server_url`` (any database there
    that we may connect to, e.g. ``postgres`` or ``test``)."""
    import psycopg  # only PostgreSQL runs need the driver

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
