"""``actionruns apps``: the catalogue, and apps imported from API descriptions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Column, Table

from actionruns.cli.common import catalogue, with_engine
from actionruns.engine import Engine
from actionruns.logs import configure_logging
from actionruns.openapi import ImportFailed, Report, import_description, load_overlay
from actionruns.sdk.described import AppManifest
from actionruns.sdk.described.diff import changes
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.lint import lint_app

apps_app = typer.Typer(
    help="The catalogue, and apps imported from OpenAPI descriptions.",
    invoke_without_command=True,
)
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one line per error, for scripts to read


@apps_app.callback()
def _default(context: typer.Context) -> None:
    """Without a command: list the apps."""
    if context.invoked_subcommand is None:
        list_apps()


@apps_app.command("list")
def list_apps() -> None:
    """List the apps in the catalogue, imported ones included, and those that cannot be
    served here and why (a driver not installed). Looking needs no home and makes none."""
    configure_logging(level=logging.CRITICAL)  # what fails to load is listed, with why
    registry = catalogue()
    # Keys are typed into commands: they never wrap or shorten, the titles do.
    table = Table(Column("key", no_wrap=True), "title", "source", "auth", "actions")
    for app in registry:
        table.add_row(app.key, app.title, app.source, app.auth.type.value, str(len(app.actions)))
    for missing in registry.unavailable.values():
        table.add_row(missing.name, f"[yellow]unavailable:[/yellow] {escape(missing.reason)}")
    console.print(table)


def _is_manifest(path: Path) -> bool:
    if path.suffix != ".json" or not path.is_file():
        return False
    head = path.read_text(errors="replace")[:4096]
    return '"format"' in head and '"base_url"' in head


def _make(spec: Path, key: str | None, overlay: Path | None, base_url: str | None) -> Report:
    if _is_manifest(spec):  # an exported app, imported elsewhere
        try:
            manifest = AppManifest.model_validate_json(spec.read_text())
        except ValueError as exc:
            raise ImportFailed(f"{spec.name} is not a valid exported app: {exc}") from None
        if key:
            manifest = manifest.model_copy(update={"key": key})
        return Report(manifest)
    rules, data = load_overlay(overlay) if overlay is not None else (None, b"")
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        task = progress.add_task(f"reading {spec.name}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, description="making actions", completed=done, total=total)

        return import_description(
            spec, key=key, overlay=rules, overlay_bytes=data, base_url=base_url, progress=advance
        )


def _summary(report: Report) -> list[str]:
    manifest = report.manifest
    hidden = len(manifest.operations) - len(manifest.actions)
    auth = manifest.auth
    others = [a for a in report.auth_alternatives if a != auth.scheme]
    lines = [
        f"{len(manifest.actions)} actions"
        + (f" (+{hidden} operations used by dropdowns or the connection test)" if hidden else ""),
        f"auth: {auth.type.value}"
        + (f" ({auth.scheme})" if auth.scheme else "")
        + (f"; the description also allows {', '.join(others)}" if others else ""),
        f"connection test: {manifest.test.operation if manifest.test else 'none'}",
        f"requests go to {manifest.base_url}",
    ]
    if report.skipped:
        reasons: dict[str, int] = {}
        for _, reason in report.skipped:
            reasons[reason] = reasons.get(reason, 0) + 1
        lines.append(
            f"left out {len(report.skipped)} operations: "
            + ", ".join(f"{count} {reason}" for reason, count in reasons.items())
        )
    lines += [f"warning: {warning}" for warning in report.warnings]
    return lines


@apps_app.command("import")
def import_app(
    spec: Path = typer.Argument(
        ..., help="An OpenAPI 3.x or Swagger 2.0 file, a folder, or an exported app"
    ),
    key: str = typer.Option(
        None, "--key", help="The app's key (default: from the overlay or the title)"
    ),
    overlay: Path = typer.Option(
        None, "--overlay", help="An overlay YAML file (docs/importing.md)"
    ),
    base_url: str = typer.Option(
        None, "--base-url", help="Where requests go, if not the description's server"
    ),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write the app to this file instead of the database"
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Report what the import makes; store nothing"
    ),
) -> None:
    """Make an app of an API description; importing again upgrades it (same id, same
    connections) and says what changed."""
    try:
        report = _make(spec, key, overlay, base_url)
        build_app(report.manifest)  # a hook module that cannot load fails here, not later
    except ImportFailed as exc:
        errors.print(f"[red]error:[/red] {spec.name}: {exc}")
        raise typer.Exit(1) from None
    except ImportError as exc:  # the overlay's hook module
        errors.print(f"[red]error:[/red] the hook module cannot be imported here: {exc}")
        raise typer.Exit(1) from None
    manifest = report.manifest
    if output is not None:
        output.write_text(manifest.to_file())
        console.print(f"wrote {manifest.key} to {output}")
    elif not dry_run:

        async def work(engine: Engine) -> tuple[int, AppManifest | None]:
            return await engine.imports.save(manifest)

        revision, previous = with_engine(work)
        if previous is None:
            console.print(f"[green]imported[/green] {manifest.key} ({manifest.title})")
        else:
            found = changes(previous, manifest)
            console.print(f"[green]upgraded[/green] {manifest.key} to revision {revision}")
            for line in found.lines() or ["nothing changed in its actions or auth"]:
                console.print(f"  {line}")
    for line in _summary(report):
        console.print(f"  {line}")
    problems = lint_app(build_app(manifest))
    if problems:
        console.print(
            f"  {len(problems)} things to curate in an overlay "
            f"(`actionruns connectors check {manifest.key}` lists them)"
        )


def _imported(key: str) -> Any:
    async def work(engine: Engine) -> Any:
        return await engine.imports.get(key)

    found = with_engine(work)
    if found is None:
        errors.print(f"[red]error:[/red] no imported app {key!r}")
        raise typer.Exit(1)
    return found


@apps_app.command("show")
def show_app(key: str = typer.Argument(..., help="An imported app's key")) -> None:
    """An imported app: where it came from, its auth and its actions."""
    found = _imported(key)
    manifest: AppManifest = found.manifest
    source = manifest.source
    console.print(f"[bold]{manifest.title}[/bold] ({manifest.key}), revision {found.revision}")
    console.print(
        f"from {source.file} ({source.title} {source.version}, {source.kind} {source.spec_version})"
    )
    auth = manifest.auth
    console.print(f"requests go to {manifest.base_url}; auth {auth.type.value} {auth.scheme}")
    table = Table("action", "type", "title", "inputs", "request")
    for operation in manifest.actions:
        inputs = ", ".join(f"{f.key}{'*' if f.required else ''}" for f in operation.inputs)
        table.add_row(
            operation.key,
            operation.type.value,
            operation.title,
            inputs,
            operation.target,
        )
    console.print(table)


@apps_app.command("export")
def export_app(
    key: str = typer.Argument(..., help="An imported app's key"),
    output: Path = typer.Option(
        None, "--output", "-o", help="File to write (default: standard output)"
    ),
) -> None:
    """The imported app as a file that `apps import` takes on another installation."""
    manifest: AppManifest = _imported(key).manifest
    text = manifest.to_file()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        console.print(f"wrote {key} to {output}")


@apps_app.command("remove")
def remove_app(key: str = typer.Argument(..., help="An imported app's key")) -> None:
    """Remove an imported app; its connections are kept (import it again to use them)."""

    async def work(engine: Engine) -> None:
        await engine.imports.remove(key)

    with_engine(work)
    console.print(f"removed {key}")
