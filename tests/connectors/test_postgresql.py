"""The PostgreSQL connector against the real server: a fresh database, read back afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from actionruns.connectors.postgresql import app
from actionruns.sdk import ExpiredAuthError, HaltError
from actionruns.sdk.context import open_context
from actionruns.sdk.fields import validate_inputs
from actionruns.sdk.outbound import OutboundGuard
from tests.conftest import LOOPBACK, ApiClient, ServiceFactory
from tests.postgres import fresh_database

actions = {action.key: action for action in app.actions}


@pytest.fixture
async def database() -> AsyncIterator[tuple[asyncpg.Connection, dict[str, Any]]]:
    async with fresh_database() as url:
        parts = urlsplit(url)
        credentials = {
            "host": parts.hostname,
            "port": parts.port or 5432,
            "database": parts.path.lstrip("/"),
            "username": parts.username or "postgres",
        }
        connection = await asyncpg.connect(url)
        await connection.execute(
            """CREATE TABLE orders (
                 id serial PRIMARY KEY,
                 customer text NOT NULL,
                 total numeric(10, 2),
                 paid boolean NOT NULL DEFAULT false,
                 placed_at timestamptz,
                 details jsonb)"""
        )
        await connection.execute('CREATE SCHEMA shop; CREATE TABLE shop."Line Items" (sku text)')
        try:
            yield connection, credentials
        finally:
            await connection.close()


async def perform(credentials: dict[str, Any], action: str, **inputs: Any) -> Any:
    spec = actions[action]
    guard = OutboundGuard(LOOPBACK)
    async with open_context(app.auth, credentials, guard, app_key="postgresql") as ctx:
        fields = await spec.input_fields(ctx, inputs)
        return await spec.perform(ctx, validate_inputs(fields, inputs))


async def test_tables_and_their_columns_become_choices_and_fields(
    database: tuple[asyncpg.Connection, dict[str, Any]],
) -> None:
    _, credentials = database
    async with open_context(app.auth, credentials, OutboundGuard(LOOPBACK), app_key="pg") as ctx:
        [table] = actions["insert_row"].static_inputs
        assert table.dynamic_choices is not None
        tables = await table.dynamic_choices(ctx, {}, 0)
        fields = {
            field.key: field
            for field in await actions["insert_row"].input_fields(ctx, {"table": "orders"})
        }
    assert [choice.value for choice in tables.choices] == ["orders", "shop.Line Items"]
    assert fields["column_customer"].required and fields["column_customer"].type == "text"
    assert not fields["column_id"].required  # it has a default
    assert fields["column_total"].type == "number" and fields["column_paid"].type == "boolean"


async def test_insert_update_and_query(
    database: tuple[asyncpg.Connection, dict[str, Any]],
) -> None:
    connection, credentials = database
    inserted = await perform(
        credentials,
        "insert_row",
        table="orders",
        column_customer="Ada",
        column_total="12.50",
        column_placed_at="2026-11-25T10:00:00Z",
        column_details={"gift": True},
    )
    assert inserted["id"] == 1 and inserted["total"] == 12.5 and inserted["paid"] is False
    row = await connection.fetchrow("SELECT * FROM orders WHERE id = 1")
    assert row["customer"] == "Ada" and str(row["total"]) == "12.50"

    updated = await perform(
        credentials,
        "update_rows",
        table="orders",
        match_column="customer",
        match_value="Ada",
        column_paid="yes",
    )
    assert [item["paid"] for item in updated] == [True]

    found = await perform(
        credentials,
        "run_query",
        query="SELECT id, customer FROM orders WHERE customer = $1",
        parameters=["Ada"],
    )
    assert found == [{"id": 1, "customer": "Ada"}]
    await perform(credentials, "insert_row", table="shop.Line Items", column_sku="A-1")
    assert await connection.fetchval('SELECT sku FROM shop."Line Items"') == "A-1"


async def test_refusals_are_classified(
    database: tuple[asyncpg.Connection, dict[str, Any]],
) -> None:
    _, credentials = database
    with pytest.raises(HaltError, match="no table"):
        await perform(credentials, "insert_row", table="missing; DROP TABLE orders", column_x=1)
    with pytest.raises(HaltError, match="read-only"):
        await perform(credentials, "run_query", query="DELETE FROM orders")
    with pytest.raises(HaltError, match="not a column"):
        await perform(
            credentials,
            "update_rows",
            table="orders",
            match_column="nope",
            match_value="x",
            column_paid=True,
        )
    with pytest.raises(ExpiredAuthError):
        await perform(credentials | {"username": "no_such_user"}, "run_query", query="SELECT 1")


async def test_end_to_end_over_http(
    start_service: ServiceFactory, database: tuple[asyncpg.Connection, dict[str, Any]]
) -> None:
    connection, credentials = database
    service = await start_service()
    acme: ApiClient = await service.new_client("acme")
    authentication = await acme.connect("postgresql", credentials, title="Shop database")

    fields = await acme.post(
        "/v2/actions/postgresql.insert_row/inputs",
        json={"data": {"authentication": authentication, "inputs": {"table": "orders"}}},
    )
    assert "column_customer" in {field["id"] for field in fields.json()["data"]}
    run = await acme.wait(
        await acme.run(
            "postgresql.insert_row",
            {"table": "orders", "column_customer": "Grace", "column_total": 3},
            authentication,
        )
    )
    assert run["status"] == "success", run
    assert await connection.fetchval("SELECT customer FROM orders") == "Grace"
    steps: list[tuple[str, dict[str, Any]]] = [
        (
            "update_rows",
            {
                "table": "orders",
                "match_column": "customer",
                "match_value": "Grace",
                "column_paid": 1,
            },
        ),
        ("run_query", {"query": "SELECT customer, paid FROM orders"}),
    ]
    for action, inputs in steps:
        run = await acme.wait(await acme.run(f"postgresql.{action}", inputs, authentication))
        assert run["status"] == "success", run
    assert run["results"] == [{"customer": "Grace", "paid": True}]
    missing = await acme.wait(
        await acme.run("postgresql.insert_row", {"table": "orders"}, authentication)
    )
    assert missing["status"] == "error" and "customer" in missing["errors"][0]["detail"]
