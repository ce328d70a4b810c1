"""Following redirects by hand, one checked hop at a time.

httpx could follow them itself, but then hops would bypass the address guard and the hop count
would be invisible. ``RedirectChain`` is pure: it decides where the next hop goes and whether
the whole chain was permanent; the client does the I/O.
"""

from __future__ import annotations

import httpx

from newswire.errors import FetchError

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})


def validate_url(url: httpx.URL | str) -> httpx.URL:
    """Parse ``url`` and insist on http(s) with a plausible host; FetchError "invalid-url"."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, TypeError) as exc:
        raise FetchError(f"fetch: invalid URL {str(url)!r}: {exc}", reason="invalid-url") from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchError(f"fetch: invalid URL {str(url)!r}: only http and https are fetched",
                         reason="invalid-url")
    if not host or not (":" in host or all(c.isalnum() or c in ".-_" for c in host)):
        raise FetchError(f"fetch: invalid URL {str(url)!r}: no valid host", reason="invalid-url")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise FetchError(f"fetch: invalid URL {str(url)!r}: bad port", reason="invalid-url")
    return parsed


class RedirectChain:
    """The hops of one fetch: detects loops and overlong chains, resolves relative Locations."""

    def __init__(self, start: httpx.URL, max_redirects: int = MAX_REDIRECTS):
        self.url = start
        self.max_redirects = max_redirects
        self._seen = {str(start)}
        self._hops = 0
        self._all_permanent = True

    def follow(self, status: int, location: str | None) -> httpx.URL:
        """Move to where a redirect response points and return that URL."""
        if not location:
            raise FetchError(f"fetch: HTTP {status} redirect without a Location from {self.url}",
                             reason=f"http-{status}", status=status)
        try:
            joined = self.url.join(location.strip())
        except httpx.InvalidURL as exc:
            raise FetchError(f"fetch: invalid redirect Location {location!r} from {self.url}",
                             reason="invalid-url", status=status) from exc
        target = validate_url(joined)
        if str(target) in self._seen:
            raise FetchError(f"fetch: redirect loop: {self.url} leads back to {target}",
                             reason="redirect-loop", status=status)
        if self._hops >= self.max_redirects:
            raise FetchError(f"fetch: more than {self.max_redirects} redirects from {self.url}",
                             reason="too-many-redirects", status=status)
        self._hops += 1
        self._all_permanent = self._all_permanent and status in PERMANENT_STATUSES
        self._seen.add(str(target))
        self.url = target
        return target

    @property
    def permanent_url(self) -> str | None:
        """The final URL when every hop was permanent (301/308), i.e. the feed has moved."""
        return str(self.url) if self._hops and self._all_permanent else None
