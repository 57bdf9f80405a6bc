"""Group commit: the writes of concurrent callers share one transaction and one commit.

SQLite allows one writer at a time, and every transaction costs a commit plus several hops to
the driver's thread. Under load, queueing writes and committing them together turns many
small transactions into a few larger ones. Each caller still gets its own result only after
the commit that holds its write, so nothing is acknowledged before it is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")
Work = Callable[[AsyncConnection], Awaitable[Any]]

MAX_BATCH = 256


class GroupCommit:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._queue: list[tuple[Work, asyncio.Future[Any]]] = []
        self._pending = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((work, future))
        self._pending.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="group-commit")
        return await future

    async def close(self) -> None:
        if self._writer is not None:
            while self._queue:
                await asyncio.sleep(0)
                await self._drain()
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    async def _write_forever(self) -> None:
        while True:
            await self._pending.wait()
            self._pending.clear()
            await self._drain()

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        try:
            async with self.engine.begin() as conn:
                results = [await work(conn) for work, _ in batch]
        except Exception as exc:
            if len(batch) > 1:
                # One write failed (say, a duplicate key): retry each alone, so only that
                # caller sees the error.
                for item in batch:
                    await self._commit([item])
                return
            _, future = batch[0]
            if not future.done():
                future.set_exception(exc)
            return
        except BaseException as exc:  # cancelled mid-commit: the callers must not hang
            for _, future in batch:
                if not future.done():
                    future.set_exception(RuntimeError(f"write abandoned: {exc!r}"))
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
