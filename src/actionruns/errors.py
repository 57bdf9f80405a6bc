"""Errors for a request the service refuses; the API renders them as 4xx responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class ServiceError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "invalid_request"
    title: ClassVar[str] = "Invalid request"

    def __init__(
        self,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        header: str | None = None,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.source = {
            key: value
            for key, value in (("pointer", pointer), ("parameter", parameter), ("header", header))
            if value is not None
        } or None
        self.meta = dict(meta) if meta else None

    def document(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
            "source": self.source,
            "meta": self.meta,
        }


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    title = "Not found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Unprocessable(ServiceError):
    """A request that is well-formed but cannot be done as asked. A 400 with code ``invalid``,
    as Zapier's API answers a request it refuses (its errors page: status 400)."""

    status = 400
    code = "invalid"
    title = "Invalid request"


class UpstreamFailed(ServiceError):
    """The app behind a synchronous call could not be reached."""

    status = 502
    code = "upstream_error"
    title = "App unreachable"


class ValidationFailed(ServiceError):
    """Several field-level problems at once: one error object per field."""

    status = 400
    code = "invalid"
    title = "Invalid input"

    def __init__(self, problems: Mapping[str, str], *, pointer_prefix: str) -> None:
        super().__init__("; ".join(f"{key} {message}" for key, message in problems.items()))
        self.problems = dict(problems)
        self.pointer_prefix = pointer_prefix

    def documents(self) -> list[dict[str, Any]]:
        return [
            {
                "status": self.status,
                "code": self.code,
                "title": self.title,
                "detail": f"{key} {message}",
                "source": {"pointer": f"{self.pointer_prefix}/{key}"},
                "meta": None,
            }
            for key, message in self.problems.items()
        ]
