"""Files at rest: a new home is 0700, and the database, its write-ahead log and shared-memory
file are 0600, like keys.json: nothing of a run's data or a sealed value is readable by other
users of the machine."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.conftest import ServiceFactory


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_home_and_every_database_file_are_private(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    home = tmp_path / "fresh" / "home"
    service = await start_service(home=home)
    acme = await service.new_client("acme")
    await acme.wait(await acme.run("testkit.noop", {"value": "v"}))
    files = {path.name: mode(path) for path in home.iterdir()}
    assert mode(home) == 0o700
    assert {"actionruns.db", "actionruns.db-wal", "actionruns.db-shm", "keys.json"} <= set(files)
    assert files == dict.fromkeys(files, 0o600), files


async def test_an_existing_database_is_made_private(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    home = tmp_path / "older"
    home.mkdir()
    (home / "actionruns.db").touch(mode=0o644)
    service = await start_service(home=home)
    await service.new_client("acme")
    assert mode(home / "actionruns.db") == 0o600
    assert mode(home / "actionruns.db-wal") == 0o600
