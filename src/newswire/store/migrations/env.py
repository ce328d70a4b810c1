"""Alembic environment: runs on the connection the store hands over (``engine.upgrade``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

config = context.config
connection = config.attributes.get("connection")
target_metadata = config.attributes.get("target_metadata")


def _run(conn) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:  # `alembic -x url=…` from a shell, for development
    url = context.get_x_argument(as_dictionary=True)["url"]
    with create_engine(url).begin() as conn:
        _run(conn)
