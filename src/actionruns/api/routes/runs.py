"""``/v2/action-runs``: run an action, read the run (optionally waiting), cancel it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from actionruns.api.responses import JSONResponse
from actionruns.api.routes.deps import engine
from actionruns.api.schemas import RunActionRequest, RunData
from actionruns.api.security import require
from actionruns.engine import Engine
from actionruns.engine.documents import run_document
from actionruns.engine.runs import RunRequest
from actionruns.errors import ServiceError, ValidationFailed
from actionruns.principal import Principal

router = APIRouter(tags=["Action runs"])

MAX_WAIT_SECONDS = 60
RunId = Path(max_length=64, description="An action run id")


def _run_data(body: dict[str, Any]) -> tuple[RunData, str]:
    """The run in either documented shape, and where its fields are in the body: the
    reference wraps them in ``data``, the guides send them unwrapped (with ``input``)."""
    wrapped = "data" in body
    try:
        if wrapped:
            data = RunActionRequest.model_validate(body).data
        else:
            data = RunData.model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None
    if wrapped:
        return data, "/data"
    return data, ""


def _pointing_into(exc: ServiceError, body: dict[str, Any], prefix: str) -> ServiceError:
    """The engine's pointers name the wrapped shape; an unwrapped body's are one level up."""
    if prefix:
        return exc
    inputs = "/input" if "input" in body else "/inputs"

    def moved(pointer: str) -> str:
        if pointer.startswith("/data/inputs"):
            return inputs + pointer[len("/data/inputs") :]
        return pointer.removeprefix("/data")

    if isinstance(exc, ValidationFailed):
        exc.pointer_prefix = moved(exc.pointer_prefix)
    elif exc.source and "pointer" in exc.source:
        exc.source["pointer"] = moved(exc.source["pointer"])
    return exc


# Either shape, in the OpenAPI document; the models' schemas go in its components.
RUN_BODY_SCHEMA = TypeAdapter(RunActionRequest | RunData).json_schema(
    ref_template="#/components/schemas/{model}"
)


@router.post(
    "/v2/action-runs",
    summary="Run an action",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"anyOf": RUN_BODY_SCHEMA["anyOf"]}}},
        }
    },
)
async def create_run(
    body: dict[str, Any] = Body(..., description="The run, wrapped in data or not"),
    idempotency_key: str | None = Header(None, max_length=255),
    principal: Principal = Depends(require("action:run")),
    service: Engine = Depends(engine),
) -> JSONResponse:
    data, prefix = _run_data(body)
    request = RunRequest(data.action, data.authentication, data.inputs, data.callback_url)
    try:
        if data.dry_run:
            return JSONResponse({"data": await service.runs.dry_run(principal, request)})
        run, created = await service.runs.submit(principal, request, idempotency_key)
    except ServiceError as exc:
        raise _pointing_into(exc, body, prefix) from None
    headers = {"Location": f"/v2/action-runs/{run.id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse({"data": {"type": "run", "id": run.id}}, headers=headers)


@router.get("/v2/action-runs/{run_id}", summary="Read an action run, optionally waiting for it")
async def get_run(
    run_id: str = RunId,
    wait_seconds: float = Query(
        0, ge=0, le=MAX_WAIT_SECONDS, description="Hold the request until the run finishes"
    ),
    principal: Principal = Depends(require("action:run")),
    service: Engine = Depends(engine),
) -> JSONResponse:
    if wait_seconds > 0:
        run = await service.runs.wait(principal, run_id, wait_seconds)
    else:
        run = await service.runs.get(principal, run_id)
    body: dict[str, Any] = {"data": run_document(run)}
    if wait_seconds > 0 and not run.is_finished:
        return JSONResponse(body, status_code=202, headers={"Retry-After": "1"})
    return JSONResponse(body)


@router.post("/v2/action-runs/{run_id}/cancel", summary="Cancel an action run")
async def cancel_run(
    run_id: str = RunId,
    principal: Principal = Depends(require("action:run")),
    service: Engine = Depends(engine),
) -> JSONResponse:
    run = await service.runs.cancel(principal, run_id)
    return JSONResponse({"data": run_document(run)}, status_code=200 if run.is_finished else 202)
