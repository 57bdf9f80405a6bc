"""Key rotation as an operator runs it, next to a running service: every secret re-encrypted
under a new key, an interrupted rotation resumed, the old key retired, nothing lost and no
secret readable in the database file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actionruns.cli.main import app
from actionruns.engine import keys
from actionruns.engine.keys import KeyRotation
from actionruns.vault import Keyring, Vault
from tests.conftest import ServiceFactory

SECRETS = [f"sk_live_rotation_secret_{number:02d}" for number in range(7)]


async def cli(home: Path, *args: str, exit_code: int = 0) -> str:
    runner = CliRunner()
    env = {"ACTIONRUNS_HOME": str(home), "ACTIONRUNS_CONNECTORS": "tests.testkit:secretive"}
    result = await asyncio.to_thread(runner.invoke, app, list(args), env=env)
    assert result.exit_code == exit_code, result.output
    return " ".join(result.output.split())  # as said, whatever the terminal's width


async def test_rotate_resume_and_retire_beside_a_running_service(
    start_service: ServiceFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    service = await start_service(home=home)
    acme = await service.new_client("acme")
    authentications = [await acme.connect("secretive", {"api_key": key}) for key in SECRETS]
    old_key = Keyring.load(home / "keys.json").primary

    # A rotation that dies after its first batch leaves values under both keys, all readable.
    monkeypatch.setattr(keys, "BATCH", 3)
    keyring = Keyring.load(home / "keys.json").with_new_primary()
    keyring.save(home / "keys.json")
    rotation = KeyRotation(service.engine.store, Vault(keyring))

    def crash(done: int) -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        await rotation.reseal_all(crash)
    in_use = await rotation.keys_in_use()
    assert in_use[keyring.primary] == 3 and in_use[old_key] == len(SECRETS) + 1 - 3
    refused = await cli(home, "keys", "retire", "--force", exit_code=1)
    assert f"{old_key} seals {len(SECRETS) + 1 - 3} stored values" in refused
    assert "keys rotate --resume" in refused

    # The running service reads values under the key it has never seen, from the key file.
    for authentication in (authentications[0], authentications[-1]):
        run = await acme.wait(await acme.run("secretive.echo", {}, authentication))
        assert run["status"] == "success", run

    resumed = await cli(home, "keys", "rotate", "--resume")
    assert "re-encrypted" in resumed
    assert await rotation.keys_in_use() == {keyring.primary: len(SECRETS) + 1}
    # And once more, from the command alone: a third key, everything moved to it.
    await cli(home, "keys", "rotate")
    newest = Keyring.load(home / "keys.json")
    assert len(newest.keys) == 3
    # acme's access token, signed with the first key, is valid for an hour yet.
    refused = await cli(home, "keys", "retire", exit_code=1)
    assert "access tokens, connect links or sign-ins signed with the old key" in refused
    assert f"{old_key} until" in refused and "--force" in refused
    assert len(Keyring.load(home / "keys.json").keys) == 3
    retired = await cli(home, "keys", "retire", "--force")
    assert newest.primary in retired
    assert list(Keyring.load(home / "keys.json").keys) == [newest.primary]

    # Nothing was lost: every connection still works, through the service that ran all along.
    for authentication in authentications:
        run = await acme.wait(await acme.run("secretive.echo", {}, authentication))
        assert run["status"] == "success", run

    # The database file holds no secret in clear text.
    stored = b"".join(path.read_bytes() for path in home.glob("*.db*"))
    assert stored, "the SQLite files were not found"
    for secret in [*SECRETS, acme.client_secret, acme.signing_secret]:
        assert secret.encode() not in stored
    assert json.loads((home / "keys.json").read_text())["primary"] == newest.primary
