"""SQL database connectors: the actions every one of them has, over a small driver interface.

A database connector (PostgreSQL, MariaDB/MySQL…) supplies how to connect and how its
dialect lists tables and columns, inserts, updates and runs a read-only query; ``sql_app``
builds the app: a table dropdown, one typed field per column, insert row, update rows and
run query. Values always travel as bind parameters; table and column names are checked
against the database's own catalogue and quoted by the driver, never pasted in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol

from actionruns.sdk.app import Action, ActionType, App
from actionruns.sdk.auth import Auth
from actionruns.sdk.context import Context
from actionruns.sdk.errors import HaltError
from actionruns.sdk.fields import (
    Choice,
    ChoicePage,
    DynamicFields,
    FieldType,
    InputField,
    OutputField,
)

MAX_ROWS = 1000
TABLES_PER_PAGE = 100


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # as the database names it, e.g. "timestamp with time zone"
    field_type: FieldType
    required_on_insert: bool  # not nullable and no default


class SQLConnection(Protocol):
    """One open connection; a refused statement raises HaltError, a lost one TransientError."""

    async def tables(self, limit: int, offset: int) -> list[str]: ...

    async def columns(self, table: str) -> list[Column]:
        """The table's columns in order; empty if the user cannot see such a table."""
        ...

    async def insert(self, table: str, values: Mapping[str, Any]) -> dict[str, Any]: ...

    async def update(
        self, table: str, values: Mapping[str, Any], match_column: str, match_value: Any
    ) -> list[dict[str, Any]]: ...

    async def query(self, sql: str, parameters: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows of ``sql`` run in a read-only transaction."""
        ...

    async def describe(self) -> str:
        """A label for the connection test, e.g. ``shop on db.example.com``."""
        ...


Connect = Callable[[Context], AbstractAsyncContextManager[SQLConnection]]
Bind = Callable[[Column, Any], Any]


def plain(value: Any) -> Any:
    """A column value as JSON (dates as ISO text, decimals as numbers, bytes as text)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value % 1 else int(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return value


def bind_value(column: Column, value: Any) -> Any:
    """The Python value a driver sends for an input to ``column`` (coerced by its field type)."""
    kind = column.data_type.lower()
    if kind.startswith(("timestamp", "datetime")):
        return datetime.fromisoformat(str(value))
    if kind == "date":
        return date.fromisoformat(str(value)[:10])
    if kind in ("numeric", "decimal"):
        return Decimal(str(value))
    if column.field_type is FieldType.JSON:
        return json.dumps(value)
    if column.field_type in (FieldType.INTEGER, FieldType.NUMBER, FieldType.BOOLEAN):
        return value
    return value if isinstance(value, str) else json.dumps(value)


def _field_key(column: str) -> str:
    return f"column_{column}"


async def _columns(connection: SQLConnection, table: str) -> list[Column]:
    columns = await connection.columns(table)
    if not columns:
        raise HaltError(f"There is no table {table!r} this user can see.")
    return columns


def _row_values(inputs: Mapping[str, Any], columns: Sequence[Column], bind: Bind) -> dict[str, Any]:
    values = {}
    for column in columns:
        value = inputs.get(_field_key(column.name))
        if value is not None:
            try:
                values[column.name] = bind(column, value)
            except (ValueError, ArithmeticError) as exc:
                raise HaltError(f"{column.name}: {exc}") from None
    return values


def sql_app(
    *,
    key: str,
    title: str,
    description: str,
    auth: Auth,
    connect: Connect,
    placeholder: str,
    bind: Bind = bind_value,
) -> App:
    """An app with a table dropdown, column fields and insert, update and query actions.

    ``placeholder`` is the dialect's parameter mark as users write it (``$1`` or ``%s``).
    """

    async def table_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
        async with connect(ctx) as connection:
            names = await connection.tables(TABLES_PER_PAGE + 1, page * TABLES_PER_PAGE)
        return ChoicePage(
            [Choice(name) for name in names[:TABLES_PER_PAGE]],
            has_more=len(names) > TABLES_PER_PAGE,
        )

    async def fields(ctx: Context, table: str | None, *, for_insert: bool) -> list[InputField]:
        """One field per column, typed as the table says; for an insert, columns that must
        have a value and have no default are required."""
        if not table:
            return []
        async with connect(ctx) as connection:
            columns = await _columns(connection, table)
        return [
            InputField(
                _field_key(column.name),
                column.name,
                column.field_type,
                required=for_insert and column.required_on_insert,
                help_text=f"{column.data_type} column",
            )
            for column in columns
        ]

    async def column_fields(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
        return await fields(ctx, inputs.get("table"), for_insert=True)

    async def new_value_fields(ctx: Context, inputs: Mapping[str, Any]) -> Sequence[InputField]:
        return await fields(ctx, inputs.get("table"), for_insert=False)

    async def insert_row(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
        async with connect(ctx) as connection:
            columns = await _columns(connection, inputs["table"])
            values = _row_values(inputs, columns, bind)
            if not values:
                raise HaltError("Give a value for at least one column.")
            row = await connection.insert(inputs["table"], values)
        return {name: plain(value) for name, value in row.items()}

    async def update_rows(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
        async with connect(ctx) as connection:
            columns = await _columns(connection, inputs["table"])
            if inputs["match_column"] not in {column.name for column in columns}:
                raise HaltError(f"{inputs['match_column']!r} is not a column of {inputs['table']}.")
            values = _row_values(inputs, columns, bind)
            if not values:
                raise HaltError("Give a new value for at least one column.")
            rows = await connection.update(
                inputs["table"], values, inputs["match_column"], inputs["match_value"]
            )
        return [{name: plain(value) for name, value in row.items()} for row in rows]

    async def run_query(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
        async with connect(ctx) as connection:
            rows = await connection.query(inputs["query"], inputs.get("parameters") or [])
        if len(rows) > MAX_ROWS:
            raise HaltError(f"The query returned more than {MAX_ROWS} rows; add a LIMIT.")
        return [{name: plain(value) for name, value in row.items()} for row in rows]

    async def test_connection(ctx: Context) -> str:
        async with connect(ctx) as connection:
            return await connection.describe()

    table = InputField(
        "table",
        "Table",
        required=True,
        dynamic_choices=table_choices,
        alters_dynamic_fields=True,
        help_text="The table; its columns become fields.",
    )
    row_outputs = [OutputField("id", "ID (if the table has one)", FieldType.INTEGER, sample=42)]
    return App(
        key=key,
        title=title,
        description=description,
        auth=auth,
        test=test_connection,
        categories=("databases",),
        actions=[
            Action(
                "insert_row",
                "Insert row",
                "Inserts a row into a table, one field per column, and returns it.",
                insert_row,
                inputs=[table, DynamicFields("columns", column_fields, depends_on=("table",))],
                outputs=row_outputs,
                sample={"id": 42},
            ),
            Action(
                "update_rows",
                "Update rows",
                "Sets columns on every row whose match column equals a value; returns them.",
                update_rows,
                inputs=[
                    table,
                    InputField(
                        "match_column",
                        "Match column",
                        required=True,
                        depends_on=("table",),
                        help_text="Rows whose value in this column…",
                    ),
                    InputField(
                        "match_value", "Match value", required=True, help_text="…equals this."
                    ),
                    DynamicFields("columns", new_value_fields, depends_on=("table",)),
                ],
                outputs=row_outputs,
                sample={"id": 42},
            ),
            Action(
                "run_query",
                "Run query",
                f"Runs a read-only query with {placeholder} parameters and returns its rows "
                f"(up to {MAX_ROWS}).",
                run_query,
                type=ActionType.SEARCH,
                inputs=[
                    InputField(
                        "query",
                        "Query",
                        FieldType.CODE,
                        required=True,
                        placeholder=f"SELECT * FROM orders WHERE customer = {placeholder}",  # noqa: S608 (an example)
                        help_text="SQL; values go in parameters, never in the text.",
                    ),
                    InputField(
                        "parameters",
                        "Parameters",
                        list=True,
                        help_text=f"Values for each {placeholder} in order, as text.",
                    ),
                ],
                outputs=[OutputField("id", "Columns of each row", sample=42)],
                sample={"id": 42},
            ),
        ],
    )


def database_auth(default_port: int) -> Auth:
    """Host, port, database, user, password and TLS: how every SQL server is reached."""
    return Auth.custom(
        [
            InputField(
                "host",
                "Host",
                FieldType.HOST,
                required=True,
                help_text="The database server's host.",
            ),
            InputField(
                "port",
                "Port",
                FieldType.INTEGER,
                default=default_port,
                help_text=f"Usually {default_port}.",
            ),
            InputField("database", "Database", required=True, help_text="The database name."),
            InputField("username", "User", required=True, help_text="A database user."),
            InputField("password", "Password", FieldType.PASSWORD, help_text="Its password."),
            InputField("tls", "Use TLS", FieldType.BOOLEAN, default=False, help_text="Encrypt it."),
        ]
    )
