"""Worker and API processes for tests that kill, stop and restart them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx2

from tests.conftest import Service

REPO = Path(__file__).resolve().parents[1]
TESTKIT_APPS = ",".join(
    f"tests.testkit:{name}" for name in ("testkit", "secretive", "limited", "echoing")
)


CLI = [sys.executable, "-m", "actionruns.cli.main"]


def cli_environment(service: Service, **settings: str) -> dict[str, str]:
    """What ``actionruns`` needs to work on the service's home and database."""
    return {
        **os.environ,
        "ACTIONRUNS_HOME": str(service.engine.settings.home),
        "ACTIONRUNS_CONNECTORS": TESTKIT_APPS,
        "ACTIONRUNS_LEASE_SECONDS": str(service.engine.settings.lease_seconds),
        "ACTIONRUNS_DATABASE_URL": service.engine.settings.database_url,
        "PYTHONPATH": str(REPO),
        **settings,
    }


def _start(
    service: Service, arguments: list[str], log_name: str, **settings: str
) -> subprocess.Popen[bytes]:
    """``actionruns ARGUMENTS`` on the service's home and database; output to a log file in
    its home (a pipe nobody reads would block the process once full)."""
    with open(service.engine.settings.home / log_name, "ab") as log:
        return subprocess.Popen(
            [*CLI, *arguments],
            env=cli_environment(service, **settings),
            cwd=REPO,
            stdout=log,
            stderr=log,
        )


def start_worker(
    service: Service, *, concurrency: int = 4, options: Sequence[str] = (), **settings: str
) -> subprocess.Popen[bytes]:
    arguments = ["worker", "--concurrency", str(concurrency), *options]
    return _start(service, arguments, "worker.log", **settings)


async def start_api_node(service: Service, port: int, **settings: str) -> subprocess.Popen[bytes]:
    """``actionruns serve --no-workers``, once it answers ``/readyz``."""
    arguments = ["serve", "--no-workers", "--port", str(port)]
    process = _start(service, arguments, "api.log", **settings)
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(300):
            if process.poll() is not None:
                raise AssertionError(f"the API node exited with {process.returncode}")
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return process
            except httpx2.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the API node never became ready")


async def wait_for_status(service: Service, run_id: str, status: str) -> None:
    for _ in range(400):
        run = await service.engine.store.get_run(run_id)
        if run is not None and run.status == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {status}")
