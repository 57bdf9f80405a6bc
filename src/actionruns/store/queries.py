"""What every part of the store shares: its runner and the plumbing of reading and writing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Connection, Select
from sqlalchemy.sql.expression import Executable

from actionruns.store.engines import Runner
from actionruns.store.records import (
    AttemptRecord,
    AuthenticationRecord,
    ClientKeyRecord,
    ClientRecord,
    DeliveryRecord,
    OAuthAppRecord,
    RunRecord,
    SigningKeyRecord,
)

T = TypeVar("T")
R = TypeVar(
    "R",
    ClientRecord,
    ClientKeyRecord,
    OAuthAppRecord,
    SigningKeyRecord,
    AuthenticationRecord,
    RunRecord,
    AttemptRecord,
    DeliveryRecord,
)
Owned = TypeVar("Owned", AuthenticationRecord, RunRecord)


def owned(record: Owned | None, client_id: str | None) -> Owned | None:
    """The record if ``client_id`` owns it (or no owner is asked for), else None.

    Checked here rather than in SQL: given ``id = ? AND client_id = ?``, PostgreSQL without
    fresh statistics (a new table, a burst since the last autoanalyze) may walk the owner
    index through every run of the client instead of taking the primary key. Seen in the
    scale benchmark: 0.6 ms per read at 4,000 runs, growing with the table.
    """
    if record is None or (client_id is not None and record.client_id != client_id):
        return None
    return record


class Queries:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        # PostgreSQL: due rows are taken with SKIP LOCKED, and a lease or a finish is one
        # statement (data-modifying CTEs); SQLite runs several in one local transaction.
        self._postgresql = runner.dialect == "postgresql"

    async def _one(
        self, record: type[R], query: Select[Any], params: Mapping[str, Any] | None = None
    ) -> R | None:
        def work(conn: Connection) -> R | None:
            row = conn.execute(query, params).first()
            return record.from_row(row) if row else None

        return await self.runner.read(work)

    async def _first(
        self, record: type[R], query: Select[Any], params: Mapping[str, Any]
    ) -> R | None:
        """As ``_one``, for a hot query made once at import (a run or an authentication by
        id): on SQLite it runs straight on the driver."""
        row = await self.runner.read_first(query, params)
        return record.from_row(row) if row is not None else None

    async def _all(self, record: type[R], query: Select[Any]) -> list[R]:
        def work(conn: Connection) -> list[R]:
            return [record.from_row(row) for row in conn.execute(query)]

        return await self.runner.read(work)

    async def _execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> int:
        """One write statement, atomic by itself; the number of rows it touched.

        Values travel as ``parameters``, not baked into the statement: the statement then
        compiles once and is reused from the cache, which matters on the run path.
        """

        def work(conn: Connection) -> int:
            return conn.execute(statement, parameters).rowcount

        return await self.runner.write_one(work)

    async def _returning(self, record: type[R], statement: Executable) -> list[R]:
        def work(conn: Connection) -> list[R]:
            return [record.from_row(row) for row in conn.execute(statement)]

        return await self.runner.write_one(work)

    async def transaction(self, work: Callable[[Connection], T]) -> T:
        return await self.runner.write(work)
