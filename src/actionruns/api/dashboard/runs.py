"""The dashboard's runs: every client's, filtered, kept current while runs finish; one
run in full (its inputs with secrets hidden, attempts, errors, callback); a retry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from actionruns.api.dashboard.access import checked_form, operator_session, page
from actionruns.api.dashboard.charts import latency_by_app, runs_per_minute
from actionruns.api.routes.deps import engine
from actionruns.engine import Engine
from actionruns.engine.documents import attempt_document, operator_run_document
from actionruns.engine.operators import OperatorSession
from actionruns.engine.run_pages import MAX_CURSOR_LENGTH, list_runs
from actionruns.errors import ServiceError
from actionruns.sdk.redaction import REDACTED
from actionruns.store import RunFilter, RunRecord

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
STATUSES = ("queued", "running", "success", "error")
# The choices of the "created within" filter, in seconds.
WITHIN = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}


def when(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def took(run: RunRecord) -> str:
    if run.finished_at is None:
        return ""
    return f"{run.finished_at - (run.started_at or run.created_at):.2f} s"


class RunQuery:
    """The runs page's filters, as given in its query string."""

    def __init__(
        self,
        status: str = Query("", max_length=16),
        app: str = Query("", max_length=64),
        action: str = Query("", max_length=129),
        client: str = Query("", max_length=64),
        end_user: str = Query("", max_length=200),
        within: str = Query("", max_length=8),
        cursor: str = Query("", max_length=MAX_CURSOR_LENGTH),
    ) -> None:
        self.status = status if status in STATUSES else ""
        self.app, self.action, self.client, self.end_user = app, action, client, end_user
        self.within = within if within in WITHIN else ""
        self.cursor = cursor

    def filter(self, now: float) -> RunFilter:
        app_key, _, action_key = self.action.rpartition(".")
        return RunFilter(
            client_id=self.client or None,
            end_user_id=self.end_user or None,
            status=self.status or None,
            app_key=app_key or self.app or None,
            action_key=action_key or None if app_key else None,
            created_after=now - WITHIN[self.within] if self.within else None,
        )

    def query(self, **changed: str) -> str:
        values = {
            "status": self.status,
            "app": self.app,
            "action": self.action,
            "client": self.client,
            "end_user": self.end_user,
            "within": self.within,
            **changed,
        }
        return urlencode({key: value for key, value in values.items() if value})


async def _page(service: Engine, wanted: RunQuery) -> tuple[list[RunRecord], str | None, str]:
    try:
        found, next_cursor = await list_runs(
            service.store, wanted.filter(service.clock()), wanted.cursor or None, PAGE_SIZE
        )
    except ServiceError as exc:
        return [], None, exc.detail
    return found, next_cursor, ""


@router.get("/dashboard")
async def home() -> Response:
    return RedirectResponse("/dashboard/runs", status_code=303)


@router.get("/dashboard/runs")
async def runs_page(
    wanted: RunQuery = Depends(),
    session: OperatorSession = Depends(operator_session),
    service: Engine = Depends(engine),
) -> Response:
    found, next_cursor, problem = await _page(service, wanted)
    now = service.clock()
    finished = await service.store.operators.finished_since(now - 3600)
    return page(
        "runs",
        session,
        heading="Runs",
        section="Runs",
        runs=found,
        wanted=wanted,
        statuses=STATUSES,
        within_choices=WITHIN,
        apps=sorted(app.key for app in service.registry),
        problem=problem,
        next_url=f"/dashboard/runs?{wanted.query(cursor=next_cursor)}" if next_cursor else "",
        rows_url=f"/dashboard/runs/rows?{wanted.query()}",
        last_hour=await service.store.operators.status_counts(now - 3600),
        last_day=await service.store.operators.status_counts(now - 86400),
        per_minute=runs_per_minute(finished, now),
        latency=latency_by_app(finished),
        when=when,
        took=took,
    )


@router.get("/dashboard/runs/rows")
async def runs_rows(
    wanted: RunQuery = Depends(),
    session: OperatorSession = Depends(operator_session),
    service: Engine = Depends(engine),
) -> Response:
    """The first page's rows alone: what the runs page fetches to stay current."""
    found, _, _ = await _page(service, wanted)
    return page("runs_rows", session, runs=found, when=when, took=took)


def _shown_inputs(service: Engine, run: RunRecord) -> dict[str, Any]:
    """The run's inputs, each secret field's value hidden."""
    app = service.registry.app(run.app_key)
    action = app.action(run.action_key) if app is not None else None
    secret = {field.key for field in action.static_inputs if field.is_secret} if action else set()
    return {key: REDACTED if key in secret else value for key, value in run.inputs.items()}


@router.get("/dashboard/runs/{run_id}")
async def run_page(
    request: Request,
    run_id: str = Path(max_length=64),
    session: OperatorSession = Depends(operator_session),
    service: Engine = Depends(engine),
) -> Response:
    run = await service.store.get_run(run_id)
    if run is None:
        return page(
            "refused", session, 404, heading="No such run", message=f"No action run {run_id!r}."
        )
    document = operator_run_document(run)
    attempts = [attempt_document(a) for a in await service.store.list_attempts(run.id)]
    return page(
        "run",
        session,
        heading=f"Run {run.id}",
        section="Runs",
        run=run,
        document=document,
        inputs=json.dumps(_shown_inputs(service, run), indent=2, sort_keys=True),
        results=json.dumps(document["results"], indent=2),
        attempts=attempts,
        deliveries=await service.store.list_deliveries(run.id),
        retried_from=request.query_params.get("retried_from", "")[:64],
        tried=request.query_params.get("tried", "")[:129],
        problem=request.query_params.get("problem", "")[:500],
        when=when,
        took=took,
    )


@router.post("/dashboard/runs/{run_id}/retry")
async def retry_run(
    run_id: str = Path(max_length=64),
    _form: dict[str, str] = Depends(checked_form),
    service: Engine = Depends(engine),
) -> Response:
    try:
        retried = await service.operators.retry(run_id)
    except ServiceError as exc:
        problem = urlencode({"problem": f"Not retried: {exc.detail}"})
        return RedirectResponse(f"/dashboard/runs/{run_id}?{problem}", status_code=303)
    query = urlencode({"retried_from": run_id})
    return RedirectResponse(f"/dashboard/runs/{retried.id}?{query}", status_code=303)
