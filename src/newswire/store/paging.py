"""Reading a large set of rows a page at a time, in storage (id) order."""

from __future__ import annotations

from typing import Any, Callable, ContextManager, Iterator, Sequence, TypeVar

from sqlalchemy.engine import Connection

Row = TypeVar("Row")


def by_id_pages(read: Callable[[], ContextManager[Connection]],
                page_of: Callable[[Connection, int, int], Sequence[Row]], page: int,
                upto: int | None = None) -> Iterator[Row]:
    """Every row ``page_of(conn, after_id, limit)`` gives, a page at a time, each page read in a
    transaction of its own from ``read()``: a window of articles with their texts is never in
    memory at once, only the page being used, and no transaction stays open while it is.
    ``upto``: the last id to give (the rows come in id order: no page is read past it)."""
    after = 0
    while True:
        with read() as conn:
            rows = page_of(conn, after, page)
        for row in rows:
            if upto is not None and _id(row) > upto:
                return
            yield row
        if len(rows) < page:
            return
        after = _id(rows[-1])


def _id(row: Any) -> int:
    return row.id
