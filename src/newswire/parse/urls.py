"""URL resolution and canonicalisation: one article should have one URL however the feed
decorated it (tracking parameters, fragments, upper-case hosts, default ports)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

# Exact query keys that only ever track the click, never select the content.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
    "twclid", "ttclid", "li_fat_id", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hstc", "__hssc",
    "__hsfp", "hsctatracking", "mkt_tok", "ref_src", "ref_url", "_ga", "_gl", "oly_anon_id",
    "oly_enc_id", "rb_clickid", "s_cid", "vero_conv", "vero_id", "wickedid", "srsltid", "ncid",
    "cmpid", "soc_src", "soc_trk", "at_medium", "at_campaign", "at_custom1", "at_custom2",
    "at_custom3", "at_custom4", "sr_share", "spm", "xtor",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "itm_")
DEFAULT_PORTS = {"http": "80", "https": "443"}


def resolve_url(url: str | None, base: str | None) -> str | None:
    """``url`` made absolute against ``base``; None for empty or unusable input."""
    if not url:
        return None
    url = url.strip()
    if not url:
        return None
    if base and not url.startswith(("http://", "https://")):
        try:
            return urljoin(base, url)
        except ValueError:
            return None
    return url


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _clean_query(query: str) -> str:
    if not query:
        return ""
    kept = [p for p in query.split("&") if p and not _is_tracking(p.split("=", 1)[0])]
    return "&".join(kept)


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """The canonical form of an article URL, or None when it is not an http(s) URL.

    Resolves against ``base``, lower-cases scheme and host, drops the default port, tracking
    parameters (utm_*, fbclid, gclid, ...) and the fragment; the rest of the query keeps its order
    and its original encoding so the server still sees the same request.
    """
    resolved = resolve_url(url, base)
    if not resolved:
        return None
    try:
        parts = urlsplit(resolved)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            return None
        host = parts.hostname  # already lower-case
        if ":" in host:
            host = f"[{host}]"
        port = parts.port
    except ValueError:
        return None
    netloc = host
    if port is not None and str(port) != DEFAULT_PORTS[scheme]:
        netloc = f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += ":" + parts.password
        netloc = f"{userinfo}@{netloc}"
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))
