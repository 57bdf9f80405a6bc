"""``/v2/authentication-events/subscription``: where a partner hears that a connection expired
or recovered (signed like run callbacks)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from actionruns.api.routes.deps import engine
from actionruns.api.schemas import EventsSubscriptionRequest
from actionruns.api.security import require
from actionruns.engine import Engine
from actionruns.errors import Forbidden
from actionruns.principal import Principal
from actionruns.store import ClientRecord

router = APIRouter(tags=["Authentications"])
PATH = "/v2/authentication-events/subscription"
EVENTS = ["authentication.expired", "authentication.recovered"]


def _partner(principal: Principal) -> str:
    if principal.end_user_id is not None:
        raise Forbidden("Only the partner's own token manages the events subscription.")
    return principal.client_id


def _document(client: ClientRecord) -> dict[str, Any]:
    return {"data": {"type": "events_subscription", "url": client.events_url, "events": EVENTS}}


@router.get(PATH, summary="The URL that receives authentication events")
async def get_subscription(
    principal: Principal = Depends(require("authentication", "connection:read")),
    service: Engine = Depends(engine),
) -> dict[str, Any]:
    return _document(await service.clients.find(_partner(principal)))


@router.put(PATH, summary="Send authentication.expired and .recovered events to a URL")
async def subscribe(
    body: EventsSubscriptionRequest,
    principal: Principal = Depends(require("authentication:write", "connection:write")),
    service: Engine = Depends(engine),
) -> dict[str, Any]:
    client = await service.clients.set_events_url(_partner(principal), body.data.url)
    return _document(client)


@router.delete(PATH, status_code=204, summary="Stop sending authentication events")
async def unsubscribe(
    principal: Principal = Depends(require("authentication:write", "connection:write")),
    service: Engine = Depends(engine),
) -> Response:
    await service.clients.set_events_url(_partner(principal), None)
    return Response(status_code=204)
