"""API requests per client and minute, as every API node adds them in batches, and the sums
the dashboard shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from actionruns.store.engines import Runner
from actionruns.store.schema import client_requests


@dataclass
class RequestCount:
    """Requests, and how many were answered 4xx and 5xx."""

    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0

    def add(self, other: RequestCount) -> None:
        self.requests += other.requests
        self.client_errors += other.client_errors
        self.server_errors += other.server_errors


class RequestCounts:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    async def add(self, counts: Mapping[tuple[str, float], RequestCount]) -> None:
        """Add counts by (client, minute) to what every node added so far: one upsert of
        all rows, in key order, so two nodes adding at once take their locks in one order."""
        if not counts:
            return
        rows = [
            {
                "client_id": client_id,
                "minute": minute,
                "requests": count.requests,
                "client_errors": count.client_errors,
                "server_errors": count.server_errors,
            }
            for (client_id, minute), count in sorted(counts.items())
        ]
        upsert = (sqlite_insert if self.runner.dialect == "sqlite" else postgresql_insert)(
            client_requests
        )
        statement = upsert.on_conflict_do_update(
            index_elements=[client_requests.c.client_id, client_requests.c.minute],
            set_={
                name: client_requests.c[name] + upsert.excluded[name]
                for name in ("requests", "client_errors", "server_errors")
            },
        )
        await self.runner.write(lambda conn: conn.execute(statement, rows))

    async def by_client(self, client_ids: Sequence[str], since: float) -> dict[str, RequestCount]:
        """Each client's requests in the minutes that began at or after ``since``."""
        query = (
            select(
                client_requests.c.client_id,
                func.sum(client_requests.c.requests),
                func.sum(client_requests.c.client_errors),
                func.sum(client_requests.c.server_errors),
            )
            .where(
                client_requests.c.client_id.in_(list(client_ids)),
                client_requests.c.minute >= since,
            )
            .group_by(client_requests.c.client_id)
        )

        def work(conn: Connection) -> dict[str, RequestCount]:
            return {
                client_id: RequestCount(int(requests), int(client_errors), int(server_errors))
                for client_id, requests, client_errors, server_errors in conn.execute(query)
            }

        return await self.runner.read(work)

    async def purge(self, before: float) -> int:
        statement = delete(client_requests).where(client_requests.c.minute < before)
        return await self.runner.write(lambda conn: conn.execute(statement).rowcount)
