"""The MySQL/MariaDB connector against the real MariaDB server: a fresh database per test,
read back afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiomysql
import pytest

from actionruns.connectors.mariadb import app
from actionruns.sdk import ExpiredAuthError, HaltError
from actionruns.sdk.context import open_context
from actionruns.sdk.fields import validate_inputs
from actionruns.sdk.outbound import OutboundGuard
from tests.conftest import LOOPBACK, ApiClient, ServiceFactory
from tests.servers import require_server

SERVER = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
actions = {action.key: action for action in app.actions}
Database = tuple[aiomysql.Connection, dict[str, Any]]


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    require_server("MariaDB", "127.0.0.1", 3306)
    name = f"actionruns_{uuid.uuid4().hex[:12]}"
    admin = await aiomysql.connect(**SERVER, autocommit=True)
    async with admin.cursor() as cursor:
        await cursor.execute(f"CREATE DATABASE {name}")
        await cursor.execute(
            f"""CREATE TABLE {name}.orders (
                  id int AUTO_INCREMENT PRIMARY KEY,
                  customer varchar(100) NOT NULL,
                  total decimal(10, 2),
                  paid boolean NOT NULL DEFAULT false,
                  placed_at datetime,
                  details json)"""
        )
        await cursor.execute(f"CREATE TABLE {name}.`line items` (sku text)")
    await admin.select_db(name)
    credentials = {"host": "127.0.0.1", "port": 3306, "database": name, "username": "root"}
    try:
        yield admin, credentials
    finally:
        async with admin.cursor() as cursor:
            await cursor.execute(f"DROP DATABASE {name}")
        admin.close()


async def perform(credentials: dict[str, Any], action: str, **inputs: Any) -> Any:
    spec = actions[action]
    guard = OutboundGuard(LOOPBACK)
    async with open_context(app.auth, credentials, guard, app_key="mariadb") as ctx:
        fields = await spec.input_fields(ctx, inputs)
        return await spec.perform(ctx, validate_inputs(fields, inputs))


async def fetch(connection: aiomysql.Connection, sql: str) -> list[dict[str, Any]]:
    async with connection.cursor(aiomysql.DictCursor) as cursor:
        await cursor.execute(sql)
        return list(await cursor.fetchall())


async def test_tables_and_their_columns_become_choices_and_fields(database: Database) -> None:
    _, credentials = database
    guard = OutboundGuard(LOOPBACK)
    async with open_context(app.auth, credentials, guard, app_key="mariadb") as ctx:
        [table] = actions["insert_row"].static_inputs
        assert table.dynamic_choices is not None
        tables = await table.dynamic_choices(ctx, {}, 0)
        fields = {
            field.key: field
            for field in await actions["insert_row"].input_fields(ctx, {"table": "orders"})
        }
    assert [choice.value for choice in tables.choices] == ["line items", "orders"]
    assert fields["column_customer"].required and fields["column_customer"].type == "string"
    assert not fields["column_id"].required  # auto-increment
    assert not fields["column_paid"].required  # it has a default
    assert fields["column_total"].type == "number" and fields["column_paid"].type == "boolean"
    assert fields["column_placed_at"].type == "datetime"


async def test_insert_update_and_query(database: Database) -> None:
    connection, credentials = database
    inserted = await perform(
        credentials,
        "insert_row",
        table="orders",
        column_customer="Ada",
        column_total="12.50",
        column_placed_at="2026-11-25T10:00:00+01:00",
        column_details={"gift": True},
    )
    assert inserted["id"] == 1 and inserted["total"] == 12.5 and inserted["paid"] == 0
    assert inserted["placed_at"] == "2026-11-25T09:00:00"  # stored as UTC
    [row] = await fetch(connection, "SELECT * FROM orders")
    assert row["customer"] == "Ada" and str(row["total"]) == "12.50"

    updated = await perform(
        credentials,
        "update_rows",
        table="orders",
        match_column="customer",
        match_value="Ada",
        column_paid="yes",
        column_customer="Ada L.",
    )
    assert [(item["customer"], item["paid"]) for item in updated] == [("Ada L.", 1)]

    found = await perform(
        credentials,
        "run_query",
        query="SELECT id, customer FROM orders WHERE customer LIKE %s",
        parameters=["Ada%"],
    )
    assert found == [{"id": 1, "customer": "Ada L."}]
    written = await perform(credentials, "insert_row", table="line items", column_sku="A-1")
    assert written == {"sku": "A-1"}  # no key to read it back by: what was written
    assert await fetch(connection, "SELECT sku FROM `line items`") == [{"sku": "A-1"}]


async def test_refusals_are_classified(database: Database) -> None:
    connection, credentials = database
    with pytest.raises(HaltError, match="no table"):
        await perform(credentials, "insert_row", table="orders`; DROP TABLE orders", column_x=1)
    with pytest.raises(HaltError, match="READ ONLY"):
        await perform(credentials, "run_query", query="DELETE FROM orders")
    with pytest.raises(HaltError, match="not a column"):
        await perform(
            credentials, "update_rows", table="orders", match_column="nope", match_value="x"
        )
    with pytest.raises(HaltError, match="Unknown database"):
        await perform(credentials | {"database": "no_such_db"}, "run_query", query="SELECT 1")
    with pytest.raises(ExpiredAuthError):
        await perform(credentials | {"username": "no_such_user"}, "run_query", query="SELECT 1")
    assert await fetch(connection, "SELECT COUNT(*) AS n FROM orders") == [{"n": 0}]


async def test_end_to_end_over_http(start_service: ServiceFactory, database: Database) -> None:
    connection, credentials = database
    service = await start_service()
    acme: ApiClient = await service.new_client("acme")
    authentication = await acme.connect("mariadb", credentials, title="Shop database")

    fields = await acme.post(
        "/v2/actions/mariadb.insert_row/inputs",
        json={"data": {"authentication": authentication, "inputs": {"table": "orders"}}},
    )
    assert "column_customer" in {field["id"] for field in fields.json()["data"]}
    steps: list[tuple[str, dict[str, Any]]] = [
        ("insert_row", {"table": "orders", "column_customer": "Grace", "column_total": 3}),
        (
            "update_rows",
            {"table": "orders", "match_column": "id", "match_value": "1", "column_total": 4},
        ),
        ("run_query", {"query": "SELECT customer, total FROM orders"}),
    ]
    for action, inputs in steps:
        run = await acme.wait(await acme.run(f"mariadb.{action}", inputs, authentication))
        assert run["status"] == "success", run
    assert run["results"] == [{"customer": "Grace", "total": 4}]
    assert await fetch(connection, "SELECT customer FROM orders") == [{"customer": "Grace"}]
    missing = await acme.wait(
        await acme.run("mariadb.insert_row", {"table": "orders"}, authentication)
    )
    assert missing["status"] == "error" and "customer" in missing["errors"][0]["detail"]
