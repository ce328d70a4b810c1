"""How times and bylines are shown: ``September 17, 2025 - 18:56`` in the configured zone."""

from __future__ import annotations

import os
from datetime import datetime
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


def format_when(moment: datetime, zone: ZoneInfo) -> str:
    """``September 17, 2025 - 18:56``: month name, day without padding, 24-hour time."""
    local = moment.astimezone(zone)
    return f"{local:%B} {local.day}, {local.year} - {local:%H:%M}"


def byline(authors: tuple[str, ...] | list[str]) -> str:
    return ", ".join(authors)
