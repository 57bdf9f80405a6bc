"""Sealed values (credentials, secrets) and the use of each key, for key rotation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import Connection, case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from actionruns.store.queries import Queries
from actionruns.store.schema import authentications, clients, key_uses, oauth_apps, signing_keys

SealedKind = Literal["authentication", "client", "oauth_app", "signing_key"]
# Columns whose values the vault sealed, by the kind of their owner.
_SEALED = {
    "authentication": (authentications, authentications.c.credentials),
    "client": (clients, clients.c.signing_secret),
    "oauth_app": (oauth_apps, oauth_apps.c.client_secret),
    "signing_key": (signing_keys, signing_keys.c.private_key),
}


class SealedQueries(Queries):
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
