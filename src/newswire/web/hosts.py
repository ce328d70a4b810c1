"""Allowed hosts: the defence against DNS rebinding.

A page elsewhere can point a name it controls at 127.0.0.1 and then talk to this server as its
own origin; the one thing it cannot change is the Host header, which carries its name. So every
request must name this server by a name it was given:

    NEWSWIRE_ALLOWED_HOSTS   when set, exactly those ("name" any port, "name:port" that port,
                             "*" anything: an explicit opt-out)
    otherwise                localhost, 127.0.0.1, [::1], the host of NEWSWIRE_BASE_URL and the
                             address the server is bound to (a wildcard bind such as 0.0.0.0
                             adds nothing: set NEWSWIRE_ALLOWED_HOSTS or NEWSWIRE_BASE_URL)

Anything else, or a Host header that is not a host, gets a plain 400 that names nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from newswire.config import Settings

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "[::]"})
_NAME = re.compile(r"([a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?)\.?(?::([0-9]{1,5}))?")
_BRACKETED = re.compile(r"(\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?")


def parse_host(value: str | None) -> tuple[str, int | None] | None:
    """(name, port) of a Host header or a configured entry, lower-cased; None when it is not a
    host. A bare IPv6 address (``::1``, as a bind address is written) is put in brackets."""
    if value is None:
        return None
    text = value.strip().lower()
    if text.count(":") > 1 and not text.startswith("["):
        text = f"[{text}]"
    match = _BRACKETED.fullmatch(text) or _NAME.fullmatch(text)
    if not match:
        return None
    port = int(match.group(2)) if match.group(2) else None
    if port is not None and not 0 < port <= 65535:
        return None
    return match.group(1), port


def _wildcard(bound: str) -> bool:
    parsed = parse_host(bound)
    return parsed is None or parsed[0] in WILDCARD_BINDS


@dataclass(frozen=True)
class HostPolicy:
    """The host names (each with a port, or None for any) this server answers to."""

    entries: frozenset[tuple[str, int | None]]
    anything: bool = False

    @classmethod
    def of(cls, settings: Settings, bound_hosts: Iterable[str] = ()) -> "HostPolicy":
        """The policy ``settings`` ask for; ``bound_hosts`` are the addresses the server listens
        on (the CLI's ``--host``), used only when no hosts are configured."""
        if "*" in settings.allowed_hosts:
            return cls(frozenset(), anything=True)
        names = list(settings.allowed_hosts)
        if not names:
            names = [*LOOPBACK_NAMES, *(host for host in bound_hosts if not _wildcard(host))]
            if settings.base_url:
                names.append(urlsplit(settings.base_url).hostname or "")  # its name, on any port
        return cls(frozenset(parsed for parsed in map(parse_host, names) if parsed is not None))

    def allows(self, host: str | None) -> bool:
        parsed = parse_host(host)
        if parsed is None:
            return False
        if self.anything:
            return True
        name, port = parsed
        return (name, None) in self.entries or (port is not None and (name, port) in self.entries)


class HostCheck:
    """Refuses, with a plain 400, every request whose Host header the policy does not allow."""

    def __init__(self, app: ASGIApp, policy: HostPolicy):
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hosts = [v.decode("latin-1") for k, v in scope["headers"] if k == b"host"]
            if len(hosts) != 1 or not self.policy.allows(hosts[0]):
                response = PlainTextResponse("Bad Request: unknown host\n", status_code=400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
