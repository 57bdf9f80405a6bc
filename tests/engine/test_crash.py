"""A worker process killed in the middle of a run loses nothing: the lease runs out and
another worker runs it again, with the lost attempt on record."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from actionruns.store import RUNNING
from tests.conftest import Service, ServiceFactory

REPO = Path(__file__).resolve().parents[2]


def start_worker(service: Service) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ACTIONRUNS_HOME": str(service.engine.settings.home),
        "ACTIONRUNS_CONNECTORS": "tests.testkit:testkit,tests.testkit:secretive",
        "ACTIONRUNS_LEASE_SECONDS": str(service.engine.settings.lease_seconds),
        "ACTIONRUNS_DATABASE_URL": service.engine.settings.database_url,
        "PYTHONPATH": str(REPO),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "actionruns.cli.main", "worker", "--concurrency", "4"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def wait_for_status(service: Service, run_id: str, status: str) -> None:
    for _ in range(400):
        run = await service.engine.store.get_run(run_id)
        if run is not None and run.status == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {status}")


async def test_a_killed_worker_does_not_lose_its_run(start_service: ServiceFactory) -> None:
    service = await start_service(workers=False, lease_seconds=1.0)
    client = await service.new_client("acme")
    first = start_worker(service)
    second: subprocess.Popen[bytes] | None = None
    try:
        run_id = await client.run("testkit.sleep", {"seconds": 1.5})
        await wait_for_status(service, run_id, RUNNING)
        first.send_signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
        second = start_worker(service)
        run = await client.wait(run_id, 30)
        assert run["status"] == "success", run
        assert run["attempts"] == 2
        outcomes = [a.outcome for a in await service.engine.store.list_attempts(run_id)]
        assert outcomes == ["lost", "success"]
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)
