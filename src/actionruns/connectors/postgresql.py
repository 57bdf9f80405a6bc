"""PostgreSQL: insert a row (table and columns read from the database), update rows, run a
parameterised query.

Reference: https://www.postgresql.org/docs/current/sql-insert.html, /sql-update.html,
/infoschema-columns.html, through asyncpg. The actions are the SDK's shared SQL ones
(``actionruns.sdk.sql``); this module is how PostgreSQL is reached and spoken to. The
connection goes to the address the outbound guard checked; with TLS the certificate is still
checked against the host name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from actionruns.sdk import (
    Context,
    ExpiredAuthError,
    FieldType,
    HaltError,
    TransientError,
    UnreachableError,
)
from actionruns.sdk.drivers import driver
from actionruns.sdk.sql import Column, database_auth, sql_app

with driver("asyncpg", extra="connectors-data"):
    import asyncpg

TIMEOUT_SECONDS = 15.0
# Column types and the field types that coerce their values; others are text.
_TYPES = {
    "integer": FieldType.INTEGER,
    "bigint": FieldType.INTEGER,
    "smallint": FieldType.INTEGER,
    "numeric": FieldType.NUMBER,
    "real": FieldType.NUMBER,
    "double precision": FieldType.NUMBER,
    "boolean": FieldType.BOOLEAN,
    "text": FieldType.TEXT,
    "json": FieldType.JSON,
    "jsonb": FieldType.JSON,
    "timestamp with time zone": FieldType.DATETIME,
    "timestamp without time zone": FieldType.DATETIME,
}


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(table: str) -> str:
    schema, _, name = table.rpartition(".")
    return f"{_identifier(schema)}.{_identifier(name)}" if schema else _identifier(name)


def _placeholders(count: int, start: int = 1) -> list[str]:
    return [f"${number}" for number in range(start, start + count)]


class PostgreSQL:
    def __init__(self, connection: asyncpg.Connection, host: str) -> None:
        self.connection = connection
        self.host = host

    async def tables(self, limit: int, offset: int) -> list[str]:
        rows = await self.connection.fetch(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_type = 'BASE TABLE'
                 AND table_schema NOT IN ('pg_catalog', 'information_schema')
               ORDER BY table_schema, table_name LIMIT $1 OFFSET $2""",
            limit,
            offset,
        )
        return [
            row["table_name"]
            if row["table_schema"] == "public"
            else f"{row['table_schema']}.{row['table_name']}"
            for row in rows
        ]

    async def columns(self, table: str) -> list[Column]:
        schema, _, name = table.rpartition(".")
        rows = await self.connection.fetch(
            """SELECT column_name, data_type, is_nullable, column_default
               FROM information_schema.columns
               WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position""",
            schema or "public",
            name,
        )
        return [
            Column(
                row["column_name"],
                row["data_type"],
                _TYPES.get(row["data_type"], FieldType.STRING),
                required_on_insert=row["is_nullable"] == "NO" and row["column_default"] is None,
            )
            for row in rows
        ]

    async def insert(self, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
        names = ", ".join(_identifier(name) for name in values)
        marks = ", ".join(_placeholders(len(values)))
        row = await self.connection.fetchrow(
            f"INSERT INTO {_table(table)} ({names}) VALUES ({marks}) RETURNING *",  # noqa: S608 (names quoted, values bound)
            *values.values(),
        )
        return dict(row or {})

    async def update(
        self, table: str, values: Mapping[str, Any], match_column: str, match_value: Any
    ) -> list[dict[str, Any]]:
        assignments = ", ".join(
            f"{_identifier(name)} = {mark}"
            for name, mark in zip(values, _placeholders(len(values)), strict=True)
        )
        rows = await self.connection.fetch(
            f"UPDATE {_table(table)} SET {assignments} "  # noqa: S608 (names quoted, values bound)
            f"WHERE {_identifier(match_column)} = ${len(values) + 1} RETURNING *",
            *values.values(),
            match_value,
        )
        return [dict(row) for row in rows]

    async def query(self, sql: str, parameters: Sequence[Any]) -> list[dict[str, Any]]:
        async with self.connection.transaction(readonly=True):
            rows = await self.connection.fetch(sql, *parameters)
        return [dict(row) for row in rows]

    async def describe(self) -> str:
        return f"{await self.connection.fetchval('SELECT current_database()')} on {self.host}"


@asynccontextmanager
async def connect(ctx: Context) -> AsyncIterator[PostgreSQL]:
    credentials = ctx.credentials
    host, port = str(credentials["host"]), int(credentials.get("port") or 5432)
    destination = await ctx.guard.destination(host, port)
    try:
        connection = await asyncpg.connect(
            host=destination.address,
            port=port,
            user=credentials["username"],
            password=credentials.get("password") or None,
            database=credentials["database"],
            ssl=destination.tls_context() if credentials.get("tls") else False,
            timeout=TIMEOUT_SECONDS,
            command_timeout=TIMEOUT_SECONDS,
        )
    except (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidPasswordError) as exc:
        raise ExpiredAuthError(f"PostgreSQL refused the login: {exc}") from None
    except asyncpg.InvalidCatalogNameError as exc:
        raise HaltError(f"PostgreSQL: {exc}") from None
    except (OSError, TimeoutError, asyncpg.PostgresConnectionError) as exc:
        raise UnreachableError(f"PostgreSQL at {host}:{port} could not be reached: {exc}") from None
    try:
        yield PostgreSQL(connection, host)
    except (asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError, OSError) as exc:
        raise TransientError(f"PostgreSQL failed: {exc}") from None
    except asyncpg.PostgresError as exc:
        # A statement the database refuses (constraint, type, permission) will not pass later.
        raise HaltError(f"PostgreSQL refused it: {exc}") from None
    finally:
        await connection.close()


app = sql_app(
    key="postgresql",
    title="PostgreSQL",
    description="Insert and update rows, and query a PostgreSQL database.",
    auth=database_auth(5432),
    connect=connect,
    placeholder="$1",
)
