"""The JSON documents of a run, shared by the API and the callbacks so both say the same."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from actionruns.store import AttemptRecord, RunRecord


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def run_document(run: RunRecord, *, delivery: bool = True) -> dict[str, Any]:
    """The run as the API shows it; without ``delivery``, as its callback carries it (the
    same body on every attempt, without the state of its own delivery)."""
    document: dict[str, Any] = {
        "type": "run",
        "id": run.id,
        "run_id": run.id,  # Zapier's guides read the id under this name
        "action": f"{run.app_key}.{run.action_key}",
        "authentication": run.authentication_id,
        "status": run.status,
        "results": run.results or [],
        "errors": [_error_document(error) for error in run.errors or []],
        "attempts": run.attempts,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
    }
    if delivery and run.callback_url is not None:
        # Only for runs that asked for one: status is null until the run finishes, then
        # pending, delivered or failed (with why).
        document["callback"] = {
            "url": run.callback_url,
            "status": run.callback_status,
            "attempts": run.callback_attempts,
            "error": run.callback_error,
        }
    return document


def operator_run_document(run: RunRecord) -> dict[str, Any]:
    """The run as the operator's views show it: its document, and whose it is."""
    return {**run_document(run), "client": run.client_id, "end_user": run.end_user_id}


def attempt_document(attempt: AttemptRecord) -> dict[str, Any]:
    """One attempt of a run: when, how it ended and why, the requests it made and what the
    app's code printed.

    ``outcome`` is success, error, retry, lost (its worker died), released (its worker
    stopped) or null while it runs; ``error_class`` the error's code (user, authentication,
    partner, system, throttled...).
    """
    error = _error_document(attempt.error) if attempt.error else None
    return {
        "type": "attempt",
        "number": attempt.number,
        "started_at": iso(attempt.started_at),
        "finished_at": iso(attempt.finished_at),
        "outcome": attempt.outcome,
        "error_class": error["code"] if error else None,
        "error": error,
        "retry_delay": attempt.retry_delay,
        "requests": attempt.requests or [],
        "logs": attempt.logs or [],
    }


def run_error(
    code: str,
    title: str,
    detail: str,
    *,
    delay: int = 0,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of a run's ``errors``: code is user, authentication, partner, system,
    throttled or system_throttled; ``delay`` the whole seconds before a retry, 0 for none."""
    return {"code": code, "title": title, "detail": detail, "delay": delay, "meta": meta or {}}


def _error_document(error: dict[str, Any]) -> dict[str, Any]:
    """Zapier types ``delay`` as an integer: runs stored with ``null`` (before it was always
    set) read as 0."""
    delay = error.get("delay")
    return {**error, "delay": math.ceil(delay) if isinstance(delay, int | float) else 0}
