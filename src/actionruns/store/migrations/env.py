"""Alembic environment: migrations run on a connection the store hands in."""

from __future__ import annotations

from alembic import context

from actionruns.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through actionruns.store.migrate (actionruns db upgrade)")
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
