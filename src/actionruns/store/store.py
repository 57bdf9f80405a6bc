"""All SQL of the service, behind one small async interface (SQLAlchemy 2 Core).

The run table is the queue: a worker leases due runs with an expiry and a dead worker's
lease simply runs out. Every statement here is portable between SQLite and PostgreSQL;
where they differ (row locking) the dialect decides. Each operation is a plain function of
a connection; ``engines`` decides where and how it runs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.sql.expression import CTE, BindParameter, ColumnElement, Executable

from actionruns.store.coalesce import Coalescer
from actionruns.store.engines import DEFAULT_POOL_SIZE, Runner, runner_for
from actionruns.store.imported import ImportedApps
from actionruns.store.operators import Operators
from actionruns.store.records import (
    ERROR,
    QUEUED,
    RUNNING,
    AttemptRecord,
    AuthenticationRecord,
    ClientKeyRecord,
    ClientRecord,
    DeliveryRecord,
    OAuthAppRecord,
    QueueStats,
    RunRecord,
    SigningKeyRecord,
)
from actionruns.store.request_counts import RequestCounts
from actionruns.store.run_list import (
    RunFilter,
    RunPosition,
    finished_runs_query,
    runs_page_query,
)
from actionruns.store.schema import (
    authentications,
    callback_deliveries,
    client_keys,
    clients,
    key_uses,
    limiters,
    oauth_apps,
    rate_windows,
    run_attempts,
    runs,
    signing_keys,
    used_tokens,
)

T = TypeVar("T")
RETIRED_KEYS_KEPT_SECONDS = 7 * 86_400
# A run held back by a concurrency limit looks again after this long (or when woken).
LIMIT_RECHECK_SECONDS = 0.5
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
# A lease is checked by its owner alone: lease_owner is set exactly while a run is running
# (a CHECK constraint holds it). A status condition as well would let PostgreSQL, without
# fresh statistics, walk the status index through every running row instead of taking the
# primary key; seen in the scale benchmark on every finish.
_FINISH_RUN = update(runs).where(
    runs.c.id == bindparam("b_run"), runs.c.lease_owner == bindparam("b_worker")
)
_INSERT_RUN = insert(runs)
_INSERT_ATTEMPT = insert(run_attempts)
_NEXT_DUE = select(func.min(runs.c.available_at)).where(
    _in_status(QUEUED), runs.c.available_at > bindparam("b_after")
)
_FINISH_ATTEMPT = update(run_attempts).where(
    run_attempts.c.run_id == bindparam("b_run"), run_attempts.c.number == bindparam("b_number")
)
# Reads made on every request or attempt: a statement built per call costs more CPU than
# running it on SQLite.
_CLIENT = select(clients).where(clients.c.id == bindparam("b_id"))
# By primary key alone; the owner is checked on the row read (see ``_owned``).
_RUN = select(runs).where(runs.c.id == bindparam("b_id"))
# PostgreSQL: several at once, by primary key (one statement, however many).
_RUNS = select(runs).where(runs.c.id == any_(bindparam("b_ids", type_=ARRAY(String))))
_AUTHENTICATION = select(authentications).where(authentications.c.id == bindparam("b_id"))


# What an attempt's end writes to its row (``finish_attempt``).
_ATTEMPT_END_COLUMNS = ("finished_at", "outcome", "error", "retry_delay", "requests", "logs")


@functools.cache
def _finish_in_one_statement(run_columns: frozenset[str]) -> Select[Any]:
    """PostgreSQL: the run moved on and its attempt closed in one statement (one round trip).

    Parameters: b_run, b_worker, b_number, run_<column> for each of ``run_columns``, and
    attempt_<column> for each of ``_ATTEMPT_END_COLUMNS``. Selects 1 if this worker still
    held the lease (and so wrote both), else 0.
    """
    finished = (
        update(runs)
        .where(runs.c.id == bindparam("b_run"), runs.c.lease_owner == bindparam("b_worker"))
        .values(
            {
                name: bindparam(f"run_{name}", type_=runs.c[name].type)
                for name in sorted(run_columns)
            }
        )
        .returning(runs.c.id)
        .cte("finished")
    )
    ended = (
        update(run_attempts)
        .where(
            # By primary key (a join with ``finished`` may be planned as a scan of all
            # attempts), once the run's own update went through.
            run_attempts.c.run_id == bindparam("b_run"),
            run_attempts.c.number == bindparam("b_number"),
            select(finished.c.id).exists(),
        )
        .values(
            {
                name: bindparam(f"attempt_{name}", type_=run_attempts.c[name].type)
                for name in _ATTEMPT_END_COLUMNS
            }
        )
        .cte("ended")
    )
    return select(func.count()).select_from(finished).add_cte(ended)


def _owned(record: Owned | None, client_id: str | None) -> Owned | None:
    """The record if ``client_id`` owns it (or no owner is asked for), else None.

    Checked here rather than in SQL: given ``id = ? AND client_id = ?``, PostgreSQL without
    fresh statistics (a new table, a burst since the last autoanalyze) may walk the owner
    index through every run of the client instead of taking the primary key. Seen in the
    scale benchmark: 0.6 ms per read at 4,000 runs, growing with the table.
    """
    if record is None or (client_id is not None and record.client_id != client_id):
        return None
    return record


def _refused_for_its_values(error: Exception) -> bool:
    """Whether the database refused a statement for the values it carried (a duplicate key,
    text it cannot store), rather than failing to run it at all."""
    return isinstance(error, (IntegrityError, DataError))


def _run_in(conn: Connection, run_id: str) -> RunRecord | None:
    row = conn.execute(_RUN, {"b_id": run_id}).first()
    return RunRecord.from_row(row) if row else None


SealedKind = Literal["authentication", "client", "oauth_app", "signing_key"]
# Columns whose values the vault sealed, by the kind of their owner.
_SEALED = {
    "authentication": (authentications, authentications.c.credentials),
    "client": (clients, clients.c.signing_secret),
    "oauth_app": (oauth_apps, oauth_apps.c.client_secret),
    "signing_key": (signing_keys, signing_keys.c.private_key),
}


class Store:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.imported_apps = ImportedApps(runner)
        self.operators = Operators(runner)
        self.requests = RequestCounts(runner)
        # PostgreSQL: due rows are taken with SKIP LOCKED, and a lease or a finish is one
        # statement (data-modifying CTEs); SQLite runs several in one local transaction.
        self._postgresql = runner.dialect == "postgresql"
        self._lease_statement = self._build_lease()
        # PostgreSQL: runs inserted or read by id at the same moment share a round trip.
        self._insert_runs = Coalescer(self._insert_run_rows, _refused_for_its_values)
        self._read_runs = Coalescer(self._run_rows, _refused_for_its_values)

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

    # -- plumbing ----------------------------------------------------------------------

    async def _one(
        self, record: type[R], query: Select[Any], params: Mapping[str, Any] | None = None
    ) -> R | None:
        def work(conn: Connection) -> R | None:
            row = conn.execute(query, params).first()
            return record.from_row(row) if row else None

        return await self.runner.read(work)

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

    # -- clients -----------------------------------------------------------------------

    async def insert_client(self, values: Mapping[str, Any]) -> ClientRecord:
        await self._execute(insert(clients), values)
        return ClientRecord.from_row(values)

    async def get_client(self, client_id: str) -> ClientRecord | None:
        return await self._one(ClientRecord, _CLIENT, {"b_id": client_id})

    async def find_client(self, ref: str) -> ClientRecord | None:
        """A client by id or by name."""
        query = select(clients).where(or_(clients.c.id == ref, clients.c.name == ref))
        return await self._one(ClientRecord, query)

    async def list_clients(self) -> list[ClientRecord]:
        return await self._all(ClientRecord, select(clients).order_by(clients.c.created_at))

    async def update_client(self, client_id: str, values: Mapping[str, Any]) -> None:
        await self._execute(update(clients).where(clients.c.id == client_id).values(**values))

    async def delete_client(self, client_id: str) -> bool:
        return await self._execute(delete(clients).where(clients.c.id == client_id)) > 0

    async def insert_client_key(self, values: Mapping[str, Any]) -> None:
        await self._execute(insert(client_keys), values)

    async def list_client_keys(self, client_id: str) -> list[ClientKeyRecord]:
        query = (
            select(client_keys)
            .where(client_keys.c.client_id == client_id)
            .order_by(client_keys.c.created_at)
        )
        return await self._all(ClientKeyRecord, query)

    async def delete_client_key(self, client_id: str, key_id: str) -> bool:
        statement = delete(client_keys).where(
            client_keys.c.client_id == client_id, client_keys.c.id == key_id
        )
        return await self._execute(statement) > 0

    # -- the service's signing keys ------------------------------------------------------

    async def insert_signing_key(self, record: SigningKeyRecord) -> None:
        await self._execute(insert(signing_keys), dataclasses.asdict(record))

    async def signing_keys(self) -> list[SigningKeyRecord]:
        """Every signing key, the newest first."""
        query = select(signing_keys).order_by(
            signing_keys.c.created_at.desc(), signing_keys.c.id.desc()
        )
        return await self._all(SigningKeyRecord, query)

    async def retire_signing_keys(self, *, except_id: str, now: float) -> None:
        """Retire every key but one; keys retired long ago are deleted."""
        await self._execute(
            update(signing_keys)
            .where(signing_keys.c.id != except_id, signing_keys.c.retired_at.is_(None))
            .values(retired_at=now)
        )
        await self._execute(
            delete(signing_keys).where(signing_keys.c.retired_at < now - RETIRED_KEYS_KEPT_SECONDS)
        )

    # -- OAuth2 registrations and single-use tokens ---------------------------------------

    async def set_oauth_app(
        self, app_key: str, client_id: str, sealed_secret: bytes, now: float
    ) -> None:
        values = {"client_id": client_id, "client_secret": sealed_secret, "updated_at": now}

        def work(conn: Connection) -> None:
            updated = conn.execute(
                update(oauth_apps).where(oauth_apps.c.id == app_key).values(**values)
            ).rowcount
            if not updated:
                conn.execute(insert(oauth_apps).values(id=app_key, **values))

        await self.runner.write(work)

    async def get_oauth_app(self, app_key: str) -> OAuthAppRecord | None:
        return await self._one(OAuthAppRecord, select(oauth_apps).where(oauth_apps.c.id == app_key))

    async def list_oauth_apps(self) -> list[OAuthAppRecord]:
        return await self._all(OAuthAppRecord, select(oauth_apps).order_by(oauth_apps.c.id))

    async def spend_token(self, token_id: str, expires_at: float) -> bool:
        """Record a single-use token as spent; False if it already was."""
        try:
            await self._execute(insert(used_tokens), {"id": token_id, "expires_at": expires_at})
        except IntegrityError:
            return False
        return True

    async def token_spent(self, token_id: str) -> bool:
        query = select(used_tokens.c.id).where(used_tokens.c.id == token_id)
        return await self.runner.read(lambda conn: conn.execute(query).first() is not None)

    async def purge_used_tokens(self, now: float) -> int:
        return await self._execute(delete(used_tokens).where(used_tokens.c.expires_at < now))

    # -- sealed values (key rotation) -----------------------------------------------------

    async def sealed_values(
        self, kind: SealedKind, after: str, limit: int
    ) -> list[tuple[str, bytes]]:
        """A batch of (id, sealed value) of ``kind`` in id order, after the id ``after``."""
        table, column = _SEALED[kind]
        query = (
            select(table.c.id, column).where(table.c.id > after).order_by(table.c.id).limit(limit)
        )

        def work(conn: Connection) -> list[tuple[str, bytes]]:
            return [(row[0], bytes(row[1])) for row in conn.execute(query)]

        return await self.runner.read(work)

    async def extend_key_use(self, key_id: str, valid_until: float) -> None:
        """Record that something signed with ``key_id`` is valid until ``valid_until`` (a
        later time already recorded stands)."""
        upsert = (sqlite_insert if self.runner.dialect == "sqlite" else postgresql_insert)(key_uses)
        later = case(
            (upsert.excluded.valid_until > key_uses.c.valid_until, upsert.excluded.valid_until),
            else_=key_uses.c.valid_until,
        )
        await self._execute(
            upsert.values(key_id=key_id, valid_until=valid_until).on_conflict_do_update(
                index_elements=[key_uses.c.key_id], set_={"valid_until": later}
            )
        )

    async def key_uses(self, valid_after: float) -> dict[str, float]:
        """Keys something signed with is still valid after ``valid_after``, and until when."""
        query = select(key_uses.c.key_id, key_uses.c.valid_until).where(
            key_uses.c.valid_until > valid_after
        )
        return await self.runner.read(
            lambda conn: {row.key_id: float(row.valid_until) for row in conn.execute(query)}
        )

    async def forget_key_uses(self, key_ids: Sequence[str], valid_before: float) -> None:
        """Forget the uses of retired keys, and every use over by ``valid_before``."""
        await self._execute(
            delete(key_uses).where(
                or_(key_uses.c.key_id.in_(list(key_ids)), key_uses.c.valid_until < valid_before)
            )
        )

    async def reseal(self, kind: SealedKind, row_id: str, old: bytes, new: bytes) -> bool:
        """Replace a sealed value, unless it changed since it was read (a token refresh)."""
        table, column = _SEALED[kind]
        statement = (
            update(table).where(table.c.id == row_id, column == old).values({column.name: new})
        )
        return await self._execute(statement) > 0

    # -- authentications ---------------------------------------------------------------

    async def insert_authentication(self, values: Mapping[str, Any]) -> None:
        await self._execute(insert(authentications), values)

    async def get_authentication(
        self, authentication_id: str, *, client_id: str | None = None
    ) -> AuthenticationRecord | None:
        found = await self._one(AuthenticationRecord, _AUTHENTICATION, {"b_id": authentication_id})
        return _owned(found, client_id)

    async def replace_credentials(
        self,
        authentication_id: str,
        sealed: bytes,
        access_expires_at: float | None,
        now: float,
        *,
        holder: str | None = None,
        title: str | None = None,
    ) -> bool:
        """Store new credentials (a refresh, a reconnect): the authentication works again,
        and a refresh hold by ``holder`` ends in the same statement, so a rotated refresh
        token is never lost between two writes."""
        condition = authentications.c.id == authentication_id
        if holder is not None:
            condition = and_(condition, authentications.c.refresh_holder == holder)
        values: dict[str, Any] = {
            "credentials": sealed,
            "access_expires_at": access_expires_at,
            "is_expired": False,
            "refreshed_at": now,
            "refresh_failed_at": None,
            "refresh_error": None,
            "refresh_holder": None,
            "refresh_until": None,
            "updated_at": now,
        }
        if title is not None:
            values["title"] = title
        return await self._execute(update(authentications).where(condition).values(**values)) > 0

    async def claim_refresh(
        self, authentication_id: str, holder: str, now: float, until: float
    ) -> bool:
        """Take the one refresh of an authentication, across every process (single flight)."""
        statement = (
            update(authentications)
            .where(
                authentications.c.id == authentication_id,
                or_(
                    authentications.c.refresh_until.is_(None),
                    authentications.c.refresh_until < now,
                ),
            )
            .values(refresh_holder=holder, refresh_until=until)
        )
        return await self._execute(statement) > 0

    async def release_refresh(
        self,
        authentication_id: str,
        holder: str,
        now: float,
        *,
        failed: bool,
        expired: bool,
        error: str | None = None,
    ) -> None:
        """End a refresh hold without new credentials: unneeded after all, or failed (its
        time starts a cooldown; ``error`` says why), or refused by the provider (the
        authentication expires)."""
        values: dict[str, Any] = {"refresh_holder": None, "refresh_until": None}
        if failed:
            values.update(refresh_failed_at=now, refresh_error=error, updated_at=now)
        if expired:
            values["is_expired"] = True
        await self._execute(
            update(authentications)
            .where(
                authentications.c.id == authentication_id,
                authentications.c.refresh_holder == holder,
            )
            .values(**values)
        )

    async def authentications_to_refresh(
        self, app_keys: Sequence[str], due_before: float, stale_before: float, limit: int
    ) -> list[AuthenticationRecord]:
        """OAuth2 authentications whose token expires soon or was not refreshed for a day."""
        if not app_keys:
            return []
        query = (
            select(authentications)
            .where(
                authentications.c.app_key.in_(app_keys),
                authentications.c.is_expired.is_(False),
                or_(
                    authentications.c.access_expires_at < due_before,
                    func.coalesce(authentications.c.refreshed_at, authentications.c.created_at)
                    < stale_before,
                ),
            )
            .order_by(authentications.c.access_expires_at)
            .limit(limit)
        )
        return await self._all(AuthenticationRecord, query)

    async def delete_authentication(self, authentication_id: str) -> bool:
        """Delete an authentication and erase its sealed credentials from the database."""
        statement = delete(authentications).where(authentications.c.id == authentication_id)
        deleted = await self._execute(statement) > 0
        await self.runner.erase_history()
        return deleted

    async def list_authentications(
        self,
        client_id: str | None,
        *,
        app_key: str | None,
        limit: int,
        offset: int,
        end_user_id: str | None = None,
    ) -> tuple[list[AuthenticationRecord], int]:
        condition = authentications.c.client_id == client_id if client_id is not None else true()
        if app_key is not None:
            condition = and_(condition, authentications.c.app_key == app_key)
        if end_user_id is not None:
            condition = and_(condition, authentications.c.end_user_id == end_user_id)

        def work(conn: Connection) -> tuple[list[AuthenticationRecord], int]:
            total = conn.execute(
                select(func.count()).select_from(authentications).where(condition)
            ).scalar_one()
            rows = conn.execute(
                select(authentications)
                .where(condition)
                .order_by(authentications.c.created_at, authentications.c.id)
                .limit(limit)
                .offset(offset)
            )
            return [AuthenticationRecord.from_row(row) for row in rows], int(total)

        return await self.runner.read(work)

    async def set_authentication_expired(
        self, authentication_id: str, expired: bool, now: float
    ) -> None:
        await self._execute(
            update(authentications)
            .where(authentications.c.id == authentication_id)
            .values(is_expired=expired, updated_at=now)
        )

    # -- runs: submission and reading --------------------------------------------------

    async def insert_run(
        self, values: Mapping[str, Any], *, attempt_by: str | None = None
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
                await self.runner.write(work)
            elif self._postgresql:
                await self._insert_runs(values)
            else:
                await self.runner.write_one(work)
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
                return await self.insert_run(values, attempt_by=attempt_by)
            return existing, False
        return RunRecord.from_row(values), True

    async def get_run(self, run_id: str, *, client_id: str | None = None) -> RunRecord | None:
        if self._postgresql:
            return _owned(await self._read_runs(run_id), client_id)
        return _owned(await self._one(RunRecord, _RUN, {"b_id": run_id}), client_id)

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
    ) -> bool:
        """Record an attempt's end and move the run on, if this worker still holds its lease.

        ``requests`` are the HTTP requests the attempt made, ``logs`` what the app's code
        printed; ``retry_delay`` the wait chosen before the next attempt, if there is one.
        """
        run_parameters = {"lease_owner": None, "lease_expires_at": None, **run_values}
        attempt_parameters = {
            "finished_at": now,
            "outcome": outcome,
            "error": error,
            "retry_delay": retry_delay,
            "requests": list(requests) or None,
            "logs": list(logs) or None,
        }
        if self._postgresql:
            statement = _finish_in_one_statement(frozenset(run_parameters))
            parameters = {
                "b_run": run.id,
                "b_worker": worker,
                "b_number": run.attempts,
                **{f"run_{name}": value for name, value in run_parameters.items()},
                **{f"attempt_{name}": value for name, value in attempt_parameters.items()},
            }
            return bool(
                await self.runner.write_one(
                    lambda conn: conn.execute(statement, parameters).scalar_one()
                )
            )

        def finish(conn: Connection) -> bool:
            changed = self.runner.execute(
                conn, _FINISH_RUN, {"b_run": run.id, "b_worker": worker, **run_parameters}
            )
            if changed == 0:
                return False
            self.runner.execute(
                conn,
                _FINISH_ATTEMPT,
                {"b_run": run.id, "b_number": run.attempts, **attempt_parameters},
            )
            return True

        return await self.runner.write(finish)

    async def acquire_limit(
        self,
        run: RunRecord,
        worker: str,
        clock: Callable[[], float],
        *,
        concurrency: int | None,
        rate: tuple[int, float] | None,
    ) -> float | None:
        """Let a leased run start under its app's limits, or say when it may try again.

        The limiter row of the run's key is locked for the decision, so workers in any number
        of processes decide one at a time per key. A run counts towards the concurrency while
        it holds the limit and its lease is alive: a dead worker's hold lapses with its lease.
        ``rate`` is (runs, seconds): starts are spaced at least ``seconds / runs`` apart (GCRA
        without burst), so no window of ``seconds`` ever holds more than ``runs`` starts.
        The time is read from ``clock`` once the row is locked: a worker that waited for the
        lock must not record a start earlier than the one it waited behind.
        Returns None when acquired, else the time from which to try again.
        """
        key = run.limit_key
        assert key is not None
        upsert = (sqlite_insert if self.runner.dialect == "sqlite" else postgresql_insert)(limiters)
        locked = select(limiters.c.tat).where(limiters.c.key == key)
        if self._postgresql:
            locked = locked.with_for_update()
        holders = (
            select(func.count())
            .select_from(runs)
            .where(
                runs.c.limit_key == key,
                runs.c.status == RUNNING,
                runs.c.holds_limit.is_(True),
                runs.c.lease_expires_at > bindparam("b_now"),
                runs.c.id != run.id,
            )
        )

        def acquire(conn: Connection) -> float | None:
            conn.execute(upsert.values(key=key, tat=0.0).on_conflict_do_nothing())
            tat = float(conn.execute(locked).scalar_one())
            now = clock()
            if (
                concurrency is not None
                and conn.execute(holders, {"b_now": now}).scalar_one() >= concurrency
            ):
                return now + LIMIT_RECHECK_SECONDS
            if rate is not None:
                count, seconds = rate
                if tat > now:
                    return tat
                conn.execute(
                    update(limiters).where(limiters.c.key == key).values(tat=now + seconds / count)
                )
            conn.execute(
                update(runs)
                .where(runs.c.id == run.id, runs.c.lease_owner == worker)
                .values(holds_limit=True)
            )
            return None

        return await self.runner.write(acquire)

    async def defer_run(self, run: RunRecord, worker: str, until: float) -> None:
        """Undo a lease whose run may not start yet: it never ran, so no attempt is kept."""

        def defer(conn: Connection) -> None:
            deferred = conn.execute(
                update(runs)
                .where(runs.c.id == run.id, runs.c.lease_owner == worker)
                .values(
                    status=QUEUED,
                    available_at=until,
                    attempts=runs.c.attempts - 1,
                    lease_owner=None,
                    lease_expires_at=None,
                    started_at=case((runs.c.attempts == 1, None), else_=runs.c.started_at),
                )
            ).rowcount
            if deferred:
                conn.execute(
                    delete(run_attempts).where(
                        run_attempts.c.run_id == run.id, run_attempts.c.number == run.attempts
                    )
                )

        await self.runner.write(defer)

    async def throttle_authentication(self, authentication_id: str, until: float) -> int:
        """The app asked to slow down on this account: hold its queued runs until ``until``.

        Returns how many queued runs were pushed back; runs submitted later wait too.
        """

        def throttle(conn: Connection) -> int:
            conn.execute(
                update(authentications)
                .where(authentications.c.id == authentication_id)
                .values(
                    throttled_until=case(
                        (
                            authentications.c.throttled_until > until,
                            authentications.c.throttled_until,
                        ),
                        else_=until,
                    )
                )
            )
            return int(
                conn.execute(
                    update(runs)
                    .where(
                        runs.c.authentication_id == authentication_id,
                        runs.c.status == QUEUED,
                        runs.c.available_at < until,
                    )
                    .values(available_at=until)
                ).rowcount
            )

        return await self.runner.write(throttle)

    async def claim_rate_budget(
        self, key: str, *, want: int, limit: int, expires_at: float
    ) -> tuple[int, int]:
        """Claim up to ``want`` requests of a window whose total is ``limit``.

        Returns (granted, claimed by everyone so far). The row is locked for the decision.
        """
        upsert = (sqlite_insert if self.runner.dialect == "sqlite" else postgresql_insert)(
            rate_windows
        )
        locked = select(rate_windows.c.used).where(rate_windows.c.key == key)
        if self._postgresql:
            locked = locked.with_for_update()

        def claim(conn: Connection) -> tuple[int, int]:
            conn.execute(
                upsert.values(key=key, used=0, expires_at=expires_at).on_conflict_do_nothing()
            )
            used = int(conn.execute(locked).scalar_one())
            granted = max(0, min(want, limit - used))
            if granted:
                conn.execute(
                    update(rate_windows)
                    .where(rate_windows.c.key == key)
                    .values(used=rate_windows.c.used + granted)
                )
            return granted, used + granted

        return await self.runner.write(claim)

    async def rate_windows_used(self, keys: Sequence[str]) -> dict[str, int]:
        """How much of each window was claimed (windows never claimed are left out)."""
        query = select(rate_windows.c.key, rate_windows.c.used).where(rate_windows.c.key.in_(keys))
        return await self.runner.read(
            lambda conn: {str(row[0]): int(row[1]) for row in conn.execute(query)}
        )

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
            if _owned(_run_in(conn, run_id), client_id) is None:
                return None
            this = runs.c.id == run_id  # by primary key alone, as in ``_owned``
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

    # -- callbacks ---------------------------------------------------------------------

    async def lease_callbacks(self, now: float, limit: int, retry_at: float) -> list[RunRecord]:
        """Take due callback deliveries; each is pushed to ``retry_at`` until marked done."""
        due = (
            select(runs.c.id)
            .where(runs.c.callback_status == "pending", runs.c.callback_next_at <= now)
            .order_by(runs.c.callback_next_at)
            .limit(limit)
        )
        if self._postgresql:
            due = due.with_for_update(skip_locked=True)
        return await self._returning(
            RunRecord,
            update(runs)
            .where(runs.c.id.in_(due.scalar_subquery()))
            .values(callback_next_at=retry_at, callback_attempts=runs.c.callback_attempts + 1)
            .returning(*runs.c),
        )

    async def set_callback_state(
        self,
        run_id: str,
        status: str,
        next_at: float | None,
        error: str | None = None,
        *,
        delivery: DeliveryRecord | None = None,
    ) -> None:
        """The callback's state after an attempt, and that attempt (``delivery``) in the
        same transaction."""
        state = (
            update(runs)
            .where(runs.c.id == run_id)
            .values(callback_status=status, callback_next_at=next_at, callback_error=error)
        )

        def work(conn: Connection) -> None:
            conn.execute(state)
            if delivery is not None:
                conn.execute(insert(callback_deliveries).values(**dataclasses.asdict(delivery)))

        await self.runner.write(work)

    async def list_deliveries(self, run_id: str) -> list[DeliveryRecord]:
        query = (
            select(callback_deliveries)
            .where(callback_deliveries.c.run_id == run_id)
            .order_by(callback_deliveries.c.number)
        )
        return await self._all(DeliveryRecord, query)

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

    async def purge_rate_windows(self, now: float) -> int:
        """Forget request windows that are over."""
        return await self._execute(delete(rate_windows).where(rate_windows.c.expires_at < now))
