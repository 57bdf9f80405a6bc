"""OAuth2 with the providers an app declares: the authorization code flow (PKCE, a sealed
expiring ``state``) and token refresh, through Authlib.

The service is one OAuth2 client per provider, registered by the operator
(``actionruns oauth-apps set`` or ``ACTIONRUNS_OAUTH_<APP>_CLIENT_ID`` / ``_CLIENT_SECRET``)
with the redirect URI ``<public URL>/connect/oauth/callback``.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from actionruns.sdk.app import App
from actionruns.sdk.auth import OAuth2Config
from actionruns.sdk.errors import ExpiredAuthError, TransientError
from actionruns.vault import DecryptionError, Vault

CALLBACK_PATH = "/connect/oauth/callback"
STATE_SECONDS = 600  # the user has ten minutes at the provider
STATE_OWNER = "oauth-state"
TOKEN_TIMEOUT = httpx2.Timeout(30.0, connect=10.0)
# Token fields kept as the credentials; anything else the provider sends is kept beside them.
_STANDARD = ("access_token", "refresh_token", "token_type", "scope", "expires_in")


class OAuthNotConfigured(Exception):
    pass


class StateInvalid(Exception):
    pass


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str


def config_of(app: App) -> OAuth2Config:
    if app.auth.oauth2 is None:
        raise OAuthNotConfigured(f"{app.key} does not connect with OAuth2")
    return app.auth.oauth2


def _session(
    config: OAuth2Config,
    client: OAuthClient,
    redirect_uri: str,
    transport: httpx2.AsyncBaseTransport,
    *,
    with_scope: bool = True,
) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client.client_id,
        client_secret=client.client_secret,
        # A refresh asks for the scopes already granted: no scope parameter (RFC 6749 §6).
        scope=(config.scope_separator.join(config.scopes) or None) if with_scope else None,
        redirect_uri=redirect_uri,
        token_endpoint_auth_method=config.token_auth_method,
        code_challenge_method="S256" if config.pkce else None,
        transport=transport,
        timeout=TOKEN_TIMEOUT,
        trust_env=False,
    )


def credentials_from(
    config: OAuth2Config, token: Mapping[str, Any], now: float, previous: Mapping[str, Any]
) -> dict[str, Any]:
    """The credentials to store from a token response: the standard fields (the previous
    refresh token kept when the provider does not rotate it), an absolute ``expires_at``."""
    read = dict(config.read_token(token) if config.read_token else token)
    if not read.get("access_token"):
        raise ExpiredAuthError("The provider answered without an access token.")
    credentials = {key: value for key, value in read.items() if key not in _STANDARD}
    credentials.update({key: read[key] for key in _STANDARD if read.get(key) is not None})
    if not credentials.get("refresh_token") and previous.get("refresh_token"):
        credentials["refresh_token"] = previous["refresh_token"]
    expires_in = read.get("expires_in")
    if isinstance(expires_in, int | float | str) and str(expires_in).strip():
        credentials["expires_at"] = now + float(expires_in)
    credentials.pop("expires_in", None)
    return credentials


class OAuthFlows:
    def __init__(self, vault: Vault, base_url: str, clock: Callable[[], float]) -> None:
        self.vault = vault
        self.clock = clock
        self.redirect_uri = base_url.rstrip("/") + CALLBACK_PATH

    # -- state ------------------------------------------------------------------------------

    def seal_state(self, payload: Mapping[str, Any]) -> str:
        """``state``: the flow's own data, sealed (the PKCE verifier stays secret) and
        expiring, so any node can finish a flow another started."""
        body = {**payload, "exp": self.clock() + STATE_SECONDS}
        sealed = self.vault.encrypt_json(body, owner=STATE_OWNER)
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open_state(self, state: str) -> dict[str, Any]:
        try:
            sealed = base64.urlsafe_b64decode(state + "=" * (-len(state) % 4))
            payload = self.vault.decrypt_json(sealed, owner=STATE_OWNER)
        except (ValueError, DecryptionError):
            raise StateInvalid("The sign-in could not be verified; start again.") from None
        if not isinstance(payload, dict) or payload.get("exp", 0) < self.clock():
            raise StateInvalid("The sign-in took too long; start again.")
        return payload

    # -- the flow ---------------------------------------------------------------------------

    def authorization_url(
        self,
        app: App,
        client: OAuthClient,
        payload: Mapping[str, Any],
        transport: httpx2.AsyncBaseTransport,
    ) -> str:
        config = config_of(app)
        verifier = secrets.token_urlsafe(48) if config.pkce else None
        state = self.seal_state({**payload, "app": app.key, "verifier": verifier})
        session = _session(config, client, self.redirect_uri, transport)
        url, _ = session.create_authorization_url(
            config.authorize_url,
            state=state,
            code_verifier=verifier,
            **dict(config.authorize_params),
        )
        return str(url)

    async def exchange_code(
        self,
        app: App,
        client: OAuthClient,
        code: str,
        verifier: str | None,
        transport: httpx2.AsyncBaseTransport,
    ) -> dict[str, Any]:
        config = config_of(app)
        async with _session(config, client, self.redirect_uri, transport) as session:
            token = await self._token_call(
                session.fetch_token(
                    config.token_url,
                    code=code,
                    code_verifier=verifier,
                    headers=dict(config.token_headers),
                )
            )
        return credentials_from(config, token, self.clock(), {})

    async def refresh(
        self,
        app: App,
        client: OAuthClient,
        credentials: Mapping[str, Any],
        transport: httpx2.AsyncBaseTransport,
    ) -> dict[str, Any]:
        """New credentials from the refresh token; ExpiredAuthError if the provider refuses
        it (the user must reconnect), TransientError if it could not be asked."""
        config = config_of(app)
        refresh_token = credentials.get("refresh_token")
        if not refresh_token:
            raise ExpiredAuthError("The access token expired and there is no refresh token.")
        async with _session(
            config, client, self.redirect_uri, transport, with_scope=False
        ) as session:
            token = await self._token_call(
                session.refresh_token(
                    config.token_url,
                    refresh_token=refresh_token,
                    headers=dict(config.token_headers),
                )
            )
        return credentials_from(config, token, self.clock(), credentials)

    @staticmethod
    async def _token_call(call: Any) -> dict[str, Any]:
        try:
            token: dict[str, Any] = dict(await call)
        except OAuthError as exc:
            # invalid_grant, invalid_client, bad_verification_code…: asking again won't help.
            detail = f"{exc.error}: {exc.description}" if exc.description else str(exc.error)
            raise ExpiredAuthError(f"The provider refused the token request ({detail}).") from None
        except httpx2.HTTPStatusError as exc:
            raise TransientError(
                f"The provider's token endpoint answered {exc.response.status_code}."
            ) from None
        except (httpx2.HTTPError, OSError, ValueError) as exc:
            raise TransientError(f"The provider's token endpoint failed: {exc}") from None
        if "access_token" not in token:
            # Only the field names: a malformed answer may still hold something secret.
            raise TransientError(f"The provider answered without a token ({sorted(token)}).")
        return token
