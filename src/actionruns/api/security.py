"""Access tokens (OAuth2 client credentials), scopes and per-client rate limits."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from actionruns.engine import Engine
from actionruns.engine.clients import ALL_SCOPES
from actionruns.errors import Forbidden, ServiceError
from actionruns.principal import Principal
from actionruns.store import ClientRecord

TOKEN_PURPOSE = "api-access-token"  # noqa: S105 (a key derivation label)
CLIENT_CACHE_SECONDS = 5.0
MAX_VERIFIED_TOKENS = 10_000

bearer = HTTPBearer(auto_error=False, description="An access token from POST /oauth/token")


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str, **kwargs: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **kwargs)


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"


class TokenIssuer:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._clients: dict[str, tuple[float, ClientRecord | None]] = {}
        # Verified tokens, briefly: a partner sends the same token many times a second.
        self._verified: dict[str, tuple[float, Principal]] = {}

    def issue(self, client: ClientRecord, scopes: list[str]) -> dict[str, Any]:
        key_id, key = self.engine.vault.derived_key(TOKEN_PURPOSE)
        now = int(time.time())
        ttl = self.engine.settings.token_ttl_seconds
        claims = {
            "iss": self.engine.settings.token_issuer,
            "sub": client.id,
            "scope": " ".join(scopes),
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_hex(8),
        }
        token = jwt.encode(claims, key, algorithm="HS256", headers={"kid": key_id})
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": " ".join(scopes),
        }

    async def _client(self, client_id: str) -> ClientRecord | None:
        """Clients are re-read every few seconds, so a disabled one loses access quickly."""
        cached = self._clients.get(client_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < CLIENT_CACHE_SECONDS:
            return cached[1]
        client = await self.engine.store.get_client(client_id)
        self._clients[client_id] = (now, client)
        return client

    async def principal(self, token: str) -> Principal:
        now = time.time()
        cached = self._verified.get(token)
        if cached is not None and now < cached[0]:
            return cached[1]
        principal, expires = await self._verify(token)
        if len(self._verified) > MAX_VERIFIED_TOKENS:
            self._verified.clear()
        self._verified[token] = (min(expires, now + CLIENT_CACHE_SECONDS), principal)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
            key_id = header.get("kid")
            if header.get("alg") != "HS256" or not isinstance(key_id, str):
                raise jwt.InvalidTokenError("unexpected token header")
            _, key = self.engine.vault.derived_key(TOKEN_PURPOSE, key_id)
            claims = jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                options={"require": ["exp", "sub", "iat"]},
                issuer=self.engine.settings.token_issuer,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The access token has expired; request a new one.") from None
        except Exception:
            raise Unauthorized("The access token is not valid.") from None
        client = await self._client(str(claims["sub"]))
        if client is None or client.disabled:
            raise Unauthorized("The client of this access token no longer exists.")
        granted = frozenset(str(claims.get("scope", "")).split()) & frozenset(client.scopes)
        allowed = frozenset(client.allowed_apps) if client.allowed_apps is not None else None
        principal = Principal(client_id=client.id, scopes=granted, allowed_apps=allowed)
        return principal, float(claims["exp"])


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller's principal, holding ``scope``, within its rate limit."""

    async def dependency(
        request: Request,
        response: Response,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized(
                "Send an access token: Authorization: Bearer <token> (from POST /oauth/token).",
                header="Authorization",
            )
        issuer: TokenIssuer = request.app.state.tokens
        principal = await issuer.principal(credentials.credentials)
        engine: Engine = request.app.state.engine
        decision = await engine.rate_limits.hit(principal.client_id)
        response.headers.update(decision.headers)
        if not decision.allowed:
            raise RateLimited(
                f"More than {decision.limit} requests in a minute; retry after "
                f"{decision.retry_after} seconds.",
                headers=decision.headers,
            )
        if scope not in principal.scopes:
            raise Forbidden(f"This access token lacks the {scope!r} scope.")
        return principal

    return dependency


__all__ = ["ALL_SCOPES", "TokenIssuer", "Unauthorized", "require"]
