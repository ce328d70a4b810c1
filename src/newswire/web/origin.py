"""The cross-site check: a request that changes something must come from this site's own pages.

Every request whose method is not safe (POST, PUT, PATCH, DELETE, …), on every path, is refused
with 403 when the browser says it came from elsewhere. Each signal present must agree:

    Origin           "null" refused (sandboxed frames, data: pages); otherwise this very origin:
                     the Host the request was sent to (same scheme-default port), or the public
                     NEWSWIRE_BASE_URL (behind a proxy), and a host the allowed-hosts policy takes
    Sec-Fetch-Site   only "same-origin" or "none" (typed by the user); "same-site" is refused:
                     another port on localhost is the same site
    Referer          when present, this origin too (our pages send it: Referrer-Policy same-origin)

A request with none of them (curl, scripts) still passes: it is not a browser acting for
someone; nor is one signed in with an API token (``identity.Identify``, outside this check,
says so), which passes whatever it says. Permissions are ``auth``'s, not this check's. As a middleware, no route can be
forgotten; refusals are written by the one error boundary (``errors.respond``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from newswire.config import Settings
from newswire.web.errors import WebError, respond
from newswire.web.hosts import HostPolicy, parse_host
from newswire.web.identity import SAFE_METHODS

SAME_ORIGIN_FETCHES = frozenset({"same-origin", "none"})
DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]  # scheme, host, port


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an Origin or Referer value; None when it is not an http(s) URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    parsed = parse_host(parts.netloc) if scheme in DEFAULT_PORTS and "@" not in parts.netloc else None
    if parsed is None:
        return None
    return scheme, parsed[0], parsed[1] or DEFAULT_PORTS[scheme]


class CrossSiteCheck:
    """Refuses state-changing requests that a browser says come from another origin."""

    def __init__(self, app: ASGIApp, settings: Settings, policy: HostPolicy):
        self.app = app
        self.policy = policy
        self.public = origin_of(settings.base_url) if settings.base_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] not in SAFE_METHODS
                and scope.get("state", {}).get("via") != "bearer" and not self.same_origin(scope)):
            refusal = WebError(403, "Changes can only be made from this site's own pages.")
            await respond(Request(scope, receive), refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def same_origin(self, scope: Scope) -> bool:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
                   if k in (b"origin", b"sec-fetch-site", b"referer", b"host")}
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site.strip().lower() not in SAME_ORIGIN_FETCHES:
            return False
        here = parse_host(headers.get("host"))
        scheme = scope.get("scheme", "http")
        for name in ("origin", "referer"):
            value = headers.get(name)
            if value is not None and not self._is_here(origin_of(value), scheme, here):
                return False
        return True

    def _is_here(self, origin: Origin | None, scheme: str, here: tuple[str, int | None] | None) -> bool:
        """Whether ``origin`` is this site: the public base URL, or the scheme and Host this
        request came by; either way a host the policy allows."""
        if origin is None or not self.policy.allows(f"{origin[1]}:{origin[2]}"):
            return False
        if origin == self.public:
            return True
        if here is None or origin[0] != scheme:
            return False
        name, port = here
        return origin[1] == name and origin[2] == (port or DEFAULT_PORTS[scheme])
