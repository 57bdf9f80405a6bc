"""Accepting, reading, waiting for and cancelling runs on behalf of a principal."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from actionruns.config import Settings
from actionruns.connections import ConnectionService
from actionruns.engine import ids, tracing
from actionruns.engine.catalog import Catalog
from actionruns.engine.destinations import destination_problem
from actionruns.engine.documents import run_error
from actionruns.engine.events import RunEvents
from actionruns.engine.metrics import Metrics
from actionruns.engine.run_pages import list_runs
from actionruns.engine.worker import Worker
from actionruns.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from actionruns.logs import current_request_id
from actionruns.principal import Principal
from actionruns.sdk.app import Action, App
from actionruns.sdk.auth import AuthType
from actionruns.sdk.fields import FieldErrors, validate_inputs
from actionruns.store import (
    FINISHED_STATUSES,
    QUEUED,
    RUNNING,
    AttemptRecord,
    RunFilter,
    RunRecord,
    Store,
)

MAX_IDEMPOTENCY_KEY_LENGTH = 255
# While a waiter holds a request, it re-reads the run this often in case the run finished in
# another process, whose signal cannot reach this one.
CROSS_PROCESS_RECHECK_SECONDS = 2.0

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RunRequest:
    action: str
    authentication: str | None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    callback_url: str | None = None

    def fingerprint(self) -> str:
        canonical = json.dumps(
            {
                "action": self.action,
                "authentication": self.authentication,
                "inputs": self.inputs,
                "callback_url": self.callback_url,
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class PreparedRun:
    app: App
    action: Action
    authentication_id: str | None
    inputs: dict[str, Any]
    # The app asked to slow down on this account: the run waits until then.
    throttled_until: float | None = None
    # The end user the run is for: the caller's, or the owner of the authentication.
    end_user_id: str | None = None


def _scoped_key(principal: Principal, idempotency_key: str | None) -> str | None:
    """Idempotency keys are unique per client and end user: two end users choosing the same
    key get two runs. An end user's key is stored hashed with their id, which keeps the
    column's unique (client, key) constraint doing the work."""
    if idempotency_key is None or principal.end_user_id is None:
        return idempotency_key
    scope = f"{principal.end_user_id}\x00{idempotency_key}".encode()
    return "end-user:" + hashlib.sha256(scope).hexdigest()


class RunService:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        connections: ConnectionService,
        events: RunEvents,
        settings: Settings,
        clock: Callable[[], float],
        metrics: Metrics,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.connections = connections
        self.events = events
        self.metrics = metrics
        self.settings = settings
        self.clock = clock
        # The worker in this process, if any: new runs go straight to it while it has room.
        self.local_worker: Worker | None = None

    async def prepare(self, principal: Principal, request: RunRequest) -> PreparedRun:
        """Check the action, authentication and inputs; raise a precise 4xx on any problem."""
        app, action = self.catalog.action(principal, request.action, pointer="/data/action")
        authentication_id: str | None = None
        throttled_until: float | None = None
        end_user_id = principal.end_user_id
        if app.auth.type is not AuthType.NONE:
            if not request.authentication:
                raise Unprocessable(
                    f"The app {app.key} needs an authentication.", pointer="/data/authentication"
                )
            try:
                record = await self.connections.get(principal, request.authentication)
            except NotFound:
                raise Unprocessable(
                    f"No authentication {request.authentication!r}.",
                    pointer="/data/authentication",
                ) from None
            if record.app_key != app.key:
                raise Unprocessable(
                    f"The authentication belongs to {record.app_key}, not {app.key}.",
                    pointer="/data/authentication",
                )
            if record.is_expired:
                raise Unprocessable(
                    "The authentication has expired; the user must reconnect it.",
                    pointer="/data/authentication",
                    meta={"is_expired": True},
                )
            authentication_id = record.id
            throttled_until = record.throttled_until
            end_user_id = record.end_user_id
        try:
            inputs = validate_inputs(action.static_inputs, request.inputs)
        except FieldErrors as exc:
            raise ValidationFailed(exc.errors, pointer_prefix="/data/inputs") from None
        if request.callback_url is not None:
            problem = await destination_problem(request.callback_url, self.connections.guard)
            if problem is not None:
                raise Unprocessable(
                    f"callback_url cannot be used: {problem}.", pointer="/data/callback_url"
                )
        return PreparedRun(app, action, authentication_id, inputs, throttled_until, end_user_id)

    async def submit(
        self, principal: Principal, request: RunRequest, idempotency_key: str | None = None
    ) -> tuple[RunRecord, bool]:
        """Store the run durably and signal the workers. Returns the run and whether it is new."""
        if (
            idempotency_key is not None
            and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH
        ):
            raise Unprocessable(
                f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters.",
                header="Idempotency-Key",
            )
        prepared = await self.prepare(principal, request)
        now = self.clock()
        available_at = max(now, prepared.throttled_until or now)
        # The local worker, if it takes the run at once; else the run waits to be leased.
        worker = self.local_worker
        if worker is not None and not (available_at <= now and worker.reserve(prepared.app.key)):
            worker = None
        fingerprint = request.fingerprint() if idempotency_key else None
        values: dict[str, Any] = {
            "id": ids.run_id(),
            "client_id": principal.client_id,
            "end_user_id": prepared.end_user_id,
            "app_key": prepared.app.key,
            "action_key": prepared.action.key,
            "authentication_id": prepared.authentication_id,
            "inputs": prepared.inputs,
            "status": QUEUED,
            "results": None,
            "errors": None,
            "attempts": 0,
            "max_attempts": prepared.action.max_attempts or self.settings.max_attempts,
            "available_at": available_at,
            "lease_owner": None,
            "lease_expires_at": None,
            "cancel_requested": False,
            "callback_url": request.callback_url,
            "callback_status": None,
            "callback_attempts": 0,
            "callback_next_at": None,
            "callback_error": None,
            "idempotency_key": _scoped_key(principal, idempotency_key),
            "request_hash": fingerprint,
            "created_at": now,
            "started_at": None,
            "finished_at": None,
            "limit_key": (
                limits.key(prepared.app.key, prepared.authentication_id)
                if (limits := prepared.app.limits)
                else None
            ),
            "holds_limit": False,
            # Written in the same insert: a worker in any process logs under this request.
            "request_id": current_request_id(),
            "trace_context": None,  # the run's span's, once it is made (below)
        }
        if worker is not None:
            # Stored already leased to the local worker, its first attempt begun.
            values.update(
                status=RUNNING,
                attempts=1,
                lease_owner=worker.name,
                lease_expires_at=now + self.settings.lease_seconds,
                started_at=now,
            )
        run: RunRecord | None = None
        created = False
        with tracing.run_submitted(values["id"], values["app_key"], values["action_key"]) as trace:
            values["trace_context"] = trace
            try:
                run, created = await self.store.insert_run(
                    values,
                    attempt_by=worker.name if worker is not None else None,
                    quiet=worker is not None and worker.quiet,
                )
                if created:  # before the handover below, which logs the lease
                    log.debug(
                        "run_queued",
                        run_id=run.id,
                        request_id=run.request_id,
                        action=f"{run.app_key}.{run.action_key}",
                    )
                else:  # an Idempotency-Key's replay: the span is of the run it names
                    tracing.note({"actionruns.run.id": run.id, "actionruns.run.replayed": True})
            finally:
                if worker is not None:
                    worker.adopt(run if created else None)
        if not created and run.request_hash != fingerprint:
            raise Unprocessable(
                "This Idempotency-Key was already used with a different request.",
                header="Idempotency-Key",
                meta={"run": run.id},
            )
        if created:
            self.metrics.runs_submitted.labels(run.app_key).inc()
            if worker is None:
                self.events.submitted()
        return run, created

    async def dry_run(self, principal: Principal, request: RunRequest) -> dict[str, Any]:
        """Everything ``submit`` checks, plus the connection test, and nothing executed."""
        prepared = await self.prepare(principal, request)
        label: str | None = None
        if prepared.authentication_id is not None:
            record = await self.connections.get(principal, prepared.authentication_id)
            label = await self.connections.test_credentials(
                prepared.app, self.connections.credentials(record)
            )
        return {
            "type": "dry_run",
            "action": f"{prepared.app.key}.{prepared.action.key}",
            "authentication": prepared.authentication_id,
            "authentication_label": label,
            "inputs": prepared.inputs,
            "callback_url": request.callback_url,
            "would_run": True,
        }

    async def get(self, principal: Principal, run_id: str) -> RunRecord:
        run = await self.store.get_run(run_id, client_id=principal.client_id)
        if run is None or not principal.can_see(run.end_user_id):
            raise NotFound(f"No action run {run_id!r}.")
        return run

    async def page(
        self, principal: Principal, wanted: RunFilter, cursor: str | None, limit: int
    ) -> tuple[list[RunRecord], str | None]:
        """A page of the principal's runs matching ``wanted`` (an end user's own, whatever it
        asks for), newest first, and the cursor of the next page if there may be one."""
        wanted = dataclasses.replace(
            wanted,
            client_id=principal.client_id,
            end_user_id=principal.end_user_id or wanted.end_user_id,
        )
        return await list_runs(self.store, wanted, cursor, limit)

    async def attempts(self, principal: Principal, run_id: str) -> list[AttemptRecord]:
        run = await self.get(principal, run_id)
        return await self.store.list_attempts(run.id)

    async def wait(self, principal: Principal, run_id: str, wait_seconds: float) -> RunRecord:
        """The run, once finished or when ``wait_seconds`` have passed, whichever is first."""
        # A run executing here is known unfinished without a read; the waiter below is
        # registered before anything else runs, so its finish cannot slip in between.
        here = self.events.unfinished_here(run_id)
        if (
            here is not None
            and here.client_id == principal.client_id
            and principal.can_see(here.end_user_id)
        ):
            run = here
        else:
            run = await self.get(principal, run_id)
        deadline = self.clock() + wait_seconds
        while not run.is_finished:
            remaining = deadline - self.clock()
            if remaining <= 0:
                break
            woken = await self.events.wait_finished(
                run_id, min(remaining, CROSS_PROCESS_RECHECK_SECONDS)
            )
            run = woken if isinstance(woken, RunRecord) else await self.get(principal, run_id)
        return run

    async def cancel(self, principal: Principal, run_id: str) -> RunRecord:
        run = await self.get(principal, run_id)
        if run.status in FINISHED_STATUSES:
            raise Conflict(f"The run already finished with status {run.status}.")
        cancelled = run_error("user", "cancelled", "The run was cancelled at the client's request.")
        updated = await self.store.cancel_run(
            run_id, principal.client_id, self.clock(), [cancelled]
        )
        if updated is None:
            raise NotFound(f"No action run {run_id!r}.")
        if updated.is_finished:
            log.info(
                "run_cancelled",
                run_id=run_id,
                request_id=updated.request_id,
                action=f"{updated.app_key}.{updated.action_key}",
                attempt=updated.attempts,
            )
            self.metrics.runs_finished.labels(updated.app_key, updated.status).inc()
            self.events.run_finished(run_id)
            if updated.callback_url:
                self.events.callbacks_pending()
        else:
            self.events.cancel_requested(run_id)
        return updated

    async def purge(self) -> int:
        cutoff = self.clock() - self.settings.retention_days * 86400
        return await self.store.purge_finished_before(cutoff)
