"""Where the machine allows, pieces' Node process runs under a user of its own
(``ACTIONRUNS_PIECES_USER``): shown from inside Node, with a piece still running; where it
cannot (the folder is closed to that user), it runs as the worker's user and says why."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from actionruns.pieces import bridge as bridge_module
from actionruns.pieces.runtime import PieceRunner, close_bridges
from actionruns.sdk.context import Context, open_context
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.outbound import OutboundGuard
from tests.pieces.conftest import FIXTURE


@pytest.fixture
async def pieces_user() -> AsyncIterator[pwd.struct_passwd]:
    """A throwaway system user, removed after (``nobody`` where useradd is missing)."""
    if os.geteuid() != 0:
        pytest.skip(f"only root may start a process as another user; this runs as {os.geteuid()}")
    if shutil.which("useradd") is None:
        yield pwd.getpwnam("nobody")
        return
    name = f"arpieces{os.getpid()}"
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
    )
    try:
        yield pwd.getpwnam(name)
    finally:
        await close_bridges()  # userdel refuses a user whose process still runs
        subprocess.run(["userdel", name], check=True)


@pytest.fixture
def open_folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The fixture piece and the bridge in a folder anyone may read (pytest's are closed),
    named as the pieces' folder."""
    folder = Path(tempfile.mkdtemp(prefix="actionruns-pieces-", dir="/tmp"))
    folder.chmod(0o755)
    shutil.copytree(FIXTURE, folder / FIXTURE.name)
    # The checkout may be under a folder closed to other users (/root): the bridge's copy.
    script = shutil.copy(bridge_module.BRIDGE_SCRIPT, folder / "bridge.js")
    monkeypatch.setattr(bridge_module, "BRIDGE_SCRIPT", Path(script))
    monkeypatch.setenv("ACTIONRUNS_PIECES_DIR", str(folder))
    yield folder
    shutil.rmtree(folder)


@pytest.fixture
async def context(fixture_manifest: AppManifest) -> AsyncIterator[Context]:
    app = build_app(fixture_manifest)
    guard = OutboundGuard()
    async with open_context(app.auth, {"api_key": "k"}, guard, app_key=app.key) as ctx:
        yield ctx
    await guard.aclose()


async def test_the_node_process_runs_as_the_pieces_user(
    fixture_manifest: AppManifest,
    context: Context,
    pieces_user: pwd.struct_passwd,
    open_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACTIONRUNS_PIECES_USER", pieces_user.pw_name)
    await close_bridges()  # the next call starts one with these settings
    runner = PieceRunner(fixture_manifest)
    with capture_logs() as logs:
        identity = await runner.perform(context, "identity", {})
    assert identity == {
        "uid": pieces_user.pw_uid,
        "gid": pieces_user.pw_gid,
        "groups": [pieces_user.pw_gid],  # none of the worker's groups
    }
    assert not [entry for entry in logs if entry["event"] == "pieces_run_as_the_workers_user"]
    echoed = await runner.perform(context, "echo", {"title": "still runs"})
    assert echoed["props"]["title"] == "still runs"


async def test_a_folder_closed_to_that_user_runs_the_piece_as_the_worker_and_says_why(
    fixture_manifest: AppManifest,
    context: Context,
    pieces_user: pwd.struct_passwd,
    open_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACTIONRUNS_PIECES_USER", pieces_user.pw_name)
    (open_folder / FIXTURE.name).chmod(0o700)
    await close_bridges()
    with capture_logs() as logs:
        identity = await PieceRunner(fixture_manifest).perform(context, "identity", {})
    assert identity["uid"] == os.geteuid()
    (said,) = [entry for entry in logs if entry["event"] == "pieces_run_as_the_workers_user"]
    assert said["user"] == pieces_user.pw_name
    assert said["why"] == f"{pieces_user.pw_name} may not read {open_folder / FIXTURE.name}"


def test_an_unknown_user_or_no_right_to_switch_is_said() -> None:
    assert bridge_module.switched_user("no-such-user-here", []) == (
        {},
        "there is no user 'no-such-user-here'",
    )
    if os.geteuid() == 0:
        _, why = bridge_module.switched_user("", [])
        assert why is not None and "run as root" in why
