"""The publishers of `bench/soak.py`: N loopback feeds that publish on their own schedules, a
fifth of them misbehaving in turn.

Everything here is a function of the clock and a few numbers (``World``), so the feed process
and the soak's checks agree on what was published without talking: the check recomputes it.

- Feed i publishes one article every ``period(i)`` seconds (0.5 to 1.5 × ``publish_every``),
  from a phase of its own, until ``publish_until``; ``backlog`` articles were out before ``t0``.
  A feed lists its newest ``WINDOW`` articles, in RSS, Atom or JSON Feed (i % 3), with an ETag.
- Every 20th feed gives teasers (the first sentence and "…") and serves each article's page,
  so full-text extraction has work.
- Time is cut into rounds of ``round_seconds``; in round r, feed i misbehaves when (i + r) % 5
  == 0, in the way ``FAULTS[(i // 5 + r) % len(FAULTS)]``, until ``faults_until``: timeouts,
  500, 503 with Retry-After, garbage bytes, a slow trickle (slow but complete), a body past the
  size cap, redirects that change at each request, another format, and 404 for the round (the
  soak's "day of 404").
- Feeds are spread over ``HOSTS`` loopback addresses (127.0.0.2, …), as publishers are over
  hosts, so per-host politeness applies as it would.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import lru_cache

from newswire.testing import samples
from newswire.testing.feedserver import FeedServer, Request, Response

FAULTS = ("timeout", "http-500", "http-503", "garbage", "trickle", "huge", "redirect", "format", "gone-404")
WINDOW = 50  # newest articles a feed lists
HOSTS = 40
TEASER_EVERY = 20  # every 20th feed publishes teasers
RENDER = (samples.rss, samples.atom, samples.json_feed)
CONTENT_TYPES = ("application/rss+xml; charset=utf-8", "application/atom+xml; charset=utf-8",
                 "application/feed+json; charset=utf-8")


@dataclass(frozen=True)
class World:
    feeds: int
    t0: float  # epoch seconds: the soak's start
    publish_every: float
    publish_until: float  # epoch seconds
    round_seconds: float
    faults_until: float  # epoch seconds
    backlog: int = 5
    seed: int = 7
    timeout_delay: float = 6.0  # past the soak's read timeout
    huge_bytes: int = 3 * 1024 * 1024  # past the soak's response cap

    def period(self, i: int) -> float:
        return random.Random(f"{self.seed}:{i}:period").uniform(0.5, 1.5) * self.publish_every

    def phase(self, i: int) -> float:
        return random.Random(f"{self.seed}:{i}:phase").uniform(0, self.period(i))

    def published_times(self, i: int, now: float) -> list[float]:
        """When feed i published, up to ``now`` (and ``publish_until``), oldest first; whole
        seconds, as RSS dates have."""
        period, first = self.period(i), self.t0 + self.phase(i)
        out = [float(int(first - k * period)) for k in range(self.backlog, 0, -1)]
        k = 0
        while first + k * period <= min(now, self.publish_until):
            out.append(float(int(first + k * period)))
            k += 1
        return out

    def fault(self, i: int, now: float) -> str | None:
        if now >= self.faults_until:
            return None
        r = int((now - self.t0) // self.round_seconds)
        return FAULTS[(i // 5 + r) % len(FAULTS)] if (i + r) % 5 == 0 else None

    def host(self, i: int) -> str:
        return f"127.0.0.{2 + i % HOSTS}"

    def path(self, i: int) -> str:
        return f"/f{i}/feed"

    def guid(self, i: int, published: float) -> str:
        return f"soak-{i}-{int(published)}"

    def teaser(self, i: int) -> bool:
        return i % TEASER_EVERY == 0


@lru_cache(maxsize=None)
def _outlet(i: int, base: str) -> samples.Outlet:
    return replace(samples.make_outlets(1, seed=i)[0], slug=f"f{i}", name=f"Soak Outlet {i}", site_url=f"{base}/f{i}/")


@lru_cache(maxsize=200_000)
def article(world: World, i: int, published: float, base: str) -> samples.SampleArticle:
    """Feed i's article published at ``published`` (cached: a feed is rendered many times)."""
    outlet = _outlet(i, base)
    when = datetime.fromtimestamp(published, timezone.utc)
    made = samples.make_articles(outlet, 1, seed=int(published), body_bytes=700, start=when)[0]
    made = replace(made, guid=world.guid(i, published), url=f"{base}/f{i}/a?at={int(published)}")
    if world.teaser(i):
        first = made.summary.split(".")[0] + "…"
        made = replace(made, content_html=f"<p>{first}</p>", summary=first)
    return made


class Feeds:
    """Feed i as the server answers it at each request."""

    def __init__(self, world: World, bases: dict[str, str]):
        self.world = world
        self.bases = bases  # host → http://host:port
        self.hops = 0

    def base(self, i: int) -> str:
        return self.bases[self.world.host(i)]

    def body(self, i: int, now: float, kind: int) -> tuple[bytes, str, str]:
        """(document, content type, ETag) of feed i now, rendered as RENDER[kind]."""
        base = self.base(i)
        times = self.world.published_times(i, now)[-WINDOW:]
        items = [article(self.world, i, t, base) for t in reversed(times)]
        data = RENDER[kind](_outlet(i, base), items).encode()
        etag = '"' + hashlib.sha1(f"{kind}:{times[-1] if times else 0}:{len(times)}".encode()).hexdigest()[:16] + '"'
        return data, CONTENT_TYPES[kind], etag

    def answer(self, i: int, request: Request, *, redirected: bool = False) -> Response:
        now = time.time()
        fault = None if redirected else self.world.fault(i, now)
        kind = i % 3
        if fault == "format":
            kind = (kind + 1) % 3
        if fault == "redirect":
            self.hops += 1
            status = 302 if self.hops % 2 else 307
            return Response(status, b"", {"Location": f"/f{i}/moved?hop={self.hops}"})
        if fault == "gone-404":
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        if fault == "http-500":
            return Response(500, b"internal error", {"Content-Type": "text/plain"})
        if fault == "http-503":
            return Response(503, b"busy", {"Content-Type": "text/plain", "Retry-After": "20"})
        if fault == "garbage":
            noise = random.Random(f"{i}:{now}").randbytes(4000)
            return Response(200, noise, {"Content-Type": CONTENT_TYPES[kind]})
        if fault == "huge":
            return Response(200, _huge(self.world.huge_bytes), {"Content-Type": CONTENT_TYPES[kind]})
        data, content_type, etag = self.body(i, now, kind)
        if fault is None or fault == "format":
            if request.headers.get("if-none-match") == etag:
                return Response(304, b"", {"ETag": etag})
            return Response(200, data, {"Content-Type": content_type, "ETag": etag})
        if fault == "timeout":
            return Response(200, data, {"Content-Type": content_type}, delay=self.world.timeout_delay)
        assert fault == "trickle"  # slow and complete: a twentieth of the document every 0.15 s
        return Response(200, _trickle(data, 20, 0.15), {"Content-Type": content_type})

    def page(self, i: int, request: Request) -> Response:
        published = float(request.path.split("at=", 1)[1].split("&")[0])
        outlet = _outlet(i, self.base(i))
        full = samples.make_articles(outlet, 1, seed=int(published), body_bytes=2500,
                                     start=datetime.fromtimestamp(published, timezone.utc))[0]
        return Response(200, samples.article_page(full, outlet).encode(), {"Content-Type": "text/html; charset=utf-8"})


def _huge(size: int):
    yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>huge</title><description>'
    chunk = b"x" * 65536
    for _ in range(size // len(chunk)):
        yield chunk
    yield b"</description></channel></rss>"


def _trickle(data: bytes, pieces: int, pause: float):
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        time.sleep(pause)
        yield data[start:start + step]


def serve(world: World, ready) -> None:
    """Run the feed servers (one per host) until killed; put {host: base URL} on ``ready``."""
    servers = {host: FeedServer(host=host, record=False) for host in sorted({world.host(i) for i in range(world.feeds)})}
    feeds = Feeds(world, {host: s.base_url for host, s in servers.items()})
    for i in range(world.feeds):
        server = servers[world.host(i)]
        server.route(world.path(i), lambda request, i=i: feeds.answer(i, request))
        server.route(f"/f{i}/moved", lambda request, i=i: feeds.answer(i, request, redirected=True))
        if world.teaser(i):
            server.route(f"/f{i}/a", lambda request, i=i: feeds.page(i, request))  # ?at=<published>
    for server in servers.values():
        server.start()
    ready.put(feeds.bases)
    while True:
        time.sleep(3600)


def feed_urls(world: World, bases: dict[str, str]) -> list[str]:
    return [bases[world.host(i)] + world.path(i) for i in range(world.feeds)]


def opml(urls: list[str]) -> str:
    outlines = "".join(f'<outline type="rss" text="Soak Outlet {i}" xmlUrl="{url}"/>' for i, url in enumerate(urls))
    return f'<?xml version="1.0"?><opml version="2.0"><head><title>soak</title></head><body>{outlines}</body></opml>'


def expected(world: World) -> dict[int, list[float]]:
    """Feed i → every publication time it will have listed by the end."""
    return {i: world.published_times(i, world.publish_until) for i in range(world.feeds)}
