"""The connector kit: the lint over app definitions, and the scaffold's output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actionruns.cli.main import app as cli
from actionruns.sdk import Action, App, Auth, Choice, DynamicFields, InputField, OutputField
from actionruns.sdk.lint import lint_app
from actionruns.sdk.registry import Registry


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


def test_a_scaffolded_connector_passes_its_own_test_and_the_lint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    made = CliRunner().invoke(
        cli, ["connectors", "new", "acme_crm", "--into", "acme", "--tests", "checks"]
    )
    assert made.exit_code == 0, made.output
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "ACTIONRUNS_CONNECTORS": "acme.acme_crm:app"}
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "checks"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    linted = subprocess.run(
        [sys.executable, "-m", "actionruns.cli.main", "connectors", "check", "acme_crm"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    again = CliRunner().invoke(cli, ["connectors", "new", "acme_crm", "--into", "acme"])
    assert again.exit_code != 0


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
