"""In-process signals: a run finished, work was submitted, a cancellation was asked for.

They make waiters and workers react at once. They are an accelerator, not the source of
truth: everything they announce is already in the store, so a process that misses a signal
(another process did the work) finds it at its next look at the store.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable

from actionruns.store import RunRecord


class RunEvents:
    def __init__(self) -> None:
        self._finished: defaultdict[str, set[asyncio.Future[RunRecord | None]]] = defaultdict(set)
        self._cancel_listeners: list[Callable[[str], None]] = []
        self.work_submitted = asyncio.Event()
        self.callbacks_due = asyncio.Event()

    async def wait_finished(self, run_id: str, timeout: float) -> RunRecord | bool | None:
        """Wait until ``run_finished`` is signalled for the run.

        Returns the finished run when the signal carried it, True when it did not (read it
        from the store), False when the timeout passed first.
        """
        future: asyncio.Future[RunRecord | None] = asyncio.get_running_loop().create_future()
        waiters = self._finished[run_id]
        waiters.add(future)
        try:
            finished = await asyncio.wait_for(future, timeout)
            return True if finished is None else finished
        except TimeoutError:
            return False
        finally:
            waiters.discard(future)
            if not waiters:
                self._finished.pop(run_id, None)

    def run_finished(self, run_id: str, run: RunRecord | None = None) -> None:
        """Wake the run's waiters; pass the committed run to spare them a read."""
        for future in self._finished.pop(run_id, ()):
            if not future.done():
                future.set_result(run)

    def on_cancel(self, listener: Callable[[str], None]) -> None:
        self._cancel_listeners.append(listener)

    def cancel_requested(self, run_id: str) -> None:
        for listener in self._cancel_listeners:
            listener(run_id)
