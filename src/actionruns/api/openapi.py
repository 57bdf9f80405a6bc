"""What the OpenAPI document says each operation answers, beyond what FastAPI infers: every
error in the API's error shape with the statuses it can have, and the bodies of runs, so a
client can rely on them. The schemathesis suite checks every response against this.

FastAPI documents a 422 with its own validation body for every operation with parameters;
this API answers a 400 in its error shape instead, so that entry is replaced.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

SCHEMA_REF = "#/components/schemas/{model}"


class ErrorSource(BaseModel):
    pointer: str | None = None
    parameter: str | None = None
    header: str | None = None


class ErrorObject(BaseModel):
    status: int
    code: str
    title: str
    detail: str
    source: ErrorSource | None
    meta: dict[str, Any] | None


class ErrorResponse(BaseModel):
    # OAuth's token endpoint adds RFC 6749's error and error_description beside the list.
    model_config = ConfigDict(extra="allow")
    errors: list[ErrorObject]


class RunError(BaseModel):
    code: str
    title: str
    detail: str
    delay: int
    meta: dict[str, Any]


class CallbackState(BaseModel):
    url: str
    status: Literal["pending", "delivered", "failed"] | None
    attempts: int
    error: str | None


class Run(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["run"]
    id: str
    action: str
    authentication: str | None
    status: Literal["queued", "running", "success", "error"]
    results: list[Any]
    errors: list[RunError]
    attempts: int
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    callback: CallbackState | None = None


class RunResponse(BaseModel):
    data: Run


MODELS: tuple[type[BaseModel], ...] = (ErrorResponse, RunResponse)

# Statuses an operation can answer with an error, beyond those of every operation.
EVERY_OPERATION = (400, 401, 403, 413, 429, 503)
_EXTRA: dict[tuple[str, str], tuple[int, ...]] = {
    ("post", "/v2/actions/{action_id}/inputs"): (404, 502),
    ("post", "/v2/actions/{action_id}/inputs/{input_id}/choices"): (404, 502),
    ("post", "/v2/actions/{action_id}/outputs"): (404, 502),
    ("post", "/v2/actions/{action_id}/test"): (404, 502),
    ("get", "/v2/authentications/{authentication_id}"): (404,),
    ("delete", "/v2/authentications/{authentication_id}"): (404,),
    ("post", "/v2/authentications/{authentication_id}/test"): (404,),
    ("post", "/v2/connect-tokens"): (404, 409),
    ("get", "/v2/action-runs/{run_id}"): (404,),
    ("get", "/v2/action-runs/{run_id}/attempts"): (404,),
    ("post", "/v2/action-runs/{run_id}/cancel"): (404, 409),
}
# Run bodies: (method, path) -> the statuses whose body is a run.
_RUN_BODIES: dict[tuple[str, str], tuple[int, ...]] = {
    ("get", "/v2/action-runs/{run_id}"): (200, 202),
    ("post", "/v2/action-runs/{run_id}/cancel"): (200, 202),
}
_DESCRIPTIONS = {
    202: "Not finished yet: the wait ran out, or the cancel is under way (Retry-After)",
    400: "Malformed or refused request",
    401: "No valid access token (or client credentials)",
    403: "The token lacks the scope, or the client may not use the app",
    404: "No such resource for this caller",
    409: "Conflicts with the resource's state",
    413: "The request body is too large",
    429: "Too many requests or failed attempts (Retry-After)",
    502: "The app behind the call could not be reached",
    503: "The database is not reachable right now (Retry-After)",
}


def _content(model: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": SCHEMA_REF.format(model=model)}}}


def _operations(document: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, operation


def document_responses(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in MODELS:
            generated = model.model_json_schema(ref_template=SCHEMA_REF)
            schemas.update(generated.pop("$defs", {}))
            schemas[model.__name__] = generated
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for method, path, operation in _operations(document):
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status in (*EVERY_OPERATION, *_EXTRA.get((method, path), ())):
                responses.setdefault(
                    str(status),
                    {"description": _DESCRIPTIONS[status], "content": _content("ErrorResponse")},
                )
            for status in _RUN_BODIES.get((method, path), ()):
                described = responses.setdefault(str(status), {})
                described.setdefault("description", _DESCRIPTIONS.get(status, "The run"))
                described["content"] = _content("RunResponse")
        return document

    app.openapi = openapi  # type: ignore[method-assign]
