"""PostgreSQL: insert a row (table and columns read from the database), update rows, run a
parameterised query.

Reference: https://www.postgresql.org/docs/current/sql-insert.html, /sql-update.html,
/infoschema-columns.html, through asyncpg. Values always travel as bind parameters; table and
column names are checked against the database's own catalogue and quoted, never pasted in.
A plain connection goes to the address the outbound guard vetted.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from actionruns.sdk import (
    Action,
    ActionType,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    DynamicFields,
    ExpiredAuthError,
    FieldType,
    HaltError,
    InputField,
    OutputField,
    TransientError,
)

TIMEOUT_SECONDS = 15.0
MAX_ROWS = 1000
TABLES_PER_PAGE = 100
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


@asynccontextmanager
async def _connection(ctx: Context) -> AsyncIterator[asyncpg.Connection]:
    credentials = ctx.credentials
    host, port = str(credentials["host"]), int(credentials.get("port") or 5432)
    addresses = await ctx.guard.resolve(host, port)
    tls = bool(credentials.get("tls"))
    try:
        connection = await asyncpg.connect(
            host=host if tls else addresses[0],
            port=port,
            user=credentials["username"],
            password=credentials.get("password") or None,
            database=credentials["database"],
            ssl=ssl.create_default_context() if tls else False,
            timeout=TIMEOUT_SECONDS,
            command_timeout=TIMEOUT_SECONDS,
        )
    except (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidPasswordError) as exc:
        raise ExpiredAuthError(f"PostgreSQL refused the login: {exc}") from None
    except asyncpg.InvalidCatalogNameError as exc:
        raise HaltError(f"PostgreSQL: {exc}") from None
    except (OSError, TimeoutError, asyncpg.PostgresConnectionError) as exc:
        raise TransientError(f"PostgreSQL at {host}:{port} could not be reached: {exc}") from None
    try:
        yield connection
    except (asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError, OSError) as exc:
        raise TransientError(f"PostgreSQL failed: {exc}") from None
    except asyncpg.PostgresError as exc:
        # A statement the database refuses (constraint, type, permission) will not pass later.
        raise HaltError(f"PostgreSQL refused it: {exc}") from None
    finally:
        await connection.close()


async def _columns(connection: asyncpg.Connection, table: str) -> list[asyncpg.Record]:
    schema, _, name = table.rpartition(".")
    rows: list[asyncpg.Record] = await connection.fetch(
        """SELECT column_name, data_type, is_nullable, column_default
           FROM information_schema.columns
           WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position""",
        schema or "public",
        name,
    )
    if not rows:
        raise HaltError(f"There is no table {table!r} this user can see.")
    return rows


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(table: str) -> str:
    schema, _, name = table.rpartition(".")
    return f"{_identifier(schema)}.{_identifier(name)}" if schema else _identifier(name)


def _field_key(column: str) -> str:
    return f"column_{column}"


async def table_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async with _connection(ctx) as connection:
        rows = await connection.fetch(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_type = 'BASE TABLE'
                 AND table_schema NOT IN ('pg_catalog', 'information_schema')
               ORDER BY table_schema, table_name LIMIT $1 OFFSET $2""",
            TABLES_PER_PAGE + 1,
            page * TABLES_PER_PAGE,
        )
    choices = [
        Choice(
            row["table_name"]
            if row["table_schema"] == "public"
            else f"{row['table_schema']}.{row['table_name']}"
        )
        for row in rows[:TABLES_PER_PAGE]
    ]
    return ChoicePage(choices, has_more=len(rows) > TABLES_PER_PAGE)


async def _fields(ctx: Context, table: str | None, *, for_insert: bool) -> list[InputField]:
    """One field per column of the table, typed as the table says; for an insert, columns
    that must have a value and have no default are required."""
    if not table:
        return []
    async with _connection(ctx) as connection:
        columns = await _columns(connection, table)
    return [
        InputField(
            _field_key(row["column_name"]),
            row["column_name"],
            _TYPES.get(row["data_type"], FieldType.STRING),
            required=for_insert and row["is_nullable"] == "NO" and row["column_default"] is None,
            help_text=f"{row['data_type']} column",
        )
        for row in columns
    ]


async def column_fields(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
    return await _fields(ctx, inputs.get("table"), for_insert=True)


async def new_value_fields(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
    return await _fields(ctx, inputs.get("table"), for_insert=False)


def _bind(data_type: str, value: Any) -> Any:
    """The Python value asyncpg sends for a column of ``data_type``."""
    if data_type.startswith("timestamp"):
        return datetime.fromisoformat(str(value))
    if data_type == "date":
        return date.fromisoformat(str(value)[:10])
    if data_type == "numeric":
        return Decimal(str(value))
    if data_type in ("json", "jsonb"):
        return json.dumps(value)
    if _TYPES.get(data_type) in (FieldType.INTEGER, FieldType.NUMBER, FieldType.BOOLEAN):
        return value
    return value if isinstance(value, str) else json.dumps(value)


def _row_values(inputs: Mapping[str, Any], columns: Sequence[asyncpg.Record]) -> dict[str, Any]:
    values = {}
    for row in columns:
        key = _field_key(row["column_name"])
        if inputs.get(key) is not None:
            try:
                values[row["column_name"]] = _bind(row["data_type"], inputs[key])
            except (ValueError, ArithmeticError) as exc:
                raise HaltError(f"{row['column_name']}: {exc}") from None
    return values


def _record(row: asyncpg.Record) -> dict[str, Any]:
    """A row as JSON-friendly values (dates as ISO text, decimals as numbers)."""
    return {key: _plain(value) for key, value in row.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value % 1 else int(value)
    return value


async def insert_row(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    async with _connection(ctx) as connection:
        columns = await _columns(connection, inputs["table"])
        values = _row_values(inputs, columns)
        if not values:
            raise HaltError("Give a value for at least one column.")
        names = ", ".join(_identifier(name) for name in values)
        placeholders = ", ".join(f"${number}" for number in range(1, len(values) + 1))
        row = await connection.fetchrow(
            f"INSERT INTO {_table(inputs['table'])} ({names}) VALUES ({placeholders}) RETURNING *",  # noqa: S608 (names quoted, values bound)
            *values.values(),
        )
    assert row is not None
    return _record(row)


async def update_rows(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    async with _connection(ctx) as connection:
        columns = await _columns(connection, inputs["table"])
        known = {row["column_name"] for row in columns}
        if inputs["match_column"] not in known:
            raise HaltError(f"{inputs['match_column']!r} is not a column of {inputs['table']}.")
        values = _row_values(inputs, columns)
        if not values:
            raise HaltError("Give a new value for at least one column.")
        assignments = ", ".join(
            f"{_identifier(name)} = ${number}" for number, name in enumerate(values, start=1)
        )
        rows = await connection.fetch(
            f"UPDATE {_table(inputs['table'])} SET {assignments} "  # noqa: S608 (names quoted, values bound)
            f"WHERE {_identifier(inputs['match_column'])} = ${len(values) + 1} RETURNING *",
            *values.values(),
            inputs["match_value"],
        )
    return [_record(row) for row in rows]


async def run_query(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    async with _connection(ctx) as connection, connection.transaction(readonly=True):
        rows = await connection.fetch(inputs["query"], *(inputs.get("parameters") or []))
    if len(rows) > MAX_ROWS:
        raise HaltError(f"The query returned more than {MAX_ROWS} rows; add a LIMIT.")
    return [_record(row) for row in rows]


async def test_connection(ctx: Context) -> str:
    async with _connection(ctx) as connection:
        database = await connection.fetchval("SELECT current_database()")
    return f"{database} on {ctx.credentials['host']}"


_TABLE = InputField(
    "table",
    "Table",
    required=True,
    dynamic_choices=table_choices,
    alters_dynamic_fields=True,
    help_text="The table; its columns become fields.",
)

app = App(
    key="postgresql",
    title="PostgreSQL",
    description="Insert and update rows, and query a PostgreSQL database.",
    auth=Auth.custom(
        [
            InputField("host", "Host", required=True, help_text="The database server's host."),
            InputField("port", "Port", FieldType.INTEGER, default=5432, help_text="Usually 5432."),
            InputField("database", "Database", required=True, help_text="The database name."),
            InputField("username", "User", required=True, help_text="A database user."),
            InputField("password", "Password", FieldType.PASSWORD, help_text="Its password."),
            InputField("tls", "Use TLS", FieldType.BOOLEAN, default=False, help_text="sslmode."),
        ]
    ),
    test=test_connection,
    categories=("databases",),
    actions=[
        Action(
            "insert_row",
            "Insert row",
            "Inserts a row into a table, one field per column, and returns it.",
            insert_row,
            inputs=[_TABLE, DynamicFields("columns", column_fields, depends_on=("table",))],
            outputs=[OutputField("id", "ID (if the table has one)", FieldType.INTEGER, sample=42)],
            sample={"id": 42},
        ),
        Action(
            "update_rows",
            "Update rows",
            "Sets columns on every row whose match column equals a value; returns them.",
            update_rows,
            inputs=[
                _TABLE,
                InputField(
                    "match_column",
                    "Match column",
                    required=True,
                    depends_on=("table",),
                    help_text="Rows whose value in this column…",
                ),
                InputField("match_value", "Match value", required=True, help_text="…equals this."),
                DynamicFields("columns", new_value_fields, depends_on=("table",)),
            ],
            outputs=[OutputField("id", "ID (if the table has one)", FieldType.INTEGER, sample=42)],
            sample={"id": 42},
        ),
        Action(
            "run_query",
            "Run query",
            "Runs a read-only query with $1, $2… parameters and returns its rows (up to 1000).",
            run_query,
            type=ActionType.SEARCH,
            inputs=[
                InputField(
                    "query",
                    "Query",
                    FieldType.CODE,
                    required=True,
                    placeholder="SELECT * FROM orders WHERE customer = $1",
                    help_text="SQL; values go in parameters, never in the text.",
                ),
                InputField(
                    "parameters",
                    "Parameters",
                    list=True,
                    help_text="$1, $2… in order, as text: cast in the query for other types "
                    "($1::int).",
                ),
            ],
            outputs=[OutputField("id", "Columns of each row", sample=42)],
            sample={"id": 42},
        ),
    ],
)
