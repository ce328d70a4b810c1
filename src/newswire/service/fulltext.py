"""Full text for teaser feeds: fetch each wanted article's page, extract it, store it beside
the feed's text. Runs beside ingest, never inside it.

    refresh ─► store: new articles of a full-text source, or whose feed text looks like a teaser
                      (``looks_like_teaser``), are written "pending", due now, in the same
                      transaction (``Store.save_refreshes(teaser=…)``): a process killed after
                      its write leaves no teaser unmarked, whatever else runs
    run_extraction loop (its own task and Fetcher) ─► extract_due(now):
        claim due pending articles ─► Fetcher.fetch(url, Accept: HTML)   same guard, caps, timeouts,
                                                                    per-host politeness as feeds
                             ─► extract_page (thread) ─► save_extraction  (status "done")
                             │     └─ feed text is a teaser (is_teaser) ─► source.full_text = True
                             └─ any failure ─► save_extraction_failure: the reason in words,
                                attempts + 1, due again after 5 min × 4^(attempts − 1), and
                                "failed" after MAX_ATTEMPTS tries

One article's failure never raises: it is recorded and the pass goes on. The loop has its own
Fetcher, so a slow page holds none of the connection slots feed refreshes use. Jobs are claimed
with a lease (``Store.claim_extractions``), as workers claim sources: ``newswire run`` and every
``newswire worker`` run this loop, each page fetched by one of them, and a page whose claimer
died is due again when its lease (``CLAIM_SECONDS``) ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from newswire.config import DEFAULTS, Settings
from newswire.enrich.extract import extract_page, is_teaser
from newswire.errors import FetchError, NewswireError
from newswire.fetch import Fetcher
from newswire.parse.dates import plausible_date
from newswire.store import Store
from newswire.store.extraction import ExtractionJob

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_ATTEMPTS = 4
BASE_DELAY = timedelta(minutes=5)
BACKOFF_FACTOR = 4
LOOP_MIN_SLEEP = 1.0
LOOP_MAX_SLEEP = 10.0  # new pending articles are noticed within this (one indexed query a look)
LOOP_ERROR_SLEEP = 10.0
CLAIM_SECONDS = 300  # a claimed page is due again this long after, if its claimer died

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class ExtractionSummary:
    """What a pass did: pages stored, tries to be retried, articles given up on, the reason of
    every failed try, and the sources found to publish teasers (now ``full_text``)."""

    done: int = 0
    retrying: int = 0
    failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    teaser_sources: set[int] = field(default_factory=set)

    @property
    def attempted(self) -> int:
        return self.done + self.retrying + self.failed

    def add(self, other: "ExtractionSummary") -> None:
        self.done += other.done
        self.retrying += other.retrying
        self.failed += other.failed
        self.reasons.update(other.reasons)
        self.teaser_sources |= other.teaser_sources


class _Failure(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 5 min, 20 min, 80 min, …"""
    return BASE_DELAY * BACKOFF_FACTOR ** max(0, attempts - 1)


async def extract_due(store: Store, fetcher: Fetcher, *, now: datetime, limit: int = 50,
                      concurrency: int = 4, claim_seconds: int = CLAIM_SECONDS,
                      on_done: Callable[[ExtractionJob, str], None] | None = None) -> ExtractionSummary:
    """Claim, fetch and extract up to ``limit`` pending articles due at ``now``, ``concurrency``
    at a time. ``on_done(job, outcome)`` is told each one ("done", "retrying" or "failed").
    Raises StorageError only when the jobs cannot be claimed."""
    jobs = await asyncio.to_thread(store.claim_extractions, now, limit=limit, lease_seconds=claim_seconds)
    summary = ExtractionSummary()
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(job: ExtractionJob) -> None:
        async with gate:
            outcome = await _extract_one(store, fetcher, job, now, summary)
        if on_done:
            on_done(job, outcome)

    await asyncio.gather(*(one(job) for job in jobs))
    return summary


async def _extract_one(store: Store, fetcher: Fetcher, job: ExtractionJob, now: datetime,
                       summary: ExtractionSummary) -> str:
    try:
        try:
            page = await _fetch_and_extract(fetcher, job.url)
            await asyncio.to_thread(store.save_extraction, job.article_id, page.html, page.text,
                                    authors=page.authors, published=plausible_date(page.published, seen_at=now))
        except _Failure as failure:
            return await _record_failure(store, job, now, failure.reason, str(failure), summary)
        summary.done += 1
        if not job.source_full_text and is_teaser(job.feed_text, page.text):
            await asyncio.to_thread(store.set_full_text, job.source_id, True)
            summary.teaser_sources.add(job.source_id)
        return "done"
    except NewswireError as error:  # the database refused: left pending, retried when the claim ends
        log.warning("extract: article %d: %s", job.article_id, error)
        summary.reasons["storage-error"] += 1
        summary.retrying += 1
        return "retrying"
    except Exception as error:  # noqa: BLE001 - one page must never stop the pass
        log.exception("extract: unexpected error on article %d", job.article_id)
        return await _record_failure(store, job, now, "error", f"extract: unexpected error: {error}", summary)


async def _fetch_and_extract(fetcher: Fetcher, url: str):
    try:
        fetched = await fetcher.fetch(url, accept=PAGE_ACCEPT)
    except FetchError as error:
        raise _Failure(error.reason, str(error)) from error
    content_type = fetched.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type not in HTML_TYPES:
        raise _Failure("not-html", f"extract: {url} is {content_type}, not an HTML page")
    if not fetched.content.strip():
        raise _Failure("empty", f"extract: {url} returned an empty page")
    page = await asyncio.to_thread(extract_page, fetched.content, fetched.url)
    if page is None:
        raise _Failure("no-main-text", f"extract: no article text found on {url}")
    return page


async def _record_failure(store: Store, job: ExtractionJob, now: datetime, reason: str, message: str,
                          summary: ExtractionSummary) -> str:
    attempts = job.attempts + 1
    retry_at = now + retry_delay(attempts) if attempts < MAX_ATTEMPTS else None
    summary.reasons[reason] += 1
    try:
        await asyncio.to_thread(store.save_extraction_failure, job.article_id, message, attempts, retry_at)
    except NewswireError as error:
        log.warning("extract: cannot record the failure of article %d: %s", job.article_id, error)
    if retry_at is None:
        summary.failed += 1
        return "failed"
    summary.retrying += 1
    return "retrying"


async def run_extraction(store: Store, stop: asyncio.Event, *, fetcher: Fetcher | None = None,
                         settings: Settings = DEFAULTS,
                         clock: Callable[[], datetime] = utcnow, limit: int = 20,
                         concurrency: int = 4, claim_seconds: int = CLAIM_SECONDS) -> None:
    """Extract due pages until ``stop`` is set: a pass, then a wait until the next page is due
    (at most ``LOOP_MAX_SLEEP``). Its own Fetcher unless one is given. A page claimed and not
    saved (this process died) is due again after ``claim_seconds``."""
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings, host_gate=store.host_gate())
    try:
        while not stop.is_set():
            wait = LOOP_ERROR_SLEEP
            try:
                summary = await extract_due(store, fetcher, now=clock(), limit=limit, concurrency=concurrency,
                                            claim_seconds=claim_seconds)
                wait = 0.0 if summary.attempted >= limit else await asyncio.to_thread(_seconds_until_due, store, clock())
            except NewswireError as error:
                log.warning("extract: pass failed, retrying: %s", error)
            if wait > 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=wait)
                except asyncio.TimeoutError:
                    pass
    finally:
        if own:
            await fetcher.aclose()


def _seconds_until_due(store: Store, now: datetime) -> float:
    due = store.next_extraction_due_at()
    if due is None:
        return LOOP_MAX_SLEEP
    return max(LOOP_MIN_SLEEP, min(LOOP_MAX_SLEEP, (due - now).total_seconds()))


async def reextract(store: Store, fetcher: Fetcher, *, now: datetime, source_id: int | None = None,
                    concurrency: int = 4,
                    on_queued: Callable[[int], None] | None = None,
                    on_done: Callable[[ExtractionJob, str], None] | None = None) -> ExtractionSummary:
    """Queue every article of ``source_id`` (or every full-text/extracted one) and extract them
    all now, one try each (a failure is recorded with its backoff as usual)."""
    queued = await asyncio.to_thread(store.requeue_extraction, now, source_id)
    if on_queued:
        on_queued(queued)
    summary = ExtractionSummary()
    while True:
        part = await extract_due(store, fetcher, now=now, limit=200, concurrency=concurrency, on_done=on_done)
        summary.add(part)
        if part.attempted == 0 or part.done + part.failed + part.retrying < 200:
            return summary
