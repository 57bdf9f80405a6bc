"""For operators and load balancers: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from actionruns import __version__
from actionruns.api.responses import JSONResponse
from actionruns.api.routes.deps import engine
from actionruns.engine import Engine

router = APIRouter(tags=["Operations"])

READY_TIMEOUT_SECONDS = 2.0


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


@router.get(
    "/readyz",
    summary="Readiness: the database answers",
    responses={503: {"description": "The database is not reachable"}},
)
async def readyz(service: Engine = Depends(engine)) -> JSONResponse:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await service.store.ping()
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "detail": f"database: {type(exc).__name__}"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ready", "version": __version__})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(service: Engine = Depends(engine)) -> Response:
    body = await service.metrics.render(service.store, service.clock())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
