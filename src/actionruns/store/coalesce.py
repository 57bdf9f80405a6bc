"""Concurrent calls to one statement, sent to the database together.

On PostgreSQL every statement is a round trip, and a round trip costs the API node and the
database far more CPU than the row it carries. Under load many requests insert or read a run
at the same moment; a ``Coalescer`` sends the first call at once and collects those made while
it is in flight into the next batch: one round trip for many rows, and no wait when idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 256


class Coalescer(Generic[Item, Result]):
    """Calls ``send`` with batches of items; each caller gets the result for its own item.

    ``send`` must be all-or-nothing (one statement, or one transaction). When a batch of
    several fails with an error that ``item_refused`` blames on an item (a duplicate key, a
    value the database refuses), each item is sent again alone, so one caller's bad row fails
    that caller only. Any other error (the database is away) fails the whole batch at once.
    """

    def __init__(
        self,
        send: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        item_refused: Callable[[Exception], bool],
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._send = send
        self._item_refused = item_refused
        self._max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_pending(), name="coalescer")
        # Shielded: the batch goes out whether or not this caller still waits for it.
        return await asyncio.shield(future)

    async def _send_pending(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._send_batch(batch)
        except BaseException:
            # Stopped (the process shuts down): no caller may wait for an answer forever.
            waiting, self._pending = batch + self._pending, []
            for _, future in waiting:
                if not future.done():
                    future.cancel()
            raise
        finally:
            self._sender = None

    async def _send_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._send([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} items")
        except Exception as exc:
            if len(batch) > 1 and self._item_refused(exc):
                for single in batch:
                    await self._send_batch([single])
                return
            for _, future in batch:
                future.set_exception(exc)
                # Retrieved here too: a caller that was cancelled meanwhile will never look.
                future.exception()
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)
