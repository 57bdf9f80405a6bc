"""Discovery: ``/v2/apps``, ``/v2/actions`` and the fields, choices, outputs and tests of one."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from actionruns.api.documents import (
    action_document,
    app_document,
    choice_document,
    input_field_document,
    output_field_document,
    page,
    page_links,
)
from actionruns.api.icons import icon_svg
from actionruns.api.routes.deps import engine, limit_param, offset_param
from actionruns.api.schemas import FieldsRequest, OutputsRequest, TestRequest
from actionruns.api.security import require
from actionruns.engine import Engine
from actionruns.errors import Unprocessable
from actionruns.principal import Principal
from actionruns.sdk.categories import canonical, slugs
from actionruns.sdk.registry import app_id

router = APIRouter(tags=["Discovery"])

ZapierActionType = Literal[
    "READ", "READ_BULK", "SEARCH", "SEARCH_AND_WRITE", "SEARCH_OR_WRITE", "WRITE"
]
ActionRef = Path(max_length=200, description="An action id, or its stable form app_slug.action_key")


@router.get("/v2/apps", summary="List apps")
async def list_apps(
    request: Request,
    query: str | None = Query(None, max_length=200, description="Match in titles"),
    category: str | None = Query(None, max_length=100),
    ids: str | None = Query(None, max_length=4000, description="Comma-separated app ids"),
    limit: int = Depends(limit_param),
    offset: int = Depends(offset_param),
    principal: Principal = Depends(require("zap", by_client_id=True)),
    service: Engine = Depends(engine),
) -> dict[str, Any]:
    if ids is not None and category is not None:
        raise Unprocessable("ids cannot be combined with category.", parameter="ids")
    apps = service.catalog.apps(principal)
    if query:
        needle = query.lower()
        apps = [app for app in apps if needle in app.title.lower() or needle in app.key]
    if category:  # a slug of the vocabulary, or one of its aliases
        wanted_slug = canonical(category)
        apps = [app for app in apps if wanted_slug in slugs(app.categories)]
    if ids is not None:
        wanted = {part.strip() for part in ids.split(",")}
        apps = [app for app in apps if app_id(app) in wanted or app.key in wanted]
    selected = apps[offset : offset + limit]
    return page(request, [app_document(request, app) for app in selected], len(apps), limit, offset)


@router.get("/v2/apps/{app_key}/icon.svg", name="app_icon", include_in_schema=False)
async def app_icon(
    app_key: str = Path(max_length=64),
    size: int = Query(128, ge=8, le=512),
    service: Engine = Depends(engine),
) -> Response:
    """The app's brand mark or its letter, served here so that no client hot-links a third
    party's image."""
    svg = icon_svg(service.registry.app(app_key), app_key, size)
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={
            "Cache-Control": "public, max-age=86400",
            # An SVG opened on its own is a document: nothing in it may run or load.
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
            ),
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/v2/actions", summary="List an app's actions")
async def list_actions(
    request: Request,
    app: str = Query(..., max_length=64, description="App id or slug"),
    action_type: ZapierActionType | None = Query(None),
    limit: int = Depends(limit_param),
    offset: int = Depends(offset_param),
    principal: Principal = Depends(require("zap", by_client_id=True)),
    service: Engine = Depends(engine),
) -> dict[str, Any]:
    found = service.catalog.app(principal, app, parameter="app")
    # Every type Zapier's reference lists is a filter; one no action here has is an empty page.
    actions = [a for a in found.actions if action_type is None or a.type.value == action_type]
    selected = actions[offset : offset + limit]
    return page(request, [action_document(found, a) for a in selected], len(actions), limit, offset)


@router.post("/v2/actions/{action_id}/inputs", summary="Input fields of an action")
async def input_fields(
    request: Request,
    body: FieldsRequest,
    action_id: str = ActionRef,
    principal: Principal = Depends(require("zap", "zap:write")),
    service: Engine = Depends(engine),
) -> dict[str, Any]:
    _, _, fields = await service.catalog.input_fields(
        principal, action_id, body.data.authentication, body.data.inputs
    )
    documents = [input_field_document(spec) for spec in fields]
    if body.data.limit is None and body.data.offset is None:
        envelope = page(request, documents, len(documents), max(1, len(documents)), 0)
        envelope["meta"]["limit"] = None  # all of them, as Zapier answers
        return envelope
    limit = body.data.limit or len(documents) or 1
    offset = body.data.offset or 0
    return page(request, documents[offset : offset + limit], len(documents), limit, offset)


@router.post("/v2/actions/{action_id}/inputs/{input_id}/choices", summary="Choices of a field")
async def choices(
    request: Request,
    body: FieldsRequest,
    action_id: str = ActionRef,
    input_id: str = Path(max_length=100),
    page_number: int = Query(1, alias="page", ge=1, le=10_000),
    principal: Principal = Depends(require("zap", "zap:write")),
    service: Engine = Depends(engine),
) -> dict[str, Any]:
    result = await service.catalog.choices(
        principal, action_id, input_id, body.data.authentication, body.data.inputs, page_number - 1
    )
    next_link = (
        str(request.url.include_query_params(page=page_number + 1)) if result.has_more else None
    )
    prev_link = (
        str(request.url.include_query_params(page=page_number - 1)) if page_number > 1 else None
    )
    return {
        "links": page_links(next_link, prev_link),
        "meta": {"page": page_number},
        "data": [choice_document(choice) for choice in result.choices],
    }


@router.post("/v2/actions/{action_id}/outputs", summary="Output fields of an action")
async def outputs(
    request: Request,
    body: OutputsRequest,
    action_id: str = ActionRef,
    principal: Principal = Depends(require("zap", "zap:write")),
    service: Engine = Depends(engine),
) -> dict[str, Any]:
    _, action = service.catalog.action(principal, action_id)
    documents = [output_field_document(spec) for spec in action.outputs]
    envelope = page(request, documents, len(documents), max(1, len(documents)), 0)
    envelope["meta"]["limit"] = None
    envelope["sample"] = dict(action.sample)
    return envelope


@router.post("/v2/actions/{action_id}/test", summary="Run an action now and return its data")
async def test_action(
    request: Request,
    body: TestRequest,
    action_id: str = ActionRef,
    principal: Principal = Depends(require("action:run", "zap:write")),
    service: Engine = Depends(engine),
) -> dict[str, Any]:
    results = await service.catalog.test(
        principal, action_id, body.data.authentication, body.data.inputs
    )
    limit = body.data.limit or 10
    offset = body.data.offset or 0
    return page(request, results[offset : offset + limit], len(results), limit, offset)
