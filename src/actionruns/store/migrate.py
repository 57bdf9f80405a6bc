"""Schema migrations with Alembic, run from code (``actionruns db upgrade`` and at start-up)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from actionruns.store.store import Store

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the database to ``revision``, in one transaction."""
    await store.transaction(
        lambda connection: command.upgrade(alembic_config(connection), revision)
    )


def upgrade_url(url: str, revision: str = "head") -> None:
    """Synchronous entry for the CLI."""

    async def main() -> None:
        store = Store.from_url(url)
        try:
            await upgrade(store, revision)
        finally:
            await store.close()

    asyncio.run(main())
