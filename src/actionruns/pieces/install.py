"""Installing a piece from the npm registry: ``npm install --ignore-scripts`` of an exact version
into a folder of its own (``<pieces>/<name>@<version>``), its integrity checked against what
the registry says, then described by the bridge."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from actionruns.pieces.bridge import NodeBridge
from actionruns.pieces.mapping import Installed

SCOPE = "@activepieces/piece-"
NPM_TIMEOUT = 600.0
EXACT = re.compile(r"\d+\.\d+\.\d+")
RESOLVING_AT_ONCE = 4


class InstallFailed(RuntimeError):
    pass


def package_name(name: str) -> str:
    """``slack`` → ``@activepieces/piece-slack``; a full package name stays as it is."""
    return name if name.startswith("@") else SCOPE + name


def short_name(package: str) -> str:
    return package.removeprefix(SCOPE).rsplit("/", 1)[-1]


def _npm(*arguments: str, cwd: Path | None = None) -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise InstallFailed("npm is needed to add pieces (Debian: apt-get install nodejs npm).")
    done = subprocess.run(  # noqa: S603 (npm, with arguments we made)
        [npm, *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise InstallFailed(f"npm {arguments[0]} failed: {' '.join(said[-3:])}")
    return done.stdout


def resolve(package: str, version: str | None) -> dict[str, Any]:
    """The registry's word on the version to install: exact version, integrity, license."""
    if version and EXACT.fullmatch(version):
        return dict(_resolve_exact(package, version))
    return _resolve(package, version)


def resolve_all(pieces: Iterable[tuple[str, str]]) -> None:
    """Ask the registry about these exact versions side by side (``npm view`` is a second of
    waiting each), so that installing them one after the other asks no more. A refusal is
    left for the install that needs it to report."""

    def ask(piece: tuple[str, str]) -> None:
        with contextlib.suppress(InstallFailed):
            resolve(package_name(piece[0]), piece[1])

    with ThreadPoolExecutor(max_workers=RESOLVING_AT_ONCE) as pool:
        list(pool.map(ask, pieces))


# An exact version's record never changes (the registry refuses to publish one again).
@functools.cache
def _resolve_exact(package: str, version: str) -> Mapping[str, Any]:
    return _resolve(package, version)


def _resolve(package: str, version: str | None) -> dict[str, Any]:
    spec = f"{package}@{version or 'latest'}"
    text = _npm("view", spec, "version", "dist.integrity", "license", "--json")
    if not text.strip():
        raise InstallFailed(f"the registry has no version {version or 'latest'} of {package}")
    found = json.loads(text)
    chosen: dict[str, Any] = found[-1] if isinstance(found, list) else found
    return chosen


def _installed_integrity(folder: Path, package: str) -> str:
    lock = json.loads((folder / "package-lock.json").read_text())
    entry = lock.get("packages", {}).get(f"node_modules/{package}", {})
    return str(entry.get("integrity", ""))


def install(root: Path, name: str, version: str | None = None) -> Installed:
    """Install the piece (or find it installed) under ``root``."""
    package = package_name(name)
    found = resolve(package, version)
    exact, integrity = str(found["version"]), str(found.get("dist.integrity", ""))
    target = root / f"{short_name(package)}@{exact}"
    installed = Installed(package, exact, integrity, str(target), str(found.get("license", "")))
    if target.is_dir() and _installed_integrity(target, package) == integrity:
        return installed
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".installing-", dir=root))
    # mkdtemp's folder is the worker's alone; a piece is public code that the pieces' user
    # (ACTIONRUNS_PIECES_USER) must read.
    work.chmod(0o755)
    try:
        (work / "package.json").write_text('{"private": true}\n')
        _npm(
            "install",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--save-exact",
            f"{package}@{exact}",
            cwd=work,
        )
        got = _installed_integrity(work, package)
        if integrity and got != integrity:
            raise InstallFailed(f"{package}@{exact} arrived with integrity {got}, not {integrity}")
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return installed


async def describe(installed: Installed, user: str = "") -> dict[str, Any]:
    """What the piece says of itself: auths, actions and their props (its code runs to say
    it: as ``user`` where the worker may switch, as a run would)."""
    async with NodeBridge(user=user) as bridge:
        piece = {"dir": installed.directory, "package": installed.package}
        described: dict[str, Any] = await bridge.call({"op": "describe", "piece": piece}, 120)
        return described


def remove_installed(directory: str) -> None:
    folder = Path(directory)
    if folder.is_dir():
        shutil.rmtree(folder)


async def install_and_describe(
    root: Path, name: str, version: str | None = None, user: str = ""
) -> tuple[Installed, dict[str, Any]]:
    installed = await asyncio.to_thread(install, root, name, version)
    return installed, await describe(installed, user)
