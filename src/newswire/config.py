"""Every setting, registered once, and the one frozen ``Settings`` object built from them.

Settings are read from the environment exactly once, at the edge (the CLI, or a test), validated,
and passed down as a ``Settings``; nothing deeper reads ``os.environ``. A bad value stops start-up
with one line that names the variable. The registry also feeds the CLI's defaults, and a test
checks that each setting is documented in the README, so a setting cannot be added without
saying what it does.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newswire.errors import NewswireError


class SettingsError(NewswireError):
    """A setting's value is unusable; the message names the environment variable."""


def _bool(value: str) -> bool:
    text = value.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected 1 or 0 (true/false, yes/no, on/off)")


def _whole(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError("expected a whole number") from None


def _positive_int(value: str) -> int:
    number = _whole(value)
    if number <= 0:
        raise ValueError("expected a whole number above 0")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if not number > 0 or number == float("inf"):
        raise ValueError("expected a number of seconds above 0")
    return number


MAX_HOST_INTERVAL = 60.0  # longer would hold a whole pass up behind one host


def _host_interval(value: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if not 0 <= number <= MAX_HOST_INTERVAL:
        raise ValueError(f"expected a number of seconds from 0 to {MAX_HOST_INTERVAL:g} (0: no spacing)")
    return number


MIN_RETENTION_DAYS = 7  # copy detection and story clustering look back this far


def _retention_days(value: str) -> int:
    days = _whole(value)
    if days != 0 and days < MIN_RETENTION_DAYS:
        raise ValueError(f"expected a whole number of days, {MIN_RETENTION_DAYS} or more "
                         "(copy detection looks back a week), or 0 to keep everything")
    return days


def _zone(value: str) -> str:
    name = value.strip()
    if name:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (expected an IANA name such as America/Toronto)") from None
    return name


def _base_url(value: str) -> str:
    text = value.strip().rstrip("/")
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("expected the public address, such as https://news.example.org")
    return text


def _hosts(value: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in value.split(",") if h.strip())
    for host in hosts:
        if any(c.isspace() or c in "/@?#" for c in host):
            raise ValueError(f"{host!r} is not a host name (list names, or host:port, separated by commas)")
    return hosts


def _text(value: str) -> str:
    return value.strip()


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "NEWSWIRE_" + self.name.upper()


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("database_url", _text, "sqlite:///./newswire.db",
                "Database URL: sqlite:///path or postgresql://user@host/db."),
        Setting("timezone", _zone, "", "IANA zone for displayed times; empty means the machine's zone."),
        Setting("allow_private_addresses", _bool, False,
                "1 lets feeds on loopback/private/link-local addresses be fetched (tests, demo, home network)."),
        Setting("max_response_bytes", _positive_int, 10 * 1024 * 1024,
                "Largest feed body read, after decompression."),
        Setting("concurrency", _positive_int, 32, "Feeds fetched at once, in all."),
        Setting("per_host_concurrency", _positive_int, 2,
                "Requests at once to one host, by every process fetching into the database together."),
        Setting("host_interval", _host_interval, 0.25,
                "Shortest time in seconds between the starts of two requests to one host, across every "
                "process fetching into the database (0 to 60; 0: no spacing)."),
        Setting("connect_timeout", _positive_float, 10.0, "Seconds to open a connection."),
        Setting("read_timeout", _positive_float, 20.0, "Seconds to wait for the next bytes of a response."),
        Setting("total_timeout", _positive_float, 60.0, "Seconds one fetch may take from start to end."),
        Setting("poll_interval", _positive_int, 1800,
                "Seconds between two polls of a source until its publication times say better."),
        Setting("min_poll_interval", _positive_int, 300,
                "Shortest adaptive interval between two polls of a source, in seconds."),
        Setting("max_poll_interval", _positive_int, 24 * 3600,
                "Longest adaptive interval between two polls of a source, in seconds."),
        Setting("max_backoff", _positive_int, 24 * 3600, "Longest wait after repeated failures, in seconds."),
        Setting("user_agent", _text, "",
                "User-Agent sent with every request; empty means Newswire/<version> (+project URL)."),
        Setting("max_items_per_fetch", _positive_int, 500,
                "Most entries kept from one fetch of a feed (the newest); the rest are ignored."),
        Setting("base_url", _base_url, "",
                "The public URL (https://news.example.org); links in feeds out follow it. Empty: the "
                "address it listens on."),
        Setting("allowed_hosts", _hosts, (),
                "Host headers accepted, separated by commas; empty means the bound address, localhost "
                "and the base URL's host."),
        Setting("media_proxy", _bool, False,
                "1: images in article bodies load through Newswire (signed URLs, same address guard)."),
        Setting("public", _bool, True,
                "1: anyone who can reach the server may read the wire; 0: reading needs a signed-in user. "
                "Changing sources or users always needs an admin."),
        Setting("retention_days", _retention_days, 0,
                "Articles published more than this many days ago are purged (7 or more; saved ones are "
                "kept); 0 keeps everything."),
        Setting("access_log", _bool, False, "1: log one line per HTTP request (default: only problems)."),
    ]
}


@dataclass(frozen=True)
class Settings:
    """The validated settings of one process. Build it with ``Settings.from_env()`` at the edge
    (or ``Settings(...)`` in a test) and pass it down; change a copy with ``with_changes``."""

    database_url: str = SETTINGS["database_url"].default
    timezone: str = ""
    allow_private_addresses: bool = False
    max_response_bytes: int = SETTINGS["max_response_bytes"].default
    concurrency: int = 32
    per_host_concurrency: int = 2
    host_interval: float = 0.25
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    poll_interval: int = 1800
    min_poll_interval: int = 300
    max_poll_interval: int = 24 * 3600
    max_backoff: int = 24 * 3600
    user_agent: str = ""
    max_items_per_fetch: int = 500
    base_url: str = ""
    allowed_hosts: tuple[str, ...] = field(default=())
    media_proxy: bool = False
    public: bool = True
    retention_days: int = 0
    access_log: bool = False

    def __post_init__(self) -> None:
        if self.min_poll_interval > self.max_poll_interval:
            raise SettingsError("config: NEWSWIRE_MIN_POLL_INTERVAL is larger than NEWSWIRE_MAX_POLL_INTERVAL")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Every registered setting from ``environ`` (default: ``os.environ``), validated; an
        explicit keyword (a CLI option) wins over the environment."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS.values():
            raw = environ.get(setting.env)
            if raw is None or raw.strip() == "":
                continue
            try:
                values[setting.name] = setting.parse(raw)
            except ValueError as error:
                raise SettingsError(f"config: {setting.env}={raw[:80]!r} is not valid: {error}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_changes(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    @property
    def agent(self) -> str:
        """The User-Agent to send."""
        from newswire import __version__

        return self.user_agent or f"Newswire/{__version__} (+https://github.com/newswire/newswire; feed reader)"


DEFAULTS = Settings()
