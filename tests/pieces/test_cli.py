"""``actionruns pieces``: a real piece added from the npm registry, listed from the database,
removed with its files."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from actionruns.cli.main import app
from tests.pieces.conftest import need


def test_a_piece_is_added_listed_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("node")
    need("npm")
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("ACTIONRUNS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    cli = CliRunner()

    added = cli.invoke(app, ["pieces", "add", "hackernews", "--version", "0.2.0"])
    assert added.exit_code == 0, added.output
    assert "added hackernews: @activepieces/piece-hackernews@0.2.0 (1 actions" in added.output
    installed = tmp_path / "home" / "pieces" / "hackernews@0.2.0"
    lock = (installed / "package-lock.json").read_text()
    assert "sha512-" in lock

    listed = cli.invoke(app, ["pieces", "list", "--licenses"])
    assert listed.exit_code == 0, listed.output
    assert "@activepieces/piece-hackernews" in listed.output and "0.2.0" in listed.output
    apps = cli.invoke(app, ["apps"])
    assert "hackernews" in apps.output and "activepieces" in apps.output

    missing = cli.invoke(app, ["pieces", "add", "hackernews", "--version", "999.0.0"])
    assert missing.exit_code == 1 and "error" in missing.output

    removed = cli.invoke(app, ["pieces", "remove", "hackernews"])
    assert removed.exit_code == 0, removed.output
    assert not installed.exists()
    assert "hackernews" not in cli.invoke(app, ["pieces", "list"]).output
