"""``actionruns operators``: who may sign in to the dashboard."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from actionruns.cli.common import console, with_engine
from actionruns.engine import Engine

operators_app = typer.Typer(help="Operators: who may sign in to /dashboard.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@operators_app.command("create")
def create(
    name: str = typer.Argument(..., help="The name to sign in with"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin"
    ),
) -> None:
    """Add an operator, or set a known one's password (which signs out its sessions)."""
    password = _password(password_stdin)

    async def work(engine: Engine) -> bool:
        return await engine.operators.create(name, password)

    created = with_engine(work)
    said = "created" if created else "has a new password; its sessions were signed out"
    console.print(f"operator {escape(name)} {said}")


@operators_app.command("list")
def list_operators() -> None:
    """The operators' names."""

    async def work(engine: Engine) -> list[str]:
        return await engine.store.operators.names()

    for name in with_engine(work):
        console.print(escape(name))


@operators_app.command("delete")
def delete(name: str = typer.Argument(..., help="The operator to remove")) -> None:
    """Remove an operator; its sessions end."""

    async def work(engine: Engine) -> bool:
        return await engine.store.operators.delete(name)

    if not with_engine(work):
        console.print(f"[red]error:[/red] no operator {escape(name)}")
        raise typer.Exit(1)
    console.print(f"operator {escape(name)} deleted")
