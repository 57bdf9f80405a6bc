"""Clients and their keys, the service's signing keys, OAuth2 registrations, single-use tokens."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from actionruns.store.queries import Queries
from actionruns.store.records import ClientKeyRecord, ClientRecord, OAuthAppRecord, SigningKeyRecord
from actionruns.store.schema import client_keys, clients, oauth_apps, signing_keys, used_tokens

RETIRED_KEYS_KEPT_SECONDS = 7 * 86_400
_CLIENT = select(clients).where(clients.c.id == bindparam("b_id"))


class ClientQueries(Queries):
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
