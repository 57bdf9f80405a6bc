"""``actionruns connectors``: scaffold a connector and check the catalogue's definitions."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from actionruns.cli.common import catalogue
from actionruns.logs import configure_logging
from actionruns.sdk.app import KEY_PATTERN, App
from actionruns.sdk.fixtures import load_fixtures, replay_app
from actionruns.sdk.lint import PLACEHOLDER, lint_app
from actionruns.sdk.registry import Registry

connectors_app = typer.Typer(help="Write and check connectors.", no_args_is_help=True)
console = Console()

# Every text the author must write says PLACEHOLDER: 'check' refuses the app until none does.
MODULE_TEMPLATE = '''"""{title}: {todo} what the app is.

Reference: {todo} link the vendor's documentation of each endpoint used here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionruns.sdk import Action, App, Auth, Context, InputField, OutputField
from actionruns.sdk.http import request_json

API = "https://api.example.com/v1"  # {todo} the vendor's API (and in fixtures/{key}.json)


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
    description="{todo} what {title} is, in one sentence.",
    auth=Auth.api_key(help_text="{todo} where the user finds their API key."),
    test=test_key,
    categories=("productivity",),
    actions=[
        Action(
            "create_item",
            "Create item",
            "{todo} what the action does, e.g. Creates an item in {title}.",
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


def fixtures_template(key: str) -> str:
    """A recorded case for the scaffold's action: what 'check' replays, no pytest needed."""
    document = {
        "credentials": {"api_key": "key-123"},
        "connection_test": {
            "exchanges": [
                {
                    "request": {
                        "method": "GET",
                        "url": "https://api.example.com/v1/me",
                        "headers": {"authorization": "Bearer key-123"},
                    },
                    "response": {"status": 200, "json": {"name": "Ada Lovelace"}},
                }
            ],
            "label": "Ada Lovelace",
        },
        "cases": [
            {
                "action": "create_item",
                "title": "an item is created",
                "inputs": {"name": "First item"},
                "exchanges": [
                    {
                        "request": {
                            "method": "POST",
                            "url": "https://api.example.com/v1/items",
                            "headers": {"authorization": "Bearer key-123"},
                            "json": {"name": "First item"},
                        },
                        "response": {"status": 201, "json": {"id": "itm_1", "name": "First item"}},
                    }
                ],
                "result": {"id": "itm_1", "name": "First item"},
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


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


def _shown(path: Path) -> str:
    """``path`` as the user would type it from here."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@connectors_app.command("new")
def new(
    key: str = typer.Argument(..., help="The app key, snake_case (e.g. acme_crm)"),
    into: Path = typer.Option(Path("."), "--into", help="Folder for the module"),
    tests: Path = typer.Option(
        None, "--tests", help="Also write a pytest test into this folder (needs pytest)"
    ),
    title: str = typer.Option("", help="The app's name as users know it"),
) -> None:
    """Write a connector module and a recorded case for 'check' to replay, ready to fill in."""
    if not KEY_PATTERN.match(key):
        raise typer.BadParameter("the key must be snake_case: a-z, 0-9 and _, from a letter")
    module_path, fixtures_path = into / f"{key}.py", into / "fixtures" / f"{key}.json"
    test_path = tests / f"test_{key}.py" if tests is not None else None
    for path in (module_path, fixtures_path, test_path):
        if path is not None and path.exists():
            raise typer.BadParameter(f"{path} already exists")
    name = title or key.replace("_", " ").title()
    fixtures_path.parent.mkdir(parents=True, exist_ok=True)
    module_path.write_text(MODULE_TEMPLATE.format(key=key, title=name, todo=PLACEHOLDER))
    fixtures_path.write_text(fixtures_template(key))
    written = [module_path, fixtures_path]
    if test_path is not None:
        module = ".".join((*_package_parts(into), key))
        test_path.parent.mkdir(parents=True, exist_ok=True)
        test_path.write_text(TEST_TEMPLATE.format(key=key, title=name, module=module))
        written.append(test_path)
    source = _shown(module_path)
    console.print(f"wrote {', '.join(_shown(path) for path in written)}")
    console.print(
        "next:\n"
        f"  1. write the app in {source} (replace every {PLACEHOLDER}) and record what its "
        f"API answers in {_shown(fixtures_path)}\n"
        f"  2. actionruns connectors check {source}\n"
        f"  3. actionruns serve --connector {source} --reload-connectors",
        highlight=False,
    )


def _file_of(name: str) -> str | None:
    """The connector file a name given to 'check' means: ``notepad.py``, or ``notepad`` when
    ``./notepad.py`` exists; None for an installed app's key."""
    if name.endswith(".py"):
        return name
    return f"{name}.py" if Path(f"{name}.py").is_file() else None


def _unavailable(registry: Registry, name: str) -> str:
    missing = registry.unavailable[name]
    return f"{missing.name}: unavailable: {missing.reason}"


def _selected(names: list[str], registry: Registry) -> tuple[list[App], list[str]]:
    """The apps ``names`` mean (all when none), and why any of them cannot be checked."""
    if not names:
        return list(registry), [_unavailable(registry, name) for name in registry.unavailable]
    apps: list[App] = []
    problems: list[str] = []
    for name in names:
        ref = _file_of(name)
        key = registry.references.get(ref) if ref else name
        found = registry.app(key) if key else None
        if found is not None:
            apps.append(found)
        elif (ref or name) in registry.unavailable:
            problems.append(_unavailable(registry, ref or name))
        else:
            problems.append(f"no app {name!r} installed, and no file {name}.py here")
    return apps, problems


@connectors_app.command("check")
def check(
    names: list[str] = typer.Argument(
        None, help="App keys or connector files (KEY.py, or KEY for ./KEY.py); all apps if none"
    ),
) -> None:
    """Lint every app definition (titles, help texts, samples, output fields, references, no
    scaffold placeholder left) and replay each action against its recorded HTTP fixtures."""
    configure_logging(level=logging.CRITICAL)  # what fails is reported below, once
    registry = catalogue([ref for ref in map(_file_of, names or ()) if ref])
    apps, problems = _selected(names or [], registry)
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
        console.print(f"[red]✗[/red] {escape(problem)}", highlight=False)
    if problems:
        console.print(f"{len(problems)} problems in {len(apps)} apps")
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/green] {len(apps)} apps, {sum(len(a.actions) for a in apps)} actions; "
        f"{cases} recorded cases replayed for {replayed} apps"
    )
