"""In-process signals: a run finished, work was submitted, a cancellation was asked for.

They make waiters and workers react at once. They are an accelerator, not the source of
truth: everything they announce is already in the store, so a process that misses a signal
(another process did the work) finds it at its next look at the store.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable


class RunEvents:
    def __init__(self) -> None:
        self._finished: defaultdict[str, set[asyncio.Future[None]]] = defaultdict(set)
        self._cancel_listeners: list[Callable[[str], None]] = []
        self.work_submitted = asyncio.Event()
        self.callbacks_due = asyncio.Event()

    async def wait_finished(self, run_id: str, timeout: float) -> bool:
        """Wait until ``run_finished(run_id)`` is signalled; False when the timeout passes."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._finished[run_id]
        waiters.add(future)
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            waiters.discard(future)
            if not waiters:
                self._finished.pop(run_id, None)

    def run_finished(self, run_id: str) -> None:
        for future in self._finished.pop(run_id, ()):
            if not future.done():
                future.set_result(None)

    def on_cancel(self, listener: Callable[[str], None]) -> None:
        self._cancel_listeners.append(listener)

    def cancel_requested(self, run_id: str) -> None:
        for listener in self._cancel_listeners:
            listener(run_id)
