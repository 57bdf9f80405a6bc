"""Typed rows the store hands out, so callers never see SQL types."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Self


class _Record:
    @classmethod
    def from_row(cls, row: Any) -> Self:
        mapping = row._mapping if hasattr(row, "_mapping") else row
        names = _FIELD_NAMES.get(cls)
        if names is None:  # once per record type: dataclasses.fields() is slow for the run path
            names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
        return cls(**{name: mapping[name] for name in names})


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True)
class ClientRecord(_Record):
    id: str
    name: str
    secret_hash: str
    scopes: list[str]
    allowed_apps: list[str] | None
    signing_secret: bytes
    disabled: bool
    created_at: float
    redirect_uris: list[str] | None
    events_url: str | None
    brand: dict[str, str] | None


@dataclass(frozen=True)
class AuthenticationRecord(_Record):
    id: str
    client_id: str
    end_user_id: str | None
    app_key: str
    title: str
    credentials: bytes
    is_expired: bool
    throttled_until: float | None
    created_at: float
    updated_at: float
    access_expires_at: float | None
    refreshed_at: float | None
    refresh_failed_at: float | None
    refresh_holder: str | None
    refresh_until: float | None
    refresh_error: str | None = None


@dataclass(frozen=True)
class ClientKeyRecord(_Record):
    id: str
    client_id: str
    algorithm: str
    public_key: str
    created_at: float


@dataclass(frozen=True)
class SigningKeyRecord(_Record):
    id: str
    private_key: bytes  # sealed PEM
    public_jwk: dict[str, Any]
    created_at: float
    retired_at: float | None


@dataclass(frozen=True)
class OAuthAppRecord(_Record):
    id: str
    client_id: str
    client_secret: bytes
    updated_at: float


@dataclass(frozen=True)
class RunRecord(_Record):
    id: str
    client_id: str
    end_user_id: str | None
    app_key: str
    action_key: str
    authentication_id: str | None
    inputs: dict[str, Any]
    status: str
    results: list[dict[str, Any]] | None
    errors: list[dict[str, Any]] | None
    attempts: int
    max_attempts: int
    available_at: float
    lease_owner: str | None
    lease_expires_at: float | None
    cancel_requested: bool
    callback_url: str | None
    callback_status: str | None
    callback_attempts: int
    callback_next_at: float | None
    callback_error: str | None
    idempotency_key: str | None
    request_hash: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    limit_key: str | None
    holds_limit: bool
    request_id: str | None
    trace_context: str | None

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


@dataclass(frozen=True)
class AttemptRecord(_Record):
    run_id: str
    number: int
    worker: str
    started_at: float
    finished_at: float | None
    outcome: str | None
    error: dict[str, Any] | None
    retry_delay: float | None
    requests: list[dict[str, Any]] | None
    logs: list[dict[str, str]] | None


@dataclass(frozen=True)
class DeliveryRecord(_Record):
    """One attempt to deliver a run's callback."""

    run_id: str
    number: int
    started_at: float
    duration_ms: float | None
    status: int | None
    outcome: str
    error: str | None


QUEUED = "queued"
RUNNING = "running"
SUCCESS = "success"
ERROR = "error"
FINISHED_STATUSES = frozenset({SUCCESS, ERROR})


@dataclass(frozen=True)
class QueueStats:
    """What the queue holds now, for metrics and readiness."""

    queued: int
    due: int
    running: int
    oldest_running_since: float | None
    callbacks_pending: int
    callbacks_failed: int


@dataclass(frozen=True)
class ImportedAppRecord(_Record):
    key: str
    revision: int
    manifest: str
    source_sha256: str
    created_at: float
    updated_at: float
