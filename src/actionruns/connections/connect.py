"""Connect tokens: a partner's short-lived, single-use pass for one end user to connect (or
reconnect) one app on the hosted Connect page, returning to a registered redirect URI."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from actionruns.connections.key_uses import KeyUses
from actionruns.errors import Forbidden, Unprocessable
from actionruns.principal import Principal
from actionruns.store import ClientRecord, Store
from actionruns.vault import Vault

CONNECT_TOKEN_PURPOSE = "connect-token"  # noqa: S105 (a key derivation label)
CONNECT_TOKEN_SECONDS = 900


class ConnectTokenInvalid(Exception):
    """The page cannot go on with this token; the message and heading are for the end user."""

    def __init__(self, message: str, heading: str = "This page cannot go on") -> None:
        super().__init__(message)
        self.heading = heading


def _used() -> ConnectTokenInvalid:
    return ConnectTokenInvalid(
        "This link was already used. Go back to the app to connect again.",
        "This link was already used",
    )


@dataclass(frozen=True)
class ConnectGrant:
    token_id: str
    client_id: str
    end_user_id: str | None
    app_key: str | None  # None: the end user picks the app (on the link's picker page)
    redirect_uri: str
    authentication_id: str | None  # set when reconnecting an existing authentication
    expires_at: float
    picked: bool = False  # the link let the end user pick the app

    @property
    def principal(self) -> Principal:
        """The end user, with just what connecting needs."""
        return Principal(self.client_id, frozenset({"authentication"}), None, self.end_user_id)


class ConnectTokens:
    def __init__(
        self, store: Store, vault: Vault, key_uses: KeyUses, clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.vault = vault
        self.key_uses = key_uses
        self.clock = clock

    async def issue(
        self,
        client: ClientRecord,
        principal: Principal,
        app_key: str | None,
        redirect_uri: str,
        authentication_id: str | None,
    ) -> tuple[str, ConnectGrant]:
        if redirect_uri not in (client.redirect_uris or []):
            raise Unprocessable(
                "redirect_uri is not one of the client's registered redirect URIs "
                "(actionruns clients redirect-uris).",
                pointer="/data/redirect_uri",
            )
        if app_key is not None and not principal.may_use_app(app_key):
            raise Forbidden(f"This client may not use the app {app_key}.")
        grant = ConnectGrant(
            token_id=secrets.token_hex(16),
            client_id=client.id,
            end_user_id=principal.end_user_id,
            app_key=app_key,
            redirect_uri=redirect_uri,
            authentication_id=authentication_id,
            expires_at=int(self.clock()) + CONNECT_TOKEN_SECONDS,
        )
        key_id, key = self.vault.derived_key(CONNECT_TOKEN_PURPOSE)
        await self.key_uses.signed(key_id, grant.expires_at)
        claims: dict[str, Any] = {
            "jti": grant.token_id,
            "sub": grant.client_id,
            "end_user": grant.end_user_id,
            "app": grant.app_key,
            "redirect_uri": grant.redirect_uri,
            "authentication": grant.authentication_id,
            "exp": grant.expires_at,
        }
        token = jwt.encode(claims, key, algorithm="HS256", headers={"kid": key_id})
        return token, grant

    async def open(self, token: str, app_key: str | None) -> ConnectGrant:
        """The grant of a valid, unspent token for ``app_key``: the app the link names, or,
        for a link that lets the end user pick, any app its client may use (None: the
        picker itself)."""
        try:
            key_id = jwt.get_unverified_header(token).get("kid")
            if not isinstance(key_id, str):
                raise jwt.InvalidTokenError("no kid")
            _, key = self.vault.derived_key(CONNECT_TOKEN_PURPOSE, key_id)
            claims = jwt.decode(
                token, key, algorithms=["HS256"], options={"require": ["exp", "jti", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise ConnectTokenInvalid(
                f"Links to connect an account work for {CONNECT_TOKEN_SECONDS // 60} minutes. "
                "Go back to the app and start again.",
                "This link has expired",
            ) from None
        except Exception:
            raise ConnectTokenInvalid(
                "Go back to the app and start again.", "This link is not valid"
            ) from None
        named = claims.get("app")
        if named is None and app_key is not None:
            client = await self.store.get_client(str(claims["sub"]))
            allowed = client.allowed_apps if client is not None else []
            if allowed is not None and app_key not in allowed:
                raise ConnectTokenInvalid("This link is for other apps.")
        elif named != app_key:
            raise ConnectTokenInvalid("This link is for another app.")
        if await self.store.token_spent(str(claims["jti"])):
            raise _used()
        return ConnectGrant(
            token_id=str(claims["jti"]),
            client_id=str(claims["sub"]),
            end_user_id=claims.get("end_user"),
            app_key=app_key,
            redirect_uri=str(claims["redirect_uri"]),
            authentication_id=claims.get("authentication"),
            expires_at=float(claims["exp"]),
            picked=named is None,
        )

    async def spend(self, grant: ConnectGrant) -> None:
        if not await self.store.spend_token(grant.token_id, grant.expires_at):
            raise _used()
