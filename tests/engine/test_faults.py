"""Faults under load on PostgreSQL: killed workers lose nothing and never overlap a run."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select

from actionruns.store import FINISHED_STATUSES, RUNNING
from actionruns.store.schema import runs
from tests.conftest import ApiClient, Service, ServiceFactory, free_port
from tests.processes import start_api_node, start_worker

# It restarts the PostgreSQL server and its leases are one second: it runs by itself.
pytestmark = pytest.mark.alone

KILLS = 20


@pytest.fixture
def backend() -> str:
    return "postgresql"


def overlapping_executions(
    log: Path, deaths: dict[int, float]
) -> dict[str, list[tuple[float, float, int]]]:
    """Runs with two executions at once; an execution killed mid-way ends at its death."""
    spans: defaultdict[str, list[tuple[float, float, int]]] = defaultdict(list)
    started: dict[tuple[str, int], float] = {}
    for line in log.read_text().splitlines():
        event = json.loads(line)
        key = (event["run"], event["pid"])
        if event["event"] == "start":
            started[key] = event["t"]
        else:
            spans[event["run"]].append((started.pop(key), event["t"], event["pid"]))
    for (run_id, pid), start in started.items():
        spans[run_id].append((start, deaths.get(pid, float("inf")), pid))
    overlapping = {}
    for run_id, intervals in spans.items():
        intervals.sort()
        if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(intervals)):
            overlapping[run_id] = intervals
    return overlapping


async def submit_steadily(client: ApiClient, log: Path, stop: asyncio.Event) -> list[str]:
    run_ids = []
    while not stop.is_set():
        seconds = random.choice((0.05, 0.1, 0.3, 0.6))
        run_ids.append(await client.run("testkit.record", {"log": str(log), "seconds": seconds}))
        await asyncio.sleep(0.02)
    return run_ids


@pytest.mark.timeout(300)  # each kill waits for its victim to lease: long on a busy machine
async def test_killing_workers_at_random_loses_no_run_and_never_overlaps_one(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    service: Service = await start_service(workers=False, lease_seconds=1.0)
    client = await service.new_client("acme")
    log = tmp_path / "executions.jsonl"
    workers = [start_worker(service, concurrency=8) for _ in range(2)]
    deaths: dict[int, float] = {}
    stop = asyncio.Event()
    submitting = asyncio.create_task(submit_steadily(client, log, stop))
    try:
        for _ in range(KILLS):
            await asyncio.sleep(random.uniform(0.2, 0.8))
            index = random.randrange(len(workers))
            victim = workers[index]
            # Killed while it runs something: a worker that has not leased yet (a slow start
            # on a busy machine) would prove nothing.
            await until(partial(holds_a_lease, service, victim.pid), 15)
            victim.send_signal(signal.SIGKILL)
            await asyncio.to_thread(victim.wait, 10)
            deaths[victim.pid] = time.time()
            workers[index] = start_worker(service, concurrency=8)
        stop.set()
        run_ids = await submitting

        pending = set(run_ids)
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            for run_id in list(pending):
                run = await service.engine.store.get_run(run_id)
                if run is not None and run.status in FINISHED_STATUSES:
                    pending.discard(run_id)
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)

    assert len(run_ids) > 100
    assert not pending, f"{len(pending)} accepted runs never finished"
    statuses: defaultdict[str, int] = defaultdict(int)
    lost = 0
    for run_id in run_ids:
        run = await service.engine.store.get_run(run_id)
        assert run is not None
        statuses[run.status] += 1
        attempts = await service.engine.store.list_attempts(run_id)
        # Every attempt is on record, numbered without gaps, and only the last may succeed.
        assert [attempt.number for attempt in attempts] == list(range(1, run.attempts + 1))
        # Before the last, an attempt ended without success: its worker was killed (lost), or
        # on a starved machine it missed its one-second lease or its timeout (retry).
        outcomes = [attempt.outcome for attempt in attempts]
        assert all(outcome in ("lost", "retry") for outcome in outcomes[:-1]), outcomes
        lost += outcomes[:-1].count("lost")
        if run.status == "error":  # only a run interrupted as often as its attempt limit
            assert run.errors is not None and run.errors[0]["title"] == "Run abandoned", run.errors
            # Its last lease only records the abandonment, past the limit: every attempt before
            # it was lost (a kill may land on a lease that was to record it, too).
            assert run.attempts > run.max_attempts, run
    assert statuses["success"] + statuses["error"] == len(run_ids), dict(statuses)
    assert lost > 0, "no kill interrupted a run: the test proved nothing"
    assert overlapping_executions(log, deaths) == {}


async def submit_until(
    http: httpx2.AsyncClient, token: str, stop: asyncio.Event, answers: list[int]
) -> list[str]:
    """Submit no-op runs until told to stop; the ids of those accepted with a 2xx."""
    accepted = []
    while not stop.is_set():
        try:
            response = await http.post(
                "/v2/action-runs",
                headers={"Authorization": f"Bearer {token}"},
                json={"data": {"action": "testkit.noop", "inputs": {"value": "x"}}},
            )
        except httpx2.TransportError:
            answers.append(0)  # the node is down: nothing was accepted
        else:
            answers.append(response.status_code)
            if response.is_success:
                accepted.append(response.json()["data"]["id"])
        await asyncio.sleep(0.01)
    return accepted


async def until(condition: Callable[[], bool | Awaitable[bool]], seconds: float) -> None:
    """Wait until ``condition`` holds, or ``seconds`` passed (the test's own checks then
    say what did not happen)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        held = condition()
        if held if isinstance(held, bool) else await held:
            return
        await asyncio.sleep(0.05)


def accepted_since(answers: list[int], mark: int, wanted: int) -> bool:
    """Whether ``wanted`` runs were accepted since ``answers[mark]``."""
    return sum(200 <= answer < 300 for answer in answers[mark:]) >= wanted


async def holds_a_lease(service: Service, pid: int) -> bool:
    """Whether the worker process ``pid`` is running a run now (worker names hold the pid)."""
    query = (
        select(runs.c.id)
        .where(runs.c.status == RUNNING, runs.c.lease_owner.like(f"%:{pid}:%"))
        .limit(1)
    )
    found = await service.engine.store.transaction(lambda conn: conn.execute(query).first())
    return found is not None


async def wait_all_finished(service: Service, run_ids: list[str], seconds: float) -> set[str]:
    """The runs still unfinished after ``seconds``."""
    pending = set(run_ids)
    deadline = time.monotonic() + seconds
    while pending and time.monotonic() < deadline:
        for run_id in list(pending):
            run = await service.engine.store.get_run(run_id)
            if run is not None and run.status in FINISHED_STATUSES:
                pending.discard(run_id)
        await asyncio.sleep(0.1)
    return pending


async def test_killing_an_api_node_loses_no_accepted_run(start_service: ServiceFactory) -> None:
    service: Service = await start_service()  # the worker node
    client = await service.new_client("acme")
    port = free_port()
    node = await start_api_node(service, port)
    answers: list[int] = []
    stop = asyncio.Event()
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        submitting = asyncio.create_task(submit_until(http, client.token, stop, answers))
        try:
            for _ in range(3):
                # Killed once this node has accepted runs, however slow the machine is now.
                await until(partial(accepted_since, answers, len(answers), 20), 30)
                node.send_signal(signal.SIGKILL)
                await asyncio.to_thread(node.wait, 10)
                node = await start_api_node(service, port)
            await asyncio.sleep(0.5)
        finally:
            stop.set()
            accepted = await submitting
            node.kill()
            await asyncio.to_thread(node.wait, 10)

    assert len(accepted) > 50 and 0 in answers, sorted(set(answers))  # load, and downtime
    assert await wait_all_finished(service, accepted, 30) == set()
    for run_id in accepted:
        run = await service.engine.store.get_run(run_id)
        assert run is not None and run.status == "success"


def restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
        check=True,
        capture_output=True,
    )


@pytest.mark.skipif(not Path("/etc/postgresql").is_dir(), reason="needs a local PostgreSQL")
async def test_a_postgres_restart_is_a_503_then_nothing_is_lost(
    start_service: ServiceFactory,
) -> None:
    service: Service = await start_service()
    client = await service.new_client("acme")
    answers: list[int] = []
    stop = asyncio.Event()
    async with httpx2.AsyncClient(base_url=service.base_url, timeout=15) as http:
        submitting = asyncio.create_task(submit_until(http, client.token, stop, answers))
        await asyncio.sleep(0.5)
        await asyncio.to_thread(restart_postgres)
        await asyncio.sleep(2)
        stop.set()
        accepted = await submitting

    # While the database was away, clients got a clear 503 (never a 500, never a hang).
    assert set(answers) <= {200, 503}, sorted(set(answers))
    assert await wait_all_finished(service, accepted, 30) == set()
    # Processes reconnect by themselves: a run submitted now completes.
    run = await client.wait(await client.run("testkit.noop", {}), 20)
    assert run["status"] == "success"
