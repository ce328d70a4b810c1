"""The media proxy (``NEWSWIRE_MEDIA_PROXY=1``): article images load from Newswire, not publishers.

A publisher's image or tracking pixel tells the publisher (and whoever serves its ads) who reads
what, when, from where. With the proxy on, the article page's body is rewritten so that every
``<img src/srcset>``, ``<video src/poster>``, ``<source src/srcset>``, ``<audio src>`` and
``<track src>`` points at ``/media/<signature>/<url in base64url>``; readers' browsers contact
only this server, which fetches the media itself:

    article page ─► rewrite_html(body, signer) ─► <img src="/media/SIG/URL">
    GET /media/SIG/URL ─► verify (HMAC-SHA256) ─► Fetcher (address guard, redirects checked,
        timeouts, 10 MB cap) ─► image/video/audio only, never SVG ─► the bytes, with the
        publisher's validators and caching headers

The signature makes the route no open proxy: it fetches only URLs this server wrote into its own
pages. Its key is a random secret kept in the database (``Store.server_secret``), so links stay
valid across restarts and on every ``serve`` node of one database. Answers: 403 for a signature
that does not verify or an address the guard refuses, 413 for media past the cap, 415 for a type
that is not media, 502 when the publisher fails, 404 when the proxy is off; never 500.

A URL that cannot be proxied (not http(s), or absurdly long) is dropped from the page rather than
left pointing at its publisher. Rewriting goes through the sanitiser's own rules again (nh3 with
an attribute filter), so a rewritten body can hold nothing a stored body could not.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import re
from functools import lru_cache
from typing import Any

import anyio
import nh3
from fastapi import APIRouter, Request, Response
from jinja2 import pass_context
from markupsafe import Markup

from newswire.errors import BlockedAddressError, FetchError, ResponseTooLargeError
from newswire.fetch import Fetcher
from newswire.parse.html import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, DROPPED_WITH_CONTENT, URL_SCHEMES
from newswire.web.errors import WebError
from newswire.web.state import settings_of, store_of
from newswire.web.view import templates

MAX_MEDIA_BYTES = 10 * 1024 * 1024
MAX_URL_LENGTH = 4096
CONCURRENT_FETCHES = 8  # media bodies are buffered within the cap: this bounds the memory they take
MEDIA_ACCEPT = "image/avif,image/webp,image/png,image/jpeg,image/gif,image/*;q=0.8,video/*;q=0.7,audio/*;q=0.7"
MEDIA_TYPES = ("image/", "video/", "audio/")
REFUSED_TYPES = ("svg", "xml", "html")  # SVG (and anything XML or HTML) can carry script
PASSED_HEADERS = ("etag", "last-modified", "cache-control", "expires")
DEFAULT_CACHE = "public, max-age=86400"
SECRET_NAME = "media-proxy"

URL_ATTRIBUTES = {"img": ("src",), "video": ("src", "poster"), "source": ("src",), "audio": ("src",),
                  "track": ("src",)}
SRCSET_ELEMENTS = ("img", "source")
_B64 = re.compile(r"[A-Za-z0-9_-]{1,%d}" % (MAX_URL_LENGTH * 4 // 3 + 4))
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{43}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class MediaSigner:
    """Signs media URLs into ``/media/…`` paths and checks them, with one secret key."""

    def __init__(self, key: bytes):
        self._key = key

    def _signature(self, url: str) -> str:
        return _b64(hmac.new(self._key, url.encode("utf-8"), hashlib.sha256).digest())

    def path(self, url: str) -> str:
        """The proxy path for ``url``."""
        return f"/media/{self._signature(url)}/{_b64(url.encode('utf-8'))}"

    def verify(self, signature: str, encoded: str) -> str | None:
        """The URL a path names when its signature is this server's, else None."""
        if not _SIGNATURE.fullmatch(signature) or not _B64.fullmatch(encoded):
            return None
        try:
            url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        return url if hmac.compare_digest(signature, self._signature(url)) else None


# rewriting an article body

def _proxied(url: str, signer: MediaSigner) -> str | None:
    """What a media URL becomes: a proxy path, itself (``data:``), or None (drop it)."""
    url = url.strip()
    if url.startswith("//"):
        url = "https:" + url
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "data":
        return url
    if scheme not in ("http", "https") or len(url) > MAX_URL_LENGTH:
        return None
    return signer.path(url)


def srcset_candidates(value: str) -> list[tuple[str, str]]:
    """``srcset`` as (URL, descriptors) pairs, as the HTML standard splits it: a URL is a run
    of non-space characters (commas inside it are kept); trailing commas end a candidate."""
    out: list[tuple[str, str]] = []
    position, length = 0, len(value)
    while position < length:
        while position < length and (value[position].isspace() or value[position] == ","):
            position += 1
        start = position
        while position < length and not value[position].isspace():
            position += 1
        url = value[start:position]
        if not url:
            break
        if url.endswith(","):
            out.append((url.rstrip(","), ""))
            continue
        start = position
        depth = 0
        while position < length and (value[position] != "," or depth):
            depth += {"(": 1, ")": -1}.get(value[position], 0)
            position += 1
        out.append((url, value[start:position].strip()))
    return out


def _rewrite_srcset(value: str, signer: MediaSigner) -> str | None:
    kept = []
    for url, descriptors in srcset_candidates(value):
        proxied = _proxied(url, signer)
        if proxied is not None:
            kept.append(f"{proxied} {descriptors}".strip())
    return ", ".join(kept) or None


@lru_cache(maxsize=1)
def _cleaner_options() -> dict[str, Any]:
    """The sanitiser's own rules (``parse.html``), with our relative ``/media/`` paths allowed:
    rewriting re-sanitises, so a rewritten body can hold nothing a stored one could not."""
    return dict(tags=set(ALLOWED_TAGS), clean_content_tags=set(DROPPED_WITH_CONTENT),
                attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
                url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer", strip_comments=True,
                url_relative="pass_through")


def rewrite_html(html: str, signer: MediaSigner) -> str:
    """``html`` (an already sanitised article body) with every media URL pointing at the proxy."""
    if not html or not re.search(r"<\s*(img|video|source|audio|track)\b", html, re.I):
        return html

    def media_urls(element: str, attribute: str, value: str) -> str | None:
        if attribute in URL_ATTRIBUTES.get(element, ()):
            return _proxied(value, signer)
        if attribute == "srcset" and element in SRCSET_ELEMENTS:
            return _rewrite_srcset(value, signer)
        return value

    return nh3.clean(html, attribute_filter=media_urls, **_cleaner_options())


def signer_of(app_state: Any, store: Any) -> MediaSigner:
    """The app's signer, its key read (or made) once from the database."""
    signer = getattr(app_state, "media_signer", None)
    if signer is None:
        signer = MediaSigner(bytes.fromhex(store.server_secret(SECRET_NAME)))
        app_state.media_signer = signer
    return signer


@pass_context
def article_body(context: Any, html: str) -> Markup:
    """A Jinja filter for an (already sanitised) article body: as stored when the proxy is off,
    rewritten by ``rewrite_html`` when it is on."""
    request = context["request"]
    if settings_of(request).media_proxy and html:
        html = rewrite_html(html, signer_of(request.app.state, store_of(request)))
    return Markup(html)


templates.env.filters["article_body"] = article_body  # article.html prints bodies through it


# the route

router = APIRouter(include_in_schema=False)


def _media_type(content_type: str) -> str | None:
    """The response's media type when it is image, video or audio and not SVG/XML/HTML."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind.startswith(MEDIA_TYPES) and not any(word in kind for word in REFUSED_TYPES):
        return kind
    return None


def _validator(request: Request, name: str) -> str | None:
    """A client's conditional header, passed on to the publisher when it is plain and short."""
    value = request.headers.get(name)
    return value if value and len(value) <= 200 and value.isascii() and value.isprintable() else None


def _limit(request: Request) -> asyncio.Semaphore:
    state = request.app.state
    semaphore = getattr(state, "media_fetches", None)
    if semaphore is None:
        semaphore = state.media_fetches = asyncio.Semaphore(CONCURRENT_FETCHES)
    return semaphore


@router.get("/media/{signature}/{encoded}")
async def media(request: Request, signature: str, encoded: str) -> Response:
    """One proxied media file; see the module docstring."""
    settings = settings_of(request)
    if not settings.media_proxy:
        raise WebError(404, "There is no page at this address.")
    signer = await anyio.to_thread.run_sync(signer_of, request.app.state, store_of(request))
    url = signer.verify(signature, encoded)
    if url is None:
        raise WebError(403, "media: this link was not made by this server")
    etag, since = _validator(request, "if-none-match"), _validator(request, "if-modified-since")
    try:
        async with _limit(request), Fetcher(settings, max_bytes=MAX_MEDIA_BYTES, concurrency=1) as fetcher:
            result = await fetcher.fetch(url, etag=etag, last_modified=since, accept=MEDIA_ACCEPT)
    except BlockedAddressError:
        raise WebError(403, "media: the address of this media is refused") from None
    except ResponseTooLargeError:
        raise WebError(413, f"media: larger than {MAX_MEDIA_BYTES} bytes") from None
    except FetchError as error:
        raise WebError(502, f"media: the publisher did not serve it ({error.reason})") from None
    headers = {name: result.headers[name] for name in PASSED_HEADERS if name in result.headers}
    headers.setdefault("cache-control", DEFAULT_CACHE)
    headers["content-security-policy"] = "default-src 'none'; sandbox"
    headers["x-content-type-options"] = "nosniff"
    if result.not_modified:
        return Response(status_code=304, headers=headers)
    kind = _media_type(result.headers.get("content-type", ""))
    if kind is None:
        raise WebError(415, "media: not an image, video or audio file")
    return Response(content=result.content, media_type=kind, headers=headers)
