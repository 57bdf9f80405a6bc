"""A worker process killed in the middle of a run loses nothing: the lease runs out and
another worker runs it again, with the lost attempt on record."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from typing import Any

import pytest

from actionruns.store import RUNNING, RunRecord
from tests.conftest import ServiceFactory
from tests.processes import start_worker, wait_for_status


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


async def test_sigterm_finishes_short_attempts_and_exits_cleanly(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(workers=False)
    client = await service.new_client("acme")
    worker = start_worker(service, ACTIONRUNS_SHUTDOWN_GRACE_SECONDS="20")
    try:
        run_id = await client.run("testkit.sleep", {"seconds": 1.0})
        await wait_for_status(service, run_id, RUNNING)
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait, 30) == 0
        run = await client.wait(run_id, 1)
        assert run["status"] == "success", run
        assert run["attempts"] == 1
    finally:
        if worker.poll() is None:
            worker.kill()


async def test_sigterm_hands_back_what_outlasts_the_grace_period(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(workers=False, lease_seconds=60.0)
    client = await service.new_client("acme")
    first = start_worker(service, ACTIONRUNS_SHUTDOWN_GRACE_SECONDS="0.2")
    second: subprocess.Popen[bytes] | None = None
    try:
        run_id = await client.run("testkit.sleep", {"seconds": 2.0})
        await wait_for_status(service, run_id, RUNNING)
        first.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(first.wait, 30) == 0
        # Released, not left to a lease that would hold it for a minute.
        released = await service.engine.store.get_run(run_id)
        assert released is not None and released.status == "queued"
        second = start_worker(service)
        run = await client.wait(run_id, 30)
        assert run["status"] == "success", run
        outcomes = [a.outcome for a in await service.engine.store.list_attempts(run_id)]
        assert outcomes == ["released", "success"]
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()


async def test_a_run_leased_as_shutdown_begins_is_finished_not_left_leased(
    start_service: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM can arrive while a lease statement is in flight: the runs it returns are
    already leased to this worker, so the drain must wait for them too, not exit while they
    sit leased (to wait out the lease) with no one running them."""
    service = await start_service(workers=False)
    client = await service.new_client("acme")
    store = service.engine.store
    leased, resume = asyncio.Event(), asyncio.Event()
    lease = store.lease_runs

    async def slow_lease(*args: Any, **kwargs: Any) -> list[RunRecord]:
        runs = await lease(*args, **kwargs)
        if runs:
            leased.set()
            await resume.wait()  # the rows are committed; the answer is still on its way
        return runs

    monkeypatch.setattr(store, "lease_runs", slow_lease)
    run_id = await client.run("testkit.sleep", {"seconds": 0.1})
    worker = service.engine.new_worker()
    looping = asyncio.create_task(worker.run())
    await asyncio.wait_for(leased.wait(), 10)
    draining = asyncio.create_task(worker.drain(grace=10))
    await asyncio.sleep(0.2)  # the shutdown has begun while the lease is in flight
    resume.set()
    await asyncio.wait_for(draining, 20)
    looping.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await looping
    run = await store.get_run(run_id)
    assert run is not None and run.status == "success", run
