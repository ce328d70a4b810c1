"""How many requests run at once (in all, and per host) and how often one host is asked.

    RequestLimits.slot(host)
      ├─ this process's semaphore for the host     at most ``per_host`` of ours wait past here
      ├─ a deployment-wide slot from the HostGate  polled while every slot is held elsewhere
      ├─ this process's global semaphore
      ├─ pacing: HostGate.try_start, until the     starts to one host at least ``interval`` apart,
      │  host's last start is ``interval`` old     by every process together
      └─ the request; then the slot goes back

The per-host slots are taken before the global one, so a request queued behind others to the
same host does not hold one of the global slots while it waits. Pacing comes after the global
slot, so that the start it records is the request's own start (a wait for the global slot in
between would let two starts come closer than the interval); that wait is short, as at most
``per_host`` holders of the host's slots, deployment-wide, are pacing at once.

The gate is what processes share: ``store.host_gate`` (a database's processes), or, without
one, ``LocalGate`` (this process alone: the semaphores bound it, and pacing is kept here).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import AsyncIterator, Callable, Protocol

SLOT_POLL_FIRST = 0.01  # seconds before asking again for a slot every other process holds
SLOT_POLL_MAX = 0.25


class HostGate(Protocol):
    """Per-host slots and request starts shared by processes. Each gate object is one holder.

    ``blocking``: its calls may wait on the network (a database round trip), so they run on a
    thread rather than on the event loop. None of the calls raises: a gate that cannot ask
    grants (and says so in the log), leaving each process its own limits."""

    blocking: bool

    def try_slot(self, host: str, limit: int) -> int | None:
        """Take one of ``host``'s ``limit`` slots that no holder has: its number (-1 when it
        need not be given back), or None when every one is held."""

    def release_slot(self, host: str, slot: int) -> None:
        """Give back a slot ``try_slot`` took."""

    def try_start(self, host: str, interval: float) -> float:
        """0.0 when the last start to ``host`` is ``interval`` seconds old or more: this start is
        then recorded as the host's last. Otherwise the seconds to wait before asking again."""


class LocalGate:
    """This process alone: its semaphores already bound the slots, and starts are paced here."""

    blocking = False
    FORGET_AFTER = 4096  # hosts remembered before those paced long ago are forgotten

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._last: dict[str, float] = {}

    def try_slot(self, host: str, limit: int) -> int | None:
        return -1

    def release_slot(self, host: str, slot: int) -> None:
        pass

    def try_start(self, host: str, interval: float) -> float:
        now = self._clock()
        last = self._last.get(host)
        if last is not None and now < last + interval:
            return last + interval - now
        if len(self._last) >= self.FORGET_AFTER:
            self._last = {h: t for h, t in self._last.items() if now < t + interval}
        self._last[host] = now
        return 0.0


class RequestLimits:
    def __init__(self, concurrency: int, per_host_concurrency: int, *, interval: float = 0.0,
                 gate: HostGate | None = None):
        if concurrency < 1 or per_host_concurrency < 1:
            raise ValueError("fetch: concurrency limits must be at least 1")
        if not interval >= 0:
            raise ValueError("fetch: the interval between requests to one host cannot be negative")
        self._global = asyncio.Semaphore(concurrency)
        self._per_host_limit = per_host_concurrency
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._interval = interval
        self._gate: HostGate = gate if gate is not None else LocalGate()

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one request slot for ``host`` (and one overall) for the duration of the block,
        starting no sooner than the interval after the host's last start."""
        host = host.lower()
        semaphore = self._per_host.setdefault(host, asyncio.Semaphore(self._per_host_limit))
        async with semaphore:
            taken = await self._shared_slot(host)
            try:
                async with self._global:
                    if self._interval > 0:
                        await self._paced(host)
                    yield
            finally:
                if taken >= 0:
                    await self._call(self._gate.release_slot, host, taken)

    async def _shared_slot(self, host: str) -> int:
        """A deployment-wide slot for ``host``, asking again (backing off, with jitter) while
        other processes hold them all."""
        delay = SLOT_POLL_FIRST
        while True:
            taken = await self._try_slot(host)
            if taken is not None:
                return taken
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, SLOT_POLL_MAX)

    async def _try_slot(self, host: str) -> int | None:
        gate = self._gate
        if not gate.blocking:
            return gate.try_slot(host, self._per_host_limit)
        loop = asyncio.get_running_loop()
        asked = loop.run_in_executor(None, gate.try_slot, host, self._per_host_limit)
        try:
            return await asyncio.shield(asked)
        except asyncio.CancelledError:
            # The thread goes on and may take a slot nobody will use: give it back when it does.
            asked.add_done_callback(lambda done: self._give_back(loop, host, done))
            raise

    def _give_back(self, loop: asyncio.AbstractEventLoop, host: str, done: asyncio.Future) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        taken = done.result()
        if taken is not None and taken >= 0:
            loop.run_in_executor(None, self._gate.release_slot, host, taken)

    async def _paced(self, host: str) -> None:
        while True:
            wait = await self._call(self._gate.try_start, host, self._interval)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _call(self, function: Callable, *args: object):  # type: ignore[no-untyped-def]
        if self._gate.blocking:
            return await asyncio.to_thread(function, *args)
        return function(*args)
