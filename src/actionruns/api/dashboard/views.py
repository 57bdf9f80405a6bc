"""The dashboard's other pages: connections, the catalogue, clients."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from actionruns.api.dashboard.access import operator_session, page
from actionruns.api.dashboard.runs import when
from actionruns.api.routes.deps import engine
from actionruns.engine import Engine
from actionruns.engine.operators import OperatorSession
from actionruns.engine.request_counts import FLUSH_SECONDS

router = APIRouter(include_in_schema=False)
CONNECTIONS_SHOWN = 200
HOUR = 3600
DAY = 86400


@router.get("/dashboard/connections")
async def connections_page(
    app: str = Query("", max_length=64),
    end_user: str = Query("", max_length=200),
    session: OperatorSession = Depends(operator_session),
    service: Engine = Depends(engine),
) -> Response:
    found, total = await service.store.list_authentications(
        None,
        app_key=app or None,
        end_user_id=end_user or None,
        limit=CONNECTIONS_SHOWN,
        offset=0,
    )
    now = service.clock()
    return page(
        "connections",
        session,
        heading="Connections",
        section="Connections",
        connections=found,
        total=total,
        now=now,
        app=app,
        end_user=end_user,
        apps=sorted(app.key for app in service.registry),
        when=when,
    )


@router.get("/dashboard/catalogue")
async def catalogue_page(
    session: OperatorSession = Depends(operator_session),
    service: Engine = Depends(engine),
) -> Response:
    apps = sorted(service.registry, key=lambda app: app.title.lower())
    return page("catalogue", session, heading="Catalogue", section="Catalogue", apps=apps)


@router.get("/dashboard/clients")
async def clients_page(
    session: OperatorSession = Depends(operator_session),
    service: Engine = Depends(engine),
) -> Response:
    clients = await service.store.list_clients()
    ids, now = [client.id for client in clients], service.clock()
    counted = await service.store.operators.runs_by_client(ids, now - DAY)
    # This node's latest counts first; other nodes' arrive within their flush interval.
    await service.request_counts.flush()
    return page(
        "clients",
        session,
        heading="Clients",
        section="Clients",
        clients=clients,
        counted=counted,
        requests={
            "last hour": await service.store.requests.by_client(ids, now - HOUR),
            "last day": await service.store.requests.by_client(ids, now - DAY),
        },
        flush_seconds=int(FLUSH_SECONDS),
        rate_limit=service.settings.rate_limit_per_minute,
        when=when,
    )
