"""Storage: the schema, idempotent upserts, full-text search, on SQLite or PostgreSQL.

    store.py     Store, the public face; one transaction per method
    engine.py    URLs, engine and SQLite pragmas, migrations, error translation
    tables.py    the schema as SQLAlchemy Core tables
    sources.py   source rows;  articles.py  the upsert of a refresh, article reads
    search.py    query parsing, FTS5 / tsvector queries, snippets
    migrations/  Alembic revisions
"""

from .store import Store

__all__ = ["Store"]
