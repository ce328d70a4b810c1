"""How long a response stays fresh, and how long a server asks us to wait: pure functions of
response headers, so the scheduler can poll politely without the fetcher keeping state.
"""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone
from typing import Mapping


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP-date (RFC 9110: IMF-fixdate, or the obsolete RFC 850 / asctime forms) in UTC,
    or None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000" and asctime carry no zone; HTTP dates are GMT
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _is_delta_seconds(value: str) -> bool:
    return value.isascii() and value.isdigit()  # str.isdigit alone accepts "²"


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


def _cache_directives(value: str) -> dict[str, str | None]:
    directives: dict[str, str | None] = {}
    for part in value.split(","):
        name, _, arg = part.strip().partition("=")
        if name:
            directives[name.strip().lower()] = arg.strip().strip('"') if arg else None
    return directives


def freshness_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds the response may be reused, from ``Cache-Control: max-age`` or else ``Expires``
    (measured from ``Date``, or ``now`` without one); never negative.

    ``s-maxage`` is for shared caches, which we are not, so it is ignored. ``no-cache`` and
    ``no-store`` give None: the server gave no lifetime to rely on. None also when the headers
    are absent or unreadable, so the caller falls back to its own poll interval."""
    directives = _cache_directives(_header(headers, "cache-control") or "")
    if "no-cache" in directives or "no-store" in directives:
        return None
    max_age = directives.get("max-age")
    if max_age is not None and _is_delta_seconds(max_age):
        return float(max_age)
    expires = parse_http_date(_header(headers, "expires"))
    if expires is None:
        return None
    origin = parse_http_date(_header(headers, "date")) or _aware(now)
    return max(0.0, (expires - origin).total_seconds())


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date (past dates
    give 0). None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if _is_delta_seconds(value):
        return float(value)
    when = parse_http_date(value)
    if when is None:
        return None
    return max(0.0, (when - _aware(now)).total_seconds())
