"""``POST /oauth/token``: the client credentials grant (RFC 6749 section 4.4), and token
exchange (RFC 8693) for a token bound to one of the client's end users."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Depends, Request

from actionruns.api.errors import error_document
from actionruns.api.responses import JSONResponse
from actionruns.api.routes.connect import connect_token_document
from actionruns.api.routes.deps import engine
from actionruns.api.security import InvalidGrant, TokenIssuer, Unauthorized, unverified_issuer
from actionruns.engine import Engine
from actionruns.engine.attempts import (
    TOKEN_FAILURES_PER_ADDRESS,
    TOKEN_FAILURES_PER_CLIENT,
    AttemptLimit,
)
from actionruns.engine.scopes import REQUESTABLE_SCOPES, grantable
from actionruns.errors import Conflict, Forbidden, NotFound, Unprocessable
from actionruns.principal import Principal
from actionruns.sdk.fields import unstorable
from actionruns.store import ClientRecord

router = APIRouter(tags=["OAuth"])

MAX_FORM_BYTES = 16_384
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a URN)
# RFC 8693 section 3 names the jwt and access_token types. Clients written for Zapier's token
# exchange (docs.zapier.com/white-label/token-exchange) send the partner's JWT as external-jwt,
# spell the access token type access-token, and ask for a connect token as connect-token
# with the Connect page it is for as resource (https://connect.zapier.com/to/{app}).
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105 (a URN)
EXTERNAL_JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:external-jwt"  # noqa: S105
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 (a URN)
ZAPIER_ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access-token"  # noqa: S105
CONNECT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:connect-token"  # noqa: S105 (a URN)
JWT_TOKEN_TYPES = (JWT_TOKEN_TYPE, EXTERNAL_JWT_TOKEN_TYPE)
ACCESS_TOKEN_TYPES = (ACCESS_TOKEN_TYPE, ZAPIER_ACCESS_TOKEN_TYPE)


def _oauth_error(
    status: int, error: str, description: str, retry_after: int | None = None
) -> JSONResponse:
    """RFC 6749's error body, with the API's ``errors`` list beside it."""
    headers = {"Cache-Control": "no-store"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="actionruns"'
    body: dict[str, Any] = {
        "error": error,
        "error_description": description,
        "errors": [error_document(status, description, code=error)],
    }
    return JSONResponse(body, status_code=status, headers=headers)


@router.get(
    "/.well-known/jwks.json",
    summary="The public keys callbacks are signed with (Zapier-Callback-Signature)",
    responses={200: {"content": {"application/jwk-set+json": {"schema": {"type": "object"}}}}},
)
async def jwks(service: Engine = Depends(engine)) -> JSONResponse:
    return JSONResponse(
        await service.signer.jwks(),
        media_type="application/jwk-set+json",
        # Short: a key rotated in is published at once, and PyJWKClient refetches on a new kid.
        headers={"Cache-Control": "public, max-age=300"},
    )


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
    return (unquote(client_id), unquote(secret)) if sep else None


@router.post(
    "/oauth/token",
    summary="Get an access token (client credentials)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "grant_type": {
                                "type": "string",
                                "enum": ["client_credentials", TOKEN_EXCHANGE],
                            },
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                            "subject_token": {"type": "string"},
                            "subject_token_type": {
                                "type": "string",
                                "enum": [*JWT_TOKEN_TYPES, *ACCESS_TOKEN_TYPES],
                            },
                            "requested_token_type": {
                                "type": "string",
                                "enum": [*ACCESS_TOKEN_TYPES, CONNECT_TOKEN_TYPE],
                            },
                            "resource": {"type": "string"},
                            "redirect_uri": {"type": "string"},
                            "scope": {"type": "string"},
                        },
                        "required": ["grant_type"],
                    }
                }
            },
            "required": True,
        }
    },
)
async def token(request: Request, service: Engine = Depends(engine)) -> JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _oauth_error(
            400, "invalid_request", "Send the token request as application/x-www-form-urlencoded."
        )
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return _oauth_error(400, "invalid_request", "The token request is too large.")
    try:
        form = await request.form()
    except Exception:
        return _oauth_error(400, "invalid_request", "The form body could not be parsed.")
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    if any(unstorable(text) for item in fields.items() for text in item):
        return _oauth_error(
            400, "invalid_request", "The form holds a NUL character or invalid Unicode."
        )
    if fields.get("grant_type") == TOKEN_EXCHANGE:
        return await _exchange(request, fields)
    if fields.get("grant_type") != "client_credentials":
        return _oauth_error(
            400,
            "unsupported_grant_type",
            f"grant_type must be client_credentials or {TOKEN_EXCHANGE}.",
        )
    basic = _basic_credentials(request.headers.get("authorization"))
    if basic is not None and ("client_id" in fields or "client_secret" in fields):
        return _oauth_error(
            400,
            "invalid_request",
            "Send the client credentials either in the body or with HTTP Basic, not both.",
        )
    client_id, client_secret = basic or (
        fields.get("client_id", ""),
        fields.get("client_secret", ""),
    )
    counted = _counted(request, client_id)
    throttled = await _throttled(service, counted)
    if throttled is not None:
        return throttled
    client = await service.clients.authenticate(client_id, client_secret) if client_id else None
    if client is None:
        await service.attempts.count(counted)
        return _oauth_error(401, "invalid_client", "Unknown client or wrong client secret.")
    return await _issue(request, client, fields)


def _counted(request: Request, client_id: str) -> list[tuple[AttemptLimit, str]]:
    """What a failed client authentication counts against: the source address, and the
    client id it claimed (if any)."""
    address = request.client.host if request.client is not None else ""
    counted = [(TOKEN_FAILURES_PER_ADDRESS, address)]
    if client_id:
        counted.append((TOKEN_FAILURES_PER_CLIENT, client_id))
    return counted


async def _throttled(
    service: Engine, counted: list[tuple[AttemptLimit, str]]
) -> JSONResponse | None:
    """A 429 while the address or the client id is over its failures, even for a right
    secret: else guessing would go on, only its successes answered."""
    retry_after = await service.attempts.retry_after(counted)
    if retry_after is None:
        return None
    return _oauth_error(
        429,
        "rate_limited",
        f"Too many failed attempts; retry after {retry_after} seconds.",
        retry_after,
    )


async def _issue(
    request: Request,
    client: ClientRecord,
    fields: dict[str, str],
    end_user_id: str | None = None,
    extra: dict[str, str] | None = None,
) -> JSONResponse:
    requested = fields.get("scope", "").split() or list(client.scopes)
    unknown = [scope for scope in requested if scope not in REQUESTABLE_SCOPES]
    if unknown:
        return _oauth_error(400, "invalid_scope", f"Unknown scopes: {' '.join(unknown)}.")
    not_granted = [scope for scope in requested if not grantable(scope, client.scopes)]
    if not_granted:
        return _oauth_error(
            400, "invalid_scope", f"This client may not have: {' '.join(not_granted)}."
        )
    tokens: TokenIssuer = request.app.state.tokens
    return JSONResponse(
        await tokens.issue(client, requested, end_user_id) | (extra or {}),
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


async def _exchange(request: Request, fields: dict[str, str]) -> JSONResponse:
    """RFC 8693: a partner-signed JWT naming an end user, for a token bound to that user; or
    a JWT or an access token, for a connect token (Zapier's white-label flow)."""
    subject_type = fields.get("subject_token_type", "")
    subject = fields.get("subject_token", "")
    requested = fields.get("requested_token_type") or ACCESS_TOKEN_TYPE
    if requested not in (*ACCESS_TOKEN_TYPES, CONNECT_TOKEN_TYPE):
        return _oauth_error(
            400,
            "invalid_request",
            f"requested_token_type must be {ACCESS_TOKEN_TYPE} or {CONNECT_TOKEN_TYPE}.",
        )
    if not subject:
        return _oauth_error(400, "invalid_request", "Give the signed JWT as subject_token.")
    tokens: TokenIssuer = request.app.state.tokens
    service: Engine = request.app.state.engine
    # A subject token stands for the client's credentials: failures count the same.
    counted = _counted(request, unverified_issuer(subject))
    throttled = await _throttled(service, counted)
    if throttled is not None:
        return throttled
    if subject_type in JWT_TOKEN_TYPES:
        try:
            client, end_user = await tokens.verify_assertion(subject)
        except InvalidGrant as exc:
            await service.attempts.count(counted)
            return _oauth_error(400, "invalid_grant", str(exc))
        principal = _principal_of(client, end_user)
    elif subject_type in ACCESS_TOKEN_TYPES and requested == CONNECT_TOKEN_TYPE:
        try:
            principal = await tokens.principal(subject)
        except Unauthorized:
            await service.attempts.count(counted)
            return _oauth_error(
                400, "invalid_grant", "The subject token is not a valid access token."
            )
        found = await service.store.get_client(principal.client_id)
        if found is None:
            return _oauth_error(400, "invalid_grant", "The subject token's client is gone.")
        client = found
    else:
        accepted = JWT_TOKEN_TYPES + (ACCESS_TOKEN_TYPES if requested == CONNECT_TOKEN_TYPE else ())
        return _oauth_error(
            400, "invalid_request", f"subject_token_type must be {' or '.join(accepted)}."
        )
    refused = await _alongside(request, fields, client)
    if refused is not None:
        return refused
    if requested == CONNECT_TOKEN_TYPE:
        return await _connect_token(request, service, principal, fields)
    extra = {"issued_token_type": requested}
    return await _issue(request, client, fields, principal.end_user_id, extra)


def _principal_of(client: ClientRecord, end_user: str) -> Principal:
    allowed = frozenset(client.allowed_apps) if client.allowed_apps is not None else None
    return Principal(client.id, frozenset(client.scopes), allowed, end_user)


async def _alongside(
    request: Request, fields: dict[str, str], client: ClientRecord
) -> JSONResponse | None:
    """Client credentials sent with an exchange (Zapier's clients send them) must be right,
    and those of the client the subject token is for."""
    presented = _basic_credentials(request.headers.get("authorization")) or (
        (fields["client_id"], fields.get("client_secret", "")) if "client_id" in fields else None
    )
    if presented is None:
        return None
    service: Engine = request.app.state.engine
    authenticated = await service.clients.authenticate(*presented)
    if authenticated is None:
        return _oauth_error(401, "invalid_client", "Unknown client or wrong client secret.")
    if authenticated.id != client.id:
        return _oauth_error(400, "invalid_grant", "The subject token is for another client.")
    return None


def _app_of(resource: str) -> str:
    """The app a connect token's ``resource`` names: its key or id, or a Connect page URL
    ending with it (https://connect.zapier.com/to/{app}, or this service's /connect/{app})."""
    return urlsplit(resource).path.rstrip("/").rsplit("/", 1)[-1] if "/" in resource else resource


async def _connect_token(
    request: Request, service: Engine, principal: Principal, fields: dict[str, str]
) -> JSONResponse:
    if principal.scopes.isdisjoint({"authentication:write", "connection:write"}):
        return _oauth_error(
            400, "invalid_scope", "A connect token needs the connection:write scope."
        )
    resource = fields.get("resource", "")
    client = await service.store.get_client(principal.client_id)
    registered = (client.redirect_uris or []) if client is not None else []
    redirect_uri = fields.get("redirect_uri") or (registered[0] if registered else "")
    if not redirect_uri:
        return _oauth_error(
            400,
            "invalid_request",
            "The client has no redirect URI for the Connect page to return to "
            "(actionruns clients redirect-uris).",
        )
    try:
        app = service.catalog.app(principal, _app_of(resource), parameter="resource")
        document = await connect_token_document(
            service, principal, app, redirect_uri, fields.get("authentication") or None
        )
    except (Forbidden, Conflict) as exc:  # outside the allowlist, or needs no connection
        return _oauth_error(400, "invalid_target", exc.detail)
    except (NotFound, Unprocessable) as exc:
        named_app = exc.source == {"parameter": "resource"}
        return _oauth_error(400, "invalid_target" if named_app else "invalid_request", exc.detail)
    body = {
        "access_token": document["token"],
        "issued_token_type": CONNECT_TOKEN_TYPE,
        "token_type": "N_A",  # RFC 8693 2.2.1: not an access token
        "expires_in": document["expires_in"],
        **document,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
