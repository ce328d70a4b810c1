"""Every setting, registered once: name, type, default, help and environment variable.

The CLI reads its defaults from here and a test checks that each setting is documented in the
README, so a setting cannot be added without saying what it does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], object]
    default: object
    help: str

    @property
    def env(self) -> str:
        return "NEWSWIRE_" + self.name.upper()


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("database_url", str, "sqlite:///./newswire.db",
                "Database URL: sqlite:///path or postgresql://user@host/db."),
        Setting("timezone", str, "", "IANA zone for displayed times; empty means the machine's zone."),
        Setting("allow_private_addresses", _bool, False,
                "1 lets feeds on loopback/private/link-local addresses be fetched (tests, demo, home network)."),
        Setting("max_response_bytes", int, 10 * 1024 * 1024, "Largest feed body read, after decompression."),
        Setting("concurrency", int, 32, "Feeds fetched at once, in all."),
        Setting("per_host_concurrency", int, 2, "Feeds fetched at once from one host."),
        Setting("connect_timeout", float, 10.0, "Seconds to open a connection."),
        Setting("read_timeout", float, 20.0, "Seconds to wait for the next bytes of a response."),
        Setting("total_timeout", float, 60.0, "Seconds one fetch may take from start to end."),
        Setting("poll_interval", int, 1800,
                "Seconds between two polls of a source until its publication times say better."),
        Setting("min_poll_interval", int, 300, "Shortest adaptive interval between two polls of a source, in seconds."),
        Setting("max_poll_interval", int, 24 * 3600,
                "Longest adaptive interval between two polls of a source, in seconds."),
        Setting("max_backoff", int, 24 * 3600, "Longest wait after repeated failures, in seconds."),
        Setting("user_agent", str, "",
                "User-Agent sent with every request; empty means Newswire/<version> (+project URL)."),
    ]
}


def get(name: str) -> object:
    """The value of a setting: its environment variable if set, else its default."""
    setting = SETTINGS[name]
    raw = os.environ.get(setting.env)
    if raw is None or raw == "":
        return setting.default
    return setting.parse(raw)


def user_agent() -> str:
    from newswire import __version__

    return str(get("user_agent")) or (
        f"Newswire/{__version__} (+https://github.com/newswire/newswire; feed reader)"
    )
