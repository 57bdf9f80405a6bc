"""MySQL and MariaDB: insert a row (table and columns read from the database), update rows,
run a parameterised query.

Reference: https://mariadb.com/kb/en/insert/, /update/, /information-schema-columns-table/,
/start-transaction/ (READ ONLY), https://dev.mysql.com/doc/refman/8.4/en/information-schema-columns-table.html,
through aiomysql (PyMySQL's protocol). The actions are the SDK's shared SQL ones
(``actionruns.sdk.sql``). Neither server returns rows from an UPDATE and MySQL none from an
INSERT, so the written rows are read back by the auto-increment key or the match column.
The connection goes to the address the outbound guard checked; with TLS the certificate is
still checked against the host name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
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
from actionruns.sdk.sql import Column, bind_value, database_auth, sql_app

with driver("aiomysql", extra="connectors-data"):
    import aiomysql
    import pymysql

TIMEOUT_SECONDS = 15
_TYPES = {
    "tinyint": FieldType.INTEGER,
    "smallint": FieldType.INTEGER,
    "mediumint": FieldType.INTEGER,
    "int": FieldType.INTEGER,
    "bigint": FieldType.INTEGER,
    "decimal": FieldType.NUMBER,
    "float": FieldType.NUMBER,
    "double": FieldType.NUMBER,
    "text": FieldType.TEXT,
    "mediumtext": FieldType.TEXT,
    "longtext": FieldType.TEXT,
    "json": FieldType.JSON,
    "datetime": FieldType.DATETIME,
    "timestamp": FieldType.DATETIME,
}
# Errors that say the login itself was refused, and those that say the server went away.
_LOGIN_REFUSED = {1044, 1045, 1698}
_UNKNOWN_DATABASE = 1049
_CONNECTION_LOST = {2003, 2006, 2013, 2055}


def _identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _field_type(column_type: str, data_type: str) -> FieldType:
    if column_type.lower() == "tinyint(1)":
        return FieldType.BOOLEAN  # MySQL's BOOLEAN
    return _TYPES.get(data_type.lower(), FieldType.STRING)


def _is_json_check(row: Mapping[str, Any]) -> bool:
    clause = str(row["clause"])
    return clause.startswith("json_valid(`") and clause.endswith("`)")


def bind(column: Column, value: Any) -> Any:
    """As the SDK binds, but DATETIME columns hold no zone: aware times are stored as UTC."""
    bound = bind_value(column, value)
    if isinstance(bound, datetime) and bound.tzinfo is not None:
        return bound.astimezone(UTC).replace(tzinfo=None)
    return bound


class MariaDB:
    def __init__(self, connection: aiomysql.Connection, host: str) -> None:
        self.connection = connection
        self.host = host

    async def _fetch(
        self, sql: str, parameters: Sequence[Any] | None = None
    ) -> list[dict[str, Any]]:
        async with self.connection.cursor(aiomysql.DictCursor) as cursor:
            # Without parameters the text is sent as written: a literal % stays a %.
            await cursor.execute(sql, tuple(parameters) if parameters else None)
            rows: list[dict[str, Any]] = list(await cursor.fetchall())
        return rows

    async def tables(self, limit: int, offset: int) -> list[str]:
        rows = await self._fetch(
            """SELECT table_name AS name FROM information_schema.tables
               WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'
               ORDER BY table_name LIMIT %s OFFSET %s""",
            (limit, offset),
        )
        return [row["name"] for row in rows]

    async def _column_rows(self, table: str) -> list[dict[str, Any]]:
        return await self._fetch(
            """SELECT column_name AS name, data_type, column_type, is_nullable,
                      column_default, extra
               FROM information_schema.columns
               WHERE table_schema = DATABASE() AND table_name = %s ORDER BY ordinal_position""",
            (table,),
        )

    async def _json_columns(self, table: str) -> set[str]:
        """MariaDB's JSON is LONGTEXT checked by json_valid(); MySQL's is its own type."""
        rows = await self._fetch(
            """SELECT check_clause AS clause FROM information_schema.check_constraints
               WHERE constraint_schema = DATABASE() AND table_name = %s""",
            (table,),
        )
        return {row["clause"][len("json_valid(`") : -2] for row in rows if _is_json_check(row)}

    async def columns(self, table: str) -> list[Column]:
        json_columns = await self._json_columns(table)
        return [
            Column(
                row["name"],
                "json" if row["name"] in json_columns else row["data_type"],
                FieldType.JSON
                if row["name"] in json_columns
                else _field_type(row["column_type"], row["data_type"]),
                required_on_insert=row["is_nullable"] == "NO"
                and row["column_default"] is None
                and "auto_increment" not in row["extra"],
            )
            for row in await self._column_rows(table)
        ]

    async def insert(self, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
        names = ", ".join(_identifier(name) for name in values)
        marks = ", ".join(["%s"] * len(values))
        async with self.connection.cursor() as cursor:
            await cursor.execute(
                f"INSERT INTO {_identifier(table)} ({names}) VALUES ({marks})",  # noqa: S608 (names quoted, values bound)
                tuple(values.values()),
            )
            row_id = cursor.lastrowid
        key = next(
            (
                row["name"]
                for row in await self._column_rows(table)
                if "auto_increment" in row["extra"]
            ),
            None,
        )
        if key is None or not row_id:
            return dict(values)
        [row] = await self._fetch(
            f"SELECT * FROM {_identifier(table)} WHERE {_identifier(key)} = %s",  # noqa: S608 (names quoted, values bound)
            (row_id,),
        )
        return row

    async def update(
        self, table: str, values: Mapping[str, Any], match_column: str, match_value: Any
    ) -> list[dict[str, Any]]:
        assignments = ", ".join(f"{_identifier(name)} = %s" for name in values)
        async with self.connection.cursor() as cursor:
            await cursor.execute(
                f"UPDATE {_identifier(table)} SET {assignments} "  # noqa: S608 (names quoted, values bound)
                f"WHERE {_identifier(match_column)} = %s",
                (*values.values(), match_value),
            )
        # The rows now hold the new value of the match column if the update set it.
        matching = values.get(match_column, match_value)
        return await self._fetch(
            f"SELECT * FROM {_identifier(table)} WHERE {_identifier(match_column)} = %s",  # noqa: S608 (names quoted, values bound)
            (matching,),
        )

    async def query(self, sql: str, parameters: Sequence[Any]) -> list[dict[str, Any]]:
        await self._fetch("START TRANSACTION READ ONLY")
        try:
            return await self._fetch(sql, parameters)
        finally:
            await self.connection.rollback()

    async def describe(self) -> str:
        [row] = await self._fetch("SELECT DATABASE() AS name")
        return f"{row['name']} on {self.host}"


def _code(error: pymysql.err.MySQLError) -> int:
    return int(error.args[0]) if error.args and isinstance(error.args[0], int) else 0


@asynccontextmanager
async def connect(ctx: Context) -> AsyncIterator[MariaDB]:
    credentials = ctx.credentials
    host, port = str(credentials["host"]), int(credentials.get("port") or 3306)
    destination = await ctx.guard.destination(host, port)
    try:
        connection = await aiomysql.connect(
            host=destination.address,
            port=port,
            user=credentials["username"],
            password=credentials.get("password") or "",
            db=credentials["database"],
            ssl=destination.tls_context() if credentials.get("tls") else None,
            connect_timeout=TIMEOUT_SECONDS,
            autocommit=True,
            charset="utf8mb4",
        )
    except pymysql.err.MySQLError as exc:
        code = _code(exc)
        if code in _LOGIN_REFUSED:
            raise ExpiredAuthError(f"The server refused the login: {exc.args[-1]}") from None
        if code == _UNKNOWN_DATABASE:
            raise HaltError(f"The server says: {exc.args[-1]}") from None
        raise UnreachableError(f"{host}:{port} could not be reached: {exc.args[-1]}") from None
    except (OSError, TimeoutError) as exc:
        raise UnreachableError(f"{host}:{port} could not be reached: {exc}") from None
    try:
        yield MariaDB(connection, host)
    except pymysql.err.MySQLError as exc:
        if _code(exc) in _CONNECTION_LOST:
            raise TransientError(f"The connection was lost: {exc.args[-1]}") from None
        # A statement the server refuses (constraint, type, permission, read-only) will not
        # pass later.
        raise HaltError(f"The server refused it: {exc.args[-1]}") from None
    finally:
        connection.close()


app = sql_app(
    key="mariadb",
    title="MySQL / MariaDB",
    description="Insert and update rows, and query a MySQL or MariaDB database.",
    auth=database_auth(3306),
    connect=connect,
    placeholder="%s",
    bind=bind,
)
