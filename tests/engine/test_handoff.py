"""Runs submitted to a process with a worker go straight to it, stored already leased."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from actionruns.store import RunRecord
from tests import testkit
from tests.conftest import ApiClient, Service, ServiceFactory


async def test_a_run_is_stored_leased_with_its_first_attempt_before_the_answer(
    service: Service, acme: ApiClient
) -> None:
    key = uuid.uuid4().hex
    run_id = await acme.run("testkit.sleep", {"seconds": 30, "key": key})
    # Read straight after the 2xx, before the attempt could have got anywhere.
    stored = await service.engine.store.get_run(run_id)
    assert stored is not None
    assert stored.status == "running"
    assert stored.attempts == 1
    assert stored.lease_owner is not None and stored.lease_expires_at is not None
    assert stored.started_at == stored.created_at
    attempts = await service.engine.store.list_attempts(run_id)
    assert [(a.number, a.worker, a.finished_at) for a in attempts] == [
        (1, stored.lease_owner, None)
    ]
    await asyncio.wait_for(testkit.started.setdefault(key, asyncio.Event()).wait(), 10)
    assert (await acme.post(f"/v2/action-runs/{run_id}/cancel")).status_code == 202
    assert (await acme.wait(run_id))["status"] == "error"


async def test_runs_beyond_the_workers_capacity_wait_in_the_queue(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(worker_concurrency=2)
    client = await service.new_client("acme")
    key = uuid.uuid4().hex
    # Each sleeps a second: long enough for all five to be sent first on a busy machine.
    runs = [await client.run("testkit.sleep", {"seconds": 1.0, "key": key}) for _ in range(5)]
    statuses = [(await service.engine.store.get_run(run_id)) for run_id in runs]
    assert [run.status for run in statuses if run is not None] == [
        "running",
        "running",
        "queued",
        "queued",
        "queued",
    ]
    finished = [await client.wait(run_id) for run_id in runs]
    assert [run["status"] for run in finished] == ["success"] * 5
    assert [run["attempts"] for run in finished] == [1] * 5
    assert testkit.calls[key] == 5


async def test_a_run_taken_while_leases_are_being_renewed_is_left_running(
    service: Service, acme: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The renewal asks about the runs held when it began; a run taken while the statement
    runs holds a fresh lease and must not be taken for one that was lost."""
    store = service.engine.store
    renewing, resume = asyncio.Event(), asyncio.Event()
    extend = store.extend_leases

    async def slow_extend(
        worker: str, run_ids: Sequence[str], until: float
    ) -> tuple[set[str], set[str]]:
        answer = await extend(worker, run_ids, until)
        renewing.set()
        await resume.wait()  # a slow database: the answer comes back later
        return answer

    monkeypatch.setattr(store, "extend_leases", slow_extend)
    long_key, short_key = uuid.uuid4().hex, uuid.uuid4().hex
    first = await acme.run("testkit.sleep", {"seconds": 5, "key": long_key})
    await asyncio.wait_for(renewing.wait(), 10)  # the lease is 3 s: renewed after 1 s
    second = await acme.run("testkit.sleep", {"seconds": 0.2, "key": short_key})
    await asyncio.wait_for(testkit.started.setdefault(short_key, asyncio.Event()).wait(), 10)
    resume.set()
    run = await acme.wait(second, seconds=10)
    assert run["status"] == "success"
    assert run["attempts"] == 1
    assert testkit.calls[short_key] == 1
    assert (await acme.post(f"/v2/action-runs/{first}/cancel")).status_code == 202


async def test_a_wait_on_a_run_executing_here_keeps_tenancy_and_wakes_at_once(
    service: Service, acme: ApiClient
) -> None:
    globex = await service.new_client("globex")
    key = uuid.uuid4().hex
    run_id = await acme.run("testkit.sleep", {"seconds": 0.5, "key": key})
    await asyncio.wait_for(testkit.started.setdefault(key, asyncio.Event()).wait(), 10)
    assert service.engine.events.unfinished_here(run_id) is not None
    for other in (globex, acme.acting_for("someone-else")):
        response = await other.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": 1})
        assert response.status_code == 404, response.text
    pending = await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": 0.05})
    assert pending.status_code == 202
    assert pending.json()["data"]["status"] == "running"
    finished = await acme.wait(run_id, seconds=10)
    assert finished["status"] == "success"
    assert service.engine.events.unfinished_here(run_id) is None


async def test_a_run_submitted_while_the_worker_looks_at_the_queue_is_still_handed_over(
    service: Service, acme: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work signalled while the worker looks at the queue must not turn submissions away
    when slots are free: each would be queued and signal the worker again, so under a
    steady stream of submissions no run would be handed over at all."""
    store = service.engine.store
    looking, resume = asyncio.Event(), asyncio.Event()
    lease = store.lease_runs

    async def slow_lease(*args: Any, **kwargs: Any) -> list[RunRecord]:
        looking.set()
        await resume.wait()  # the statement is on its way
        return await lease(*args, **kwargs)

    monkeypatch.setattr(store, "lease_runs", slow_lease)
    service.engine.events.submitted()  # as a submission elsewhere would
    await asyncio.wait_for(looking.wait(), 10)
    service.engine.events.submitted()  # and another, while the worker looks
    run_id = await acme.run("testkit.noop", {})
    stored = await store.get_run(run_id)
    resume.set()
    # Not queued: the lease that could take a queued run is still held back, so a run that
    # started (or even finished) by now was handed over.
    assert stored is not None and stored.status in ("running", "success"), stored
    assert (await acme.wait(run_id))["status"] == "success"


async def test_runs_waiting_for_a_slot_start_before_later_submissions(
    start_service: ServiceFactory,
) -> None:
    """Under overload the queue is first come, first served: a slot that frees goes to the
    oldest waiting run, not to a run submitted after it."""
    service = await start_service(worker_concurrency=1)
    client = await service.new_client("acme")
    key = uuid.uuid4().hex
    first = await client.run("testkit.sleep", {"seconds": 0.3, "key": key})
    waiting = await client.run("testkit.sleep", {"seconds": 0.01, "key": key})
    await client.wait(first)
    later = await client.run("testkit.sleep", {"seconds": 0.01, "key": key})
    runs = {run_id: await client.wait(run_id) for run_id in (waiting, later)}
    assert runs[waiting]["started_at"] <= runs[later]["started_at"]
