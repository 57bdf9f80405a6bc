"""API requests per client, counted where they are served and kept in the store.

A request adds one to a dictionary in memory (no I/O on the request's path); every few
seconds the counts are added to the store, one upsert for every client and minute seen, so
the dashboard's sums hold for several API nodes at the cost of one write per node per
interval. Counts not yet written when a process dies are lost: at most one interval's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from actionruns.store import Store
from actionruns.store.request_counts import RequestCount

log = structlog.get_logger(__name__)

FLUSH_SECONDS = 5.0
MINUTE = 60
KEPT_SECONDS = 2 * 86400  # the dashboard shows a day; a second one for slack


class RequestCounter:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock
        self._pending: dict[tuple[str, float], RequestCount] = {}
        self._flushing = asyncio.Lock()

    def count(self, client_id: str, status: int) -> None:
        now = self.clock()
        key = (client_id, now - now % MINUTE)
        counted = self._pending.get(key)
        if counted is None:
            counted = self._pending[key] = RequestCount()
        counted.requests += 1
        if status >= 500:
            counted.server_errors += 1
        elif status >= 400:
            counted.client_errors += 1

    async def flush(self) -> None:
        """Add what was counted since the last flush to the store; on failure keep it for
        the next."""
        async with self._flushing:
            pending, self._pending = self._pending, {}
            try:
                await self.store.requests.add(pending)
            except BaseException:
                for key, counted in pending.items():
                    self._pending.setdefault(key, RequestCount()).add(counted)
                raise

    async def run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
                await self.store.requests.purge(self.clock() - KEPT_SECONDS)
            except Exception:
                log.exception("request_counts_flush_failed")
