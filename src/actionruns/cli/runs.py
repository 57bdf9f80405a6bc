"""``actionruns runs``: the operator's view of every client's runs, from the terminal."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from actionruns.cli.common import console, when, with_engine
from actionruns.engine import Engine
from actionruns.engine.documents import attempt_document, operator_run_document
from actionruns.engine.run_pages import list_runs
from actionruns.errors import NotFound
from actionruns.store import AttemptRecord, RunFilter, RunRecord

runs_app = typer.Typer(help="Runs of every client: list, show, tail.", no_args_is_help=True)

# A follower looks at the store at least this often: on SQLite no signal reaches it from
# the serving process, and on PostgreSQL a lost signal costs no more than this.
FOLLOW_LOOK_EVERY_SECONDS = 1.0
# Runs are looked for again this far back: one that finished earlier by its worker's clock
# may commit after a later one was shown.
FOLLOW_LOOK_BACK_SECONDS = 10.0
FOLLOW_BATCH = 500
STATUS_STYLES = {"success": "green", "error": "red", "running": "yellow", "queued": "dim"}


def _filter(
    client: str | None,
    status: str | None,
    app_key: str | None,
    action: str | None,
    end_user: str | None,
    authentication: str | None,
) -> RunFilter:
    app_of_action, _, action_key = (action or "").rpartition(".")
    if action and not app_of_action:
        raise typer.BadParameter("give the action as app.action", param_hint="--action")
    return RunFilter(
        client_id=client,
        status=status,
        app_key=app_of_action or app_key,
        action_key=action_key or None,
        end_user_id=end_user,
        authentication_id=authentication,
    )


async def _client_id(engine: Engine, client: str | None) -> str | None:
    return (await engine.clients.find(client)).id if client else None


def _status(status: str) -> str:
    return f"[{STATUS_STYLES.get(status, 'default')}]{status}[/]"


def _took(run: RunRecord) -> str:
    if run.finished_at is None:
        return ""
    return f"{run.finished_at - (run.started_at or run.created_at):.2f} s"


def _runs_table(found: list[RunRecord]) -> Table:
    table = Table("id", "action", "status", "client", "end user", "tries", "created", "took")
    for run in found:
        table.add_row(
            run.id,
            f"{run.app_key}.{run.action_key}",
            _status(run.status),
            run.client_id,
            escape(run.end_user_id or ""),
            str(run.attempts),
            when(run.created_at, seconds=True),
            _took(run),
        )
    return table


# The filters every listing command takes.
CLIENT = typer.Option(None, "--client", help="Only this client's runs (name or id)")
STATUS = typer.Option(None, "--status", help="queued, running, success or error")
APP = typer.Option(None, "--app", help="Only this app's runs")
ACTION = typer.Option(None, "--action", help="Only this action's runs, as app.action")
END_USER = typer.Option(None, "--end-user", help="Only this end user's runs")
AUTHENTICATION = typer.Option(None, "--authentication", help="Only runs with this account")
AS_JSON = typer.Option(False, "--json", help="JSON for scripts instead of a table")


@runs_app.command("list")
def runs_list(
    client: str = CLIENT,
    status: str = STATUS,
    app_key: str = APP,
    action: str = ACTION,
    end_user: str = END_USER,
    authentication: str = AUTHENTICATION,
    limit: int = typer.Option(20, "--limit", min=1, max=1000, help="Runs per page"),
    cursor: str = typer.Option(None, "--cursor", help="The next page, as the last one said"),
    as_json: bool = AS_JSON,
) -> None:
    """The newest runs first; a page at a time."""
    wanted = _filter(client, status, app_key, action, end_user, authentication)

    async def work(engine: Engine) -> tuple[list[RunRecord], str | None]:
        client_id = await _client_id(engine, client)
        return await list_runs(engine.store, _with_client(wanted, client_id), cursor, limit)

    found, next_cursor = with_engine(work)
    if as_json:
        documents = [operator_run_document(run) for run in found]
        console.print_json(json.dumps({"data": documents, "next_cursor": next_cursor}))
        return
    console.print(_runs_table(found))
    if next_cursor:
        console.print(f"more: --cursor {next_cursor}", highlight=False)


def _with_client(wanted: RunFilter, client_id: str | None) -> RunFilter:
    return dataclasses.replace(wanted, client_id=client_id)


@runs_app.command("show")
def runs_show(
    run_id: str = typer.Argument(..., help="Run id"),
    as_json: bool = AS_JSON,
) -> None:
    """One run: what it was asked, what came of it, and each attempt with its requests."""

    async def work(engine: Engine) -> tuple[RunRecord, list[AttemptRecord]]:
        run = await engine.store.get_run(run_id)
        if run is None:
            raise NotFound(f"No action run {run_id!r}.")
        return run, await engine.store.list_attempts(run_id)

    run, attempts = with_engine(work)
    documents = [attempt_document(attempt) for attempt in attempts]
    if as_json:
        document = {"data": operator_run_document(run), "attempts": documents}
        console.print_json(json.dumps(document))
        return
    summary = Table.grid(padding=(0, 2))
    for label, value in (
        ("run", run.id),
        ("action", f"{run.app_key}.{run.action_key}"),
        ("status", _status(run.status)),
        ("client", run.client_id),
        ("end user", escape(run.end_user_id or "")),
        ("authentication", run.authentication_id or ""),
        ("created", when(run.created_at, seconds=True)),
        ("took", _took(run)),
        ("callback", escape(f"{run.callback_status or ''} {run.callback_error or ''}".strip())),
    ):
        summary.add_row(f"[bold]{label}[/]", value)
    console.print(summary)
    for error in run.errors or []:
        console.print(f"[red]error[/] {escape(_said(error))}", highlight=False)
    console.print(_attempts_table(documents))


def _said(error: dict[str, Any]) -> str:
    return f"{error.get('code')}: " + " — ".join(
        str(part) for part in (error.get("title"), error.get("detail")) if part
    )


def _attempts_table(documents: list[dict[str, Any]]) -> Table:
    table = Table("#", "started", "outcome", "error", "retry in", "requests")
    for document in documents:
        error = document["error"]
        requests = "\n".join(
            f"{r['method']} {r['url']} → {r['status'] or r['error']} ({r['duration_ms']} ms)"
            for r in document["requests"]
        )
        table.add_row(
            str(document["number"]),
            document["started_at"],
            document["outcome"] or "running",
            escape(_said(error)) if error else "",
            f"{document['retry_delay']:.1f} s" if document["retry_delay"] is not None else "",
            escape(requests),
        )
    return table


@runs_app.command("tail")
def runs_tail(
    client: str = CLIENT,
    status: str = STATUS,
    app_key: str = APP,
    action: str = ACTION,
    end_user: str = END_USER,
    authentication: str = AUTHENTICATION,
    lines: int = typer.Option(10, "-n", "--lines", min=0, max=1000, help="Finished runs first"),
    follow: bool = typer.Option(False, "--follow", "-f", help="Then print runs as they finish"),
    as_json: bool = typer.Option(False, "--json", help="One JSON document a line"),
) -> None:
    """The runs that finished last, oldest first; with --follow, each run as it finishes."""
    wanted = _filter(client, status, app_key, action, end_user, authentication)

    def tell(run: RunRecord) -> None:
        if as_json:
            print(json.dumps(operator_run_document(run)), flush=True)
            return
        console.print(
            f"{when(run.finished_at or run.created_at, seconds=True)}  {_status(run.status)}  "
            f"{run.app_key}.{run.action_key}  {run.id}  {run.client_id}  {_took(run)}"
            + (f"  {escape(_said(run.errors[0]))}" if run.errors else ""),
            highlight=False,
        )

    async def work(engine: Engine) -> None:
        scoped = _with_client(wanted, await _client_id(engine, client))
        latest = await engine.store.finished_runs(scoped, None, lines, latest=True)
        for run in reversed(latest):
            tell(run)
        if follow:
            await _follow(engine, scoped, latest, tell)

    with contextlib.suppress(KeyboardInterrupt):  # how a follower is stopped
        with_engine(work)


async def _follow(engine: Engine, wanted: RunFilter, shown: list[RunRecord], tell: Any) -> None:
    """Print runs as they finish, each once, until interrupted."""
    if engine.bus is not None:
        await engine.bus.start()  # PostgreSQL: hear of finishes in other processes at once
    seen = {run.id: run.finished_at or 0.0 for run in shown}
    since = max(seen.values(), default=engine.clock())
    while True:
        await engine.events.wait_any_finished(FOLLOW_LOOK_EVERY_SECONDS)
        found = await engine.store.finished_runs(
            wanted, since - FOLLOW_LOOK_BACK_SECONDS, FOLLOW_BATCH
        )
        for run in found:
            if run.id not in seen:
                tell(run)
                seen[run.id] = run.finished_at or 0.0
        since = max([since, *(run.finished_at or 0.0 for run in found)])
        seen = {key: at for key, at in seen.items() if at >= since - FOLLOW_LOOK_BACK_SECONDS}
