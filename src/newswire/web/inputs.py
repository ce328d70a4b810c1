"""Request values the pages parse themselves (ids in paths, numbers in queries), refused at the
edge with the friendly error page instead of reaching the store."""

from __future__ import annotations

from newswire.web.errors import BadRequest, WebError


def int_or_none(value: str | None, what: str) -> int | None:
    """A number from the query string, None when absent; 400 when it is not a number."""
    if value is None or value.strip() == "":
        return None
    if not value.strip().isdigit():
        raise BadRequest(f"The {what} “{value}” is not a number.")
    return int(value)


def id_or_404(value: str, what: str) -> int:
    """An id from the path; 404 when it is not one (there is no such page)."""
    if not value.isdigit():
        raise WebError(404, f"There is no {what} “{value}” here.")
    return int(value)
