"""``actionruns run``: run an action from the terminal and, with ``--wait``, watch each attempt
as it happens (started, failed and why, retrying when), then print the run."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from actionruns.cli.common import console, principal, with_engine
from actionruns.engine import Engine
from actionruns.engine.documents import run_document
from actionruns.engine.executor import SUCCEEDED
from actionruns.engine.runs import RunRequest
from actionruns.logs import configure_logging
from actionruns.store import AttemptRecord, RunRecord
from actionruns.store.records import FINISHED_STATUSES, QUEUED, RUNNING

# The run document goes to stdout (for jq and the like), what happens meanwhile to stderr.
progress = Console(stderr=True, highlight=False, soft_wrap=True)  # a line per event
LOOK_EVERY_SECONDS = 0.2


def _parse_inputs(pairs: list[str]) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"--input takes key=value, not {pair!r}")
        if key in inputs:  # repeating a key builds a list (e.g. several recipients)
            existing = inputs[key]
            inputs[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            inputs[key] = value
    return inputs


def run_action(
    action: str = typer.Argument(..., help="app.action, e.g. email.send_email"),
    auth: str = typer.Option(None, "--auth", help="Authentication id"),
    client: str = typer.Option(None, "--client", help="Client name or id, when there is no --auth"),
    inputs: list[str] = typer.Option([], "--input", "-i", help="key=value, repeatable"),
    wait: bool = typer.Option(
        False, "--wait", help="Execute now, show each attempt, and print the result"
    ),
    timeout: float = typer.Option(120.0, help="Seconds to wait with --wait"),
) -> None:
    """Run an action from the terminal."""
    configure_logging(level=logging.ERROR)

    async def work(engine: Engine) -> dict[str, Any]:
        end_user_id: str | None = None
        if auth:
            record = await engine.store.get_authentication(auth)
            if record is None:
                raise typer.BadParameter(f"no authentication {auth!r}")
            owner = await engine.clients.find(record.client_id)
            end_user_id = record.end_user_id
        elif client:
            owner = await engine.clients.find(client)
        else:
            raise typer.BadParameter("give --auth, or --client for an app without authentication")
        acting = principal(owner, end_user_id)
        run, _ = await engine.runs.submit(acting, RunRequest(action, auth, _parse_inputs(inputs)))
        if not wait:
            return run_document(run)
        local = engine.new_worker(concurrency=1, only=[run.id])
        task = asyncio.create_task(local.run())
        try:
            run = await _follow(engine, run.id, action, timeout)
        finally:
            local.stop()
            await task
        return run_document(run)

    document = with_engine(work)
    console.print_json(json.dumps({"data": document}))
    if document["status"] == "error":
        raise typer.Exit(2)


async def _follow(engine: Engine, run_id: str, action: str, timeout: float) -> RunRecord:
    """Wait for the run to finish, telling each attempt as the store records it."""
    told: dict[int, bool] = {}  # attempt number: whether its end was told
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    with progress.status(f"{action}: queued", spinner="dots") as status:
        while True:
            # Attempts first: an attempt's end and the run's next state are one write, so the
            # run read after it already says when the next attempt is due.
            attempts = await engine.store.list_attempts(run_id)
            run = await engine.store.get_run(run_id)
            assert run is not None  # nothing deletes it while we wait
            finished = run.status in FINISHED_STATUSES
            if finished:  # the last attempt may have ended between the two reads
                attempts = await engine.store.list_attempts(run_id)
            for attempt, following in zip(attempts, [*attempts[1:], None], strict=False):
                if attempt.number not in told:
                    progress.print(f"→ attempt {attempt.number} of {run.max_attempts} started")
                    told[attempt.number] = False
                if attempt.finished_at is not None and not told[attempt.number]:
                    progress.print(_ended(attempt, following, run, engine.clock()))
                    told[attempt.number] = True
            if finished or loop.time() > deadline:
                return run
            status.update(_waiting(run, action, engine.clock()))
            await engine.events.wait_finished(run_id, LOOK_EVERY_SECONDS)


def _ended(
    attempt: AttemptRecord, following: AttemptRecord | None, run: RunRecord, now: float
) -> str:
    """What became of an attempt, and when the next one is (or was) due."""
    ended_at = attempt.finished_at or now
    seconds = ended_at - attempt.started_at
    if attempt.outcome == SUCCEEDED:
        return f"[green]✓[/green] attempt {attempt.number} succeeded in {seconds:.1f} s"
    if attempt.outcome in ("lost", "released"):
        said = f"[red]✗[/red] attempt {attempt.number} was interrupted (its worker stopped)"
    else:
        error = attempt.error or {}
        why = escape(": ".join(str(p) for p in (error.get("title"), error.get("detail")) if p))
        said = f"[red]✗[/red] attempt {attempt.number} failed after {seconds:.1f} s: {why}"
    if following is not None:  # the retry already began
        said += f"; retried after {max(0.0, following.started_at - ended_at):.1f} s"
    elif run.status == QUEUED:
        said += f"; retrying in {max(0.0, run.available_at - now):.1f} s"
    return said


def _waiting(run: RunRecord, action: str, now: float) -> str:
    if run.status == RUNNING:
        return f"{action}: attempt {run.attempts} of {run.max_attempts} running"
    if run.attempts:
        return (
            f"{action}: attempt {run.attempts + 1} of {run.max_attempts} in "
            f"{max(0.0, run.available_at - now):.0f} s"
        )
    return f"{action}: queued"
