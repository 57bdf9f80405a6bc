"""All SQL of the service, behind one small async interface (SQLAlchemy 2 Core).

``Store`` is the whole of it: the runs and their queue here, each other concern in a module
of its own (clients, sealing, authentications, limits, callbacks) over the plumbing they
share (queries). The run table is the queue: a worker leases due runs with an expiry and a
dead worker's lease simply runs out. Every statement is portable between SQLite and
PostgreSQL; where they differ (row locking) the dialect decides. Each operation is a plain
function of a connection; ``engines`` decides where and how it runs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    String,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.sql.expression import CTE, BindParameter, ColumnElement, Executable

from actionruns.store.authentications import AuthenticationQueries
from actionruns.store.callbacks import CallbackQueries
from actionruns.store.clients import ClientQueries
from actionruns.store.coalesce import Coalescer
from actionruns.store.engines import DEFAULT_POOL_SIZE, Runner, runner_for
from actionruns.store.finishing import AttemptEnd, finish_in, finish_together
from actionruns.store.imported import ImportedApps
from actionruns.store.limits import LimitQueries
from actionruns.store.operators import Operators
from actionruns.store.queries import owned
from actionruns.store.records import ERROR, QUEUED, RUNNING, AttemptRecord, QueueStats, RunRecord
from actionruns.store.request_counts import RequestCounts
from actionruns.store.run_list import RunFilter, RunPosition, finished_runs_query, runs_page_query
from actionruns.store.schema import callback_deliveries, run_attempts, runs
from actionruns.store.sealing import SealedQueries


def _callback_due(now: float) -> dict[str, Any]:
    """Values that schedule a finishing run's callback, if it has a callback URL."""
    return {
        "callback_status": case((runs.c.callback_url.is_not(None), "pending"), else_=None),
        "callback_next_at": now,
    }


def _in_status(status: str) -> ColumnElement[bool]:
    """``status = '<status>'`` with the value in the SQL text, not a parameter: only then may
    the planner use the queue's partial indexes (see the schema), whatever its statistics."""
    return runs.c.status == literal(status, literal_execute=True)


# The hot statements, built once; their SET clauses come from the execution parameters.
_INSERT_RUN = insert(runs)
_INSERT_ATTEMPT = insert(run_attempts)
_NEXT_DUE = select(func.min(runs.c.available_at)).where(
    _in_status(QUEUED), runs.c.available_at > bindparam("b_after")
)
# Reads made on every request or attempt: a statement built per call costs more CPU than
# running it on SQLite.
# By primary key alone; the owner is checked on the row read (see ``queries.owned``).
_RUN = select(runs).where(runs.c.id == bindparam("b_id"))
# PostgreSQL: several at once, by primary key (one statement, however many).
_RUNS = select(runs).where(runs.c.id == any_(bindparam("b_ids", type_=ARRAY(String))))


def _refused_for_its_values(error: Exception) -> bool:
    """Whether the database refused a statement for the values it carried (a duplicate key,
    text it cannot store), rather than failing to run it at all."""
    if isinstance(error, (IntegrityError, DataError)):
        return True
    # asyncpg's errors mostly reach SQLAlchemy as a plain DBAPIError (a value too long for
    # its column among them): their SQLSTATE class tells a refused value (22, data
    # exception; 23, integrity constraint) from a database that is away.
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate[:2] in ("22", "23")


def _run_in(conn: Connection, run_id: str) -> RunRecord | None:
    row = conn.execute(_RUN, {"b_id": run_id}).first()
    return RunRecord.from_row(row) if row else None


class Store(ClientQueries, SealedQueries, AuthenticationQueries, LimitQueries, CallbackQueries):
    """The whole store: the runs and their queue here, each other concern in its module."""

    def __init__(self, runner: Runner) -> None:
        super().__init__(runner)
        self.imported_apps = ImportedApps(runner)
        self.operators = Operators(runner)
        self.requests = RequestCounts(runner)
        self._lease_statement = self._build_lease()
        # PostgreSQL: runs inserted or read by id at the same moment share a round trip.
        self._insert_runs = Coalescer(self._insert_run_rows, _refused_for_its_values)
        self._read_runs = Coalescer(self._run_rows, _refused_for_its_values)
        # PostgreSQL: attempts ending at the same moment, by the set of run columns they set.
        self._finishes: dict[frozenset[str], Coalescer[AttemptEnd, bool]] = {}

    def _build_lease(self, only: Sequence[str] | None = None) -> Executable:
        """The lease: due runs marked running for a worker and returned.

        On PostgreSQL the same statement also begins their attempts and closes those their
        dead workers left open (one round trip); on SQLite ``lease_runs`` writes those rows
        after it, in the same transaction.
        """
        now: BindParameter[float] = bindparam("b_now", type_=Float)
        worker: BindParameter[str] = bindparam("b_worker", type_=String)
        limit: BindParameter[int] = bindparam("b_limit", type_=Integer)

        def due(status: str, order: ColumnElement[float], condition: ColumnElement[bool]) -> CTE:
            # Each kind on its own index, in order, stopping at the limit. One query for both
            # (an OR) cannot: it gathers and sorts every due run. With 100,000 queued, picking
            # 32 took 90 ms on PostgreSQL that way, 0.1 ms this way.
            taken = (
                select(runs.c.id)
                .where(
                    _in_status(status),
                    condition,
                    runs.c.app_key.in_(bindparam("b_apps", expanding=True)),
                )
                .order_by(order)
                .limit(limit)
            )
            if only is not None:
                taken = taken.where(runs.c.id.in_(only))
            if self._postgresql:
                taken = taken.with_for_update(skip_locked=True)
            return taken.cte(f"due_{status}")

        # Runs whose worker died first: they have waited longest.
        lapsed = due(RUNNING, runs.c.lease_expires_at, runs.c.lease_expires_at < now)
        queued = due(QUEUED, runs.c.available_at, runs.c.available_at <= now)
        taken = union_all(select(lapsed.c.id), select(queued.c.id)).subquery("taken")
        lease = (
            update(runs)
            .where(runs.c.id.in_(select(taken.c.id).limit(limit).scalar_subquery()))
            .values(
                status=RUNNING,
                lease_owner=worker,
                lease_expires_at=bindparam("b_until"),
                attempts=runs.c.attempts + 1,
                started_at=func.coalesce(runs.c.started_at, now),
                holds_limit=False,
            )
            .returning(*runs.c)
        )
        if not self._postgresql:
            return lease
        leased = lease.cte("leased")
        # Sub-statements of one statement do not see each other's rows: this closes only
        # the attempts that were open before, not the ones begun below.
        lost = (
            update(run_attempts)
            .where(
                run_attempts.c.run_id.in_(select(leased.c.id).where(leased.c.attempts > 1)),
                run_attempts.c.finished_at.is_(None),
            )
            .values(finished_at=now, outcome="lost")
            .cte("lost")
        )
        begun = (
            insert(run_attempts)
            .from_select(
                ["run_id", "number", "worker", "started_at"],
                select(leased.c.id, leased.c.attempts, worker, now),
            )
            .cte("begun")
        )
        return select(leased).add_cte(lost, begun)

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> Store:
        return cls(runner_for(url, pool_size=pool_size))

    async def close(self) -> None:
        await self.runner.close()

    # -- runs: submission and reading --------------------------------------------------

    async def insert_run(
        self, values: Mapping[str, Any], *, attempt_by: str | None = None, quiet: bool = False
    ) -> tuple[RunRecord, bool]:
        """Insert a run; with an idempotency key already used, return that run instead.

        ``attempt_by`` names the worker the run is inserted already leased to (``values``
        carry the lease): its first attempt is recorded in the same transaction.
        Returns the run and whether it was created now.
        """

        def work(conn: Connection) -> None:
            self.runner.execute(conn, _INSERT_RUN, values)
            if attempt_by is not None:
                self.runner.execute(
                    conn,
                    _INSERT_ATTEMPT,
                    {
                        "run_id": values["id"],
                        "number": values["attempts"],
                        "worker": attempt_by,
                        "started_at": values["started_at"],
                    },
                )

        try:
            if attempt_by is not None:
                await self.runner.write(work, quiet=quiet)
            elif self._postgresql:
                await self._insert_runs(values)
            else:
                await self.runner.write_one(work, quiet=quiet)
        except IntegrityError:
            if values.get("idempotency_key") is None:
                raise
            existing = await self._one(
                RunRecord,
                select(runs).where(
                    runs.c.client_id == values["client_id"],
                    runs.c.idempotency_key == values["idempotency_key"],
                ),
            )
            if existing is None:  # purged between the two statements: the key is free again
                return await self.insert_run(values, attempt_by=attempt_by, quiet=quiet)
            return existing, False
        return RunRecord.from_row(values), True

    async def get_run(self, run_id: str, *, client_id: str | None = None) -> RunRecord | None:
        if self._postgresql:
            return owned(await self._read_runs(run_id), client_id)
        return owned(await self._first(RunRecord, _RUN, {"b_id": run_id}), client_id)

    async def _insert_run_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[None]:
        """PostgreSQL: runs inserted by concurrent submissions, all or none, in one round
        trip (asyncpg's executemany)."""
        await self.runner.write_one(lambda conn: conn.execute(_INSERT_RUN, list(rows)))
        return [None] * len(rows)

    async def _run_rows(self, run_ids: Sequence[str]) -> list[RunRecord | None]:
        """PostgreSQL: runs read by concurrent requests, in one statement."""

        def read(conn: Connection) -> dict[str, RunRecord]:
            rows = conn.execute(_RUNS, {"b_ids": list(run_ids)})
            return {row.id: RunRecord.from_row(row) for row in rows}

        found = await self.runner.read(read)
        return [found.get(run_id) for run_id in run_ids]

    async def list_runs(
        self, wanted: RunFilter, after: RunPosition | None, limit: int
    ) -> list[RunRecord]:
        """A page of a client's runs, newest first (see ``run_list``)."""
        return await self._all(RunRecord, runs_page_query(wanted, after, limit))

    async def finished_runs(
        self, wanted: RunFilter, since: float | None, limit: int, *, latest: bool = False
    ) -> list[RunRecord]:
        """Runs by when they finished (see ``run_list.finished_runs_query``)."""
        return await self._all(RunRecord, finished_runs_query(wanted, since, limit, latest=latest))

    async def list_attempts(self, run_id: str) -> list[AttemptRecord]:
        query = (
            select(run_attempts)
            .where(run_attempts.c.run_id == run_id)
            .order_by(run_attempts.c.number)
        )
        return await self._all(AttemptRecord, query)

    # -- runs: the queue ---------------------------------------------------------------

    async def lease_runs(
        self,
        worker: str,
        limit: int,
        now: float,
        lease_seconds: float,
        *,
        apps: Sequence[str],
        only: Sequence[str] | None = None,
    ) -> list[RunRecord]:
        """Lease up to ``limit`` due runs: queued ones, and running ones whose lease ran out.

        Only runs of ``apps`` (those the worker has installed) are taken: during a rolling
        upgrade an older worker leaves a new app's runs to the workers that have it.
        ``only`` restricts the lease to the given runs (the CLI executing one run).
        """
        statement = self._lease_statement if only is None else self._build_lease(only)
        parameters = {
            "b_now": now,
            "b_limit": limit,
            "b_apps": list(apps),
            "b_worker": worker,
            "b_until": now + lease_seconds,
        }

        def lease(conn: Connection) -> list[RunRecord]:
            leased = [RunRecord.from_row(row) for row in conn.execute(statement, parameters)]
            if self._postgresql:
                return leased  # the statement wrote the attempts too
            retaken = [run.id for run in leased if run.attempts > 1]
            if retaken:  # their previous attempt died with its worker
                conn.execute(
                    update(run_attempts)
                    .where(run_attempts.c.run_id.in_(retaken), run_attempts.c.finished_at.is_(None))
                    .values(finished_at=now, outcome="lost")
                )
            if leased:
                conn.execute(
                    _INSERT_ATTEMPT,
                    [
                        {"run_id": r.id, "number": r.attempts, "worker": worker, "started_at": now}
                        for r in leased
                    ],
                )
            return leased

        return await (self.runner.write_one if self._postgresql else self.runner.write)(lease)

    async def extend_leases(
        self, worker: str, run_ids: Sequence[str], until: float
    ) -> tuple[set[str], set[str]]:
        """Extend the leases this worker still holds.

        Returns the ids still held and, among them, those whose cancellation was requested.
        """
        statement = (
            update(runs)
            .where(runs.c.id.in_(run_ids), runs.c.lease_owner == worker)
            .values(lease_expires_at=until)
            .returning(runs.c.id, runs.c.cancel_requested)
        )

        def extend(conn: Connection) -> list[tuple[str, bool]]:
            return [(row.id, bool(row.cancel_requested)) for row in conn.execute(statement)]

        held = await self.runner.write_one(extend)
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
        retry_delay: float | None = None,
        requests: Sequence[Mapping[str, Any]] = (),
        logs: Sequence[Mapping[str, str]] = (),
        quiet: bool = False,
    ) -> bool:
        """Record an attempt's end and move the run on, if this worker still holds its lease.

        ``requests`` are the HTTP requests the attempt made, ``logs`` what the app's code
        printed; ``retry_delay`` the wait chosen before the next attempt, if there is one;
        ``quiet``: it is the only attempt in flight (see ``Runner.write``).
        """
        end = AttemptEnd(
            run.id,
            run.attempts,
            worker,
            {"lease_owner": None, "lease_expires_at": None, **run_values},
            {
                "finished_at": now,
                "outcome": outcome,
                "error": error,
                "retry_delay": retry_delay,
                "requests": list(requests) or None,
                "logs": list(logs) or None,
            },
        )
        if not self._postgresql:
            return await self.runner.write(
                lambda conn: finish_in(self.runner, conn, end), quiet=quiet
            )
        columns = frozenset(end.run_values)
        if (finish := self._finishes.get(columns)) is None:
            finish = self._finishes[columns] = Coalescer(
                functools.partial(finish_together, self.runner), _refused_for_its_values
            )
        return await finish(end)

    async def release_runs(self, worker: str, run_ids: Sequence[str], now: float) -> list[str]:
        """Hand back runs this worker holds (it is shutting down): due again at once.

        Their attempts are recorded as released; they still count towards the run's limit.
        """
        statement = (
            update(runs)
            .where(runs.c.id.in_(run_ids), runs.c.lease_owner == worker)
            .values(
                status=QUEUED,
                lease_owner=None,
                lease_expires_at=None,
                available_at=now,
                holds_limit=False,
            )
            .returning(runs.c.id)
        )

        def release(conn: Connection) -> list[str]:
            released = [row.id for row in conn.execute(statement)]
            if released:
                conn.execute(
                    update(run_attempts)
                    .where(
                        run_attempts.c.run_id.in_(released), run_attempts.c.finished_at.is_(None)
                    )
                    .values(finished_at=now, outcome="released")
                )
            return released

        return await self.runner.write(release)

    async def cancel_run(
        self, run_id: str, client_id: str, now: float, error: Any
    ) -> RunRecord | None:
        """Cancel a queued run at once, or flag a running one for its worker to abandon."""

        def cancel(conn: Connection) -> RunRecord | None:
            if owned(_run_in(conn, run_id), client_id) is None:
                return None
            this = runs.c.id == run_id  # by primary key alone, as in ``queries.owned``
            conn.execute(
                update(runs)
                .where(this, runs.c.status == QUEUED)
                .values(status=ERROR, errors=error, finished_at=now, **_callback_due(now))
            )
            conn.execute(
                update(runs).where(this, runs.c.status == RUNNING).values(cancel_requested=True)
            )
            return _run_in(conn, run_id)

        return await self.runner.write(cancel)

    async def next_due_at(self, after: float) -> float | None:
        """When the next queued run falls due after ``after``, so an idle worker knows how
        long to sleep. Runs due already are left out: the worker has just looked for them,
        and those it cannot take (another app's) must not keep it awake."""

        def work(conn: Connection) -> float | None:
            value = conn.execute(_NEXT_DUE, {"b_after": after}).scalar()
            return float(value) if value is not None else None

        return await self.runner.read(work)

    async def ping(self) -> None:
        """Raise unless the database answers."""
        await self.runner.read(lambda conn: conn.execute(select(1)).scalar_one())

    async def queue_stats(self, now: float) -> QueueStats:
        """Unfinished runs and pending callbacks; each query stays on an index."""
        queued = select(
            func.count(), func.coalesce(func.sum(case((runs.c.available_at <= now, 1), else_=0)), 0)
        ).where(_in_status(QUEUED))
        running = select(func.count(), func.min(runs.c.started_at)).where(_in_status(RUNNING))
        callbacks = (
            select(func.count()).select_from(runs).where(runs.c.callback_status == "pending")
        )
        failed = select(func.count()).select_from(runs).where(runs.c.callback_status == "failed")

        def work(conn: Connection) -> QueueStats:
            queued_count, due = conn.execute(queued).one()
            running_count, oldest = conn.execute(running).one()
            return QueueStats(
                queued=int(queued_count),
                due=int(due),
                running=int(running_count),
                oldest_running_since=float(oldest) if oldest is not None else None,
                callbacks_pending=int(conn.execute(callbacks).scalar_one()),
                callbacks_failed=int(conn.execute(failed).scalar_one()),
            )

        return await self.runner.read(work)

    # -- retention ---------------------------------------------------------------------

    async def purge_finished_before(self, cutoff: float, batch: int = 500) -> int:
        """Delete finished runs (and their attempts) older than ``cutoff``, in batches."""
        expired = (
            select(runs.c.id).where(runs.c.finished_at < cutoff).limit(batch).scalar_subquery()
        )

        def purge_batch(conn: Connection) -> int:
            conn.execute(delete(run_attempts).where(run_attempts.c.run_id.in_(expired)))
            conn.execute(
                delete(callback_deliveries).where(callback_deliveries.c.run_id.in_(expired))
            )
            return conn.execute(delete(runs).where(runs.c.id.in_(expired))).rowcount

        total = 0
        while deleted := await self.runner.write(purge_batch):
            total += deleted
        return total
