"""``pip install 'actionruns[pieces]'``: the extra exists, ``all`` includes it, and the README
and docs/pieces.md give that line and Node.js from Debian."""

from __future__ import annotations

import tomllib
from importlib.metadata import metadata
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
INSTALL = "pip install 'actionruns[pieces]'"
NODE = "apt-get install nodejs npm"


def test_the_pieces_extra_is_declared_and_all_includes_it() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert "pieces" in extras
    (everything,) = (Requirement(line) for line in extras["all"])
    assert everything.name == "actionruns" and "pieces" in everything.extras


def test_the_installed_distribution_offers_it() -> None:
    # What pip reads: an install of actionruns[pieces] resolves instead of warning.
    assert "pieces" in (metadata("actionruns").get_all("Provides-Extra") or [])


def test_readme_and_the_pieces_guide_say_how_to_install() -> None:
    for document in ("README.md", "docs/pieces.md"):
        text = " ".join((REPO / document).read_text().split())
        assert INSTALL in text, document
        assert NODE in text, document
