"""API nodes and worker nodes sharing one PostgreSQL database hear each other at once."""

from __future__ import annotations

import asyncio

import pytest

from actionruns.engine import runs as runs_module
from tests.conftest import ServiceFactory
from tests.testkit import started


@pytest.fixture
def backend() -> str:
    return "postgresql"


async def test_a_run_finishing_on_a_worker_node_wakes_the_waiter_on_an_api_node(
    start_service: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the safety re-check pushed past the wait, only a signal from the worker node can
    # end the wait before it runs out.
    monkeypatch.setattr(runs_module, "CROSS_PROCESS_RECHECK_SECONDS", 3600.0)
    api = await start_service(workers=False)
    worker = await start_service(home=api.engine.settings.home)  # same database and keys
    client = await api.new_client("acme")
    heard: list[tuple[str, str]] = []
    receive = api.engine.events.receive

    def record_and_receive(kind: str, run: str) -> None:
        heard.append((kind, run))
        receive(kind, run)

    monkeypatch.setattr(api.engine.events, "receive", record_and_receive)

    run_id = await client.run("testkit.sleep", {"seconds": 0.2, "key": "scale-wake"})
    response = await client.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": 60})

    assert response.status_code == 200
    assert response.json()["data"]["status"] == "success"
    assert ("finished", run_id) in heard
    [attempt] = await api.engine.store.list_attempts(run_id)
    assert attempt.worker == worker.engine._workers[0].name


async def test_a_cancel_on_one_node_stops_the_attempt_on_another(
    start_service: ServiceFactory,
) -> None:
    api = await start_service(workers=False)
    await start_service(home=api.engine.settings.home, lease_seconds=60.0)
    client = await api.new_client("acme")
    run_id = await client.run("testkit.sleep", {"seconds": 30, "key": "scale-cancel"})
    while "scale-cancel" not in started:
        await asyncio.sleep(0.02)

    # The worker's heartbeat is 20 s away: only the signal can stop the attempt sooner.
    cancelled = await client.post(f"/v2/action-runs/{run_id}/cancel")
    assert cancelled.status_code == 202, cancelled.text  # asked of a running attempt
    run = await client.wait(run_id, 15)

    assert run["status"] == "error"
    assert run["errors"][0]["title"] == "cancelled"
    [attempt] = await api.engine.store.list_attempts(run_id)
    assert attempt.outcome == "error"
