"""Creating, listing and opening authentications; credentials never leave sealed but to run."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import structlog

from actionruns.config import Settings
from actionruns.connections.key_uses import KeyUses
from actionruns.connections.oauth import (
    STATE_SECONDS,
    OAuthClient,
    OAuthFlows,
    OAuthNotConfigured,
    config_of,
)
from actionruns.errors import NotFound, Unprocessable, ValidationFailed
from actionruns.principal import Principal
from actionruns.sdk.app import App
from actionruns.sdk.auth import AuthType
from actionruns.sdk.context import Context, open_context
from actionruns.sdk.errors import (
    ActionError,
    BlockedDestinationError,
    ExpiredAuthError,
    TransientError,
    UnreachableError,
)
from actionruns.sdk.fields import FieldErrors, validate_inputs
from actionruns.sdk.outbound import OutboundGuard
from actionruns.sdk.redaction import redact, secrets_in_scope
from actionruns.sdk.registry import Registry
from actionruns.store import AuthenticationRecord, Store
from actionruns.vault import Vault

log = structlog.get_logger(__name__)

# What a connection test says when the server could not be reached, whatever the reason.
UNREACHABLE = (
    "The connection test could not reach the server. Check the host name and port, and that "
    "the server accepts connections from this service."
)


def owner_of(authentication_id: str) -> str:
    """The associated data that binds sealed credentials to their authentication."""
    return f"authentication:{authentication_id}"


def oauth_app_owner(app_key: str) -> str:
    return f"oauth-app:{app_key}"


class ConnectionTestFailed(Unprocessable):
    """The app's connection test did not pass. ``reason`` says how: the connector's error code
    (``authentication``, ``user``, ``throttled``, ``partner``…) or ``unreachable`` (for any
    reason: no such host, a closed port and a refusal by the outbound guard are told apart
    only in the operator's log); ``said`` is what the app said, if it answered."""

    def __init__(self, detail: str, *, reason: str, said: str = "") -> None:
        super().__init__(detail, pointer="/data/authentication_fields", meta={"code": reason})
        self.reason = reason
        self.said = said


AuthenticationEvent = Callable[[str, AuthenticationRecord], Awaitable[None]]
"""Told ``authentication.expired`` or ``authentication.recovered`` with the authentication."""
RefreshCounter = Callable[[str, str], None]
"""Told each refresh asked of a provider: the app key and refreshed, refused or failed."""

REFRESH_REFUSED = "The provider refused to refresh the connection; the user must reconnect it."
REFRESH_HOLD_SECONDS = 30.0  # a refresh in flight longer than this was abandoned (a crash)
REFRESH_POLL_SECONDS = 0.05


class ConnectionService:
    def __init__(
        self,
        store: Store,
        vault: Vault,
        guard: OutboundGuard,
        clock: Callable[[], float],
        registry: Registry,
        settings: Settings,
        key_uses: KeyUses,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.key_uses = key_uses
        self.registry = registry
        self.settings = settings
        self.flows = OAuthFlows(vault, settings.base_url, clock)
        self.on_event: AuthenticationEvent | None = None
        self.on_refresh: RefreshCounter = lambda app, outcome: None
        self.store = store
        self.vault = vault
        self.guard = guard
        self.clock = clock
        # Tests route connector HTTP to a vendor emulator; production uses the guarded one.
        self.transport = transport
        # This process's refreshes in flight, by authentication and the token found wanting.
        self._refreshing: dict[tuple[str, str], asyncio.Task[dict[str, Any]]] = {}

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
        """Run the app's connection test; a failure is a 400 that names what the app said.

        A server that could not be reached is a 400 that says only that: whether the name
        did not resolve, the port was closed or the guard refused the address is logged for
        the operator, never told (the Connect page would otherwise map the network for
        anyone with a link).
        """
        if app.test is None:
            return None
        secrets = [credentials.get(key) for key in app.auth.secret_keys]
        try:
            async with self.context(app, credentials) as ctx:
                return await app.test(ctx)
        except (UnreachableError, BlockedDestinationError) as exc:
            raise self.unreachable(app, exc.detail, secrets) from None
        except ActionError as exc:
            with secrets_in_scope(secrets):
                detail = redact(exc.detail)
            raise ConnectionTestFailed(
                f"The connection test failed: {detail}", reason=exc.code, said=detail
            ) from None
        except (httpx2.HTTPError, OSError, TimeoutError) as exc:
            raise self.unreachable(app, f"{type(exc).__name__}: {exc}", secrets) from None
        except (httpx2.InvalidURL, UnicodeError, ValueError) as exc:
            # The fields make an address no client can send to (a host IDNA refuses, say).
            with secrets_in_scope(secrets):
                detail = redact(f"{type(exc).__name__}: {exc}")
            raise ConnectionTestFailed(
                f"The connection test failed: the fields do not make a valid address ({detail}).",
                reason="user",
            ) from None
        except Exception:
            with secrets_in_scope(secrets):
                log.exception("connection_test_crashed", app=app.key)
            raise ConnectionTestFailed(
                "The connection test failed unexpectedly; the operator's logs have details.",
                reason="connector_error",
            ) from None

    def unreachable(
        self, app: App, detail: str, secrets: Sequence[Any] = ()
    ) -> ConnectionTestFailed:
        """The error a connection test answers when the server could not be reached, for
        whatever reason; the reason goes to the operator's log only."""
        with secrets_in_scope(secrets):
            log.warning("connection_test_unreachable", app=app.key, detail=redact(detail))
        return ConnectionTestFailed(UNREACHABLE, reason="unreachable")

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
        return await self.save(principal, app, title or label or app.title, credentials)

    async def save(
        self,
        principal: Principal,
        app: App,
        title: str,
        credentials: Mapping[str, Any],
        replacing: str | None = None,
    ) -> AuthenticationRecord:
        """Store tested credentials: a new authentication, or new credentials for an
        existing one (a reconnect keeps its id, and it works again)."""
        expires_at = credentials.get("expires_at")
        now = self.clock()
        if replacing is not None:
            record = await self.get(principal, replacing)
            if record.app_key != app.key:
                raise Unprocessable(f"The authentication belongs to {record.app_key}.")
            sealed = self.vault.encrypt_json(dict(credentials), owner=owner_of(record.id))
            await self.store.replace_credentials(record.id, sealed, expires_at, now, title=title)
            updated = await self.get(principal, record.id)
            if record.is_expired:
                await self._emit("authentication.recovered", updated)
            return updated
        authentication_id = str(uuid.uuid4())
        values = {
            "id": authentication_id,
            "client_id": principal.client_id,
            "end_user_id": principal.end_user_id,
            "app_key": app.key,
            "title": title,
            "credentials": self.vault.encrypt_json(
                dict(credentials), owner=owner_of(authentication_id)
            ),
            "is_expired": False,
            "throttled_until": None,
            "created_at": now,
            "updated_at": now,
            "access_expires_at": expires_at,
            "refreshed_at": now if expires_at is not None else None,
            "refresh_failed_at": None,
            "refresh_holder": None,
            "refresh_until": None,
            "refresh_error": None,
        }
        await self.store.insert_authentication(values)
        return AuthenticationRecord.from_row(values)

    # -- OAuth2 ------------------------------------------------------------------------------

    async def oauth_client(self, app: App) -> OAuthClient:
        """The operator's registration at the app's provider (environment first)."""
        configured = self.settings.oauth_clients.get(app.key)
        if configured is not None:
            return OAuthClient(*configured)
        record = await self.store.get_oauth_app(app.key)
        if record is None:
            raise OAuthNotConfigured(
                f"{app.title} is not set up for OAuth2 on this service yet: the operator "
                f"registers its OAuth2 client with 'actionruns oauth-apps set {app.key}' or "
                f"ACTIONRUNS_OAUTH_{app.key.upper()}_CLIENT_ID and _CLIENT_SECRET."
            )
        secret = self.vault.decrypt(record.client_secret, owner=oauth_app_owner(app.key))
        return OAuthClient(record.client_id, secret.decode())

    async def authorization_url(
        self, app: App, client: OAuthClient, payload: Mapping[str, Any]
    ) -> str:
        """Where the user signs in at the provider; ``payload`` comes back in the state."""
        await self.key_uses.signed(self.vault.primary_key_id, self.clock() + STATE_SECONDS)
        return self.flows.authorization_url(app, client, payload, self.oauth_transport)

    async def set_oauth_client(self, app: App, client_id: str, client_secret: str) -> None:
        config_of(app)  # an app without OAuth2 has nothing to register
        sealed = self.vault.encrypt(client_secret.encode(), owner=oauth_app_owner(app.key))
        await self.store.set_oauth_app(app.key, client_id, sealed, self.clock())

    @property
    def oauth_transport(self) -> httpx2.AsyncBaseTransport:
        return self.transport or self.guard.http_transport()

    async def usable_credentials(self, app: App, record: AuthenticationRecord) -> dict[str, Any]:
        """The credentials to act with: an OAuth2 token about to expire is refreshed first."""
        credentials = self.credentials(record)
        if app.auth.type is not AuthType.OAUTH2 or record.access_expires_at is None:
            return credentials
        now = self.clock()
        if record.access_expires_at - now > self.settings.refresh_margin_seconds:
            return credentials
        cooling = (
            record.refresh_failed_at is not None
            and now - record.refresh_failed_at < self.settings.refresh_cooldown_seconds
        )
        if cooling and record.access_expires_at > now:
            return credentials  # still valid: use it and try the refresh after the cooldown
        return await self.refresh(app, record, credentials.get("access_token"))

    async def refresh(
        self, app: App, record: AuthenticationRecord, stale_access_token: Any
    ) -> dict[str, Any]:
        """Refresh once for everyone: one caller, in whatever process, asks the provider; the
        others wait for its result. ``stale_access_token`` is the token found wanting: if
        the stored one differs, someone already refreshed it.

        The refresh is a task of its own that callers wait for: callers in this process
        share it, and a caller that gives up (its run cancelled, its lease lost) does not
        cut it short. A provider that rotates refresh tokens has spent the old one as soon
        as it answers, so a refresh abandoned half way would leave nothing to refresh with.
        """
        key = (record.id, repr(stale_access_token))
        task = self._refreshing.get(key)
        if task is None:
            task = asyncio.create_task(self._refresh_once(app, record, stale_access_token))
            self._refreshing[key] = task
            task.add_done_callback(functools.partial(self._refresh_ended, key))
        return await asyncio.shield(task)

    def _refresh_ended(self, key: tuple[str, str], task: asyncio.Task[dict[str, Any]]) -> None:
        self._refreshing.pop(key, None)
        if not task.cancelled():
            task.exception()  # seen here if every caller gave up: recorded on the authentication

    async def finish_refreshes(self, grace: float) -> None:
        """At shutdown: refreshes in flight get ``grace`` seconds to keep what the provider
        answers, then are cancelled."""
        pending = list(self._refreshing.values())
        if not pending:
            return
        _done, late = await asyncio.wait(pending, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _refresh_once(
        self, app: App, record: AuthenticationRecord, stale_access_token: Any
    ) -> dict[str, Any]:
        holder = uuid.uuid4().hex
        deadline = self.clock() + REFRESH_HOLD_SECONDS
        while True:
            current = await self.store.get_authentication(record.id)
            if current is None:
                raise ExpiredAuthError("The authentication was deleted; connect the account again.")
            if current.is_expired:
                raise ExpiredAuthError(
                    "The authentication has expired; the user must reconnect it."
                )
            credentials = self.credentials(current)
            if credentials.get("access_token") != stale_access_token:
                return credentials
            now = self.clock()
            if current.refresh_failed_at is not None and (
                now - current.refresh_failed_at < self.settings.refresh_cooldown_seconds
            ):
                raise TransientError(
                    "The token could not be refreshed a moment ago; retrying later."
                )
            if await self.store.claim_refresh(current.id, holder, now, now + REFRESH_HOLD_SECONDS):
                # Read again under the hold: a refresh that ended between the read above and
                # the claim has already replaced the token (and rotated the refresh token).
                held = await self.store.get_authentication(current.id)
                if held is not None and held.credentials != current.credentials:
                    await self.store.release_refresh(
                        current.id, holder, now, failed=False, expired=False
                    )
                    continue
                return await self._refresh_held(app, current, credentials, holder)
            if now > deadline:
                raise TransientError("Another refresh of this connection did not finish in time.")
            await asyncio.sleep(REFRESH_POLL_SECONDS)

    async def _refresh_held(
        self,
        app: App,
        record: AuthenticationRecord,
        credentials: Mapping[str, Any],
        holder: str,
    ) -> dict[str, Any]:
        try:
            client = await self.oauth_client(app)
            fresh = await self.flows.refresh(app, client, credentials, self.oauth_transport)
        except ExpiredAuthError:
            log.warning(
                "authentication_expired",
                authentication_id=record.id,
                app=app.key,
                why="refresh_refused",
            )
            self.on_refresh(app.key, "refused")
            await self.store.release_refresh(
                record.id,
                holder,
                self.clock(),
                failed=True,
                expired=True,
                error=REFRESH_REFUSED,
            )
            expired = await self.store.get_authentication(record.id)
            if expired is not None:
                await self._emit("authentication.expired", expired)
            raise ExpiredAuthError(REFRESH_REFUSED) from None
        except (TransientError, OAuthNotConfigured) as exc:
            log.warning(
                "authentication_refresh_failed",
                authentication_id=record.id,
                app=app.key,
                error_class=type(exc).__name__,
            )
            self.on_refresh(app.key, "failed")
            # Our own words or the provider's status and error code: never a credential.
            await self.store.release_refresh(
                record.id, holder, self.clock(), failed=True, expired=False, error=str(exc)[:500]
            )
            raise
        sealed = self.vault.encrypt_json(fresh, owner=owner_of(record.id))
        await self.store.replace_credentials(
            record.id, sealed, fresh.get("expires_at"), self.clock(), holder=holder
        )
        log.info("authentication_refreshed", authentication_id=record.id, app=app.key)
        self.on_refresh(app.key, "refreshed")
        return fresh

    async def refresh_due(self, limit: int = 50) -> int:
        """Refresh tokens that expire soon, or were not refreshed for a day (providers revoke
        idle ones); returns how many were refreshed."""
        oauth_apps = {app.key: app for app in self.registry if app.auth.type is AuthType.OAUTH2}
        now = self.clock()
        due = await self.store.authentications_to_refresh(
            sorted(oauth_apps),
            due_before=now + 2 * self.settings.refresh_margin_seconds,
            stale_before=now - 86_400,
            limit=limit,
        )
        refreshed = 0
        for record in due:
            if record.refresh_failed_at is not None and (
                now - record.refresh_failed_at < self.settings.refresh_cooldown_seconds
            ):
                continue
            credentials = self.credentials(record)
            if not credentials.get("refresh_token"):
                continue
            try:
                await self.refresh(
                    oauth_apps[record.app_key], record, credentials.get("access_token")
                )
                refreshed += 1
            except (ExpiredAuthError, TransientError, OAuthNotConfigured):
                continue  # recorded on the authentication; the next round tries again
        return refreshed

    async def _emit(self, event: str, record: AuthenticationRecord) -> None:
        if self.on_event is not None:
            await self.on_event(event, record)

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
                log.warning(
                    "authentication_expired",
                    authentication_id=record.id,
                    app=app.key,
                    why="test_refused",
                )
                await self.store.set_authentication_expired(record.id, True, self.clock())
            raise
        if record.is_expired:
            await self.store.set_authentication_expired(record.id, False, self.clock())
            await self._emit("authentication.recovered", await self.get(principal, record.id))
        return label

    async def mark_expired(self, authentication_id: str) -> None:
        """The app refused the credentials during a run: the account must be connected again."""
        log.warning(
            "authentication_expired", authentication_id=authentication_id, why="credentials_refused"
        )
        await self.store.set_authentication_expired(authentication_id, True, self.clock())
        record = await self.store.get_authentication(authentication_id)
        if record is not None:
            await self._emit("authentication.expired", record)
