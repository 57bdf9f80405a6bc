"""An app's declared limits and an upstream's throttling hold across all workers."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from pathlib import Path

from tests.conftest import ServiceFactory
from tests.processes import start_worker


def executions(log: Path) -> dict[str, list[tuple[float, float]]]:
    """Each run's executions as (start, end), from the log the record action writes."""
    started: dict[str, float] = {}
    spans: dict[str, list[tuple[float, float]]] = {}
    for line in log.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "start":
            started[event["run"]] = event["t"]
        else:
            spans.setdefault(event["run"], []).append((started.pop(event["run"]), event["t"]))
    return spans


async def test_concurrency_and_rate_are_held_per_account_across_workers(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    service = await start_service()
    client = await service.new_client("acme")
    first = await client.connect("limited", {"api_key": "account-a"})
    second = await client.connect("limited", {"api_key": "account-b"})
    log = tmp_path / "executions.jsonl"
    other = start_worker(service, concurrency=8)  # a second process competes for the runs
    try:
        on_first = [
            await client.run("limited.record", {"log": str(log), "seconds": 0.2}, first)
            for _ in range(5)
        ]
        on_second = [
            await client.run("limited.record", {"log": str(log), "seconds": 0.2}, second)
            for _ in range(2)
        ]
        for run_id in on_first + on_second:
            assert (await client.wait(run_id, 30))["status"] == "success"
    finally:
        other.terminate()
        other.wait(10)

    spans = executions(log)
    first_spans = sorted(span for run_id in on_first for span in spans[run_id])
    assert len(first_spans) == 5
    for earlier, later in itertools.pairwise(first_spans):
        assert later[0] >= earlier[1], "two runs on one account ran at once"
        # Two starts a second, evenly spaced (a few ms of logging jitter allowed).
        assert later[0] - earlier[0] >= 0.45
    # The limits are per account: the other account's runs did not queue behind them.
    second_starts = [spans[run_id][0][0] for run_id in on_second]
    assert min(second_starts) < first_spans[-1][0]


async def test_a_throttle_holds_back_every_run_on_the_account(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    service = await start_service()
    client = await service.new_client("acme")
    throttled = await client.connect("limited", {"api_key": "account-a"})
    untouched = await client.connect("limited", {"api_key": "account-b"})
    store = service.engine.store

    first = await client.run(
        "limited.throttle_once", {"key": uuid.uuid4().hex, "delay": 2.0}, throttled
    )
    for _ in range(200):  # until its first attempt was throttled
        record = await store.get_authentication(throttled)
        if record is not None and record.throttled_until:
            break
        await asyncio.sleep(0.02)
    assert record is not None and record.throttled_until is not None
    log = str(tmp_path / "log.jsonl")
    held = await client.run("limited.record", {"log": log, "seconds": 0}, throttled)
    free = await client.run("limited.record", {"log": log, "seconds": 0}, untouched)

    for run_id in (first, held, free):
        assert (await client.wait(run_id, 30))["status"] == "success"
    held_run, free_run = await store.get_run(held), await store.get_run(free)
    assert held_run is not None and free_run is not None
    assert held_run.started_at is not None and held_run.started_at >= record.throttled_until
    assert free_run.started_at is not None and free_run.started_at < record.throttled_until
    assert (await client.wait(first))["attempts"] == 2
