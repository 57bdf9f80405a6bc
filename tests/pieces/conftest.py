"""Pieces for the tests: a hand-made one beside this file, and real ones from the npm registry
(installed once into a cache kept between runs: ``ACTIONRUNS_TEST_PIECES_CACHE``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from actionruns.pieces.install import describe, install
from actionruns.pieces.mapping import Installed, piece_manifest
from actionruns.pieces.runtime import close_bridges
from actionruns.sdk.described.manifest import AppManifest

FIXTURE = Path(__file__).with_name("fixture")
CACHE = Path(
    os.environ.get("ACTIONRUNS_TEST_PIECES_CACHE", Path.home() / ".cache/actionruns-test-pieces")
)


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        message = f"{tool} is not installed (Debian: apt-get install nodejs npm)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: under CI it must run")
        pytest.skip(message)


@pytest.fixture(autouse=True)
async def _bridges_stop() -> Any:
    yield
    await close_bridges()


FIXTURE_PIECE = Installed("./piece", "1.0.0", "", str(FIXTURE), "MIT")


@pytest.fixture
async def fixture_description() -> dict[str, Any]:
    need("node")
    return await describe(FIXTURE_PIECE)


@pytest.fixture
async def fixture_manifest(fixture_description: dict[str, Any]) -> AppManifest:
    return piece_manifest("fixture", fixture_description, FIXTURE_PIECE).manifest


def installed_piece(name: str, version: str) -> Installed:
    """A real piece from the registry, installed once into the cache."""
    need("node")
    need("npm")
    return install(CACHE, name, version)
