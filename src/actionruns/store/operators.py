"""Operators of the dashboard and their sessions, and the figures its pages show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select

from actionruns.store.engines import Runner
from actionruns.store.records import _Record
from actionruns.store.schema import operator_sessions, operators, runs

# The most finished runs one chart reads: an hour of a busy service is bucketed from these.
MAX_CHART_ROWS = 50_000


@dataclass(frozen=True)
class OperatorRecord(_Record):
    name: str
    password_hash: str
    created_at: float


@dataclass(frozen=True)
class OperatorSessionRecord(_Record):
    id: str
    operator: str
    csrf_token: str
    created_at: float
    expires_at: float


@dataclass(frozen=True)
class FinishedRun:
    """What the charts need of a finished run."""

    client_id: str
    app_key: str
    status: str
    finished_at: float
    seconds: float  # from its first start (or creation) to its end


class Operators:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    async def create(self, name: str, password_hash: str, now: float) -> bool:
        """A new operator; False if one has that name (its password is then replaced)."""

        def work(conn: Connection) -> bool:
            replaced = conn.execute(
                operators.update()
                .where(operators.c.name == name)
                .values(password_hash=password_hash)
            ).rowcount
            if replaced:
                # A new password ends the sessions the old one opened.
                conn.execute(delete(operator_sessions).where(operator_sessions.c.operator == name))
                return False
            conn.execute(
                insert(operators).values(name=name, password_hash=password_hash, created_at=now)
            )
            return True

        return await self.runner.write(work)

    async def get(self, name: str) -> OperatorRecord | None:
        query = select(operators).where(operators.c.name == name)
        return await self.runner.read(
            lambda conn: next((OperatorRecord.from_row(r) for r in conn.execute(query)), None)
        )

    async def delete(self, name: str) -> bool:
        statement = delete(operators).where(operators.c.name == name)
        return await self.runner.write(lambda conn: conn.execute(statement).rowcount > 0)

    async def names(self) -> list[str]:
        query = select(operators.c.name).order_by(operators.c.name)
        return await self.runner.read(lambda conn: list(conn.execute(query).scalars()))

    async def open_session(self, record: OperatorSessionRecord) -> None:
        values = {
            "id": record.id,
            "operator": record.operator,
            "csrf_token": record.csrf_token,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
        }

        def work(conn: Connection) -> None:
            conn.execute(
                delete(operator_sessions).where(operator_sessions.c.expires_at <= record.created_at)
            )
            conn.execute(insert(operator_sessions).values(values))

        await self.runner.write(work)

    async def session(self, session_id: str, now: float) -> OperatorSessionRecord | None:
        query = select(operator_sessions).where(
            operator_sessions.c.id == session_id, operator_sessions.c.expires_at > now
        )
        return await self.runner.read(
            lambda conn: next(
                (OperatorSessionRecord.from_row(r) for r in conn.execute(query)), None
            )
        )

    async def close_session(self, session_id: str) -> None:
        statement = delete(operator_sessions).where(operator_sessions.c.id == session_id)
        await self.runner.write(lambda conn: conn.execute(statement))

    # -- figures -------------------------------------------------------------------------

    async def status_counts(self, since: float) -> dict[str, int]:
        """Runs created since ``since``, by status."""
        query = (
            select(runs.c.status, func.count())
            .where(runs.c.created_at >= since)
            .group_by(runs.c.status)
        )
        return await self.runner.read(
            lambda conn: {status: int(count) for status, count in conn.execute(query)}
        )

    async def finished_since(self, since: float) -> list[FinishedRun]:
        """Runs that finished since ``since`` (up to ``MAX_CHART_ROWS``, the latest)."""
        began = func.coalesce(runs.c.started_at, runs.c.created_at)
        query = (
            select(
                runs.c.client_id,
                runs.c.app_key,
                runs.c.status,
                runs.c.finished_at,
                (runs.c.finished_at - began).label("seconds"),
            )
            .where(runs.c.finished_at >= since)
            .order_by(runs.c.finished_at.desc())
            .limit(MAX_CHART_ROWS)
        )
        return await self.runner.read(
            lambda conn: [FinishedRun(*row) for row in conn.execute(query)]
        )

    async def runs_by_client(
        self, client_ids: Sequence[str], since: float
    ) -> dict[str, dict[str, int]]:
        """Runs created since ``since`` per client, by status."""
        query = (
            select(runs.c.client_id, runs.c.status, func.count())
            .where(runs.c.created_at >= since, runs.c.client_id.in_(list(client_ids)))
            .group_by(runs.c.client_id, runs.c.status)
        )

        def work(conn: Connection) -> dict[str, dict[str, int]]:
            counted: dict[str, dict[str, int]] = {}
            for client_id, status, count in conn.execute(query):
                counted.setdefault(client_id, {})[status] = int(count)
            return counted

        return await self.runner.read(work)
