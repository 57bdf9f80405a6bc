"""Connected accounts: their credentials, refreshes and expiry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, true, update

from actionruns.store.queries import Queries, owned
from actionruns.store.records import AuthenticationRecord
from actionruns.store.schema import authentications

_AUTHENTICATION = select(authentications).where(authentications.c.id == bindparam("b_id"))


class AuthenticationQueries(Queries):
    async def insert_authentication(self, values: Mapping[str, Any]) -> None:
        await self._execute(insert(authentications), values)

    async def get_authentication(
        self, authentication_id: str, *, client_id: str | None = None
    ) -> AuthenticationRecord | None:
        found = await self._first(
            AuthenticationRecord, _AUTHENTICATION, {"b_id": authentication_id}
        )
        return owned(found, client_id)

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
