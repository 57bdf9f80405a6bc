"""The migrations build exactly the schema the code declares, on every backend."""

from __future__ import annotations

import functools

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, update
from sqlalchemy.exc import IntegrityError

from actionruns.store import Store
from actionruns.store.migrate import upgrade
from actionruns.store.schema import metadata, runs
from tests.conftest import ServiceFactory


async def test_migrations_match_the_declared_tables(start_service: ServiceFactory) -> None:
    service = await start_service(workers=False)  # migrated at start
    store: Store = service.engine.store
    await upgrade(store)  # a second upgrade is a no-op

    differences = await store.transaction(
        lambda connection: compare_metadata(MigrationContext.configure(connection), metadata)
    )
    assert differences == []


async def test_a_run_is_leased_exactly_while_it_runs(start_service: ServiceFactory) -> None:
    """The store checks a lease by its owner alone; the database holds it to that."""
    service = await start_service(workers=False)
    store: Store = service.engine.store
    acme = await service.new_client("acme")
    run_id = await acme.run("testkit.noop", {"value": "a"})  # queued: no worker here
    for values in ({"status": "running"}, {"lease_owner": "worker-1"}):
        with pytest.raises(IntegrityError):
            await store.transaction(functools.partial(_update_run, run_id, values))
    leased = {"status": "running", "lease_owner": "worker-1"}
    await store.transaction(functools.partial(_update_run, run_id, leased))


def _update_run(run_id: str, values: dict[str, str], connection: Connection) -> None:
    connection.execute(update(runs).where(runs.c.id == run_id).values(**values))
