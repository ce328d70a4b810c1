"""Statements compiled once and run as one driver ``executemany``: the writer's hot path.

Why: ``conn.execute(sa.insert(articles), rows)`` builds the statement again, derives its cache
key, finds the compiled form and passes every row through generic parameter machinery on every
call. On the writer thread of ``fetch --no-enrich`` that statement machinery was about half of
``upsert_entries``' time holding the GIL (SQLite itself runs without it).

``Many`` keeps a statement built once and compiles it once per dialect and set of row keys with
SQLAlchemy's own compiler, so the SQL (PostgreSQL's bind casts included) and each value's
conversion (the same bind processors: UTC datetimes, JSON, booleans) are those ``execute`` would
use. The rows then go to ``Connection.exec_driver_sql``, which still runs in the connection's
transaction and wraps driver errors in SQLAlchemy's, so ``translate_errors`` turns a failure into
``StorageError`` as before.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Callable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bound parameters, in the statement's order
    keys: tuple[str, ...]  # what the driver calls them (pyformat escapes some names)
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position in names, bind processor)
    positional: bool

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Each row's values in the driver's form: a tuple in ``names`` order, or a dict."""
        get = itemgetter(*self.names)
        single = len(self.names) == 1
        out: list[Any] = []
        for row in rows:
            values = (get(row),) if single else get(row)
            if self.processors:
                values = list(values)
                for i, process in self.processors:
                    values[i] = process(values[i])
            out.append(tuple(values) if self.positional else dict(zip(self.keys, values)))
        return out


class Many:
    """One statement (an INSERT, or an UPDATE with ``bindparam``s) run for many rows, as
    ``conn.execute(statement, rows)`` would run it; every row must have the same keys."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, dict[tuple[str, ...], _Compiled]] = \
            weakref.WeakKeyDictionary()

    def __call__(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement for each row; the rows it matched or wrote (the driver's count)."""
        if not rows:
            return 0
        dialect = conn.dialect
        compiled = self._compile(dialect, tuple(sorted(rows[0])))
        try:
            parameters = compiled.parameters(rows)
        except Exception as error:  # a value a bind processor refuses: wrapped as execute() wraps it
            raise sa.exc.DBAPIError.instance(compiled.sql, None, error, dialect.loaded_dbapi.Error,
                                             dialect=dialect) from error
        return conn.exec_driver_sql(compiled.sql, parameters).rowcount

    def _compile(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
        by_keys = self._compiled.setdefault(dialect, {})
        found = by_keys.get(keys)
        if found is None:
            found = by_keys[keys] = _compile(self.statement, dialect, keys)
        return found


def _compile(statement: sa.Executable, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    # for_executemany, as execute() compiles for many rows: no RETURNING of the new primary key
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    binds = compiled.binds  # name → BindParameter
    names = tuple(compiled.positiontup) if compiled.positional else tuple(binds)
    missing = [name for name in names if name not in keys]
    if missing:  # a literal or a column default of the statement's own, which rows never carry
        raise ValueError(f"prepared: the rows lack {', '.join(missing)}")
    processors = []
    for i, name in enumerate(names):
        process = binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((i, process))
    escaped = getattr(compiled, "escaped_bind_names", None) or {}
    return _Compiled(sql=compiled.string, names=names, keys=tuple(escaped.get(n, n) for n in names),
                     processors=tuple(processors), positional=bool(compiled.positional))
