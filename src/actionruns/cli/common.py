"""What the commands share: the engine from the environment, run for one command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from actionruns.config import Settings
from actionruns.engine import Engine
from actionruns.errors import ServiceError
from actionruns.sdk.registry import Registry

T = TypeVar("T")
errors = Console(stderr=True)


def engine_from_env() -> Engine:
    return Engine(Settings.from_env())


def catalogue() -> Registry:
    """Every app: installed connectors, and the imported apps of the database, if there is
    one already (looking never creates a database)."""
    settings = Settings.from_env()
    registry = Registry.from_entry_points(settings.extra_connectors)
    if settings.database_url or (settings.home / "actionruns.db").is_file():

        async def load() -> None:
            engine = Engine(settings, registry=registry)
            try:
                await engine.migrate()
                await engine.imports.sync()
            finally:
                await engine.stop()

        asyncio.run(load())
    return registry


def with_engine(work: Callable[[Engine], Awaitable[T]], *, migrate: bool = True) -> T:
    """Run ``work`` against the engine, imported apps loaded; a refused request is a clear
    message and exit 1."""

    async def main() -> T:
        engine = engine_from_env()
        try:
            if migrate:
                await engine.migrate()
                await engine.imports.sync()
            return await work(engine)
        finally:
            await engine.stop()

    try:
        return asyncio.run(main())
    except ServiceError as exc:
        errors.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from None
