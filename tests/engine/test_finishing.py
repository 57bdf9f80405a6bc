"""Attempts ending at the same moment are recorded together on PostgreSQL, and each worker
still learns whether its own run was held: same rows, same answers as one at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text

from actionruns.store import store as store_module
from actionruns.store.finishing import AttemptEnd, finish_together
from actionruns.store.records import RunRecord
from tests.conftest import Service, ServiceFactory

RUNS = 12


async def _leased(service: Service, count: int, worker: str) -> list[RunRecord]:
    client = await service.new_client("acme")
    for index in range(count):
        await client.run("testkit.noop", {"n": index})
    leased = await service.engine.store.lease_runs(
        worker, count, service.engine.clock(), 60.0, apps=["testkit"]
    )
    assert len(leased) == count
    return leased


async def _finish(service: Service, run: RunRecord, worker: str, index: int) -> bool:
    now = service.engine.clock()
    return await service.engine.store.finish_attempt(
        run,
        worker,
        now,
        outcome="success",
        run_values={
            "status": "success",
            "results": [{"index": index, "nested": {"none": None, "text": 'a "quote"'}}],
            "errors": [],
            "finished_at": now,
            "callback_status": None,
            "callback_next_at": None,
            "holds_limit": False,
        },
        requests=[{"method": "POST", "url": "https://example.com/x", "status": 200}],
    )


async def test_concurrent_finishes_answer_each_worker_for_its_own_run(
    start_service: ServiceFactory, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []

    async def counted(runner: Any, ends: Sequence[AttemptEnd]) -> list[bool]:
        batches.append(len(ends))
        return await finish_together(runner, ends)

    monkeypatch.setattr(store_module, "finish_together", counted)
    service = await start_service(workers=False)
    leased = await _leased(service, RUNS, "worker-a")
    stolen = leased[3]  # a worker whose lease lapsed and that another worker took over

    held = await asyncio.gather(
        *(
            _finish(service, run, "worker-b" if run is stolen else "worker-a", index)
            for index, run in enumerate(leased)
        )
    )

    assert held == [run is not stolen for run in leased]
    store = service.engine.store
    for index, run in enumerate(leased):
        stored = await store.get_run(run.id)
        [attempt] = await store.list_attempts(run.id)
        assert stored is not None
        if run is stolen:
            assert (stored.status, stored.lease_owner, stored.results) == (
                "running",
                "worker-a",
                None,
            )
            assert (attempt.outcome, attempt.finished_at, attempt.requests) == (None, None, None)
            continue
        assert (stored.status, stored.lease_owner, stored.lease_expires_at) == (
            "success",
            None,
            None,
        )
        assert stored.results == [{"index": index, "nested": {"none": None, "text": 'a "quote"'}}]
        assert stored.errors == []
        assert attempt.outcome == "success" and attempt.finished_at == stored.finished_at
        assert attempt.error is None
        assert attempt.requests == [
            {"method": "POST", "url": "https://example.com/x", "status": 200}
        ]
    if backend == "postgresql":
        # Together: fewer statements than finishes (the first goes at once, the rest wait
        # for it and go as one).
        assert sum(batches) == RUNS and len(batches) < RUNS
        # A None in a JSON column is JSON null, as a statement per run stored it.
        stored_nulls = await store.transaction(
            lambda conn: conn.execute(
                text("SELECT count(*) FROM run_attempts WHERE error::text = 'null'")
            ).scalar_one()
        )
        assert stored_nulls == RUNS - 1


async def test_a_refused_value_fails_only_its_own_finish(
    start_service: ServiceFactory, backend: str
) -> None:
    service = await start_service(workers=False)
    leased = await _leased(service, 4, "worker-a")
    now = service.engine.clock()

    async def finish(run: RunRecord, status: str) -> bool:
        return await service.engine.store.finish_attempt(
            run,
            "worker-a",
            now,
            outcome="success",
            run_values={"status": status, "finished_at": now, "holds_limit": False},
        )

    # A status longer than its column: PostgreSQL refuses the value (SQLite stores it).
    outcomes = await asyncio.gather(
        *(finish(run, "x" * 40 if index == 1 else "success") for index, run in enumerate(leased)),
        return_exceptions=True,
    )

    if backend == "postgresql":
        assert isinstance(outcomes[1], Exception)
        assert [outcomes[0], *outcomes[2:]] == [True, True, True]
        refused = await service.engine.store.get_run(leased[1].id)
        assert refused is not None and refused.status == "running"
    else:
        assert outcomes == [True, True, True, True]
