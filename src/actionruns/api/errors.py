"""Every error leaves in one shape: ``{"errors": [{status, code, title, detail, source, meta}]}``.

A request the service refuses is a 4xx in that shape; a 500 means a bug.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from actionruns.api.responses import JSONResponse
from actionruns.errors import ServiceError, ValidationFailed
from actionruns.store.engines import is_unavailable

log = structlog.get_logger(__name__)

UNAVAILABLE_RETRY_AFTER_SECONDS = 5

_TITLES = {
    400: ("parse_error", "Malformed request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("rate_limited", "Too many requests"),
}


def error_document(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    title: str | None = None,
    source: Mapping[str, str] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    default_code, default_title = _TITLES.get(status, ("error", "Error"))
    return {
        "status": status,
        "code": code or default_code,
        "title": title or default_title,
        "detail": detail,
        "source": dict(source) if source else None,
        "meta": dict(meta) if meta else None,
    }


def error_response(
    status: int, errors: Sequence[Mapping[str, Any]], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"errors": list(errors)}, status_code=status, headers=dict(headers or {}))


def _pointer(location: Sequence[int | str]) -> tuple[str, dict[str, str]]:
    where, *path = location
    if where == "body":
        return "pointer", {"pointer": "/" + "/".join(str(part) for part in path)}
    if where == "query" and path:
        return "parameter", {"parameter": str(path[0])}
    if where == "header" and path:
        return "header", {"header": str(path[0])}
    return "pointer", {"pointer": "/" + "/".join(str(part) for part in path)}


def _unparsed_body(problem: Mapping[str, Any], location: Sequence[Any]) -> str | None:
    """Why the body could not be read as JSON at all (code parse_error), or None if it was
    (code invalid then says what in it is wrong)."""
    if location[:1] != ["body"] or len(location) > 2:
        return None
    if problem.get("type") == "json_invalid":
        return "The request body is not valid JSON: " + str(problem.get("msg", ""))
    if problem.get("type") in ("model_attributes_type", "dict_type") and isinstance(
        problem.get("input"), bytes | str
    ):
        return "The request body must be JSON, sent as Content-Type: application/json."
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        if isinstance(exc, ValidationFailed):
            return error_response(exc.status, exc.documents())
        return error_response(exc.status, [exc.document()], headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # A 400 as Zapier answers: parse_error for a body that is not JSON, else invalid.
        errors = []
        for problem in exc.errors():
            location = list(problem.get("loc", ()))
            unparsed = _unparsed_body(problem, location)
            if unparsed is not None:
                errors.append(error_document(400, unparsed, code="parse_error"))
                continue
            _, source = _pointer(location) if location else ("pointer", {})
            message = str(problem.get("msg", "invalid value"))
            errors.append(
                error_document(
                    400, message, code="invalid", title="Invalid input", source=source or None
                )
            )
        return error_response(400, errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return error_response(
            exc.status_code, [error_document(exc.status_code, detail)], headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_unavailable(exc):
            # The database is away (restarting, failing over): say so and when to come back.
            log.warning("database_unavailable", path=request.url.path, error=str(exc))
            return error_response(
                503,
                [
                    error_document(
                        503,
                        "The database is not reachable right now; retry shortly.",
                        code="unavailable",
                        title="Service unavailable",
                    )
                ],
                headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)},
            )
        log.exception("unhandled_error", path=request.url.path)
        return error_response(
            500,
            [error_document(500, "A server error occurred.", code="error", title="Server error")],
        )
