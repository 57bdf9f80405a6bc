"""``/v2/authentications``: connect an account, list the caller's own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from actionruns.api.documents import authentication_document, page
from actionruns.api.responses import JSONResponse
from actionruns.api.routes.deps import engine, limit_param, offset_param
from actionruns.api.schemas import AuthenticationCreateRequest
from actionruns.api.security import require
from actionruns.engine import Engine
from actionruns.principal import Principal

router = APIRouter(tags=["Authentications"])


@router.get("/v2/authentications", summary="List the caller's authentications")
async def list_authentications(
    request: Request,
    app: str | None = Query(None, max_length=64, description="App id or slug"),
    end_user: str | None = Query(
        None, max_length=200, description="Only this end user's (a partner-wide token)"
    ),
    limit: int = Depends(limit_param),
    offset: int = Depends(offset_param),
    principal: Principal = Depends(require("authentication", "connection:read")),
    service: Engine = Depends(engine),
) -> dict[str, Any]:
    app_key = service.catalog.app(principal, app, parameter="app").key if app else None
    records, total = await service.store.list_authentications(
        principal.client_id,
        app_key=app_key,
        limit=limit,
        offset=offset,
        # An end user sees only their own, whatever they ask for.
        end_user_id=principal.end_user_id or end_user,
    )
    documents = [
        authentication_document(service.registry.app(record.app_key), record) for record in records
    ]
    return page(request, documents, total, limit, offset)


@router.get("/v2/authentications/{authentication_id}", summary="One authentication")
async def get_authentication(
    authentication_id: str = Path(max_length=64),
    principal: Principal = Depends(require("authentication", "connection:read")),
    service: Engine = Depends(engine),
) -> dict[str, Any]:
    record = await service.connections.get(principal, authentication_id)
    return {"data": authentication_document(service.registry.app(record.app_key), record)}


@router.post("/v2/authentications", status_code=201, summary="Connect an account")
async def create_authentication(
    request: Request,
    body: AuthenticationCreateRequest,
    principal: Principal = Depends(require("authentication:write", "connection:write")),
    service: Engine = Depends(engine),
) -> JSONResponse:
    app = service.catalog.app(principal, body.data.app, pointer="/data/app")
    record = await service.connections.create(
        principal, app, body.data.title, body.data.authentication_fields
    )
    envelope = page(request, [authentication_document(app, record)], 1, 1, 0)
    return JSONResponse(envelope, status_code=201)


@router.delete(
    "/v2/authentications/{authentication_id}",
    status_code=204,
    summary="Disconnect an account: its credentials are erased",
)
async def delete_authentication(
    authentication_id: str = Path(max_length=64),
    principal: Principal = Depends(require("authentication:write", "connection:write")),
    service: Engine = Depends(engine),
) -> Response:
    await service.connections.delete(principal, authentication_id)
    return Response(status_code=204)


@router.post(
    "/v2/authentications/{authentication_id}/test",
    summary="Test a connected account with its stored credentials",
)
async def test_authentication(
    authentication_id: str = Path(max_length=64),
    principal: Principal = Depends(require("authentication", "connection:read")),
    service: Engine = Depends(engine),
) -> dict[str, Any]:
    label = await service.connections.test(principal, authentication_id)
    record = await service.connections.get(principal, authentication_id)
    document = authentication_document(service.registry.app(record.app_key), record)
    return {"data": {**document, "test": {"passed": True, "label": label}}}
