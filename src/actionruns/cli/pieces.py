"""``actionruns pieces``: Activepieces pieces added as apps (``docs/pieces.md``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Column, Table

from actionruns.cli.common import settings, with_engine
from actionruns.engine import Engine
from actionruns.openapi.naming import snake
from actionruns.pieces.bridge import BridgeFailure, NodeMissing
from actionruns.pieces.icon import IconUnavailable, fetch_icon
from actionruns.pieces.install import (
    InstallFailed,
    install_and_describe,
    remove_installed,
    resolve_all,
)
from actionruns.pieces.mapping import Unmappable, piece_manifest
from actionruns.sdk.described import AppManifest

pieces_app = typer.Typer(help="Activepieces pieces, installed from the npm registry, as apps.")
console = Console(soft_wrap=True)  # a message is one line, however long
errors = Console(stderr=True, soft_wrap=True)  # one line per error, for scripts to read


def pieces_root() -> Path:
    found = settings()
    return found.pieces_dir or found.home.resolve() / "pieces"


# The pieces this project tests (tests/pieces): describe, every action's props, a run.
CURATED = {
    "airtable": "0.2.0",
    "asana": "0.2.0",
    "clickup": "0.2.0",
    "discord": "0.2.0",
    "dropbox": "0.2.0",
    "figma": "0.3.1",
    "hackernews": "0.2.0",
    "intercom": "0.7.5",
    "mailchimp": "0.2.0",
    "mastodon": "0.3.0",
    "mistral-ai": "0.3.0",
    "openai": "0.3.18",
    "pipedrive": "0.2.0",
    "posthog": "0.2.0",
    "sendgrid": "0.2.0",
    "shopify": "0.3.0",
    "slack": "0.17.9",
    "telegram-bot": "0.2.0",
    "todoist": "0.3.1",
    "trello": "0.2.0",
    "twilio": "0.2.0",
    "wordpress": "0.7.0",
    "zoom": "0.2.0",
}


def _add(name: str, version: str | None, key: str | None, auth: int) -> None:
    try:
        installed, description = asyncio.run(
            install_and_describe(pieces_root(), name, version, settings().pieces_user)
        )
    except (InstallFailed, NodeMissing, BridgeFailure) as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None

    async def work(engine: Engine) -> tuple[AppManifest, list[tuple[str, str]], list[str], str]:
        wanted = key or snake(name.rsplit("piece-", 1)[-1])
        if not key and wanted in engine.imports.builtin:
            wanted = f"{wanted}_piece"  # beside the built-in connector of that name
        try:
            report = piece_manifest(wanted, description, installed, auth)
        except Unmappable as exc:
            errors.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        manifest, icon_said = report.manifest, "the piece names no logo: a lettered icon"
        if logo_url := str(description.get("logoUrl") or ""):
            try:
                icon = await fetch_icon(logo_url, engine.guard)
            except IconUnavailable as exc:
                icon_said = f"its logo was not fetched ({exc}): a lettered icon"
            else:
                manifest = manifest.model_copy(update={"icon": icon})
                icon_said = f"its logo, fetched from {logo_url} and kept here"
        await engine.imports.save(manifest)
        return manifest, report.skipped, report.auths, icon_said

    manifest, skipped, auths, icon_said = with_engine(work)
    console.print(
        f"[green]added[/green] {manifest.key}: {installed.package}@{installed.version} "
        f"({len(manifest.actions)} actions, auth {manifest.auth.type.value})"
    )
    console.print(f"  icon: {icon_said}", highlight=False)
    if len(auths) > 1:
        console.print(f"  the piece offers {len(auths)} auths ({', '.join(auths)}); --auth picks")
    for action, why in skipped:
        console.print(f"  left out {action}: {why}")


@pieces_app.command("add")
def add_piece(
    name: str = typer.Argument(None, help="The piece: slack, or @activepieces/piece-slack"),
    version: str = typer.Option(None, "--version", help="An exact version (default: latest)"),
    key: str = typer.Option(None, "--key", help="The app's key (default: the piece's name)"),
    auth: int = typer.Option(0, "--auth", help="Which of the piece's auths, from 0"),
    all_curated: bool = typer.Option(
        False, "--all-curated", help="Add every piece this project tests, at its tested version"
    ),
) -> None:
    """Install a piece with `npm install --ignore-scripts`, pinned to its exact version and
    integrity, and add it to the catalogue (adding it again upgrades it)."""
    if all_curated:
        resolve_all(CURATED.items())
        for curated, tested in CURATED.items():
            _add(curated, tested, None, 0)
        return
    if not name:
        errors.print("[red]error:[/red] name a piece, or give --all-curated")
        raise typer.Exit(1)
    _add(name, version, key, auth)


@pieces_app.command("upgrade")
def upgrade_piece(
    key: str = typer.Argument(..., help="The piece's app key"),
    version: str = typer.Option(None, "--version", help="An exact version (default: latest)"),
) -> None:
    """Install another version of an added piece (the latest by default) under the same key,
    with the same auth: its connections keep working."""

    async def work(engine: Engine) -> Any:
        found = await engine.imports.get(key)
        return found.manifest.piece if found is not None else None

    piece = with_engine(work)
    if piece is None:
        errors.print(f"[red]error:[/red] no piece {key!r}")
        raise typer.Exit(1)
    _add(piece.package, version, key, piece.auth_index)


def _pieces() -> list[Any]:
    async def work(engine: Engine) -> list[Any]:
        return [found for found in await engine.imports.all() if found.manifest.piece]

    return with_engine(work)


@pieces_app.command("list")
def list_pieces(
    licenses: bool = typer.Option(False, "--licenses", help="Show each piece's license"),
) -> None:
    """The pieces added, from the database: no Node needed."""
    table = Table(Column("key", no_wrap=True), Column("package", no_wrap=True))  # copied whole
    for header in ("version", "actions", "auth"):
        table.add_column(header)
    if licenses:
        table.add_column("license")
    for found in _pieces():
        manifest: AppManifest = found.manifest
        piece = manifest.piece
        assert piece is not None
        row = [manifest.key, piece.package, piece.version, str(len(manifest.actions))]
        row.append(piece.auth_type or "none")
        table.add_row(*row, *([piece.license or "unknown"] if licenses else []))
    console.print(table)


@pieces_app.command("remove")
def remove_piece(key: str = typer.Argument(..., help="The piece's app key")) -> None:
    """Remove a piece's app and its installed files; its connections are kept."""

    async def work(engine: Engine) -> str | None:
        found = await engine.imports.get(key)
        if found is None or found.manifest.piece is None:
            errors.print(f"[red]error:[/red] no piece {key!r}")
            raise typer.Exit(1)
        await engine.imports.remove(key)
        directory = found.manifest.piece.directory
        installed = [app.manifest.piece for app in await engine.imports.all()]
        # Another key may run the same installed version.
        shared = any(piece is not None and piece.directory == directory for piece in installed)
        return None if shared else directory

    directory = with_engine(work)
    if directory is not None:
        remove_installed(directory)
    console.print(f"removed {key}")
