"""Access tokens (OAuth2 client credentials), scopes and per-client rate limits."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import jwt
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.security.utils import get_authorization_scheme_param

from actionruns.api.access_log import CLIENT, RESPONSE_HEADERS
from actionruns.engine import Engine
from actionruns.engine.scopes import ALL_SCOPES, grantable
from actionruns.errors import Forbidden, ServiceError, Unprocessable
from actionruns.principal import END_USER_PATTERN, Principal
from actionruns.sdk.fields import unstorable
from actionruns.store import ClientRecord

TOKEN_PURPOSE = "api-access-token"  # noqa: S105 (a key derivation label)
CLIENT_CACHE_SECONDS = 5.0
MAX_VERIFIED_TOKENS = 10_000


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


class InvalidGrant(Exception):
    """A token-exchange assertion that is refused; the message says why."""


ASSERTION_ALGORITHMS = ("HS256", "RS256", "ES256")
MAX_ASSERTION_LIFETIME = 300  # seconds: exp at most five minutes ahead
ASSERTION_LEEWAY = 30  # seconds of clock skew between the partner and us
MAX_JTI_LENGTH = 200


def unverified_issuer(assertion: str) -> str:
    """The ``iss`` a subject token claims, unchecked (to count its failures against)."""
    try:
        issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
    except jwt.InvalidTokenError:
        return ""
    return issuer if isinstance(issuer, str) else ""


class TokenIssuer:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._clients: dict[str, tuple[float, ClientRecord | None]] = {}
        # Verified tokens, briefly: a partner sends the same token many times a second.
        self._verified: dict[str, tuple[float, Principal]] = {}

    async def issue(
        self, client: ClientRecord, scopes: list[str], end_user_id: str | None = None
    ) -> dict[str, Any]:
        """An access token for the client, or bound to one of its end users."""
        key_id, key = self.engine.vault.derived_key(TOKEN_PURPOSE)
        now = int(time.time())
        ttl = self.engine.settings.token_ttl_seconds
        await self.engine.key_uses.signed(key_id, now + ttl)  # before the token exists
        claims: dict[str, Any] = {
            "iss": self.engine.settings.token_issuer,
            "sub": client.id,
            "scope": " ".join(scopes),
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_hex(8),
        }
        if end_user_id is not None:
            claims["end_user"] = end_user_id
        token = jwt.encode(claims, key, algorithm="HS256", headers={"kid": key_id})
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": " ".join(scopes),
        }

    async def verify_assertion(self, assertion: str) -> tuple[ClientRecord, str]:
        """The client and end user of a partner-signed JWT (RFC 8693 subject token).

        ``iss`` is the client id, ``sub`` the end user, ``aud`` this service's URL, ``exp``
        within five minutes. HS256 is checked with the client's signing secret only, RS256 and
        ES256 with the client's registered public keys only, so neither can pass for the
        other; ``none`` and every other algorithm are refused.
        """
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise InvalidGrant("The subject token is not a JWT.") from None
        algorithm = header.get("alg")
        if algorithm not in ASSERTION_ALGORITHMS:
            raise InvalidGrant(
                f"The subject token's alg {algorithm!r} is not accepted; sign it with "
                + ", ".join(ASSERTION_ALGORITHMS)
                + "."
            )
        if any(isinstance(claim, str) and unstorable(claim) for claim in unverified.values()):
            raise InvalidGrant("The subject token's claims hold a NUL character or invalid text.")
        issuer = unverified.get("iss")
        client = await self.engine.store.get_client(issuer) if isinstance(issuer, str) else None
        if client is None or client.disabled:
            raise InvalidGrant("The subject token's iss is not a client of this service.")
        if algorithm == "HS256":
            keys: list[Any] = [(await self.engine.clients.signing_secret(client)).encode()]
        else:
            registered = await self.engine.store.list_client_keys(client.id)
            keys = [
                key.public_key
                for key in registered
                if key.algorithm == algorithm and header.get("kid") in (None, key.id)
            ]
            if not keys:
                raise InvalidGrant(f"The client has no registered {algorithm} key to check it.")
        settings = self.engine.settings
        audiences = sorted({settings.base_url, settings.token_issuer})
        claims = self._decode_assertion(assertion, keys, algorithm, client.id, audiences)
        if float(claims["exp"]) > time.time() + MAX_ASSERTION_LIFETIME + ASSERTION_LEEWAY:
            raise InvalidGrant("The subject token must expire within 5 minutes.")
        end_user = claims["sub"]
        if not isinstance(end_user, str) or not END_USER_PATTERN.match(end_user):
            raise InvalidGrant("The subject token's sub must be 1 to 200 printable characters.")
        await self._spend(client.id, claims)
        return client, end_user

    async def _spend(self, client_id: str, claims: dict[str, Any]) -> None:
        """A subject token is good for one exchange: its jti is remembered, per issuer, until
        it expires, and a token seen again is refused (a stolen one cannot be replayed)."""
        jti = claims["jti"]
        if not isinstance(jti, str) or not 1 <= len(jti) <= MAX_JTI_LENGTH:
            raise InvalidGrant(f"The subject token's jti must be 1 to {MAX_JTI_LENGTH} characters.")
        spent = hashlib.sha256(f"assertion\x00{client_id}\x00{jti}".encode()).hexdigest()
        if not await self.engine.store.spend_token(spent, float(claims["exp"]) + ASSERTION_LEEWAY):
            raise InvalidGrant(
                "The subject token was already used: sign a new one, with a new jti, for each "
                "exchange."
            )

    @staticmethod
    def _decode_assertion(
        assertion: str, keys: list[Any], algorithm: str, client_id: str, audiences: list[str]
    ) -> dict[str, Any]:
        failure = "The subject token's signature does not verify."
        for key in keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    assertion,
                    key,
                    algorithms=[algorithm],
                    audience=audiences,
                    issuer=client_id,
                    leeway=ASSERTION_LEEWAY,
                    options={"require": ["exp", "sub", "iss", "aud", "jti"]},
                )
                return claims
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError:
                raise InvalidGrant("The subject token has expired.") from None
            except jwt.InvalidAudienceError:
                raise InvalidGrant(
                    f"The subject token's aud must be {' or '.join(audiences)}."
                ) from None
            except jwt.MissingRequiredClaimError as exc:
                raise InvalidGrant(f"The subject token has no {exc.claim} claim.") from None
            except jwt.InvalidTokenError as exc:
                failure = f"The subject token is not valid: {exc}."
        raise InvalidGrant(failure)

    async def _client(self, client_id: str) -> ClientRecord | None:
        """Clients are re-read every few seconds, so a disabled one loses access quickly."""
        cached = self._clients.get(client_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < CLIENT_CACHE_SECONDS:
            return cached[1]
        client = await self.engine.store.get_client(client_id)
        self._clients[client_id] = (now, client)
        return client

    async def public_principal(self, client_id: str) -> Principal:
        """A client named by its id alone, for discovery: Zapier lets ``?client_id=`` list
        apps and actions without a token, within the client's app allowlist."""
        client = await self._client(client_id[:64])
        if client is None or client.disabled:
            raise Unauthorized(
                "The client_id is not a client of this service.", parameter="client_id"
            )
        allowed = frozenset(client.allowed_apps) if client.allowed_apps is not None else None
        return Principal(client_id=client.id, scopes=frozenset(), allowed_apps=allowed, public=True)

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
        # What the client may still have: a scope the operator withdrew stops working at once.
        requested = str(claims.get("scope", "")).split()
        granted = frozenset(scope for scope in requested if grantable(scope, client.scopes))
        allowed = frozenset(client.allowed_apps) if client.allowed_apps is not None else None
        end_user = claims.get("end_user")
        principal = Principal(
            client_id=client.id,
            scopes=granted,
            allowed_apps=allowed,
            end_user_id=end_user if isinstance(end_user, str) else None,
        )
        return principal, float(claims["exp"])


def _acting_for(principal: Principal, end_user: str | None) -> Principal:
    """The principal acting for the end user named by ``X-End-User``, if any."""
    if end_user is None:
        return principal
    if not END_USER_PATTERN.match(end_user):
        raise Unprocessable(
            "X-End-User must be 1 to 200 printable characters.", header="X-End-User"
        )
    if principal.end_user_id is not None and principal.end_user_id != end_user:
        raise Forbidden(
            "This access token is bound to another end user than X-End-User names.",
            header="X-End-User",
        )
    return replace(principal, end_user_id=end_user)


class ScopeRequirement:
    """A dependency: the caller's principal, holding one of ``scopes``, within its rate limit.

    An endpoint accepts the scope Zapier documents for it and ours (``engine.scopes``).
    It reads the Authorization header itself rather than through FastAPI's ``HTTPBearer``:
    every dependency FastAPI solves costs each request time (~0.1 ms of a run's latency
    for that one). ``document_bearer_tokens`` puts the scheme in the OpenAPI document.
    """

    def __init__(self, *scopes: str, by_client_id: bool = False) -> None:
        self.named = scopes
        self.scopes = frozenset(scopes)
        self.by_client_id = by_client_id
        named = " or ".join(repr(scope) for scope in scopes)
        self._lacking = f"This access token lacks the {named} scope."

    async def __call__(self, request: Request) -> Principal:
        scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
        issuer: TokenIssuer = request.app.state.tokens
        client_id = request.query_params.get("client_id") if self.by_client_id else None
        if scheme.lower() == "bearer" and token:
            # As in Zapier's API: an Authorization header is used even beside a client_id.
            principal = await issuer.principal(token)
            principal = _acting_for(principal, request.headers.get("x-end-user"))
        elif client_id:
            principal = await issuer.public_principal(client_id)
        else:
            raise Unauthorized(
                "Send an access token: Authorization: Bearer <token> (from POST /oauth/token).",
                header="Authorization",
            )
        request.scope[CLIENT] = principal.client_id  # its requests are counted (access_log)
        engine: Engine = request.app.state.engine
        decision = await engine.rate_limits.hit(principal.client_id)
        # Owed to the answer, whichever way it is made (access_log puts them on it).
        request.scope.setdefault(RESPONSE_HEADERS, []).extend(
            (name.lower().encode(), value.encode()) for name, value in decision.headers.items()
        )
        if not decision.allowed:
            raise RateLimited(
                f"More than {decision.limit} requests in a minute; retry after "
                f"{decision.retry_after} seconds.",
                headers=decision.headers,
            )
        if self.scopes.isdisjoint(principal.scopes) and not principal.public:
            raise Forbidden(self._lacking)
        return principal


def require(*scopes: str, by_client_id: bool = False) -> ScopeRequirement:
    """``Depends(require("action:run"))``: the caller's principal, holding one of ``scopes``;
    with ``by_client_id`` a ``?client_id=`` without a token will do too (public discovery)."""
    return ScopeRequirement(*scopes, by_client_id=by_client_id)


SCOPES = {
    "action:run": "Run actions and read their runs",
    "authentication": "Read the client's authentications",
    "authentication:write": "Connect and disconnect accounts, issue connect tokens",
    "zap": "Discover apps, actions, fields and choices",
    # Zapier's names, granted when the client holds what they stand for (engine.scopes).
    "connection:read": "Zapier's name for authentication",
    "connection:write": "Zapier's name for authentication:write",
    "zap:write": "Zapier's name for zap and action:run together",
}
OAUTH2_SCHEME = {
    "type": "oauth2",
    "description": "An access token from POST /oauth/token, sent as Authorization: Bearer. "
    "X-End-User (or a token from token exchange) acts for one of the client's end users.",
    "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": SCOPES}},
}
CLIENT_ID_SCHEME = {
    "type": "apiKey",
    "in": "query",
    "name": "client_id",
    "description": "A client id alone, for public discovery (apps and actions)",
}


def document_bearer_tokens(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Say in the app's OpenAPI document which operations of ``routers`` take an access
    token (those that depend on a ``ScopeRequirement``), with the scopes each accepts: any
    one of them will do, so each is a requirement of its own."""
    build = app.openapi
    secured = [
        (route.path_format, method.lower(), requirement)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for requirement in (
            d.call for d in route.dependant.dependencies if isinstance(d.call, ScopeRequirement)
        )
        for method in route.methods or ()
    ]

    def openapi() -> dict[str, Any]:
        document = build()  # FastAPI's, built once and kept
        schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["OAuth2"] = OAUTH2_SCHEME
        schemes["ClientID"] = CLIENT_ID_SCHEME
        for path, method, requirement in secured:
            security: list[dict[str, list[str]]] = [
                {"OAuth2": [scope]} for scope in requirement.named
            ]
            if requirement.by_client_id:
                security.append({"ClientID": []})
            document["paths"][path][method]["security"] = security
        return document

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = [
    "ALL_SCOPES",
    "ScopeRequirement",
    "TokenIssuer",
    "Unauthorized",
    "document_bearer_tokens",
    "require",
]
