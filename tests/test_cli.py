"""The command line, as an operator uses it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actionruns.cli.main import app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ACTIONRUNS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ACTIONRUNS_CONNECTORS", "tests.testkit:testkit")
    return CliRunner()


def test_clients_are_created_listed_and_restricted(cli: CliRunner, tmp_path: Path) -> None:
    created = cli.invoke(app, ["clients", "create", "--name", "acme", "--json"])
    assert created.exit_code == 0, created.output
    document = json.loads(created.stdout)
    assert document["client_id"].startswith("cl_")
    assert document["client_secret"].startswith("cs_")
    keys = tmp_path / "home" / "keys.json"
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o600

    duplicate = cli.invoke(app, ["clients", "create", "--name", "acme"])
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output

    allowed = cli.invoke(app, ["clients", "allow", "acme", "testkit", "webhooks"])
    assert allowed.exit_code == 0, allowed.output
    assert "testkit, webhooks" in allowed.output
    unknown = cli.invoke(app, ["clients", "allow", "acme", "nope"])
    assert unknown.exit_code != 0
    listed = cli.invoke(app, ["clients", "list"])
    assert "acme" in listed.output and document["client_id"] in listed.output
    assert document["client_secret"] not in listed.output


def test_catalogue_listing(cli: CliRunner) -> None:
    apps = cli.invoke(app, ["apps"])
    assert apps.exit_code == 0
    assert "testkit" in apps.output
    actions = cli.invoke(app, ["actions", "testkit"])
    assert "testkit.flaky" in actions.output
    assert "key*" in actions.output
    missing = cli.invoke(app, ["actions", "nope"])
    assert missing.exit_code == 1


def test_run_an_action_from_the_terminal_and_wait(cli: CliRunner) -> None:
    assert cli.invoke(app, ["clients", "create", "--name", "ops"]).exit_code == 0
    result = cli.invoke(
        app,
        [
            "run",
            "testkit.noop",
            "--client",
            "ops",
            "--input",
            "value=hello",
            "--input",
            "count=7",
            "--wait",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout[result.stdout.index("{") :])["data"]
    assert document["status"] == "success"
    assert document["results"] == [{"ok": True, "value": "hello", "count": 7}]

    invalid = cli.invoke(app, ["run", "testkit.noop", "--client", "ops", "--input", "count=x"])
    assert invalid.exit_code == 1
    assert "count must be an integer" in invalid.output


def test_purge_and_db_upgrade(cli: CliRunner) -> None:
    upgraded = cli.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    purged = cli.invoke(app, ["purge"])
    assert purged.exit_code == 0
    assert "deleted 0 runs" in purged.output
