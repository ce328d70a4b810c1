"""Refreshes asked for by other parts of the process, done by the running scheduler.

    web admin "Follow" ─► RefreshRequests.refresh(source_id) ─┐ (any thread, any event loop)
    Scheduler.run: wakes, takes the ids ─► refresh in flight ◄─┘ result handed back

Why through the scheduler rather than a ``Refresher`` of the caller's own: the scheduler never
refreshes a source twice at once (a request joins the refresh in flight), and its fetcher keeps
the per-host limits of every other refresh. Either way copy detection and story clustering are
the enricher lock holder's, which follows every article stored. Thread-safe, because the web
server may run on its own event loop (in tests) or share the scheduler's (``newswire run``).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Callable

from newswire.errors import NewswireError

if TYPE_CHECKING:
    from newswire.service.update import UpdateResult


class NotServed(NewswireError):
    """No scheduler is taking requests (none runs in this process, or it has stopped)."""


class RefreshRequests:
    """The queue between callers of ``refresh`` and the scheduler that ``serve``s it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[int, list[Future[UpdateResult]]] = {}
        self._wake: Callable[[], None] | None = None

    async def refresh(self, source_id: int) -> "UpdateResult":
        """Have the scheduler refresh ``source_id`` now (or join its refresh in flight) and wait
        for the outcome. Raises NotServed when no scheduler takes requests, NotFound when there
        is no such source."""
        future: Future[UpdateResult] = Future()
        with self._lock:
            wake = self._wake
            if wake is None:
                raise NotServed("scheduler: not running in this process")
            self._waiting.setdefault(source_id, []).append(future)
        wake()
        return await asyncio.wrap_future(future)

    # -- the scheduler's side

    def serve(self, wake: Callable[[], None]) -> None:
        """Start taking requests; ``wake`` (callable from any thread) tells the scheduler there
        are some."""
        with self._lock:
            self._wake = wake

    def take(self) -> dict[int, list[Future[UpdateResult]]]:
        """The requests waiting, by source id; each future gets the refresh's result."""
        with self._lock:
            waiting, self._waiting = self._waiting, {}
        return waiting

    def close(self) -> None:
        """Stop taking requests; those still waiting fail with NotServed."""
        with self._lock:
            self._wake = None
        for futures in self.take().values():
            for future in futures:
                if not future.done():
                    future.set_exception(NotServed("scheduler: stopped before the refresh"))
