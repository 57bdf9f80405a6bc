"""The API's errors as exceptions: each carries the error objects the API answered
(``{"errors": [{"status", "code", "title", "detail", "source", "meta"}]}``), and its class
says what kind of failure it is, by status."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from actionruns.client.models import Run


@dataclass(frozen=True)
class ErrorObject:
    status: int
    code: str
    title: str
    detail: str
    source: Mapping[str, str] | None = None
    meta: Mapping[str, Any] | None = None

    @classmethod
    def from_json(cls, document: Mapping[str, Any], status: int) -> ErrorObject:
        source = document.get("source")
        meta = document.get("meta")
        return cls(
            status=int(document.get("status") or status),
            code=str(document.get("code") or ""),
            title=str(document.get("title") or ""),
            detail=str(document.get("detail") or ""),
            source=dict(source) if isinstance(source, Mapping) else None,
            meta=dict(meta) if isinstance(meta, Mapping) else None,
        )


@dataclass
class ApiError(Exception):
    """An answer of 400 or more. ``errors`` are the API's error objects (at least one: a
    body without them gets one made of the status and the text)."""

    status: int
    errors: list[ErrorObject]
    headers: Mapping[str, str] = field(default_factory=dict)
    request_id: str | None = None

    def __str__(self) -> str:
        details = "; ".join(error.detail or error.title for error in self.errors)
        return f"{self.status}: {details}"

    @property
    def code(self) -> str:
        return self.errors[0].code if self.errors else ""

    @property
    def detail(self) -> str:
        return self.errors[0].detail if self.errors else ""


class BadRequest(ApiError):
    """400 or 422: the request is malformed or a value is refused (``source`` says which)."""


class Unauthorized(ApiError):
    """401: no valid token, or wrong client credentials."""


class Forbidden(ApiError):
    """403: the token lacks the scope, or the client may not use the app."""


class NotFound(ApiError):
    """404: no such resource for this caller (another end user's is not found either)."""


class Conflict(ApiError):
    """409: the resource's state does not allow it."""


class PayloadTooLarge(ApiError):
    """413."""


class RateLimited(ApiError):
    """429, after the client's own retries (or one whose ``Retry-After`` was too long)."""

    @property
    def retry_after(self) -> float | None:
        return retry_after_seconds(self.headers.get("retry-after"))


class ServerError(ApiError):
    """5xx."""


class UpstreamUnavailable(ServerError):
    """502: the app behind the call could not be reached."""


class ServiceUnavailable(ServerError):
    """503, after the client's own retries."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: BadRequest,
    429: RateLimited,
    502: UpstreamUnavailable,
    503: ServiceUnavailable,
}


def error_for(status: int, body: Any, headers: Mapping[str, str], text: str = "") -> ApiError:
    """The exception for an answer: its class by status, its error objects from the body."""
    found = body.get("errors") if isinstance(body, Mapping) else None
    errors = [
        ErrorObject.from_json(item, status)
        for item in (found if isinstance(found, list) else [])
        if isinstance(item, Mapping)
    ]
    if not errors:
        errors = [ErrorObject(status, "http_error", f"HTTP {status}", text[:500])]
    kind = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    lowered = {name.lower(): value for name, value in headers.items()}
    return kind(status, errors, lowered, lowered.get("x-request-id"))


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds: a number of them, or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class SignatureError(ValueError):
    """A callback whose signature is missing, wrong or too old; the message says which."""


class WaitTimeout(TimeoutError):
    """``wait`` ran out before the run finished; ``run`` is the run as last read."""

    def __init__(self, run: Run, timeout: float) -> None:
        super().__init__(f"run {run.id} is still {run.status} after {timeout:g} seconds")
        self.run = run
