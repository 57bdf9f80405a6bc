"""The JSON documents of a run, shared by the API and the callbacks so both say the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from actionruns.store import RunRecord


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def run_document(run: RunRecord) -> dict[str, Any]:
    return {
        "type": "run",
        "id": run.id,
        "action": f"{run.app_key}.{run.action_key}",
        "authentication": run.authentication_id,
        "status": run.status,
        "results": run.results or [],
        "errors": run.errors or [],
        "attempts": run.attempts,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
    }


def run_error(
    code: str,
    title: str,
    detail: str,
    *,
    delay: int | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of a run's ``errors``: code is user, authentication, partner, system,
    throttled or system_throttled."""
    return {"code": code, "title": title, "detail": detail, "delay": delay, "meta": meta or {}}
