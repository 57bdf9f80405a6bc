"""``POST /oauth/token``: the client credentials grant (RFC 6749 section 4.4), and token
exchange (RFC 8693) for a token bound to one of the client's end users."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from actionruns.api.errors import error_document
from actionruns.api.routes.deps import engine
from actionruns.api.security import InvalidGrant, TokenIssuer
from actionruns.engine import Engine
from actionruns.engine.scopes import REQUESTABLE_SCOPES, grantable
from actionruns.store import ClientRecord

router = APIRouter(tags=["OAuth"])

MAX_FORM_BYTES = 16_384
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a URN)
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105 (a URN)
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 (a URN)


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    """RFC 6749's error body, with the API's ``errors`` list beside it."""
    headers = {"Cache-Control": "no-store"}
    if error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="actionruns"'
    body: dict[str, Any] = {
        "error": error,
        "error_description": description,
        "errors": [error_document(status, description, code=error)],
    }
    return JSONResponse(body, status_code=status, headers=headers)


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
                            "subject_token_type": {"type": "string", "enum": [JWT_TOKEN_TYPE]},
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
    client = await service.clients.authenticate(client_id, client_secret) if client_id else None
    if client is None:
        return _oauth_error(401, "invalid_client", "Unknown client or wrong client secret.")
    return await _issue(request, client, fields)


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
    """RFC 8693: a partner-signed JWT naming an end user, for a token bound to that user."""
    if fields.get("subject_token_type") != JWT_TOKEN_TYPE:
        return _oauth_error(400, "invalid_request", f"subject_token_type must be {JWT_TOKEN_TYPE}.")
    assertion = fields.get("subject_token", "")
    if not assertion:
        return _oauth_error(400, "invalid_request", "Give the signed JWT as subject_token.")
    tokens: TokenIssuer = request.app.state.tokens
    try:
        client, end_user = await tokens.verify_assertion(assertion)
    except InvalidGrant as exc:
        return _oauth_error(400, "invalid_grant", str(exc))
    return await _issue(request, client, fields, end_user, {"issued_token_type": ACCESS_TOKEN_TYPE})
