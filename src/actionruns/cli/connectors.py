"""``actionruns connectors``: scaffold a connector and check the catalogue's definitions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from actionruns.cli.common import catalogue
from actionruns.sdk.app import KEY_PATTERN
from actionruns.sdk.fixtures import load_fixtures, replay_app
from actionruns.sdk.lint import lint_app

connectors_app = typer.Typer(help="Write and check connectors.", no_args_is_help=True)
console = Console()

MODULE_TEMPLATE = '''"""{title}: what it does.

Reference: link the vendor's documentation of each endpoint used here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionruns.sdk import Action, App, Auth, Context, InputField, OutputField
from actionruns.sdk.http import request_json

API = "https://api.example.com/v1"


async def test_key(ctx: Context) -> str:
    """The connection test: the cheapest call that needs the key; names the account."""
    account = await request_json(ctx, "GET", f"{{API}}/me")
    return str(account["name"])


async def create_item(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    # A refusal becomes the right error: 401 expired, 429 throttled, 5xx transient, 4xx halt.
    item = await request_json(ctx, "POST", f"{{API}}/items", json={{"name": inputs["name"]}})
    return {{"id": item["id"], "name": item["name"]}}


app = App(
    key="{key}",
    title="{title}",
    description="Describe the app in one sentence.",
    auth=Auth.api_key(help_text="Where the user finds their API key."),
    test=test_key,
    categories=("productivity",),
    actions=[
        Action(
            "create_item",
            "Create item",
            "Creates an item in {title}.",
            create_item,
            inputs=[InputField("name", "Name", required=True, help_text="The item's name.")],
            outputs=[
                OutputField("id", "ID", sample="itm_123"),
                OutputField("name", "Name", sample="First item"),
            ],
            sample={{"id": "itm_123", "name": "First item"}},
        ),
    ],
)
'''

TEST_TEMPLATE = '''"""{title} against an emulation of its API, each request asserted."""

from __future__ import annotations

import json

import httpx2
import pytest

from actionruns.sdk.context import open_context
from actionruns.sdk.outbound import OutboundGuard
from {module} import app


@pytest.mark.asyncio
async def test_create_item() -> None:
    seen: list[httpx2.Request] = []

    def vendor(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(201, json={{"id": "itm_1", "name": "First"}})

    credentials = {{"api_key": "key-123"}}
    async with open_context(
        app.auth,
        credentials,
        OutboundGuard(),
        app_key="{key}",
        transport=httpx2.MockTransport(vendor),
    ) as ctx:
        result = await app.actions[0].perform(ctx, {{"name": "First"}})

    assert result == {{"id": "itm_1", "name": "First"}}
    [request] = seen
    assert request.method == "POST" and request.url.path == "/v1/items"
    assert request.headers["authorization"] == "Bearer key-123"
    assert json.loads(request.content) == {{"name": "First"}}
'''


def _package_parts(folder: Path) -> tuple[str, ...]:
    """The dotted package of ``folder`` seen from the current directory (empty if outside)."""
    try:
        return folder.resolve().relative_to(Path.cwd().resolve()).parts
    except ValueError:
        return ()


@connectors_app.command("new")
def new(
    key: str = typer.Argument(..., help="The app key, snake_case (e.g. acme_crm)"),
    into: Path = typer.Option(Path("."), "--into", help="Folder for the module"),
    tests: Path = typer.Option(Path("."), "--tests", help="Folder for its test"),
    title: str = typer.Option("", help="The app's name as users know it"),
) -> None:
    """Write a connector module and its test, ready to fill in."""
    if not KEY_PATTERN.match(key):
        raise typer.BadParameter("the key must be snake_case: a-z, 0-9 and _, from a letter")
    module_path, test_path = into / f"{key}.py", tests / f"test_{key}.py"
    for path in (module_path, test_path):
        if path.exists():
            raise typer.BadParameter(f"{path} already exists")
    name = title or key.replace("_", " ").title()
    module = ".".join((*_package_parts(into), key))
    into.mkdir(parents=True, exist_ok=True)
    tests.mkdir(parents=True, exist_ok=True)
    module_path.write_text(MODULE_TEMPLATE.format(key=key, title=name))
    test_path.write_text(TEST_TEMPLATE.format(key=key, title=name, module=module))
    console.print(f"wrote {module_path} and {test_path}")
    console.print(
        f"serve it from this checkout with ACTIONRUNS_CONNECTORS={module}:app, or ship it in a "
        "package with an 'actionruns.connectors' entry point"
    )


@connectors_app.command("check")
def check(keys: list[str] = typer.Argument(None, help="App keys; all apps if none")) -> None:
    """Lint every app definition (titles, help texts, samples, output fields, references) and
    replay each action against its recorded HTTP fixtures."""
    apps = [app for app in catalogue() if not keys or app.key in keys]
    unknown = set(keys or ()) - {app.key for app in apps}
    if unknown:
        raise typer.BadParameter(f"no app {', '.join(sorted(unknown))}")
    problems: list[str] = []
    replayed = cases = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("checking", total=len(apps))
        for app in apps:
            progress.update(task, description=f"checking {app.key}")
            problems.extend(str(problem) for problem in lint_app(app))
            fixtures = load_fixtures(app)
            if fixtures is not None:
                replayed += 1
                cases += len(fixtures.cases)
                problems.extend(f"{app.key}.{p}" for p in asyncio.run(replay_app(fixtures)))
            progress.advance(task)
    for problem in problems:
        console.print(f"[red]✗[/red] {problem}")
    if problems:
        console.print(f"{len(problems)} problems in {len(apps)} apps")
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/green] {len(apps)} apps, {sum(len(a.actions) for a in apps)} actions; "
        f"{cases} recorded cases replayed for {replayed} apps"
    )
