"""Security headers on every response: pages, errors, static files, API, feeds, the live stream.

    Content-Security-Policy   scripts, styles, connections only from this origin; no inline script
                              (templates have none: behaviour lives in static/newswire.js); images
                              from publishers unless the media proxy serves them from here
    frame-ancestors 'none' + X-Frame-Options DENY    never framed (a framed click paused a source)
    X-Content-Type-Options nosniff, Referrer-Policy same-origin, Cross-Origin-Opener-Policy

An ASGI middleware rather than per-route code, so a new route, a 404 or a 500 cannot forget them.
A header a route sets itself (a media proxy's stricter policy, say) is kept.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newswire.config import Settings


def content_security_policy(settings: Settings) -> str:
    """The page policy. Article bodies show publishers' images unless ``media_proxy`` is on."""
    images = "'self' data:" if settings.media_proxy else "'self' data: https: http:"
    return "; ".join([
        "default-src 'none'", "script-src 'self'", "style-src 'self'", f"img-src {images}",
        "connect-src 'self'", "font-src 'self'", "manifest-src 'self'", "form-action 'self'",
        "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'",
    ])


def security_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


class SecurityHeaders:
    """Adds ``security_headers(settings)`` to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.headers = list(security_headers(settings).items())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, sending)
