"""How times and bylines are shown: ``September 17, 2025 - 18:56`` in the configured zone.

Every function here is total: a row stored with a far date (9999-12-31, 0001-01-01, before dates
were clamped at normalisation) has a local time past what ``datetime`` can hold in zones east or
west of UTC, and ``astimezone`` raises OverflowError for it. A page must still render, so such a
time is shown in UTC, labelled, and a UTC conversion saturates at the ends of the range.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError



def display_zone(name: str = "") -> ZoneInfo:
    """The zone ``name`` (NEWSWIRE_TIMEZONE), else the machine's zone (from /etc/localtime), else UTC."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"config: unknown NEWSWIRE_TIMEZONE {name!r}") from error
    try:
        local = datetime.now().astimezone().tzinfo
        key = getattr(local, "key", None)
        if key:
            return ZoneInfo(key)
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            return ZoneInfo(link.split("zoneinfo/", 1)[1])
    except (ZoneInfoNotFoundError, OSError, ValueError):
        pass
    return ZoneInfo("UTC")


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive one is taken as UTC); never raises: a time whose UTC reading
    falls outside years 1–9999 becomes the nearest end of that range."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        edge = datetime.max if moment.year > 1 else datetime.min
        return edge.replace(tzinfo=timezone.utc)


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with its offset, as the API and feeds out write times."""
    return as_utc(moment).isoformat()


def format_when(moment: datetime, zone: ZoneInfo) -> str:
    """``September 17, 2025 - 18:56``: month name, day without padding, 24-hour time, in
    ``zone``; a time the zone cannot hold (see the module docstring) is shown in UTC, marked so."""
    try:
        local, label = moment.astimezone(zone), ""
    except OverflowError:
        local, label = as_utc(moment), " UTC"
    return f"{local:%B} {local.day}, {local.year} - {local:%H:%M}{label}"


def byline(authors: tuple[str, ...] | list[str]) -> str:
    return ", ".join(authors)



def relative_when(moment: datetime, now: datetime) -> str:
    """``3 min ago``, ``in 5 min``, ``just now``, ``2 h ago``, ``3 days ago``: how far from
    ``now``, in the largest whole unit (the sources page's fetch times; a hover shows the exact
    time)."""
    seconds = (as_utc(moment) - as_utc(now)).total_seconds()
    ahead, span = seconds > 0, abs(seconds)
    if span < 45:
        return "in a moment" if ahead else "just now"
    unit, size = next((u, s) for u, s in (("day", 86400), ("h", 3600), ("min", 60)) if span >= s or u == "min")
    count = max(1, int(span // size))
    label = unit if unit != "day" else ("day" if count == 1 else "days")
    return f"in {count} {label}" if ahead else f"{count} {label} ago"
