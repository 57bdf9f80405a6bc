"""``/v2/action-runs``: run an action, read the run (optionally waiting), cancel it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from actionruns.api.documents import page_links
from actionruns.api.responses import JSONResponse
from actionruns.api.routes.deps import engine, limit_param
from actionruns.api.schemas import RunActionRequest, RunData
from actionruns.api.security import require
from actionruns.api.shortcuts import route_with_shortcut
from actionruns.engine import Engine
from actionruns.engine.documents import attempt_document, run_document
from actionruns.engine.run_pages import MAX_CURSOR_LENGTH
from actionruns.engine.runs import RunRequest
from actionruns.errors import ServiceError, Unprocessable, ValidationFailed
from actionruns.principal import Principal
from actionruns.store import RunFilter

router = APIRouter(tags=["Action runs"])

MAX_WAIT_SECONDS = 60
MAX_RUN_ID_LENGTH = 64
MAX_IDEMPOTENCY_KEY_LENGTH = 255
RunId = Path(max_length=MAX_RUN_ID_LENGTH, description="An action run id")
RUNS_SCOPE = require("action:run")


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


ACTION_PATTERN = r"^[^.]{1,64}\.[^.]{1,64}$"


def _epoch(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


# Either shape, in the OpenAPI document; the models' schemas go in its components.
RUN_BODY_SCHEMA = TypeAdapter(RunActionRequest | RunData).json_schema(
    ref_template="#/components/schemas/{model}"
)


async def _create_run_arguments(request: Request) -> dict[str, Any] | None:
    """``create_run``'s arguments when the body is a JSON object sent as ``application/json``
    with at most one Idempotency-Key of allowed length; else None (FastAPI reads it)."""
    content_type = request.headers.get("content-type", "")
    if content_type.partition(";")[0].strip().lower() != "application/json":
        return None
    keys = request.headers.getlist("idempotency-key")
    if len(keys) > 1 or (keys and len(keys[0]) > MAX_IDEMPOTENCY_KEY_LENGTH):
        return None
    try:
        # The standard library's parser, as FastAPI's: orjson would turn an integer past 64
        # bits into a float, and refuses what it accepts (a BOM, a lone surrogate).
        body = json.loads(await request.body())
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser
        return None
    if not isinstance(body, dict):
        return None
    return {
        "body": body,
        "idempotency_key": keys[0] if keys else None,
        "principal": await RUNS_SCOPE(request),
        "service": request.app.state.engine,
    }


@route_with_shortcut(
    router,
    "POST",
    "/v2/action-runs",
    _create_run_arguments,
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
    idempotency_key: str | None = Header(None, max_length=MAX_IDEMPOTENCY_KEY_LENGTH),
    principal: Principal = Depends(RUNS_SCOPE),
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


@router.get("/v2/action-runs", summary="List action runs, newest first")
async def list_runs(
    request: Request,
    status: Literal["queued", "running", "success", "error"] | None = Query(None),
    app: str | None = Query(None, max_length=64, description="Only runs of this app"),
    action: str | None = Query(
        None,
        max_length=129,
        pattern=ACTION_PATTERN,
        description="Only runs of this action, as app.action",
    ),
    authentication: str | None = Query(None, max_length=64),
    end_user: str | None = Query(
        None, max_length=200, description="Only this end user's (a partner-wide token)"
    ),
    created_after: datetime | None = Query(None, description="ISO 8601; UTC if no offset"),
    created_before: datetime | None = Query(None, description="ISO 8601; UTC if no offset"),
    cursor: str | None = Query(None, max_length=MAX_CURSOR_LENGTH, description="links.next's"),
    limit: int = Depends(limit_param),
    principal: Principal = Depends(RUNS_SCOPE),
    service: Engine = Depends(engine),
) -> JSONResponse:
    app_key, action_key = (None, None) if action is None else action.split(".", 1)
    if app is not None and app_key is not None and app != app_key:
        raise Unprocessable(f"action {action} is not an action of app {app}.", parameter="action")
    wanted = RunFilter(
        status=status,
        app_key=app_key or app,
        action_key=action_key,
        authentication_id=authentication,
        end_user_id=end_user,
        created_after=_epoch(created_after),
        created_before=_epoch(created_before),
    )
    found, next_cursor = await service.runs.page(principal, wanted, cursor, limit)
    next_url = str(request.url.include_query_params(cursor=next_cursor)) if next_cursor else None
    return JSONResponse(
        {
            "links": page_links(next_url, None),
            "meta": {"limit": limit, "next_cursor": next_cursor},
            "data": [run_document(run) for run in found],
        }
    )


@router.get("/v2/action-runs/{run_id}/attempts", summary="The attempts of an action run")
async def list_attempts(
    run_id: str = RunId,
    principal: Principal = Depends(RUNS_SCOPE),
    service: Engine = Depends(engine),
) -> JSONResponse:
    attempts = await service.runs.attempts(principal, run_id)
    return JSONResponse({"data": [attempt_document(attempt) for attempt in attempts]})


# wait_seconds in plain decimal notation; any other spelling FastAPI reads (and judges).
_WAIT_ONLY = re.compile(rb"wait_seconds=([0-9]{1,2}(?:\.[0-9]{1,6})?)")


async def _get_run_arguments(request: Request) -> dict[str, Any] | None:
    """``get_run``'s arguments when the query is empty or only a plain ``wait_seconds`` in
    range; else None (FastAPI reads it)."""
    run_id: str = request.path_params["run_id"]
    if len(run_id) > MAX_RUN_ID_LENGTH:
        return None
    wait_seconds = 0.0
    query: bytes = request.scope["query_string"]
    if query:
        plain = _WAIT_ONLY.fullmatch(query)
        if plain is None or (wait_seconds := float(plain[1])) > MAX_WAIT_SECONDS:
            return None
    return {
        "run_id": run_id,
        "wait_seconds": wait_seconds,
        "principal": await RUNS_SCOPE(request),
        "service": request.app.state.engine,
    }


@route_with_shortcut(
    router,
    "GET",
    "/v2/action-runs/{run_id}",
    _get_run_arguments,
    summary="Read an action run, optionally waiting for it",
)
async def get_run(
    run_id: str = RunId,
    wait_seconds: float = Query(
        0, ge=0, le=MAX_WAIT_SECONDS, description="Hold the request until the run finishes"
    ),
    principal: Principal = Depends(RUNS_SCOPE),
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
    principal: Principal = Depends(RUNS_SCOPE),
    service: Engine = Depends(engine),
) -> JSONResponse:
    run = await service.runs.cancel(principal, run_id)
    return JSONResponse({"data": run_document(run)}, status_code=200 if run.is_finished else 202)
