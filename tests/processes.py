"""Worker processes for tests that kill, stop and restart them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Service

REPO = Path(__file__).resolve().parents[1]


def start_worker(
    service: Service, *, concurrency: int = 4, **settings: str
) -> subprocess.Popen[bytes]:
    """A worker process on the service's database; its log goes to ``worker.log`` in its home
    (a pipe nobody reads would block it once full)."""
    env = {
        **os.environ,
        "ACTIONRUNS_HOME": str(service.engine.settings.home),
        "ACTIONRUNS_CONNECTORS": "tests.testkit:testkit,tests.testkit:secretive",
        "ACTIONRUNS_LEASE_SECONDS": str(service.engine.settings.lease_seconds),
        "ACTIONRUNS_DATABASE_URL": service.engine.settings.database_url,
        "PYTHONPATH": str(REPO),
        **settings,
    }
    with open(service.engine.settings.home / "worker.log", "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "actionruns.cli.main",
                "worker",
                "--concurrency",
                str(concurrency),
            ],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def wait_for_status(service: Service, run_id: str, status: str) -> None:
    for _ in range(400):
        run = await service.engine.store.get_run(run_id)
        if run is not None and run.status == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {status}")
