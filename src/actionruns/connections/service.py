"""Creating, listing and opening authentications; credentials never leave sealed but to run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx2

from actionruns.errors import NotFound, Unprocessable, ValidationFailed
from actionruns.principal import Principal
from actionruns.sdk.app import App
from actionruns.sdk.context import Context, open_context
from actionruns.sdk.errors import ActionError
from actionruns.sdk.fields import FieldErrors, validate_inputs
from actionruns.sdk.outbound import OutboundGuard
from actionruns.sdk.redaction import redact, secrets_in_scope
from actionruns.sdk.registry import Registry
from actionruns.store import AuthenticationRecord, Store
from actionruns.vault import Vault


def owner_of(authentication_id: str) -> str:
    """The associated data that binds sealed credentials to their authentication."""
    return f"authentication:{authentication_id}"


class ConnectionService:
    def __init__(
        self,
        store: Store,
        vault: Vault,
        guard: OutboundGuard,
        clock: Callable[[], float],
        registry: Registry,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.registry = registry
        self.store = store
        self.vault = vault
        self.guard = guard
        self.clock = clock
        # Tests route connector HTTP to a vendor emulator; production uses the guarded one.
        self.transport = transport

    def credentials(self, record: AuthenticationRecord) -> dict[str, Any]:
        value = self.vault.decrypt_json(record.credentials, owner=owner_of(record.id))
        assert isinstance(value, dict)
        return value

    @asynccontextmanager
    async def context(
        self,
        app: App,
        credentials: Mapping[str, Any],
        *,
        run_id: str | None = None,
        authentication_id: str | None = None,
    ) -> AsyncIterator[Context]:
        async with open_context(
            app.auth,
            credentials,
            self.guard,
            app_key=app.key,
            run_id=run_id,
            authentication_id=authentication_id,
            transport=self.transport,
        ) as ctx:
            yield ctx

    async def test_credentials(self, app: App, credentials: Mapping[str, Any]) -> str | None:
        """Run the app's connection test; a failure is a 422 that names what the app said."""
        if app.test is None:
            return None
        secrets = [credentials.get(key) for key in app.auth.secret_keys]
        try:
            async with self.context(app, credentials) as ctx:
                return await app.test(ctx)
        except ActionError as exc:
            with secrets_in_scope(secrets):
                detail = redact(exc.detail)
            raise Unprocessable(
                f"The connection test failed: {detail}",
                pointer="/data/authentication_fields",
                meta={"code": exc.code},
            ) from None
        except (httpx2.HTTPError, OSError, TimeoutError) as exc:
            with secrets_in_scope(secrets):
                detail = redact(str(exc)) or type(exc).__name__
            raise Unprocessable(
                f"The connection test could not reach the app: {detail}",
                pointer="/data/authentication_fields",
            ) from None

    def validate_fields(self, app: App, fields: Mapping[str, Any]) -> dict[str, Any]:
        try:
            values = validate_inputs(app.auth.fields, fields)
        except FieldErrors as exc:
            raise ValidationFailed(
                exc.errors, pointer_prefix="/data/authentication_fields"
            ) from None
        known = {spec.key for spec in app.auth.fields}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValidationFailed(
                {key: "is not a field of this app's authentication" for key in unknown},
                pointer_prefix="/data/authentication_fields",
            )
        return values

    async def create(
        self, principal: Principal, app: App, title: str, fields: Mapping[str, Any]
    ) -> AuthenticationRecord:
        credentials = self.validate_fields(app, fields)
        label = await self.test_credentials(app, credentials)
        authentication_id = str(uuid.uuid4())
        now = self.clock()
        values = {
            "id": authentication_id,
            "client_id": principal.client_id,
            "end_user_id": principal.end_user_id,
            "app_key": app.key,
            "title": title or label or app.title,
            "credentials": self.vault.encrypt_json(credentials, owner=owner_of(authentication_id)),
            "is_expired": False,
            "throttled_until": None,
            "created_at": now,
            "updated_at": now,
            "access_expires_at": None,
            "refreshed_at": None,
            "refresh_failed_at": None,
            "refresh_holder": None,
            "refresh_until": None,
        }
        await self.store.insert_authentication(values)
        return AuthenticationRecord.from_row(values)

    async def get(self, principal: Principal, authentication_id: str) -> AuthenticationRecord:
        record = await self.store.get_authentication(
            authentication_id, client_id=principal.client_id
        )
        if record is None or not principal.can_see(record.end_user_id):
            raise NotFound(f"No authentication {authentication_id!r}")
        return record

    async def delete(self, principal: Principal, authentication_id: str) -> None:
        """Erase the authentication and its sealed credentials; runs that still name it end
        with an authentication error."""
        record = await self.get(principal, authentication_id)
        await self.store.delete_authentication(record.id)

    async def test(self, principal: Principal, authentication_id: str) -> str | None:
        """Run the app's connection test with the stored credentials; a pass clears an expiry
        (the account works again), a refusal marks it expired."""
        record = await self.get(principal, authentication_id)
        app = self.registry.app(record.app_key)
        if app is None:
            raise Unprocessable(f"The app {record.app_key} is no longer installed.")
        try:
            label = await self.test_credentials(app, self.credentials(record))
        except Unprocessable as exc:
            if (exc.meta or {}).get("code") == "authentication":
                await self.store.set_authentication_expired(record.id, True, self.clock())
            raise
        if record.is_expired:
            await self.store.set_authentication_expired(record.id, False, self.clock())
        return label

    async def mark_expired(self, authentication_id: str) -> None:
        await self.store.set_authentication_expired(authentication_id, True, self.clock())
