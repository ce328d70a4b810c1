"""How many requests run at once: in all, and per host.

The per-host slot is taken before the global one, so a request queued behind others to the same
host does not hold one of the global slots while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator


class RequestLimits:
    def __init__(self, concurrency: int, per_host_concurrency: int):
        if concurrency < 1 or per_host_concurrency < 1:
            raise ValueError("fetch: concurrency limits must be at least 1")
        self._global = asyncio.Semaphore(concurrency)
        self._per_host_limit = per_host_concurrency
        self._per_host: dict[str, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one request slot for ``host`` (and one overall) for the duration of the block."""
        semaphore = self._per_host.setdefault(host.lower(), asyncio.Semaphore(self._per_host_limit))
        async with semaphore, self._global:
            yield
