"""One attempt of a run: open the credentials, call the connector, classify what happened."""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2
import structlog

from actionruns.config import Settings
from actionruns.connections import ConnectionService
from actionruns.connections.oauth import OAuthNotConfigured
from actionruns.engine.documents import run_error
from actionruns.sdk.app import Action, App, normalize_results
from actionruns.sdk.errors import (
    ActionError,
    ExpiredAuthError,
    HaltError,
    ThrottledError,
    TransientError,
)
from actionruns.sdk.fields import FieldErrors, validate_inputs
from actionruns.sdk.outbound import guard_error
from actionruns.sdk.redaction import redact, secrets_in_scope
from actionruns.sdk.registry import Registry
from actionruns.store import RunRecord

log = structlog.get_logger(__name__)

MAX_RESULT_BYTES = 4 * 1024 * 1024

SUCCEEDED = "success"
FAILED = "error"
RETRY = "retry"


@dataclass(frozen=True)
class AttemptOutcome:
    outcome: str
    results: list[dict[str, Any]] | None = None
    error: dict[str, Any] | None = None
    retry_at: float | None = None
    expire_authentication: bool = False


class Executor:
    def __init__(
        self, registry: Registry, connections: ConnectionService, settings: Settings
    ) -> None:
        self.registry = registry
        self.connections = connections
        self.settings = settings

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        ceiling: float = min(
            self.settings.retry_max_seconds, self.settings.retry_base_seconds * 2 ** (attempt - 1)
        )
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def attempt(self, run: RunRecord, now: float) -> AttemptOutcome:
        found = self.registry.action(f"{run.app_key}.{run.action_key}")
        if found is None:
            return _final(
                "system",
                "Action unavailable",
                f"The action {run.app_key}.{run.action_key} is no longer installed.",
            )
        app, action = found
        if run.authentication_id is None:
            return await self._perform_redacted(app, action, run, {}, now)
        record = await self.connections.store.get_authentication(run.authentication_id)
        if record is None:
            return _final(
                "authentication",
                "Authentication missing",
                "The authentication was deleted; connect the account again.",
            )
        if record.is_expired:
            return _final(
                "authentication",
                "Authentication expired",
                "The authentication has expired; the user must reconnect it.",
            )
        try:
            credentials = await self.connections.usable_credentials(app, record)
        except ExpiredAuthError as exc:  # the refresh was refused: already marked expired
            return AttemptOutcome(FAILED, error=_error_of(exc))
        except TransientError as exc:
            return self._retry_or_fail(run, now, exc)
        except OAuthNotConfigured as exc:
            return _final("system", "OAuth2 not set up", str(exc))
        outcome = await self._perform_redacted(app, action, run, credentials, now)
        if outcome.expire_authentication and credentials.get("refresh_token"):
            # A 401 with an OAuth2 token: refresh once and try again before giving up.
            try:
                credentials = await self.connections.refresh(
                    app, record, credentials.get("access_token")
                )
            except ExpiredAuthError as exc:
                return AttemptOutcome(FAILED, error=_error_of(exc))
            except TransientError as exc:
                return self._retry_or_fail(run, now, exc)
            except OAuthNotConfigured as exc:
                return _final("system", "OAuth2 not set up", str(exc))
            outcome = await self._perform_redacted(app, action, run, credentials, now)
        return outcome

    async def _perform_redacted(
        self, app: App, action: Action, run: RunRecord, credentials: dict[str, Any], now: float
    ) -> AttemptOutcome:
        """Perform, with the credentials' secrets redacted from whatever comes back."""
        secrets = [credentials.get(key) for key in app.auth.secret_keys]
        with secrets_in_scope(secrets):
            outcome = await self._perform(app, action, run, credentials, now)
            return AttemptOutcome(
                outcome.outcome,
                results=redact(outcome.results),
                error=redact(outcome.error),
                retry_at=outcome.retry_at,
                expire_authentication=outcome.expire_authentication,
            )

    async def _perform(
        self, app: App, action: Action, run: RunRecord, credentials: dict[str, Any], now: float
    ) -> AttemptOutcome:
        timeout = action.timeout or self.settings.action_timeout
        try:
            async with self.connections.context(
                app, credentials, run_id=run.id, authentication_id=run.authentication_id
            ) as ctx:
                async with asyncio.timeout(timeout):
                    inputs: Mapping[str, Any] = run.inputs
                    if action.has_dynamic_inputs:
                        fields = await action.input_fields(ctx, run.inputs)
                        inputs = validate_inputs(fields, run.inputs)
                    result = await action.perform(ctx, inputs)
            results = normalize_results(result)
        except FieldErrors as exc:
            return _final("user", "Invalid input", str(exc))
        except ExpiredAuthError as exc:
            return AttemptOutcome(FAILED, error=_error_of(exc), expire_authentication=True)
        except ThrottledError as exc:
            return self._retry_or_fail(run, now, exc, delay=exc.delay)
        except (TransientError, HaltError, ActionError) as exc:
            if exc.retryable:
                return self._retry_or_fail(run, now, exc)
            return AttemptOutcome(FAILED, error=_error_of(exc))
        except TimeoutError:
            failure = TransientError(f"The action did not finish within {timeout:g} seconds.")
            return self._retry_or_fail(run, now, failure)
        except httpx2.HTTPError as exc:
            refused = guard_error(exc)  # the outbound guard's refusal, or a name that failed
            if refused is not None and not refused.retryable:
                return AttemptOutcome(FAILED, error=_error_of(refused))
            if refused is not None:
                return self._retry_or_fail(run, now, refused)
            failure = TransientError(
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            )
            return self._retry_or_fail(run, now, failure)
        except Exception:
            log.exception(
                "connector_crashed", app=run.app_key, action=run.action_key, run_id=run.id
            )
            return _final(
                "system",
                "Connector error",
                "The connector failed unexpectedly; the operator's logs have details.",
            )
        encoded = json.dumps(results, default=str)
        if len(encoded) > MAX_RESULT_BYTES:
            return _final(
                "system",
                "Result too large",
                f"The action returned more than {MAX_RESULT_BYTES} bytes.",
            )
        # JSON has no Infinity or NaN: as JavaScript's JSON.stringify does, they become null
        # (stored as they are, PostgreSQL would refuse them and no response could carry them).
        return AttemptOutcome(
            SUCCEEDED, results=json.loads(encoded, parse_constant=lambda _constant: None)
        )

    def _retry_or_fail(
        self, run: RunRecord, now: float, exc: ActionError, delay: float | None = None
    ) -> AttemptOutcome:
        error = _error_of(exc)
        if run.attempts >= run.max_attempts:
            error["detail"] += f" (gave up after {run.attempts} attempts)"
            return AttemptOutcome(FAILED, error=error)
        wait = self.backoff(run.attempts) if delay is None else delay
        error["delay"] = math.ceil(wait)
        return AttemptOutcome(RETRY, error=error, retry_at=now + wait)


def _error_of(exc: ActionError) -> dict[str, Any]:
    delay = math.ceil(exc.delay) if isinstance(exc, ThrottledError) else 0
    return run_error(exc.code, exc.title, exc.detail, delay=delay, meta=exc.meta)


def _final(code: str, title: str, detail: str) -> AttemptOutcome:
    return AttemptOutcome(FAILED, error=run_error(code, title, detail))
