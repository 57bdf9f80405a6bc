"""The connector kit: the lint over app definitions, and the scaffold's output."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actionruns.cli.main import app as cli
from actionruns.cli.reload import reload_reference, watch_connectors, watched_files
from actionruns.sdk import Action, App, Auth, Choice, DynamicFields, InputField, OutputField
from actionruns.sdk.lint import lint_app
from actionruns.sdk.registry import Registry
from tests.testkit import secretive


async def _nothing(ctx: object, inputs: object) -> None:
    return None


def test_every_shipped_connector_passes_the_lint() -> None:
    for app in Registry.from_entry_points():
        assert lint_app(app) == [], app.key


def test_the_lint_names_each_problem() -> None:
    sloppy = App(
        key="sloppy",
        title="Sloppy",
        description="",
        auth=Auth.api_key(),
        actions=[
            Action(
                "do_it",
                "",
                "Does it.",
                _nothing,
                inputs=[
                    InputField("a", "A", depends_on=("missing",), help_text="x"),
                    InputField("b", "B", choices=(Choice("x"), Choice("x")), help_text="y"),
                    DynamicFields("more", _nothing, depends_on=("nope",)),  # type: ignore[arg-type]
                ],
                outputs=[OutputField("id", "ID")],
            )
        ],
    )
    problems = {str(problem) for problem in lint_app(sloppy)}
    assert problems == {
        "sloppy: needs a description",
        "sloppy: has no category",
        "sloppy: has no connection test (credentials are never checked)",
        "sloppy (auth).api_key: has no help text",
        "sloppy.do_it: has no title",
        "sloppy.do_it: needs a description that says what it does",
        "sloppy.do_it.a: depends on 'missing', which is not a field of the action",
        "sloppy.do_it.b: lists a choice twice",
        "sloppy.do_it.more: depends on unknown field 'nope'",
        "sloppy.do_it: has no sample result",
        "sloppy.do_it.id: is an output field missing from the sample",
    }


def test_check_over_the_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTIONRUNS_CONNECTORS", raising=False)
    checked = CliRunner().invoke(cli, ["connectors", "check"])
    assert checked.exit_code == 0, checked.output
    assert f"{len(Registry.from_entry_points())} apps" in checked.output
    monkeypatch.setenv("ACTIONRUNS_CONNECTORS", "tests.testkit:testkit")
    failing = CliRunner().invoke(cli, ["connectors", "check", "testkit"])
    assert failing.exit_code == 1
    assert "testkit.flaky: has no sample result" in failing.output


def _actionruns(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command as a person runs it: its own process, from ``cwd``, no PYTHONPATH."""
    environ = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ACTIONRUNS_CONNECTORS")
    }
    return subprocess.run(
        [sys.executable, "-m", "actionruns.cli.main", *args],
        cwd=cwd,
        env={**environ, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


FILLED_IN = {
    "TODO: what Acme Crm is, in one sentence.": "Contacts and deals in Acme CRM.",
    "TODO: where the user finds their API key.": "Settings, then API keys, in Acme CRM.",
    "TODO: what the action does, e.g. Creates an item in Acme Crm.": "Creates an item.",
}


def test_new_then_check_from_any_folder_refusing_the_placeholders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    made = CliRunner().invoke(cli, ["connectors", "new", "acme_crm", "--tests", "checks"])
    assert made.exit_code == 0, made.output
    assert "wrote acme_crm.py, fixtures/acme_crm.json, checks/test_acme_crm.py" in made.output
    assert "actionruns connectors check acme_crm.py" in made.output

    # As written, 'check' names every text still to write (and nothing else).
    refused = _actionruns("connectors", "check", "acme_crm", cwd=tmp_path)
    assert refused.returncode == 1
    problems = [line for line in refused.stdout.splitlines() if line.startswith("✗")]
    assert len(problems) == len(FILLED_IN), refused.stdout
    assert all("the scaffold's placeholder" in line for line in problems)

    source = tmp_path / "acme_crm.py"
    text = source.read_text()
    for placeholder, written in FILLED_IN.items():
        text = text.replace(placeholder, written)
    source.write_text(text)
    # Here, by its key; from elsewhere, by its path: its recorded case is replayed too.
    for cwd, name in ((tmp_path, "acme_crm"), (tmp_path.parent, f"{tmp_path.name}/acme_crm.py")):
        checked = _actionruns("connectors", "check", name, cwd=cwd)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "1 apps, 1 actions; 1 recorded cases replayed for 1 apps" in checked.stdout

    # The optional pytest test passes as written.
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "checks"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    again = CliRunner().invoke(cli, ["connectors", "new", "acme_crm"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_a_connector_that_does_not_load_is_unavailable_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("from actionruns.sdk import App\n\napp = App(\n")
    (tmp_path / "raising.py").write_text("x = 1\nraise RuntimeError('no config')\n")
    checked = _actionruns("connectors", "check", "broken", "raising.py", cwd=tmp_path)
    assert checked.returncode == 1
    assert "broken.py: unavailable: it failed to load: SyntaxError: '(' was never closed" in (
        checked.stdout
    )
    assert (
        "raising.py: unavailable: it failed to load: RuntimeError: no config (raising.py, line 2)"
        in (checked.stdout)
    )
    missing = _actionruns("connectors", "check", "nothing_here", cwd=tmp_path)
    assert missing.returncode == 1
    assert "no app 'nothing_here' installed, and no file nothing_here.py here" in missing.stdout


def test_an_app_whose_driver_is_missing_is_listed_as_unavailable(tmp_path: Path) -> None:
    """As in a core install: 'redis' cannot be imported."""
    without_redis = (
        "import sys; sys.modules['redis'] = None; "
        "from actionruns.cli.main import app; app(prog_name='actionruns')"
    )
    for args in (["apps"], ["actions", "redis"], ["connectors", "check", "redis"]):
        listed = subprocess.run(
            [sys.executable, "-c", without_redis, *args],
            cwd=tmp_path,
            env={**os.environ, "COLUMNS": "250"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        said = listed.stdout + listed.stderr
        assert "redis" in said and (
            "its driver redis is not installed (pip install 'actionruns[connectors-data]')" in said
        ), said
        assert "Traceback" not in said
    assert listed.returncode == 1


def test_reloading_a_connector_being_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "notes.py"
    source.write_text(NOTES.format(title="Notes", description="Notes kept in Notes."))
    registry = Registry.from_entry_points(["notes.py"])
    assert registry.app("notes") is not None and registry.references == {"notes.py": "notes"}
    assert watched_files(registry) == {source.resolve(): ["notes.py"]}

    source.write_text(NOTES.format(title="Notes 2", description="TODO: say it"))
    said = reload_reference(registry, "notes.py")
    assert said.startswith("reloaded notes from notes.py: 1 actions; check finds 1 problems")
    assert registry.app("notes").title == "Notes 2"  # type: ignore[union-attr]
    assert registry.action("notes.write") is not None

    source.write_text("app = (\n")
    said = reload_reference(registry, "notes.py")
    assert said.startswith("notes.py: SyntaxError:") and said.endswith(
        "still serving the previous version"
    )
    assert registry.app("notes").title == "Notes 2"  # type: ignore[union-attr]


async def test_serve_reload_connectors_watches_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop 'serve --reload-connectors' runs: a save is served at once, a broken save
    is reported and the previous version stays."""
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "notes.py"
    source.write_text(NOTES.format(title="Notes", description="Notes kept in Notes."))
    registry = Registry.from_entry_points(["notes.py"])
    said: list[str] = []
    watching = asyncio.create_task(watch_connectors(registry, said.append))

    async def told(text: str) -> None:
        async with asyncio.timeout(30):
            while not any(text in line for line in said):
                await asyncio.sleep(0.05)

    try:
        await told("for changes")
        source.write_text(NOTES.format(title="Notes v2", description="Notes kept in Notes."))
        await told("reloaded notes from notes.py: 1 actions")
        assert registry.app("notes").title == "Notes v2"  # type: ignore[union-attr]
        source.write_text("app = (\n")
        await told("still serving the previous version")
        assert registry.app("notes").title == "Notes v2"  # type: ignore[union-attr]
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching


NOTES = """
from actionruns.sdk import Action, App, Auth, OutputField


async def write(ctx, inputs):
    return {{"ok": True}}


app = App(
    key="notes",
    title="{title}",
    description="{description}",
    auth=Auth.none(),
    categories=("productivity",),
    actions=[
        Action("write", "Write", "Writes a note.", write,
               outputs=[OutputField("ok", "OK")], sample={{"ok": True}}),
    ],
)
"""


def test_a_connector_package_is_found_through_its_entry_point() -> None:
    package = Path(__file__).parent / "example_package"
    env = {k: v for k, v in os.environ.items() if k != "ACTIONRUNS_CONNECTORS"}
    env["PYTHONPATH"] = str(package)
    listed = subprocess.run(
        [sys.executable, "-m", "actionruns.cli.main", "connectors", "check", "acme_example"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "1 apps, 1 actions" in listed.stdout


def test_a_help_url_must_be_https() -> None:
    plain = dataclasses.replace(
        secretive, auth=Auth.api_key(help_text="A key.", help_url="http://x.example/")
    )
    assert "secretive (auth).api_key: has a help URL that is not https://" in [
        str(problem) for problem in lint_app(plain)
    ]
