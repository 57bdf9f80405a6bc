"""OAuth2's client credentials grant (RFC 6749 §4.4) as an httpx auth flow.

The user connects with a client id and secret; each request carries an access token asked
for at the token endpoint and kept, per process, until shortly before it expires. The token
request goes through the same guarded client as the call itself. A 401 drops the token and
asks for a new one once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2

from actionruns.sdk.errors import ExpiredAuthError, TransientError

# A token is renewed this long before the expiry its endpoint announced.
EXPIRY_MARGIN_SECONDS = 60.0
DEFAULT_LIFETIME_SECONDS = 3600.0


@dataclass
class _Cached:
    token: str
    expires_at: float


_tokens: dict[str, _Cached] = {}
_locks: dict[str, asyncio.Lock] = {}


def forget_tokens() -> None:
    """Drop every kept token, so that the next request asks for one (a recorded replay
    expects the token request it recorded)."""
    _tokens.clear()


@dataclass
class ClientCredentialsAuth(httpx2.Auth):
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: Sequence[str] = ()
    scope_separator: str = " "
    # "client_secret_basic" (HTTP Basic, RFC 6749's recommendation) or "client_secret_post".
    method: str = "client_secret_basic"

    @property
    def _cache_key(self) -> str:
        digest = hashlib.sha256(
            "\0".join([self.token_url, self.client_id, self.client_secret, *self.scopes]).encode()
        )
        return digest.hexdigest()

    def _token_request(self) -> httpx2.Request:
        form = {"grant_type": "client_credentials"}
        if self.scopes:
            form["scope"] = self.scope_separator.join(self.scopes)
        headers = {"Accept": "application/json"}
        if self.method == "client_secret_post":
            form |= {"client_id": self.client_id, "client_secret": self.client_secret}
        else:
            pair = f"{self.client_id}:{self.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return httpx2.Request("POST", self.token_url, data=form, headers=headers)

    @staticmethod
    def _read_token(response: httpx2.Response) -> _Cached:
        if response.status_code in (400, 401, 403):
            raise ExpiredAuthError(
                f"The token endpoint refused the client id and secret (HTTP "
                f"{response.status_code})."
            )
        if response.status_code >= 300:
            raise TransientError(f"The token endpoint answered HTTP {response.status_code}.")
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, Mapping) else None
        if not isinstance(token, str) or not token:
            raise TransientError("The token endpoint answered without an access token.")
        lifetime = body.get("expires_in") if isinstance(body, Mapping) else None
        seconds = float(lifetime) if isinstance(lifetime, int | float) else DEFAULT_LIFETIME_SECONDS
        return _Cached(token, time.monotonic() + max(0.0, seconds - EXPIRY_MARGIN_SECONDS))

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        key = self._cache_key
        for fresh in (False, True):
            lock = _locks.setdefault(key, asyncio.Lock())
            async with lock:
                cached = _tokens.get(key)
                if fresh or cached is None or cached.expires_at <= time.monotonic():
                    token_response = yield self._token_request()
                    await token_response.aread()
                    cached = _tokens[key] = self._read_token(token_response)
            request.headers["Authorization"] = f"Bearer {cached.token}"
            response = yield request
            if response.status_code != 401 or fresh:
                return
            _tokens.pop(key, None)
