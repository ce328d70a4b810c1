"""Following feeds: by feed URL, by a site URL whose page advertises its feeds, or from OPML."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from newswire.config import DEFAULTS, Settings
from newswire.errors import FetchError, NewswireError, ParseError, SourceExistsError
from newswire.fetch import Fetcher
from newswire.models import ParsedFeed, Source
from newswire.parse import parse_feed
from newswire.service.decide import failure_reason
from newswire.service.refresh_now import NotServed, RefreshRequests
from newswire.service.update import Refresher, UpdateResult
from newswire.sources.discover import find_feed_links
from newswire.sources.opml import OpmlFeed, parse_opml, write_opml
from newswire.store import Store


async def follow(store: Store, fetcher: Fetcher, url: str, *, name: str | None = None,
                 full_text: bool = False, category: str | None = None) -> Source:
    """Add the feed at ``url``, or the first working feed its page advertises.

    Raises SourceExistsError when the feed is already followed, FetchError when the URL cannot be
    fetched, and ParseError when it is neither a feed nor a page that links to one. Parsing and
    the store's calls run on threads: the web server's event loop is never held up by them."""
    url = url.strip()
    await asyncio.to_thread(_refuse_existing, store, url)
    fetched = await fetcher.fetch(url)
    try:
        feed = await asyncio.to_thread(_parse, fetched.content, fetched.url, fetched.headers.get("content-type"))
        feed_url = fetched.permanent_url or url
    except ParseError as not_a_feed:
        candidates = await asyncio.to_thread(find_feed_links, fetched.content, fetched.url)
        if not candidates:
            raise ParseError(f"discover: {url} is not a feed and its page links to none "
                             f'(no <link rel="alternate"> feed): {not_a_feed}') from not_a_feed
        feed_url, feed = await _first_working(store, fetcher, candidates)
    await asyncio.to_thread(_refuse_existing, store, feed_url)
    return await asyncio.to_thread(
        store.add_source,
        feed_url,
        name=name or feed.title or urlsplit(feed_url).hostname or feed_url,
        site_url=feed.site_url,
        category=category,
        full_text=full_text,
        poll_interval=fetcher.settings.poll_interval,
    )


async def follow_and_fetch(store: Store, settings: Settings, url: str, *, name: str | None = None,
                           full_text: bool = False, category: str | None = None,
                           requests: RefreshRequests | None = None) -> tuple[Source, UpdateResult]:
    """``follow`` the feed, then fetch it at once (``refresh_now``): by the running scheduler
    when ``requests`` reaches one, else by a Refresher of its own (``newswire serve`` schedules
    nothing). Its teasers are marked for full text by the write; syndicated copies and stories
    come from the process holding the enricher lock, which follows every article stored.

    Raises what ``follow`` raises. The first fetch never raises: its failure comes back as a
    failed ``UpdateResult``, and the source stays followed for the scheduler to retry."""
    gate = await asyncio.to_thread(store.host_gate)  # the first ask opens it: not on the event loop
    async with Fetcher(settings, host_gate=gate) as fetcher:
        source = await follow(store, fetcher, url, name=name, full_text=full_text, category=category)
        return source, await refresh_now(store, source, settings=settings, fetcher=fetcher, requests=requests)


async def refresh_now(store: Store, source: Source, *, settings: Settings, fetcher: Fetcher | None = None,
                      requests: RefreshRequests | None = None) -> UpdateResult:
    """Fetch ``source`` now, as the scheduler would: by the running scheduler when ``requests``
    reaches one, else by a Refresher of its own (``fetcher``, or one of its own). Never raises
    for the feed's failure: it comes back as a failed ``UpdateResult``.

    The Refresher of its own runs no copy or story step: those keep an index of recent articles
    that takes seconds to build from the database, and one process in a deployment keeps it (the
    enricher lock's holder: ``newswire run`` or ``worker --enrich``), following every article
    stored, these included. Building one here cost that on every click, and made a second
    enricher beside the holder, its index blind to what other processes stored since. Teasers
    are marked for full text by the write itself."""
    try:
        if requests is not None:
            try:
                return await requests.refresh(source.id)
            except NotServed:  # no scheduler runs here after all: fetch it ourselves
                pass
        if fetcher is None:  # one of its own, with the shared host gate opened off the event loop
            async with Fetcher(settings, host_gate=await asyncio.to_thread(store.host_gate)) as own:
                return await refresh_now(store, source, settings=settings, fetcher=own)
        async with Refresher(store, fetcher, settings=settings) as refresher:
            return await refresher.refresh(source)
    except NewswireError as error:
        return UpdateResult(source.id, "failed", failure_reason(error), str(error))


async def _first_working(store: Store, fetcher: Fetcher, candidates: list[str]) -> tuple[str, ParsedFeed]:
    errors = []
    for candidate in candidates:
        await asyncio.to_thread(_refuse_existing, store, candidate)
        try:
            fetched = await fetcher.fetch(candidate)
            return fetched.permanent_url or candidate, await asyncio.to_thread(
                _parse, fetched.content, fetched.url, fetched.headers.get("content-type"))
        except (FetchError, ParseError) as error:  # try the next advertised feed
            errors.append(f"{candidate}: {error}")
    raise ParseError("discover: none of the advertised feeds could be read: " + "; ".join(errors))


def _parse(content: bytes, url: str, content_type: str | None) -> ParsedFeed:
    return parse_feed(content, url=url, content_type=content_type, seen_at=datetime.now(timezone.utc))


def _refuse_existing(store: Store, feed_url: str) -> None:
    existing = store.find_source(feed_url)
    if existing is not None:
        raise SourceExistsError(
            f"already following {feed_url} as source #{existing.id} ({existing.name})", source_id=existing.id)


@dataclass(frozen=True)
class ImportSummary:
    added: int
    already_followed: int
    skipped: int = 0  # outlines whose URL is not http(s): reported, never followed


def import_opml(store: Store, data: bytes, settings: Settings = DEFAULTS) -> ImportSummary:
    """Follow every feed in an OPML document, keeping names and categories; feeds already
    followed are counted, not added twice, and outlines that are not http(s) feeds are counted
    as skipped. Nothing is fetched: the next pass does that."""
    added = existing = 0
    document = parse_opml(data)
    for feed in document.feeds:
        if store.find_source(feed.feed_url) is not None:
            existing += 1
            continue
        store.add_source(feed.feed_url, name=feed.name or urlsplit(feed.feed_url).hostname or feed.feed_url,
                         site_url=feed.site_url, category=feed.category,
                         poll_interval=settings.poll_interval)
        added += 1
    return ImportSummary(added, existing, len(document.skipped))


def export_opml(store: Store) -> str:
    return write_opml([OpmlFeed(s.feed_url, s.name, s.site_url, s.category) for s in store.list_sources()])
