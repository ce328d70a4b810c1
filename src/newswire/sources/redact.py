"""Feed URLs as shown to people: passwords and tokens replaced by ``***``.

A private feed carries its credentials in its URL (``https://user:pass@host/feed``,
``?token=…``, ``?api_key=…``). Newswire keeps the real URL to fetch with, but everything that
shows a URL to a reader — the sources page, the API, the CLI's table, error messages stored on a
source — shows ``redact_url(url)`` instead: ``https://***@host/feed?token=***``. The rest of the
URL is kept byte for byte, so a reader still recognises the feed.

Pure functions, no I/O; they never raise, whatever the text.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

MASK = "***"

# Query and fragment parameter names that carry a secret, compared after lower-casing and
# turning "-" into "_". Names ending in one of SECRET_SUFFIXES count too (``feed_token``,
# ``x_amz_signature``, ``client_secret``, ``private_key``).
SECRET_NAMES = frozenset({
    "token", "access_token", "auth", "auth_token", "authorization", "api_key", "apikey", "key",
    "secret", "sig", "signature", "password", "passwd", "pass", "pwd", "session", "sessionid",
    "sid", "hash", "hmac", "code", "credential", "credentials", "private", "otp", "jwt",
})
SECRET_SUFFIXES = ("token", "_key", "apikey", "secret", "password", "passwd", "signature", "credential",
                   "_sig", "_auth")

_SCHEME_AUTHORITY = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:)?//([^/?#]*)")
_USERINFO_IN_TEXT = re.compile(r"(?<=//)(?!\*\*\*@)[^/?#\s@<>\"]+@")
_PARAM_IN_TEXT = re.compile(r"([?&;#])([^=&;#?\s]+)=(?!\*\*\*(?:[&;#\s]|$))[^&;#\s]+")


def is_secret_name(name: str) -> bool:
    """Whether a query parameter called ``name`` (as written, percent-encoded or not) holds a
    secret."""
    try:
        key = unquote_plus(name).strip().lower().replace("-", "_")
    except Exception:  # noqa: BLE001 - unquoting a stranger's text must not fail a page
        key = name.lower()
    return key in SECRET_NAMES or key.endswith(SECRET_SUFFIXES)


def _redact_params(text: str) -> str:
    """``a=1&token=x`` → ``a=1&token=***``; separators and everything else kept as written."""
    parts = re.split(r"([&;])", text)
    for index in range(0, len(parts), 2):
        name, equals, value = parts[index].partition("=")
        if equals and value and is_secret_name(name):
            parts[index] = f"{name}={MASK}"
    return "".join(parts)


def redact_url(url: str | None) -> str:
    """``url`` with its user information and secret parameters masked (see the module
    docstring); text that is not a URL comes back unchanged. ``None`` gives ``""``."""
    if not url:
        return ""
    text = url
    match = _SCHEME_AUTHORITY.match(text)
    if match and "@" in match.group(2):
        authority = match.group(2)
        host = authority.rsplit("@", 1)[1]
        start, end = match.span(2)
        text = f"{text[:start]}{MASK}@{host}{text[end:]}"
    rest, hash_, fragment = text.partition("#")
    base, question, query = rest.partition("?")
    if question:
        rest = f"{base}?{_redact_params(query)}"
    if hash_ and "=" in fragment:
        fragment = _redact_params(fragment)
    return rest + hash_ + fragment


def redact_text(text: str | None) -> str:
    """``text`` (an error message, say) with the user information of every URL in it masked,
    and every secret parameter that follows a ``?``, ``&``, ``;`` or ``#``, even where the URL
    around it is not recognisable as one."""
    if not text:
        return ""
    text = _USERINFO_IN_TEXT.sub(MASK + "@", text)
    return _PARAM_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}={MASK}" if is_secret_name(m.group(2))
                              else m.group(0), text)
