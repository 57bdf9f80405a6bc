"""Where the command line finds its home, and that it never makes one without saying so."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actionruns.cli import common, home
from actionruns.cli.main import app


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout this command runs from (its .venv), and no ACTIONRUNS_HOME."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    monkeypatch.setattr(home, "_install_checkout", lambda: folder)
    monkeypatch.delenv("ACTIONRUNS_HOME", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return folder


def run(*args: str, **kwargs: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), **kwargs)  # type: ignore[arg-type]
    return result.exit_code, " ".join(result.output.split())


def test_no_home_says_where_it_looked_and_makes_none(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, said = run("clients", "list")
    assert code == 1
    assert f"looked for .actionruns in {elsewhere} and every folder above it" in said
    assert f"and beside this install ({checkout / '.actionruns'})" in said
    assert "ACTIONRUNS_HOME is not set" in said
    assert f"make a new one at {elsewhere / '.actionruns'} with --init" in said
    assert list(elsewhere.iterdir()) == [] and not (checkout / ".actionruns").exists()


def test_init_makes_one_here_and_folders_below_find_it(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(project)
    code, said = run("--init", "clients", "create", "--name", "acme", "--json")
    assert code == 0, said
    assert f"made a new home at {project / '.actionruns'}" in said
    assert (project / ".actionruns" / "keys.json").is_file()
    assert stat.S_IMODE((project / ".actionruns").stat().st_mode) == 0o700  # its owner's alone

    monkeypatch.chdir(project / "src" / "deep")
    code, said = run("clients", "list")
    assert code == 0 and "acme" in said
    assert not (project / "src" / "deep" / ".actionruns").exists()


def test_the_home_beside_the_install_is_found_from_anywhere(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(checkout)
    assert run("--init", "clients", "create", "--name", "served")[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, said = run("clients", "list")
    assert code == 0 and "served" in said


def test_a_named_home_that_does_not_exist_is_made_only_when_asked(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "var" / "actionruns"
    monkeypatch.setenv("ACTIONRUNS_HOME", str(named))
    code, said = run("db", "upgrade")
    assert code == 1 and f"ACTIONRUNS_HOME names {named}, which does not exist" in said
    assert not named.exists()
    assert run("--init", "db", "upgrade")[0] == 0
    assert (named / "actionruns.db").is_file()


def test_at_a_terminal_it_asks_first(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(common, "at_a_terminal", lambda: True)
    code, said = run("clients", "list", input="n\n")
    assert code == 1 and f"Make a new one at {tmp_path / '.actionruns'}?" in said
    assert not (tmp_path / ".actionruns").exists()
    code, said = run("clients", "create", "--name", "acme", "--json", input="y\n")
    assert code == 0, said
    assert (tmp_path / ".actionruns").is_dir()
    assert json.loads(said[said.index("{") :])["client_id"].startswith("cl_")


def test_nothing_is_made_where_nothing_needs_a_home(
    checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("apps")[0] == 0
    assert run("actions", "webhooks")[0] == 0
    assert list(tmp_path.iterdir()) == [checkout]
