"""A source's last failure in plain words, for the people who run Newswire.

A refresh records its failure as a reason tag (``last_status``: ``dns``, ``http-404``,
``parse-error``…, decided in ``fetch.errors`` and ``service.decide``) and the message meant for
logs (``last_error``: ``fetch: cannot resolve the host of https://…: [Errno -2] Name or service
not known``). An admin reading the sources page needs neither the errno nor the URL again (the
row shows it once): ``failure_in_words`` turns the pair into one sentence that says what went
wrong and, where there is one, what to do. The log message stays available as the detail.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from newswire.parse import detect

_SIMPLE = {
    "dns": "The name does not resolve: no address was found for the feed's host.",
    "timeout": "The server did not answer in time.",
    "invalid-url": "The address is not a valid web address.",
    "blocked-address": ("The address is on a private or local network, which Newswire does not fetch "
                        "(NEWSWIRE_ALLOW_PRIVATE_ADDRESSES=1 allows it)."),
    "too-large": "The feed is larger than Newswire accepts.",
    "redirect-loop": "The address redirects in a loop.",
    "too-many-redirects": "The address redirects too many times.",
    "decode": "The server sent a compressed body that cannot be decoded.",
    "stacked-encoding": "The server sent a body compressed in several layers, which Newswire does not read.",
    "gone": "The feed has been removed for good (HTTP 410 Gone); follow its new address instead.",
    "storage-error": "The database refused to store the articles; see the log.",
    "internal-error": "Newswire hit an internal error on this feed; see the log.",
    "removed": "The source was removed while it was being fetched.",
}

_CONNECTION = [
    ("refused", "The server refused the connection."),
    ("reset", "The server closed the connection."),
    ("unreachable", "The network cannot reach the server."),
]

_PARSE = [  # the first that matches: a failed discovery carries the page's own parse error too
    ("is not a feed and its page links to none", "The address gives a web page that links to no feed."),
    (detect.HTML_PAGE, "The address gives a web page, not a feed."),
    (detect.EMPTY, "The server sent an empty response instead of a feed."),
    (detect.BINARY, "The server sent binary data, not a feed."),
    ("entit", "The feed declares XML entities, which Newswire refuses for safety."),
]

_HTTP = re.compile(r"^http-(\d{3})$")


def failure_in_words(status: str | None, error: str | None) -> str:
    """One sentence for a stored failure: ``status`` is the reason tag, ``error`` the log
    message (either may be missing). Total: an unknown tag gets a generic sentence."""
    status, error = status or "", error or ""
    lowered = error.lower()
    if status in _SIMPLE:
        return _SIMPLE[status]
    http = _HTTP.match(status)
    if http or status == "rate-limited":
        return _http_words(int(http.group(1)) if http else _status_in(error, 429), error)
    if status == "connection":
        return next((words for key, words in _CONNECTION if key in lowered), "Could not connect to the server.")
    if status == "tls":
        if "certificate" in lowered:
            return "The secure connection failed: the server's certificate is not trusted (expired, self-signed or for another name)."
        return "The secure (TLS) connection with the server failed."
    if status == "parse-error":
        parse_message = error.lower()
        return next((words for key, words in _PARSE if key.lower() in parse_message),
                    "What the server sent is not a feed Newswire can read (RSS, Atom or JSON Feed).")
    return "The last fetch failed." if not error else "The last fetch failed: " + failure_detail(error)


def _http_words(status: int, error: str) -> str:
    try:
        label = f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        label = f"HTTP {status}"
    if status == 404:
        return f"The feed is not at this address ({label}); it may have moved."
    if status in (401, 403):
        return f"The server refuses to give the feed ({label})."
    if status in (429, 503):
        wait = re.search(r"retry after ([0-9.]+) s", error)
        later = f"; it asked to wait {wait.group(1)} s" if wait else ""
        return f"The server asked Newswire to slow down ({label}){later}. It will be retried later."
    if status >= 500:
        return f"The server had an error ({label}). It will be retried later."
    return f"The server answered {label}."


def _status_in(error: str, default: int) -> int:
    found = re.search(r"\bHTTP (\d{3})\b", error)
    return int(found.group(1)) if found else default


def failure_detail(error: str) -> str:
    """The log message without its stage prefix and URLs (the page shows the URL once): the
    detail behind the sentence, for a hover."""
    text = re.sub(r"^[a-z]+: ", "", error)
    text = re.sub(r"\s*\b(?:from|of|to|fetching)?\s*https?://\S+?(?=:?(?:\s|$))", "", text)
    text = text.strip(" :")
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
