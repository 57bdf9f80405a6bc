"""How the client gets its access tokens, and keeps the current one: client credentials, or
token exchange for a token bound to one end user (RFC 8693), with a JWT it signs itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 (a URN)
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105 (a URN)


class Credentials:
    """How an access token is obtained: the form posted to /oauth/token."""

    def form(self) -> dict[str, str]:
        raise NotImplementedError


@dataclass(frozen=True)
class ClientCredentials(Credentials):
    client_id: str
    client_secret: str
    scope: str | None = None

    def form(self) -> dict[str, str]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        return form | ({"scope": self.scope} if self.scope else {})


@dataclass(frozen=True)
class TokenExchange(Credentials):
    """RFC 8693: a JWT the partner signs (HS256, with its ``callback_signing_secret``)
    naming the end user, exchanged for a token bound to that user. Each renewal signs a new
    one: the service accepts a subject token once (its ``jti``)."""

    client_id: str
    signing_secret: str
    end_user: str
    audience: str
    scope: str | None = None
    lifetime: int = 120

    def form(self) -> dict[str, str]:
        now = int(time.time())  # the service checks exp against its wall clock
        claims = {
            "iss": self.client_id,
            "sub": self.end_user,
            "aud": self.audience,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": uuid.uuid4().hex,
        }
        form = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": hs256_jwt(claims, self.signing_secret),
            "subject_token_type": JWT_TOKEN_TYPE,
        }
        return form | ({"scope": self.scope} if self.scope else {})


def _segment(value: Mapping[str, Any]) -> bytes:
    encoded = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(encoded).rstrip(b"=")


def hs256_jwt(claims: Mapping[str, Any], secret: str) -> str:
    """A JWT signed with HS256 (RFC 7519), written with the standard library alone."""
    signing_input = _segment({"alg": "HS256", "typ": "JWT"}) + b"." + _segment(claims)
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


@dataclass
class TokenState:
    """The current access token, shared by the clients that act with it."""

    access_token: str | None = None
    renew_at: float = float("-inf")
    fetching: bool = False  # a request is getting one: the others wait for it

    def current(self, now: float) -> str | None:
        return self.access_token if self.access_token and now < self.renew_at else None

    def keep(self, access_token: str, expires_in: float, now: float) -> None:
        # Renewed before it expires, so a request never leaves with a token about to lapse.
        margin = min(60.0, expires_in / 10)
        self.access_token, self.renew_at = access_token, now + expires_in - margin

    def forget(self, access_token: str) -> None:
        if self.access_token == access_token:  # not one another request just fetched
            self.access_token, self.renew_at = None, float("-inf")
