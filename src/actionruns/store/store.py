"""All SQL of the service, behind one small async interface (SQLAlchemy 2 Core).

The run table is the queue: a worker leases due runs with an expiry and a dead worker's
lease simply runs out. Every statement here is portable between SQLite and PostgreSQL;
where they differ (row locking) the dialect decides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import and_, case, delete, event, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import Executable
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from actionruns.store.records import (
    ERROR,
    QUEUED,
    RUNNING,
    AttemptRecord,
    AuthenticationRecord,
    ClientRecord,
    RunRecord,
)
from actionruns.store.group_commit import GroupCommit
from actionruns.store.schema import authentications, clients, run_attempts, runs

T = TypeVar("T")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL: readers never block the writer. synchronous=NORMAL in WAL mode still survives
        # any process crash; only a power loss can lose the last commits.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=8, max_overflow=8)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._skip_locked = engine.dialect.name == "postgresql"
        # SQLite has one writer at a time, and its busy handler waits by sleeping (up to
        # 100 ms a try). This process's writes therefore go through one queue that commits
        # them in groups; other processes still meet the busy handler.
        self._batcher = GroupCommit(engine) if engine.dialect.name == "sqlite" else None

    async def _transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work`` in a write transaction; its result once committed."""
        if self._batcher is None:
            async with self.engine.begin() as conn:
                return await work(conn)
        return await self._batcher.submit(work)

    async def _execute(self, statement: Executable) -> int:
        """One write statement in its own transaction; the number of rows it touched."""

        async def run(conn: AsyncConnection) -> int:
            return (await conn.execute(statement)).rowcount

        return await self._transaction(run)

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(create_engine(url))

    async def close(self) -> None:
        if self._batcher is not None:
            await self._batcher.close()
        await self.engine.dispose()

    # -- clients -----------------------------------------------------------------------

    async def insert_client(self, values: Mapping[str, Any]) -> ClientRecord:
        await self._execute(insert(clients).values(**values))
        client = await self.get_client(values["id"])
        assert client is not None
        return client

    async def get_client(self, client_id: str) -> ClientRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(clients).where(clients.c.id == client_id))).first()
        return ClientRecord.from_row(row) if row else None

    async def find_client(self, ref: str) -> ClientRecord | None:
        """A client by id or by name."""
        async with self.engine.connect() as conn:
            query = select(clients).where(or_(clients.c.id == ref, clients.c.name == ref))
            row = (await conn.execute(query)).first()
        return ClientRecord.from_row(row) if row else None

    async def list_clients(self) -> list[ClientRecord]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(clients).order_by(clients.c.created_at))
            return [ClientRecord.from_row(row) for row in rows]

    async def update_client(self, client_id: str, values: Mapping[str, Any]) -> None:
        await self._execute(update(clients).where(clients.c.id == client_id).values(**values))

    async def delete_client(self, client_id: str) -> bool:
        return await self._execute(delete(clients).where(clients.c.id == client_id)) > 0

    # -- authentications ---------------------------------------------------------------

    async def insert_authentication(self, values: Mapping[str, Any]) -> None:
        await self._execute(insert(authentications).values(**values))

    async def get_authentication(
        self, authentication_id: str, *, client_id: str | None = None
    ) -> AuthenticationRecord | None:
        query = select(authentications).where(authentications.c.id == authentication_id)
        if client_id is not None:
            query = query.where(authentications.c.client_id == client_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return AuthenticationRecord.from_row(row) if row else None

    async def list_authentications(
        self, client_id: str, *, app_key: str | None, limit: int, offset: int
    ) -> tuple[list[AuthenticationRecord], int]:
        condition = authentications.c.client_id == client_id
        if app_key is not None:
            condition = and_(condition, authentications.c.app_key == app_key)
        async with self.engine.connect() as conn:
            total = (
                await conn.execute(
                    select(func.count()).select_from(authentications).where(condition)
                )
            ).scalar_one()
            rows = await conn.execute(
                select(authentications)
                .where(condition)
                .order_by(authentications.c.created_at, authentications.c.id)
                .limit(limit)
                .offset(offset)
            )
            return [AuthenticationRecord.from_row(row) for row in rows], int(total)

    async def set_authentication_expired(
        self, authentication_id: str, expired: bool, now: float
    ) -> None:
        await self._execute(
            update(authentications)
            .where(authentications.c.id == authentication_id)
            .values(is_expired=expired, updated_at=now)
        )

    # -- runs: submission and reading --------------------------------------------------

    async def insert_run(self, values: Mapping[str, Any]) -> tuple[RunRecord, bool]:
        """Insert a run; with an idempotency key already used, return that run instead.

        Returns the run and whether it was created now.
        """
        try:
            await self._execute(insert(runs).values(**values))
        except IntegrityError:
            if values.get("idempotency_key") is None:
                raise
            async with self.engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(runs).where(
                            runs.c.client_id == values["client_id"],
                            runs.c.idempotency_key == values["idempotency_key"],
                        )
                    )
                ).first()
            if row is None:  # purged between the two statements: the key is free again
                return await self.insert_run(values)
            return RunRecord.from_row(row), False
        return RunRecord.from_row(values), True

    async def get_run(self, run_id: str, *, client_id: str | None = None) -> RunRecord | None:
        query = select(runs).where(runs.c.id == run_id)
        if client_id is not None:
            query = query.where(runs.c.client_id == client_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return RunRecord.from_row(row) if row else None

    async def get_runs(self, run_ids: Sequence[str]) -> list[RunRecord]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(runs).where(runs.c.id.in_(run_ids)))
            return [RunRecord.from_row(row) for row in rows]

    async def list_attempts(self, run_id: str) -> list[AttemptRecord]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(run_attempts)
                .where(run_attempts.c.run_id == run_id)
                .order_by(run_attempts.c.number)
            )
            return [AttemptRecord.from_row(row) for row in rows]

    # -- runs: the queue ---------------------------------------------------------------

    async def lease_runs(
        self,
        worker: str,
        limit: int,
        now: float,
        lease_seconds: float,
        *,
        only: Sequence[str] | None = None,
    ) -> list[RunRecord]:
        """Lease up to ``limit`` due runs: queued ones, and running ones whose lease ran out.

        ``only`` restricts the lease to the given runs (the CLI executing one run).
        """
        due = (
            select(runs.c.id)
            .where(
                or_(
                    and_(runs.c.status == QUEUED, runs.c.available_at <= now),
                    and_(runs.c.status == RUNNING, runs.c.lease_expires_at < now),
                )
            )
            .order_by(runs.c.available_at)
            .limit(limit)
        )
        if only is not None:
            due = due.where(runs.c.id.in_(only))
        if self._skip_locked:
            due = due.with_for_update(skip_locked=True)
        statement = (
            update(runs)
            .where(runs.c.id.in_(due.scalar_subquery()))
            .values(
                status=RUNNING,
                lease_owner=worker,
                lease_expires_at=now + lease_seconds,
                attempts=runs.c.attempts + 1,
                started_at=func.coalesce(runs.c.started_at, now),
            )
            .returning(*runs.c)
        )

        async def lease(conn: AsyncConnection) -> list[RunRecord]:
            leased = [RunRecord.from_row(row) for row in await conn.execute(statement)]
            if leased:
                await self._close_lost_attempts(conn, [r.id for r in leased if r.attempts > 1], now)
                await conn.execute(
                    insert(run_attempts),
                    [
                        {"run_id": r.id, "number": r.attempts, "worker": worker, "started_at": now}
                        for r in leased
                    ],
                )
            return leased

        return await self._transaction(lease)

    @staticmethod
    async def _close_lost_attempts(conn: AsyncConnection, run_ids: list[str], now: float) -> None:
        if run_ids:
            await conn.execute(
                update(run_attempts)
                .where(run_attempts.c.run_id.in_(run_ids), run_attempts.c.finished_at.is_(None))
                .values(finished_at=now, outcome="lost")
            )

    async def extend_leases(
        self, worker: str, run_ids: Sequence[str], until: float
    ) -> tuple[set[str], set[str]]:
        """Extend the leases this worker still holds.

        Returns the ids still held and, among them, those whose cancellation was requested.
        """
        statement = (
            update(runs)
            .where(runs.c.id.in_(run_ids), runs.c.lease_owner == worker, runs.c.status == RUNNING)
            .values(lease_expires_at=until)
            .returning(runs.c.id, runs.c.cancel_requested)
        )

        async def extend(conn: AsyncConnection) -> set[tuple[str, bool]]:
            return {(row.id, bool(row.cancel_requested)) for row in await conn.execute(statement)}

        held = await self._transaction(extend)
        return {run_id for run_id, _ in held}, {run_id for run_id, cancel in held if cancel}

    async def finish_attempt(
        self,
        run: RunRecord,
        worker: str,
        now: float,
        *,
        outcome: str,
        run_values: Mapping[str, Any],
        error: Mapping[str, Any] | None = None,
    ) -> bool:
        """Record an attempt's end and move the run on, if this worker still holds its lease."""

        async def finish(conn: AsyncConnection) -> bool:
            result = await conn.execute(
                update(runs)
                .where(runs.c.id == run.id, runs.c.lease_owner == worker, runs.c.status == RUNNING)
                .values(lease_owner=None, lease_expires_at=None, **run_values)
            )
            if result.rowcount == 0:
                return False
            await conn.execute(
                update(run_attempts)
                .where(run_attempts.c.run_id == run.id, run_attempts.c.number == run.attempts)
                .values(finished_at=now, outcome=outcome, error=error)
            )
            return True

        return await self._transaction(finish)

    async def cancel_run(
        self, run_id: str, client_id: str, now: float, error: Any
    ) -> RunRecord | None:
        """Cancel a queued run at once, or flag a running one for its worker to abandon."""

        async def cancel(conn: AsyncConnection) -> RunRecord | None:
            owned = and_(runs.c.id == run_id, runs.c.client_id == client_id)
            await conn.execute(
                update(runs)
                .where(owned, runs.c.status == QUEUED)
                .values(status=ERROR, errors=error, finished_at=now, **_callback_due(now))
            )
            await conn.execute(
                update(runs).where(owned, runs.c.status == RUNNING).values(cancel_requested=True)
            )
            row = (await conn.execute(select(runs).where(owned))).first()
            return RunRecord.from_row(row) if row else None

        return await self._transaction(cancel)

    async def next_due_at(self) -> float | None:
        """When the next queued run becomes due, so an idle worker knows how long to sleep."""
        async with self.engine.connect() as conn:
            value = (
                await conn.execute(
                    select(func.min(runs.c.available_at)).where(runs.c.status == QUEUED)
                )
            ).scalar()
        return float(value) if value is not None else None

    # -- callbacks ---------------------------------------------------------------------

    async def lease_callbacks(self, now: float, limit: int, retry_at: float) -> list[RunRecord]:
        """Take due callback deliveries; each is pushed to ``retry_at`` until marked done."""
        due = (
            select(runs.c.id)
            .where(runs.c.callback_status == "pending", runs.c.callback_next_at <= now)
            .order_by(runs.c.callback_next_at)
            .limit(limit)
        )
        if self._skip_locked:
            due = due.with_for_update(skip_locked=True)
        statement = (
            update(runs)
            .where(runs.c.id.in_(due.scalar_subquery()))
            .values(callback_next_at=retry_at, callback_attempts=runs.c.callback_attempts + 1)
            .returning(*runs.c)
        )

        async def lease(conn: AsyncConnection) -> list[RunRecord]:
            return [RunRecord.from_row(row) for row in await conn.execute(statement)]

        return await self._transaction(lease)

    async def set_callback_state(self, run_id: str, status: str, next_at: float | None) -> None:
        await self._execute(
            update(runs)
            .where(runs.c.id == run_id)
            .values(callback_status=status, callback_next_at=next_at)
        )

    # -- retention ---------------------------------------------------------------------

    async def purge_finished_before(self, cutoff: float, batch: int = 500) -> int:
        """Delete finished runs (and their attempts) older than ``cutoff``, in batches."""
        expired = (
            select(runs.c.id).where(runs.c.finished_at < cutoff).limit(batch).scalar_subquery()
        )

        async def purge_batch(conn: AsyncConnection) -> int:
            # Writes only (no read first): a SQLite writer never has to upgrade a read lock.
            await conn.execute(delete(run_attempts).where(run_attempts.c.run_id.in_(expired)))
            return (await conn.execute(delete(runs).where(runs.c.id.in_(expired)))).rowcount

        total = 0
        while deleted := await self._transaction(purge_batch):
            total += deleted
        return total


def _callback_due(now: float) -> dict[str, Any]:
    """Values that schedule a finishing run's callback, if it has a callback URL."""
    return {
        "callback_status": case((runs.c.callback_url.is_not(None), "pending"), else_=None),
        "callback_next_at": now,
    }
