"""The migrations build exactly the schema the code declares, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from actionruns.store import Store
from actionruns.store.migrate import upgrade
from actionruns.store.schema import metadata
from tests.conftest import ServiceFactory


async def test_migrations_match_the_declared_tables(start_service: ServiceFactory) -> None:
    service = await start_service(workers=False)  # migrated at start
    store: Store = service.engine.store
    await upgrade(store)  # a second upgrade is a no-op

    differences = await store.transaction(
        lambda connection: compare_metadata(MigrationContext.configure(connection), metadata)
    )
    assert differences == []
