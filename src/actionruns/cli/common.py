"""What the commands share: the consoles, the settings with the home found, the engine (with
the imported apps of its database) run for one command, the catalogue."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from actionruns.cli.home import HOME_VARIABLE, HomeSearch, find_home
from actionruns.config import Settings
from actionruns.engine import Engine
from actionruns.engine.service import PRIVATE_DIRECTORY_MODE
from actionruns.errors import ServiceError
from actionruns.principal import Principal
from actionruns.sdk.registry import Registry
from actionruns.store import ClientRecord

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one line per error, for scripts to read
T = TypeVar("T")


@dataclass
class Options:
    """The options given before the command (``actionruns --init …``)."""

    init: bool = False


options = Options()


def settings(**overrides: Any) -> Settings:
    """The settings, with the home found, or made where the user agrees to one."""
    found = Settings.from_env(**overrides)
    if found.database_url and found.secret_keys:
        return found  # nothing goes in a home
    search = find_home(os.environ, Path.cwd())
    return Settings.from_env(**overrides, home=search.found or _new_home(search))


def _new_home(search: HomeSearch) -> Path:
    target = search.new_home
    if not options.init:
        if not at_a_terminal():
            errors.print(
                f"error: no actionruns home found: {search.where_it_looked()}.\n"
                f"Run this from the folder that holds yours, set {HOME_VARIABLE}, or make a new "
                f"one at {target} with --init: {_with_init()}",
                highlight=False,
                markup=False,
            )
            raise typer.Exit(1)
        errors.print(f"No actionruns home found: {search.where_it_looked()}.", highlight=False)
        if not typer.confirm(f"Make a new one at {target}?", err=True):
            raise typer.Exit(1)
    target.mkdir(mode=PRIVATE_DIRECTORY_MODE, parents=True, exist_ok=True)
    errors.print(f"made a new home at {target}", highlight=False)
    return target


def at_a_terminal() -> bool:
    """Whether a person can be asked: input and messages are a terminal."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def _with_init() -> str:
    """The command being run, with ``--init`` after the program's name."""
    return shlex.join(["actionruns", "--init", *sys.argv[1:]])


def catalogue(extra: Iterable[str] = ()) -> Registry:
    """Every app: installed connectors, those named by ``ACTIONRUNS_CONNECTORS`` and
    ``extra``, and the imported apps of the database if there is one already. Looking never
    makes a home or a database; what cannot be loaded is in ``unavailable``."""
    found = Settings.from_env()
    named = [*found.extra_connectors, *(ref for ref in extra if ref not in found.extra_connectors)]
    registry = Registry.from_entry_points(named)
    if not found.database_url:
        home = find_home(os.environ, Path.cwd()).found
        if home is None or not (home / "actionruns.db").is_file():
            return registry
        found = Settings.from_env(home=home)

    async def load() -> None:
        engine = Engine(found, registry=registry)
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
    resolved = settings()  # before the event loop: it may ask where to make a home

    async def main() -> T:
        service = Engine(resolved)
        try:
            if migrate:
                await service.migrate()
                await service.imports.sync()
            return await work(service)
        finally:
            await service.stop()

    try:
        return asyncio.run(main())
    except ServiceError as exc:
        errors.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from None


def when(epoch: float, *, seconds: bool = False) -> str:
    shape = "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    return datetime.fromtimestamp(epoch, UTC).strftime(shape)


def principal(client: ClientRecord, end_user_id: str | None = None) -> Principal:
    """The client, as the operator acts for it."""
    return Principal(
        client.id,
        frozenset(client.scopes),
        frozenset(client.allowed_apps) if client.allowed_apps is not None else None,
        end_user_id,
    )
