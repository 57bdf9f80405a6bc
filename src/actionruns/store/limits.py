"""Concurrency limits, throttled authentications and rate windows."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, bindparam, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from actionruns.store.queries import Queries
from actionruns.store.records import QUEUED, RUNNING, RunRecord
from actionruns.store.schema import authentications, limiters, rate_windows, run_attempts, runs

# A run held back by a concurrency limit looks again after this long (or when woken).
LIMIT_RECHECK_SECONDS = 0.5


class LimitQueries(Queries):
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

    async def purge_rate_windows(self, now: float) -> int:
        """Forget request windows that are over."""
        return await self._execute(delete(rate_windows).where(rate_windows.c.expires_at < now))
