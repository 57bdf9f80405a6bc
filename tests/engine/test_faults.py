"""Faults under load on PostgreSQL: killed workers lose nothing and never overlap a run."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import signal
import time
from collections import defaultdict
from pathlib import Path

import pytest

from actionruns.store import FINISHED_STATUSES
from tests.conftest import ApiClient, Service, ServiceFactory
from tests.processes import start_worker

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
        assert all(attempt.outcome == "lost" for attempt in attempts[:-1])
        lost += len(attempts) - 1
        if run.status == "error":  # only a run interrupted more often than its attempt limit
            assert run.errors[0]["title"] == "Run abandoned", run.errors
    assert statuses["success"] >= len(run_ids) - 2, dict(statuses)
    assert lost > 0, "no kill interrupted a run: the test proved nothing"
    assert overlapping_executions(log, deaths) == {}
