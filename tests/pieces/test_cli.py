"""``actionruns pieces``: a real piece added from the npm registry, listed from the database,
removed with its files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actionruns.cli.main import app
from actionruns.cli.pieces import CURATED
from actionruns.pieces import install
from actionruns.sdk import outbound
from tests.conftest import offline_resolver
from tests.pieces.conftest import CACHE, need


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's guard asks no DNS server: a piece's logo URL is not fetched from here."""
    monkeypatch.setattr(outbound, "system_resolver", offline_resolver)


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
    # Its logo is on the vendor's CDN, which this machine cannot reach: the letter stays.
    assert "icon: its logo was not fetched (" in added.output
    assert "could not be resolved" in added.output and "a lettered icon" in added.output
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

    upgraded = cli.invoke(app, ["pieces", "upgrade", "hackernews", "--version", "0.2.0"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "added hackernews: @activepieces/piece-hackernews@0.2.0" in upgraded.output
    assert cli.invoke(app, ["pieces", "upgrade", "nope"]).exit_code == 1

    removed = cli.invoke(app, ["pieces", "remove", "hackernews"])
    assert removed.exit_code == 0, removed.output
    assert not installed.exists()
    assert "hackernews" not in cli.invoke(app, ["pieces", "list"]).output


def test_the_curated_pieces_are_added_at_their_tested_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("node")
    need("npm")
    monkeypatch.setenv("ACTIONRUNS_HOME", str(tmp_path))
    # The pieces the other tests installed, not each installed again (seconds a piece).
    monkeypatch.setenv("ACTIONRUNS_PIECES_DIR", str(CACHE))
    monkeypatch.setenv("COLUMNS", "200")
    cli = CliRunner()
    added = cli.invoke(app, ["pieces", "add", "--all-curated"])
    assert added.exit_code == 0, added.output
    for key, package in CURATED.items():
        assert f"@activepieces/piece-{key}@{package}" in added.output
    assert "added slack_piece" in added.output  # beside the built-in Slack connector
    assert cli.invoke(app, ["pieces", "add"]).exit_code == 1


def test_the_registry_is_asked_once_about_an_exact_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """--all-curated asks about every piece side by side first; an exact version's record
    never changes, so installing each asks no more. ``latest`` is asked every time."""
    asked: list[str] = []

    def npm(*arguments: str, cwd: Path | None = None) -> str:
        asked.append(arguments[1])
        version = arguments[1].rsplit("@", 1)[1].replace("latest", "9.9.9")
        return json.dumps({"version": version, "dist.integrity": "sha512-x", "license": "MIT"})

    monkeypatch.setattr(install, "_npm", npm)
    install.resolve_all([("only-asked-here", "1.0.0"), ("only-asked-here-too", "2.1.0")])
    assert install.resolve(install.package_name("only-asked-here"), "1.0.0")["version"] == "1.0.0"
    install.resolve(install.package_name("only-asked-here"), None)
    install.resolve(install.package_name("only-asked-here"), None)
    assert sorted(asked) == [
        "@activepieces/piece-only-asked-here-too@2.1.0",
        "@activepieces/piece-only-asked-here@1.0.0",
        "@activepieces/piece-only-asked-here@latest",
        "@activepieces/piece-only-asked-here@latest",
    ]
