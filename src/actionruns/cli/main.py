"""``actionruns``: serve, work, manage clients, run actions and look at the catalogue."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Column, Table

from actionruns.cli.apps import apps_app
from actionruns.cli.common import (
    catalogue,
    console,
    errors,
    options,
    principal,
    settings,
    when,
    with_engine,
)
from actionruns.cli.connectors import connectors_app
from actionruns.cli.mcp import serve_mcp
from actionruns.cli.operators import operators_app
from actionruns.cli.pieces import pieces_app
from actionruns.cli.run import run_action
from actionruns.cli.runs import runs_app
from actionruns.cli.serve import serve, worker
from actionruns.config import Settings, SettingsError
from actionruns.engine import Engine
from actionruns.engine.keys import KeyInUse, KeyRotation, Resealed
from actionruns.engine.scopes import ALL_SCOPES
from actionruns.engine.service import load_keyring
from actionruns.logs import configure_logging
from actionruns.principal import Principal
from actionruns.store import AuthenticationRecord, ClientKeyRecord
from actionruns.store.migrate import upgrade_url
from actionruns.vault import Keyring

app = typer.Typer(help="actionruns: run single actions in other apps.", no_args_is_help=True)
clients_app = typer.Typer(help="API clients (partners) and their access.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
keys_app = typer.Typer(help="The encryption keys.", no_args_is_help=True)
client_keys_app = typer.Typer(
    help="Public keys a client signs token-exchange JWTs with.", no_args_is_help=True
)
clients_app.add_typer(client_keys_app, name="keys")
oauth_apps_app = typer.Typer(
    help="This service's OAuth2 clients at the apps' providers.", no_args_is_help=True
)
app.add_typer(oauth_apps_app, name="oauth-apps")
connections_app = typer.Typer(help="Connected accounts (authentications).", no_args_is_help=True)
app.add_typer(connections_app, name="connections")
app.add_typer(clients_app, name="clients")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(connectors_app, name="connectors")
app.add_typer(apps_app, name="apps")
app.add_typer(pieces_app, name="pieces")
app.add_typer(runs_app, name="runs")
app.add_typer(operators_app, name="operators")


@app.callback()
def _setup(
    init: bool = typer.Option(
        False, "--init", help="Make a new home in this folder if none is found (see README)"
    ),
) -> None:
    configure_logging()
    options.init = init
    try:
        Settings.from_env()  # a bad value is one line now, not a traceback later
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


app.command()(serve)
app.command()(worker)
app.command("run")(run_action)
app.command("mcp")(serve_mcp)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    upgrade_url(settings().db_url)
    console.print("database is up to date")


@keys_app.command("export")
def keys_export() -> None:
    """Print the key set as ACTIONRUNS_SECRET_KEYS, to give every node of a deployment."""
    print(
        load_keyring(settings()).to_env()
    )  # plain stdout: meant for a secrets manager, not a terminal table


@keys_app.command("new")
def keys_new() -> None:
    """Print the key set with a new primary key first, as ACTIONRUNS_SECRET_KEYS."""
    print(load_keyring(settings()).with_new_primary().to_env())


@keys_app.command("rotate")
def keys_rotate(
    resume: bool = typer.Option(
        False, "--resume", help="Only reseal under the current primary key (adds no key)"
    ),
) -> None:
    """Add a new primary key and re-encrypt every stored secret under it, in batches.

    Interrupted, it is safe to run with --resume: values under either key stay readable.
    """
    found = settings()
    if not resume:
        if found.secret_keys:
            errors.print(
                "keys come from ACTIONRUNS_SECRET_KEYS: give every node the set printed by "
                "'actionruns keys new', restart them, then run 'actionruns keys rotate --resume'"
            )
            raise typer.Exit(2)
        keyring = load_keyring(found).with_new_primary()
        keyring.save(found.key_file)  # saved before anything is sealed with it
        console.print(f"new primary key {keyring.primary}")

    async def work(engine: Engine) -> Resealed:
        rotation = KeyRotation(engine.store, engine.vault)
        total = await rotation.count()
        with Progress(console=console) as progress:
            task = progress.add_task("re-encrypting", total=total)
            return await rotation.reseal_all(lambda done: progress.advance(task, done))

    result = with_engine(work)
    console.print(
        f"{result.resealed} re-encrypted, {result.current} already under the primary key, "
        f"{result.skipped} changed meanwhile (already current)"
    )
    console.print(
        "restart running processes so they sign and encrypt with the new key, then run "
        "'actionruns keys retire' once the access tokens they issued have expired "
        f"({found.token_ttl_seconds // 60} minutes)"
    )


@keys_app.command("retire")
def keys_retire(
    force: bool = typer.Option(
        False, "--force", help="Retire even while access tokens signed with an old key are valid"
    ),
) -> None:
    """Drop every key but the primary: refused while a stored value is sealed with one, or
    while access tokens, connect links or sign-ins signed with one are still valid."""
    found = settings()

    async def work(engine: Engine) -> Keyring:
        rotation = KeyRotation(engine.store, engine.vault)
        return await rotation.retire(engine.vault.keyring, now=engine.clock(), force=force)

    try:
        keyring = with_engine(work)
    except KeyInUse as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if found.secret_keys:
        print(keyring.to_env())  # for the operator to give every node
        return
    keyring.save(found.key_file)
    console.print(f"only {keyring.primary} is left")


@keys_app.command("rotate-signing")
def keys_rotate_signing() -> None:
    """Start a new key for signing callbacks: published at once, signing a minute later; the
    old one stays published a day."""

    async def work(engine: Engine) -> str:
        return (await engine.signer.rotate()).id

    console.print(f"{with_engine(work)} signs callbacks from a minute on")


@clients_app.command("create")
def clients_create(
    name: str = typer.Option(..., "--name", help="A name for the partner's client"),
    scopes: str = typer.Option(",".join(ALL_SCOPES), help="Comma-separated scopes"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Create an API client; its secrets are shown this once only."""

    async def work(engine: Engine) -> dict[str, Any]:
        new = await engine.clients.create(name, [s.strip() for s in scopes.split(",") if s.strip()])
        return {
            "client_id": new.record.id,
            "client_secret": new.client_secret,
            "callback_signing_secret": new.signing_secret,
            "scopes": new.record.scopes,
        }

    created = with_engine(work)
    if as_json:
        sys.stdout.write(json.dumps(created) + "\n")
        return
    for key, value in created.items():
        console.print(f"{key}: [bold]{value}[/bold]")
    console.print("Keep the secrets now: they cannot be shown again.")


@clients_app.command("list")
def clients_list() -> None:
    """List API clients."""
    records = with_engine(lambda engine: engine.store.list_clients())
    # Ids are copied whole: they never wrap, the scopes do.
    table = Table("name", Column("client id", no_wrap=True), "scopes", "apps")
    for client in records:
        apps = "all" if client.allowed_apps is None else ", ".join(client.allowed_apps)
        table.add_row(client.name, client.id, " ".join(client.scopes), apps)
    console.print(table)


@clients_app.command("allow")
def clients_allow(
    client: str = typer.Argument(..., help="Client name or id"),
    apps: list[str] = typer.Argument(None, help="App keys the client may use"),
    any_app: bool = typer.Option(False, "--any", help="Lift the restriction"),
) -> None:
    """Restrict a client to an allowlist of apps (or lift it with --any)."""

    async def work(engine: Engine) -> list[str] | None:
        if not any_app:
            if not apps:
                raise typer.BadParameter("name at least one app, or --any")
            unknown = [key for key in apps if engine.registry.app(key) is None]
            if unknown:
                raise typer.BadParameter(f"unknown apps: {', '.join(unknown)}")
        record = await engine.clients.allow_apps(client, None if any_app else apps)
        return record.allowed_apps

    allowed = with_engine(work)
    console.print(f"{client} may use: {'any app' if allowed is None else ', '.join(allowed)}")


@clients_app.command("redirect-uris")
def clients_redirect_uris(
    client: str = typer.Argument(..., help="Client name or id"),
    uris: list[str] = typer.Argument(..., help="Every URI the Connect page may return to"),
) -> None:
    """Set where the Connect page may send the client's end users back to."""
    record = with_engine(lambda engine: engine.clients.set_redirect_uris(client, uris))
    console.print(f"{client} redirect URIs: {', '.join(record.redirect_uris or [])}")


@clients_app.command("events-url")
def clients_events_url(
    client: str = typer.Argument(..., help="Client name or id"),
    url: str = typer.Argument(None, help="Receives authentication.expired/recovered; none clears"),
) -> None:
    """Set the URL that receives signed authentication events."""
    with_engine(lambda engine: engine.clients.set_events_url(client, url or None))
    console.print(f"{client} events: {url or 'none'}")


@clients_app.command("brand")
def clients_brand(
    client: str = typer.Argument(..., help="Client name or id"),
    name: str = typer.Option(None, "--name", help="The partner's name end users know"),
    logo: Path = typer.Option(
        None, "--logo", exists=True, dir_okay=False, help="PNG, JPEG, GIF, WebP or SVG, 64 KiB"
    ),
    color: str = typer.Option(None, "--color", help="Accent colour, six hex digits: ff6600"),
) -> None:
    """Set how the Connect page shows the partner: "<name> wants to connect to <app>"."""
    logo_bytes = logo.read_bytes() if logo is not None else None
    record = with_engine(lambda engine: engine.clients.set_brand(client, name, logo_bytes, color))
    brand = record.brand or {}
    console.print(
        f"{client} brand: {brand.get('name', record.name)}, colour {brand.get('color', 'none')}, "
        f"{'a logo' if 'logo' in brand else 'no logo'}"
    )


@oauth_apps_app.command("set")
def oauth_apps_set(
    app_key: str = typer.Argument(..., help="App key, e.g. slack"),
    client_id: str = typer.Option(..., "--client-id", help="From the provider's app settings"),
    client_secret: str = typer.Option(
        ..., "--client-secret", prompt=True, hide_input=True, help="Stored encrypted"
    ),
) -> None:
    """Register this service's OAuth2 client at an app's provider."""

    async def work(engine: Engine) -> str:
        found = engine.registry.app(app_key)
        if found is None or found.auth.oauth2 is None:
            raise typer.BadParameter(f"{app_key!r} is not an app that connects with OAuth2")
        await engine.connections.set_oauth_client(found, client_id, client_secret)
        return engine.connections.flows.redirect_uri

    redirect_uri = with_engine(work)
    console.print(f"{app_key}: set. Register this redirect URI at the provider: {redirect_uri}")


@oauth_apps_app.command("list")
def oauth_apps_list() -> None:
    """Apps with an OAuth2 registration (never their secrets)."""

    async def work(engine: Engine) -> list[tuple[str, str, str]]:
        rows = [
            (key, client_id, "environment")
            for key, (client_id, _) in engine.settings.oauth_clients.items()
        ]
        rows += [
            (r.id, r.client_id, "oauth-apps set") for r in await engine.store.list_oauth_apps()
        ]
        return rows

    table = Table("app", "client id", "from")
    for row in with_engine(work):
        table.add_row(*row)
    console.print(table)


@client_keys_app.command("add")
def client_keys_add(
    client: str = typer.Argument(..., help="Client name or id"),
    pem_file: typer.FileText = typer.Option(..., "--file", help="PEM public key (RSA or P-256)"),
    key_id: str = typer.Option(None, "--kid", help="Key id its JWTs name in 'kid'"),
) -> None:
    """Register a public key the client signs token-exchange JWTs with (RS256 or ES256)."""
    pem = pem_file.read()
    record = with_engine(lambda engine: engine.clients.add_key(client, pem, key_id))
    console.print(f"added {record.algorithm} key {record.id} to {client}")


@client_keys_app.command("list")
def client_keys_list(client: str = typer.Argument(..., help="Client name or id")) -> None:
    """The client's registered public keys."""

    async def work(engine: Engine) -> list[ClientKeyRecord]:
        return await engine.store.list_client_keys((await engine.clients.find(client)).id)

    table = Table("kid", "algorithm", "added")
    for key in with_engine(work):
        table.add_row(key.id, key.algorithm, when(key.created_at))
    console.print(table)


@client_keys_app.command("remove")
def client_keys_remove(
    client: str = typer.Argument(..., help="Client name or id"),
    key_id: str = typer.Argument(..., help="The key id"),
) -> None:
    """Stop accepting JWTs signed with a key."""
    with_engine(lambda engine: engine.clients.remove_key(client, key_id))
    console.print(f"removed {key_id}")


async def _owner(engine: Engine, authentication_id: str) -> Principal:
    """The client that owns an authentication, as the operator acts for it."""
    record = await engine.store.get_authentication(authentication_id)
    if record is None:
        raise typer.BadParameter(f"no authentication {authentication_id!r}")
    return principal(await engine.clients.find(record.client_id))


@connections_app.command("list")
def connections_list(
    client: str = typer.Option(None, "--client", help="Only this client's (name or id)"),
    app_key: str = typer.Option(None, "--app", help="Only this app's"),
    end_user: str = typer.Option(None, "--end-user", help="Only this end user's"),
) -> None:
    """List connected accounts (never their credentials)."""

    async def work(engine: Engine) -> list[AuthenticationRecord]:
        client_id = (await engine.clients.find(client)).id if client else None
        records, _ = await engine.store.list_authentications(
            client_id, app_key=app_key, end_user_id=end_user, limit=10_000, offset=0
        )
        return records

    table = Table("id", "app", "title", "client", "end user", "expired", "connected")
    for record in with_engine(work):
        table.add_row(
            record.id,
            record.app_key,
            record.title,
            record.client_id,
            record.end_user_id or "",
            "yes" if record.is_expired else "",
            when(record.created_at),
        )
    console.print(table)


@connections_app.command("test")
def connections_test(
    authentication_id: str = typer.Argument(..., help="Authentication id"),
) -> None:
    """Run the app's connection test with the stored credentials."""

    async def work(engine: Engine) -> str | None:
        principal = await _owner(engine, authentication_id)
        return await engine.connections.test(principal, authentication_id)

    label = with_engine(work)
    console.print(f"[green]✓[/green] the connection works{f': {label}' if label else ''}")


@connections_app.command("delete")
def connections_delete(
    authentication_id: str = typer.Argument(..., help="Authentication id"),
) -> None:
    """Disconnect an account: its credentials are erased."""

    async def work(engine: Engine) -> None:
        principal = await _owner(engine, authentication_id)
        await engine.connections.delete(principal, authentication_id)

    with_engine(work)
    console.print(f"deleted {authentication_id}")


@app.command()
def purge() -> None:
    """Delete runs that finished longer ago than the retention period."""
    deleted = with_engine(lambda engine: engine.runs.purge())
    console.print(f"deleted {deleted} runs")


@app.command("actions")
def list_actions(app_key: str = typer.Argument(..., help="App key")) -> None:
    """List an app's actions and their inputs."""
    configure_logging(level=logging.CRITICAL)
    registry = catalogue()
    found = registry.app(app_key)
    if found is None:
        missing = registry.unavailable.get(app_key)
        reason = f"{app_key} is unavailable: {missing.reason}" if missing else f"no app {app_key!r}"
        errors.print(f"[red]error:[/red] {escape(reason)}", highlight=False)
        raise typer.Exit(1)
    rows = [
        (
            f"{found.key}.{action.key}",
            action.type.value,
            action.title,
            ", ".join(f"{spec.key}{'*' if spec.required else ''}" for spec in action.static_inputs),
        )
        for action in found.actions
    ]
    # The keys are what 'actionruns run' takes: whole, whatever the terminal's width. Where a
    # table would have to cut them, each action gets lines of its own.
    widest = max((len(row[0]) for row in rows), default=0)
    if console.width >= widest + 40:
        table = Table(Column("action", no_wrap=True), "type", "title", "inputs")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    else:
        for key, kind, title, inputs in rows:
            console.print(key, style="bold", crop=False, overflow="ignore", highlight=False)
            console.print(f"  {kind} · {title}\n  inputs: {inputs}", highlight=False)
    console.print("* required")


if __name__ == "__main__":
    app()
