"""``/v2/action-runs``: run an action, read the run (optionally waiting), cancel it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import JSONResponse

from actionruns.api.routes.deps import engine
from actionruns.api.schemas import RunActionRequest
from actionruns.api.security import require
from actionruns.engine import Engine
from actionruns.engine.documents import run_document
from actionruns.engine.runs import RunRequest
from actionruns.principal import Principal

router = APIRouter(tags=["Action runs"])

MAX_WAIT_SECONDS = 60
RunId = Path(max_length=64, description="An action run id")


@router.post("/v2/action-runs", summary="Run an action")
async def create_run(
    body: RunActionRequest,
    idempotency_key: str | None = Header(None, max_length=255),
    principal: Principal = Depends(require("action:run")),
    service: Engine = Depends(engine),
) -> JSONResponse:
    data = body.data
    request = RunRequest(data.action, data.authentication, data.inputs, data.callback_url)
    if data.dry_run:
        return JSONResponse({"data": await service.runs.dry_run(principal, request)})
    run, created = await service.runs.submit(principal, request, idempotency_key)
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
