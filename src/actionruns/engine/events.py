"""Signals: a run finished, work was submitted, a cancellation was asked for, callbacks are due.

They make waiters and workers react at once. They are an accelerator, not the source of
truth: everything they announce is already in the store, so a process that misses a signal
finds it at its next look at the store. Signals raised here are also handed to ``publish``
(on PostgreSQL, the bus that sends them to every other process); signals from elsewhere
come in through ``receive``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable

from actionruns.store import RunRecord

FINISHED = "finished"
SUBMITTED = "submitted"
CANCEL = "cancel"
CALLBACKS = "callbacks"

Publish = Callable[[str, str], None]
"""Sends a signal (kind, run id or "") to the other processes."""


class RunEvents:
    def __init__(self) -> None:
        self._finished: defaultdict[str, set[asyncio.Future[RunRecord | None]]] = defaultdict(set)
        self._cancel_listeners: list[Callable[[str], None]] = []
        self.work_submitted = asyncio.Event()
        self.callbacks_due = asyncio.Event()
        self.publish: Publish | None = None
        # Runs executing in this process, as stored when their attempt began: a waiter here
        # needs no read to know they are unfinished (``run_finished`` removes them).
        self._running_here: dict[str, RunRecord] = {}
        # Followers of every run's finish (``runs tail --follow``, the dashboard).
        self._any_finished: set[asyncio.Future[None]] = set()

    def _announce(self, kind: str, run_id: str = "") -> None:
        if self.publish is not None:
            self.publish(kind, run_id)

    def submitted(self) -> None:
        """New or retried work is due: wake idle workers."""
        self.work_submitted.set()
        self._announce(SUBMITTED)

    def callbacks_pending(self) -> None:
        self.callbacks_due.set()
        self._announce(CALLBACKS)

    def receive(self, kind: str, run_id: str) -> None:
        """A signal from another process: act on it here, without sending it on."""
        if kind == FINISHED:
            self._wake(run_id, None)
        elif kind == SUBMITTED:
            self.work_submitted.set()
        elif kind == CANCEL:
            self._notify_cancel(run_id)
        elif kind == CALLBACKS:
            self.callbacks_due.set()

    def recheck_everything(self) -> None:
        """Signals may have been missed (the bus reconnected): everyone looks at the store."""
        self.work_submitted.set()
        self.callbacks_due.set()
        for run_id in list(self._finished):
            self._wake(run_id, None)

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

    async def wait_any_finished(self, timeout: float) -> bool:
        """Wait until some run finishes, here or (on PostgreSQL) in another process; False
        when the timeout passed first."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._any_finished.add(future)
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._any_finished.discard(future)

    def run_finished(self, run_id: str, run: RunRecord | None = None) -> None:
        """Wake the run's waiters; pass the committed run to spare them a read."""
        self._running_here.pop(run_id, None)
        self._wake(run_id, run)
        self._announce(FINISHED, run_id)

    def running_here(self, run: RunRecord) -> None:
        """A worker of this process began an attempt of ``run``."""
        self._running_here[run.id] = run

    def left_here(self, run_id: str) -> None:
        """The attempt here is over, whatever became of the run."""
        self._running_here.pop(run_id, None)

    def unfinished_here(self, run_id: str) -> RunRecord | None:
        """The run, if it is executing in this process and has not finished yet."""
        return self._running_here.get(run_id)

    def _wake(self, run_id: str, run: RunRecord | None) -> None:
        for future in self._finished.pop(run_id, ()):
            if not future.done():
                future.set_result(run)
        if self._any_finished:
            for follower in self._any_finished:
                if not follower.done():
                    follower.set_result(None)
            self._any_finished.clear()

    def on_cancel(self, listener: Callable[[str], None]) -> None:
        self._cancel_listeners.append(listener)

    def cancel_requested(self, run_id: str) -> None:
        self._notify_cancel(run_id)
        self._announce(CANCEL, run_id)

    def _notify_cancel(self, run_id: str) -> None:
        for listener in self._cancel_listeners:
            listener(run_id)
