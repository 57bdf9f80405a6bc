"""``actionruns serve`` and ``actionruns worker``: the processes that do the work."""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import structlog
import typer

from actionruns import __version__
from actionruns.cli.common import console, settings, with_engine
from actionruns.cli.reload import watch_connectors
from actionruns.config import Settings
from actionruns.engine import Engine, tracing
from actionruns.logs import configure_logging
from actionruns.sdk.registry import Registry


class LogLevel(enum.StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"


LOG_LEVEL = typer.Option(
    LogLevel.INFO, "--log-level", help="debug: every step of every run (docs/deployment.md)"
)


def serve(
    host: str = typer.Option(None, help="Listen address (ACTIONRUNS_HOST, 127.0.0.1)"),
    port: int = typer.Option(None, help="Port (ACTIONRUNS_PORT, 8080)"),
    workers: bool = typer.Option(True, "--workers/--no-workers", help="Run workers in process"),
    json_logs: bool = typer.Option(False, "--json-logs", help="Log JSON lines"),
    log_level: LogLevel = LOG_LEVEL,
    connectors: list[str] = typer.Option(
        [],
        "--connector",
        help="Also serve this connector: a file (notepad.py) or module:attribute; repeatable",
    ),
    reload_connectors: bool = typer.Option(
        False,
        "--reload-connectors",
        help="Serve those (and ACTIONRUNS_CONNECTORS') again when their files change",
    ),
) -> None:
    """Start the API (and, by default, the workers) on the embedded database."""
    import uvicorn

    from actionruns.api.app import create_app

    configure_logging(json=json_logs, level=logging.getLevelNamesMapping()[log_level.upper()])
    trace_if_asked()
    overrides: dict[str, Any] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    if connectors:
        named = Settings.from_env().extra_connectors
        overrides["extra_connectors"] = (*named, *connectors)
    found = settings(**overrides)
    engine = Engine(found)
    console.print(_banner(found, engine.registry), highlight=False)
    say = functools.partial(console.print, highlight=False, markup=False)
    alongside = [functools.partial(_say_ready, engine)]
    if reload_connectors:
        alongside.append(functools.partial(watch_connectors, engine.registry, say))
    uvicorn.run(
        create_app(engine, run_workers=workers, alongside=alongside),
        host=found.host,
        port=found.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=15,
    )


def trace_if_asked() -> None:
    """OpenTelemetry tracing, if the standard OTEL_* variables ask for it; before the engine
    is made, so that its database engine is traced too."""
    if not tracing.wanted(os.environ):
        return
    try:
        from actionruns.telemetry import configure
    except ImportError as exc:  # the otel extra is not installed: serve all the same
        structlog.get_logger(__name__).warning(
            "tracing_unavailable",
            reason=f"{exc.name} is not installed",
            install="pip install 'actionruns[otel]'",
        )
        return
    try:
        configure(os.environ)
    except ValueError as exc:  # an exporter or protocol the SDK does not know
        raise SystemExit(f"Tracing cannot start: {exc}") from None


def _banner(found: Settings, registry: Registry) -> str:
    apps = f"{len(registry)} apps"
    if registry.unavailable:
        apps += f" ({len(registry.unavailable)} unavailable: '{_command()} apps' says why)"
    where = "PostgreSQL" if found.database_url else f"data in {found.home.resolve()}"
    return f"actionruns {__version__} starting on [bold]{found.base_url}[/bold] · {where} · {apps}"


async def _say_ready(engine: Engine) -> None:
    """Once it serves: the next step, for a newcomer the first client."""
    docs = f"{engine.settings.base_url}/docs"
    clients = await engine.store.list_clients()
    if clients:
        said = f"ready · {len(clients)} clients · the API reference is at {docs}"
    else:
        said = (
            f"ready. Next, create a client for your product:\n"
            f"  {_command()} clients create --name acme --json\n"
            f"then get a token and run an action as README.md shows ('A first run'); "
            f"the API reference is at {docs}"
        )
    console.print(said, highlight=False, markup=False)


def _command() -> str:
    """How to type this command: ``actionruns`` when that is it on the PATH, else the path it
    was started by (``.venv/bin/actionruns`` from a checkout)."""
    started = Path(sys.argv[0])
    on_path = shutil.which("actionruns")
    if started.name != "actionruns" or (on_path and Path(on_path).resolve() == started.resolve()):
        return "actionruns"
    relative = os.path.relpath(started)
    return str(started.resolve()) if relative.startswith("..") else relative


def worker(
    concurrency: int = typer.Option(None, help="Runs at a time (ACTIONRUNS_WORKER_CONCURRENCY)"),
    json_logs: bool = typer.Option(False, "--json-logs"),
    log_level: LogLevel = LOG_LEVEL,
) -> None:
    """Run a worker process: leases runs from the database and executes them."""
    configure_logging(json=json_logs, level=logging.getLevelNamesMapping()[log_level.upper()])
    trace_if_asked()

    async def work(engine: Engine) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await engine.start(workers=True, concurrency=concurrency)
        await stop.wait()

    with_engine(work)
