"""``actionruns apps``, as an operator imports, upgrades, exports and removes an app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from actionruns.cli.main import app
from tests.openapi.petstore import petstore


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    (tmp_path / "home").mkdir()  # a command never makes a home by itself
    monkeypatch.setenv("ACTIONRUNS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def written(tmp_path: Path, document: object, name: str = "petstore.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document))
    return str(path)


def test_import_list_show_upgrade_export_and_remove(cli: CliRunner, tmp_path: Path) -> None:
    spec = written(tmp_path, petstore())
    imported = cli.invoke(app, ["apps", "import", spec])
    assert imported.exit_code == 0, imported.output
    assert "imported petstore_api (Petstore API)" in imported.output
    assert "8 actions" in imported.output
    assert "auth: api_key (apiKey); the description also allows oauth" in imported.output
    assert "left out 2 operations: 1 sends only application/xml, 1 deprecated" in imported.output

    listed = cli.invoke(app, ["apps", "list"])
    assert "petstore_api" in listed.output and "openapi" in listed.output
    shown = cli.invoke(app, ["apps", "show", "petstore_api"])
    assert "revision 1" in shown.output and "POST /pets" in shown.output

    document = petstore()
    del document["paths"]["/trees/{treeId}"]
    upgraded = cli.invoke(app, ["apps", "import", written(tmp_path, document)])
    assert upgraded.exit_code == 0, upgraded.output
    assert "upgraded petstore_api to revision 2" in upgraded.output
    assert "- get_tree" in upgraded.output

    exported = cli.invoke(app, ["apps", "export", "petstore_api", "-o", str(tmp_path / "app.json")])
    assert exported.exit_code == 0, exported.output
    assert json.loads((tmp_path / "app.json").read_text())["key"] == "petstore_api"
    again = cli.invoke(app, ["apps", "import", str(tmp_path / "app.json"), "--key", "pets_copy"])
    assert again.exit_code == 0, again.output
    assert "imported pets_copy" in again.output

    removed = cli.invoke(app, ["apps", "remove", "petstore_api"])
    assert removed.exit_code == 0
    assert "petstore_api" not in cli.invoke(app, ["apps", "list"]).output
    gone = cli.invoke(app, ["apps", "show", "petstore_api"])
    assert gone.exit_code == 1 and "no imported app" in gone.output


def test_dry_run_and_output_store_nothing(cli: CliRunner, tmp_path: Path) -> None:
    spec = written(tmp_path, petstore())
    dry = cli.invoke(app, ["apps", "import", spec, "--dry-run"])
    assert dry.exit_code == 0 and "8 actions" in dry.output
    out = cli.invoke(app, ["apps", "import", spec, "--output", str(tmp_path / "made.json")])
    assert out.exit_code == 0, out.output
    assert json.loads((tmp_path / "made.json").read_text())["operations"]
    assert "petstore_api" not in cli.invoke(app, ["apps", "list"]).output


def test_bad_input_is_one_clear_line(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"openapi": "3.0.0", "paths": [')
    broken = cli.invoke(app, ["apps", "import", str(tmp_path / "broken.json")])
    assert broken.exit_code == 1
    assert "broken.json is neither valid JSON nor valid YAML" in broken.output
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("operations: [listPetz]\n")
    typo = cli.invoke(
        app, ["apps", "import", written(tmp_path, petstore()), "--overlay", str(overlay)]
    )
    assert typo.exit_code == 1 and "'listPetz' matches no operation" in typo.output
    overlay.write_text("hook: no_such_module.hooks\n")
    hook = cli.invoke(
        app, ["apps", "import", written(tmp_path, petstore()), "--overlay", str(overlay)]
    )
    assert hook.exit_code == 1 and "hook module cannot be imported" in hook.output
    overlay.write_text("colour: red\n")
    unknown = cli.invoke(
        app, ["apps", "import", written(tmp_path, petstore()), "--overlay", str(overlay)]
    )
    assert unknown.exit_code == 1 and "colour: Extra inputs are not permitted" in unknown.output
    builtin = cli.invoke(app, ["apps", "import", written(tmp_path, petstore()), "--key", "slack"])
    assert builtin.exit_code == 1 and "built-in app" in builtin.output
