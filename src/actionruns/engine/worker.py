"""The worker: leases due runs from the store and executes them, many at a time.

A lease is a promise with an expiry. The worker renews its leases while attempts run; if the
process dies, the leases run out and any worker takes the runs again (the attempt is recorded
as lost). A worker that finds it no longer holds a lease abandons that attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

import structlog

from actionruns.config import Settings
from actionruns.engine import tracing
from actionruns.engine.documents import run_error
from actionruns.engine.events import RunEvents
from actionruns.engine.executor import FAILED, RETRY, SUCCEEDED, AttemptOutcome, Executor
from actionruns.engine.metrics import Metrics
from actionruns.sdk.printed import logging_printed
from actionruns.sdk.request_log import logging_requests
from actionruns.store import ERROR, QUEUED, SUCCESS, RunRecord, Store

log = structlog.get_logger(__name__)

IDLE_POLL_SECONDS = 1.0
CANCELLED = run_error("user", "cancelled", "The run was cancelled at the client's request.")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        store: Store,
        executor: Executor,
        events: RunEvents,
        settings: Settings,
        clock: Callable[[], float],
        metrics: Metrics,
        *,
        concurrency: int | None = None,
        name: str | None = None,
        only: list[str] | None = None,
    ) -> None:
        self.store = store
        self.executor = executor
        self.events = events
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.concurrency = concurrency or settings.worker_concurrency
        self.name = name or worker_name()
        self.only = only
        self.registry = executor.registry
        self._inflight: dict[str, asyncio.Task[None]] = {}
        # Slots promised to runs submitted in this process, not yet inserted (see ``reserve``).
        self._reserved = 0
        # Whether due runs may be waiting that this worker has not looked for. The queue is
        # looked at only then, or when work is signalled: a run that merely finishes (most
        # of them were handed over, not leased) costs no lease statement.
        self._backlog = True
        # Whether runs may be waiting for a slot: the last lease took as many as there were
        # free slots (or none was made yet, after a restart). Only then would a run handed
        # over (see ``reserve``) overtake them; with a slot to spare, a run queued meanwhile
        # is leased by the next look at the queue, as soon as it would have been anyway.
        self._slots_short = True
        self._cancelled: set[str] = set()
        # Runs whose attempt is over and being written: the heartbeat must leave them be.
        self._recording: set[str] = set()
        # When each held lease runs out, as last written to the store.
        self._held_until: dict[str, float] = {}
        self._slot_freed = asyncio.Event()
        self._stopping = asyncio.Event()
        # Set while ``run`` is not leasing: a lease statement in flight when shutdown begins
        # returns runs that are this worker's to finish or hand back.
        self._not_looping = asyncio.Event()
        self._not_looping.set()
        self._heartbeat_task: asyncio.Task[None] | None = None
        events.on_cancel(self._cancel_local)

    async def run(self) -> None:
        """Lease and execute until ``stop`` is called."""
        self._not_looping.clear()
        self._heartbeat_task = asyncio.create_task(self._heartbeat())
        try:
            while not self._stopping.is_set():
                self._slot_freed.clear()
                free = self.concurrency - len(self._inflight) - self._reserved
                if free > 0 and (self._backlog or self.events.work_submitted.is_set()):
                    self.events.work_submitted.clear()
                    leased_at = self.clock()
                    try:
                        leased = await self.store.lease_runs(
                            self.name,
                            free,
                            leased_at,
                            self.settings.lease_seconds,
                            apps=self.registry.keys,
                            only=self.only,
                        )
                    except Exception:
                        log.exception("lease_failed", worker=self.name)
                        await self._sleep(IDLE_POLL_SECONDS)
                        continue
                    for run in leased:
                        self._start(run, leased_at + self.settings.lease_seconds)
                    self._backlog = self._slots_short = len(leased) == free
                    continue
                if await self._wait_for_work(room=free > 0):
                    self._backlog = True  # a retry fell due, or a dead worker's lease ran out
        finally:
            self._not_looping.set()
            # While attempts still run (a drain), their leases must still be renewed.
            if not self._inflight:
                await self._stop_heartbeat()

    def _start(self, run: RunRecord, held_until: float) -> None:
        log.debug(
            "run_leased",
            run_id=run.id,
            request_id=run.request_id,
            attempt=run.attempts,
            worker=self.name,
        )
        self.events.running_here(run)
        self._held_until[run.id] = held_until
        task = asyncio.create_task(self._process(run), name=f"run:{run.id}")
        self._inflight[run.id] = task
        task.add_done_callback(functools.partial(self._done, run.id))

    def reserve(self, app_key: str) -> bool:
        """Promise a slot to a run being submitted in this process, if one is free.

        The submitter then inserts the run already leased to this worker and hands it over
        with ``adopt``: the run starts without a wake-up and a lease transaction. Durability
        is unchanged: the run is in the store, leased, before the client hears of it, and if
        this process dies the lease runs out like any other.
        """
        if (
            self._stopping.is_set()
            or self._heartbeat_task is None
            # Runs already waiting for a slot go first: no overtaking them.
            or self._slots_short
            or self.only is not None
            or self.registry.app(app_key) is None
            or len(self._inflight) + self._reserved >= self.concurrency
        ):
            return False
        self._reserved += 1
        return True

    @property
    def quiet(self) -> bool:
        """At most one run in flight here (reserved or running): its writes may skip the
        store's group commit (see ``Runner.write``)."""
        return len(self._inflight) + self._reserved <= 1

    def adopt(self, run: RunRecord | None) -> None:
        """Take over a reserved run once it is stored leased to us (None: it was not)."""
        self._reserved -= 1
        if run is None or run.lease_expires_at is None:
            self._slot_freed.set()
            return
        self._start(run, run.lease_expires_at)

    async def _stop_heartbeat(self) -> None:
        task, self._heartbeat_task = self._heartbeat_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def stop(self) -> None:
        self._stopping.set()

    async def drain(self, grace: float) -> None:
        """Let in-flight attempts finish for ``grace`` seconds, then hand the rest back.

        Released runs are due again at once for another worker; if releasing fails (the
        database is away), their leases run out and they are taken again all the same.
        """
        self.stop()
        deadline = asyncio.get_running_loop().time() + grace
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._not_looping.wait(), grace)
        if not self._inflight:
            await self._stop_heartbeat()
            return
        remaining = max(0.0, deadline - asyncio.get_running_loop().time())
        _done, pending = await asyncio.wait(list(self._inflight.values()), timeout=remaining)
        unfinished = [run_id for run_id, task in self._inflight.items() if task in pending]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._stop_heartbeat()
        if unfinished:
            try:
                released = await self.store.release_runs(self.name, unfinished, self.clock())
            except Exception:
                log.exception("release_failed", worker=self.name, runs=unfinished)
                return
            log.info("runs_released", worker=self.name, count=len(released))
            if released:
                self.events.submitted()

    def _done(self, run_id: str, _task: asyncio.Task[None] | None = None) -> None:
        self.events.left_here(run_id)
        self._inflight.pop(run_id, None)
        self._cancelled.discard(run_id)
        self._recording.discard(run_id)
        self._held_until.pop(run_id, None)
        self._slot_freed.set()

    async def _wait_for_work(self, *, room: bool) -> bool:
        """Wait for work while there is room, or for room while there is none.

        Returns True when the wait ran out: time to look at the queue anyway.
        """
        waits = [asyncio.ensure_future(self._stopping.wait())]
        timeout = IDLE_POLL_SECONDS
        if room:
            waits.append(asyncio.ensure_future(self.events.work_submitted.wait()))
            # Sleep no longer than until the next scheduled retry falls due.
            with contextlib.suppress(Exception):
                due = await self.store.next_due_at(self.clock())
                if due is not None:
                    timeout = max(0.0, min(timeout, due - self.clock()))
        else:
            waits.append(asyncio.ensure_future(self._slot_freed.wait()))
        done, pending = await asyncio.wait(
            waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        for future in pending:
            future.cancel()
        return not done

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _cancel_local(self, run_id: str) -> None:
        task = self._inflight.get(run_id)
        if task is not None and not task.done():
            self._cancelled.add(run_id)
            task.cancel()

    async def _heartbeat(self) -> None:
        """Renew leases every third of their length, and fence: stop any attempt whose lease
        is about to run out unrenewed (the database is slow or away).

        Another worker may take a run only once its lease has run out, so stopping before
        that moment is what keeps two workers from ever executing one run at once.
        """
        lease = self.settings.lease_seconds
        margin = lease / 6
        last_renewal = self.clock()
        while True:
            await asyncio.sleep(margin / 2)
            now = self.clock()
            self._fence(now, margin)
            if not self._inflight or now - last_renewal < lease / 3:
                continue
            last_renewal = now
            until = now + lease
            # Only these: runs taken while the statement runs hold fresh leases of their own.
            asked = list(self._inflight)
            try:
                held, cancel = await self.store.extend_leases(self.name, asked, until)
            except Exception:
                log.exception("heartbeat_failed", worker=self.name)
                continue
            for run_id in held:
                if run_id in self._held_until:
                    self._held_until[run_id] = until
            for run_id in asked:
                task = self._inflight.get(run_id)
                if task is None or task.done():
                    continue
                if run_id in cancel:
                    self._cancel_local(run_id)
                elif run_id not in held and run_id not in self._recording:
                    log.warning("lease_lost", run_id=run_id, worker=self.name)
                    task.cancel()

    def _fence(self, now: float, margin: float) -> None:
        for run_id, task in list(self._inflight.items()):
            if run_id in self._recording or task.done():
                continue
            if self._held_until.get(run_id, now) - now < margin:
                log.warning("lease_expiring_unrenewed", run_id=run_id, worker=self.name)
                task.cancel()

    async def _process(self, run: RunRecord) -> None:
        # The task's own context: whatever logs during the attempt (a token refresh, a
        # connector) names the run and the request that made it, and whatever it traces
        # (requests, SQL) nests under the attempt's span, in the trace of the run.
        structlog.contextvars.bind_contextvars(run_id=run.id, request_id=run.request_id)
        attributes = {"actionruns.attempt": run.attempts, "actionruns.worker": self.name}
        with tracing.run_step("attempt", run, **attributes):
            await self._attempt(run)

    async def _attempt(self, run: RunRecord) -> None:
        now = self.clock()
        requests: list[dict[str, Any]] = []  # what the attempt sent, kept with it
        printed: list[dict[str, str]] = []  # what the app's code printed, kept with it
        try:
            if run.cancel_requested:
                outcome = AttemptOutcome(FAILED, error=CANCELLED)
            elif run.attempts > run.max_attempts:
                outcome = AttemptOutcome(
                    FAILED,
                    error=run_error(
                        "system",
                        "Run abandoned",
                        f"The run was interrupted {run.attempts - 1} times (workers stopped while "
                        "running it) and was not tried again.",
                    ),
                )
            else:
                if run.limit_key is not None and not await self._acquire_limit(run):
                    tracing.note({"actionruns.attempt.outcome": "deferred"})  # not attempted
                    return
                log.debug(
                    "attempt_started",
                    run_id=run.id,
                    action=f"{run.app_key}.{run.action_key}",
                    attempt=run.attempts,
                )
                with logging_requests() as requests, logging_printed() as printed:
                    outcome = await self.executor.attempt(run, now)
        except asyncio.CancelledError:
            if run.id not in self._cancelled:
                raise  # lease lost or shutting down: the lease decides who runs it next
            outcome = AttemptOutcome(FAILED, error=CANCELLED)
        except Exception:
            log.exception("attempt_crashed", run_id=run.id)
            outcome = AttemptOutcome(
                FAILED,
                error=run_error("system", "Internal error", "The run failed inside the service."),
            )
        self._recording.add(run.id)
        error = outcome.error or {}
        tracing.note(
            {
                "actionruns.attempt.outcome": outcome.outcome,
                "actionruns.error.code": error.get("code"),
                "actionruns.retry_at": outcome.retry_at,
            },
            failed=error.get("title") if outcome.outcome != SUCCEEDED else None,
        )
        self.metrics.attempt_seconds.labels(run.app_key, outcome.outcome).observe(
            max(0.0, self.clock() - now)
        )
        await self._record(run, outcome, started=now, requests=requests, logs=printed)

    async def _acquire_limit(self, run: RunRecord) -> bool:
        """Whether the run may start under its app's limits; if not, it goes back to the queue
        until it may (the attempt never happened)."""
        found = self.executor.registry.action(f"{run.app_key}.{run.action_key}")
        limits = found[0].limits if found is not None else None
        if limits is None:
            return True
        rate = (limits.rate.runs, limits.rate.seconds) if limits.rate else None
        try:
            retry_at = await self.store.acquire_limit(
                run, self.name, self.clock, concurrency=limits.concurrency, rate=rate
            )
            if retry_at is None:
                return True
            await self.store.defer_run(run, self.name, retry_at)
        except Exception:  # the database is away: the lease lapses and the run is taken again
            log.exception("limit_check_failed", run_id=run.id, worker=self.name)
        return False

    async def _record(
        self,
        run: RunRecord,
        outcome: AttemptOutcome,
        *,
        started: float,
        requests: list[dict[str, Any]],
        logs: list[dict[str, str]],
    ) -> None:
        now = self.clock()
        throttled = outcome.error is not None and outcome.error.get("code") == "throttled"
        if outcome.outcome == RETRY and throttled and run.authentication_id:
            # The app throttles the account, not just this run: hold its other runs too.
            assert outcome.retry_at is not None
            await self.store.throttle_authentication(run.authentication_id, outcome.retry_at)
        if outcome.expire_authentication and run.authentication_id:
            await self.executor.connections.mark_expired(run.authentication_id)
        values: dict[str, Any]
        if outcome.outcome == RETRY:
            values = {
                "status": QUEUED,
                "available_at": outcome.retry_at,
                "errors": [outcome.error],
                "holds_limit": False,
            }
        else:
            values = {
                "status": SUCCESS if outcome.outcome == SUCCEEDED else ERROR,
                "results": outcome.results if outcome.outcome == SUCCEEDED else [],
                "errors": [] if outcome.outcome == SUCCEEDED else [outcome.error],
                "finished_at": now,
                "callback_status": "pending" if run.callback_url else None,
                "callback_next_at": now if run.callback_url else None,
                "holds_limit": False,
            }
        recorded = await self.store.finish_attempt(
            run,
            self.name,
            now,
            outcome=outcome.outcome,
            run_values=values,
            error=outcome.error,
            retry_delay=outcome.retry_at - started if outcome.retry_at is not None else None,
            requests=requests,
            logs=logs,
            quiet=self.quiet,
        )
        if not recorded:
            log.warning("attempt_result_dropped_lease_lost", run_id=run.id, worker=self.name)
            return
        _log_attempt(run, outcome, now - started)
        if outcome.outcome == RETRY:
            self.events.submitted()
        else:
            self.metrics.runs_finished.labels(run.app_key, values["status"]).inc()
            finished = dataclasses.replace(run, lease_owner=None, lease_expires_at=None, **values)
            self.events.run_finished(run.id, finished)
            if run.callback_url:
                self.events.callbacks_pending()


def _log_attempt(run: RunRecord, outcome: AttemptOutcome, seconds: float) -> None:
    """The attempt's end as log events: ``attempt_finished`` at debug level (the run path logs
    nothing by default when all goes well), then a retry, a failure or a cancellation at info
    with why (the error's code and title, never its detail: an upstream's words may quote
    what it was sent)."""
    fields: dict[str, Any] = {
        "run_id": run.id,
        "request_id": run.request_id,
        "action": f"{run.app_key}.{run.action_key}",
        "attempt": run.attempts,
        "outcome": outcome.outcome,
        "duration_ms": round(seconds * 1000, 3),
    }
    log.debug("attempt_finished", **fields)
    if outcome.outcome == SUCCEEDED:
        return
    if outcome.error is CANCELLED:
        log.info("run_cancelled", **fields)
        return
    error = outcome.error or {}
    fields.update(error_class=error.get("code"), why=error.get("title"))
    if outcome.outcome == RETRY:
        log.info("retry_scheduled", **fields, retry_at=outcome.retry_at)
    else:
        log.info("run_failed", **fields)
