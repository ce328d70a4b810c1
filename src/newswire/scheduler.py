"""Keeping every source fresh: refresh what is due, sleep until the next source is due, repeat.

Stopping (SIGINT/SIGTERM set ``stop``) lets the pass in flight finish its writes, so nothing is
left half-written; the next start picks up where the due times say.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Callable

from newswire.service.update import Refresher, UpdateResult, default_parse_processes
from newswire.store import Store

MIN_SLEEP = 1.0
MAX_SLEEP = 60.0


def seconds_until_next_due(store: Store, now: datetime) -> float:
    """How long until the earliest enabled source is due, bounded so that sources added by
    another process are noticed within a minute."""
    pending = [s.next_due_at for s in store.list_sources() if s.enabled]
    if not pending:
        return MAX_SLEEP
    if any(d is None for d in pending):
        return MIN_SLEEP
    wait = (min(d for d in pending if d is not None) - now).total_seconds()
    return max(MIN_SLEEP, min(MAX_SLEEP, wait))


async def run_scheduler(store: Store, stop: asyncio.Event,
                        on_pass: Callable[[list[UpdateResult]], None] | None = None) -> None:
    async with Refresher(store, parse_processes=default_parse_processes(len(store.list_sources()))) as refresher:
        while not stop.is_set():
            due = store.due_sources(datetime.now(timezone.utc))
            if due:
                results = await refresher.refresh_many(due)
                if on_pass:
                    on_pass(results)
            wait = seconds_until_next_due(store, datetime.now(timezone.utc))
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass
