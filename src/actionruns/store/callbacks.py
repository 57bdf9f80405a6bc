"""Callbacks to partners: due deliveries and what became of each."""

from __future__ import annotations

import dataclasses

from sqlalchemy import Connection, insert, select, update

from actionruns.store.queries import Queries
from actionruns.store.records import DeliveryRecord, RunRecord
from actionruns.store.schema import callback_deliveries, runs


class CallbackQueries(Queries):
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
