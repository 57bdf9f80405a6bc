"""The command line, as an operator uses it."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actionruns.cli.main import app
from tests.conftest import free_port


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("ACTIONRUNS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ACTIONRUNS_CONNECTORS", "tests.testkit:testkit")
    monkeypatch.setenv("ACTIONRUNS_RETRY_BASE_SECONDS", "0.2")
    monkeypatch.setenv("COLUMNS", "100")
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


def test_a_client_is_branded_for_its_end_users(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["clients", "create", "--name", "acme"]).exit_code == 0
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"/>')
    branded = cli.invoke(
        app, ["clients", "brand", "acme", "--name", "Acme Corp", "--logo", str(logo)]
    )
    assert branded.exit_code == 0, branded.output
    assert "Acme Corp, colour none, a logo" in branded.output
    # What is not given stays as it was.
    coloured = cli.invoke(app, ["clients", "brand", "acme", "--color", "#FF6600"])
    assert "Acme Corp, colour ff6600, a logo" in coloured.output
    not_an_image = tmp_path / "logo.html"
    not_an_image.write_text("<html><script>alert(1)</script></html>")
    too_big = tmp_path / "big.png"
    too_big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(70_000))
    for arguments, says in (
        (["--logo", str(not_an_image)], "must be a PNG, JPEG, GIF, WebP or SVG"),
        (["--logo", str(too_big)], "at most 64 KiB"),
        (["--color", "orange"], "six hex digits"),
        (["--name", " "], "1 to 100 characters"),
    ):
        refused = cli.invoke(app, ["clients", "brand", "acme", *arguments])
        assert refused.exit_code == 1 and says in refused.output, refused.output


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


def test_run_wait_tells_each_attempt_as_it_happens(cli: CliRunner) -> None:
    assert cli.invoke(app, ["clients", "create", "--name", "ops"]).exit_code == 0
    arguments = ["run", "testkit.flaky", "--client", "ops", "--input", "key=cli-live"]
    result = cli.invoke(app, [*arguments, "--input", "failures=1", "--wait"])
    assert result.exit_code == 0, result.output
    told = [line.strip() for line in result.stderr.splitlines() if "attempt" in line]
    assert told[0] == "→ attempt 1 of 3 started"
    assert told[1].startswith("✗ attempt 1 failed after ")
    # Said as it happened: the retry was still due, or (a fast machine) had just begun.
    assert re.search(r"upstream answered 503; retr(ying in|ied after) \d+\.\d s$", told[1])
    assert told[2] == "→ attempt 2 of 3 started"
    assert told[3].startswith("✓ attempt 2 succeeded in ")
    # stdout holds the run alone, for jq and the like.
    assert json.loads(result.stdout)["data"]["status"] == "success"


def test_action_keys_are_never_cut(cli: CliRunner) -> None:
    keys = ["testkit.noop", "testkit.flaky", "testkit.sleep", "testkit.record", "testkit.area"]
    for width in ("40", "100"):
        listed = cli.invoke(app, ["actions", "testkit"], env={"COLUMNS": width})
        assert listed.exit_code == 0, listed.output
        for key in keys:
            assert re.search(rf"(^|│ ){re.escape(key)}( |$)", listed.output, re.MULTILINE), width


def test_purge_and_db_upgrade(cli: CliRunner) -> None:
    upgraded = cli.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    purged = cli.invoke(app, ["purge"])
    assert purged.exit_code == 0
    assert "deleted 0 runs" in purged.output


def test_serve_says_where_it_runs_and_the_next_step(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "home").mkdir()
    env = {
        **os.environ,
        "ACTIONRUNS_HOME": str(tmp_path / "home"),
        "ACTIONRUNS_PORT": str(port),
        "COLUMNS": "200",
    }
    env.pop("ACTIONRUNS_CONNECTORS", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "actionruns.cli.main", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(3)]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert lines[0].startswith(f"actionruns 0.1.0 starting on http://127.0.0.1:{port} · data in ")
    assert lines[1] == "ready. Next, create a client for your product:\n"
    assert lines[2].strip() == "actionruns clients create --name acme --json"
