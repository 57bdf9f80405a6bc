"""Pieces for the tests: a hand-made one beside this file, and real ones from the npm registry
(installed once into a cache kept between runs: ``ACTIONRUNS_TEST_PIECES_CACHE``)."""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import trustme

from actionruns.pieces.install import describe, install, package_name, short_name
from actionruns.pieces.mapping import Installed, piece_manifest
from actionruns.pieces.runtime import close_bridges
from actionruns.sdk.described.manifest import AppManifest
from tests.locks import held

# The curated pieces' runs assert in helper modules: rewritten as tests are, a failure says why.
pytest.register_assert_rewrite("tests.pieces.emulated")

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


@functools.cache
def installed_piece(name: str, version: str) -> Installed:
    """A real piece from the registry, installed once into the cache (``version`` is exact: a
    piece in the cache is not asked of the registry again, which takes a second)."""
    need("node")
    need("npm")
    package = package_name(name)
    folder = CACHE / f"{short_name(package)}@{version}"
    # The suite's processes share the cache: one installs a piece while the others wait.
    with held(CACHE / ".lock"):
        if (folder / "package-lock.json").is_file():  # installed, its integrity checked, before
            lock = json.loads((folder / "package-lock.json").read_text())
            integrity = str(lock["packages"][f"node_modules/{package}"]["integrity"])
            meta = json.loads((folder / "node_modules" / package / "package.json").read_text())
            license = str(meta.get("license", ""))
            return Installed(package, version, integrity, str(folder), license)
        return install(CACHE, name, version)


_described: dict[tuple[str, str], dict[str, Any]] = {}


async def described_piece(name: str, version: str) -> tuple[Installed, dict[str, Any]]:
    """A real piece and what it says of itself, described once a session."""
    installed = installed_piece(name, version)
    if (name, version) not in _described:
        _described[name, version] = await describe(installed)
    return installed, _described[name, version]


@pytest.fixture
def trusted_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A test CA the bridge's Node trusts (``SSL_CERT_FILE``), for vendors' stand-ins."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    return ca
