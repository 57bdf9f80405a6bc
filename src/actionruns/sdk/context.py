"""What a connector's functions receive: credentials, an HTTP client that injects them, a logger."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import structlog

from actionruns.sdk.auth import Auth, CredentialsAuth
from actionruns.sdk.outbound import OutboundGuard
from actionruns.sdk.redaction import secrets_in_scope

DEFAULT_HTTP_TIMEOUT = httpx2.Timeout(30.0, connect=10.0)
USER_AGENT = "actionruns/0.1 (+https://github.com/actionruns/actionruns)"


@dataclass
class Context:
    """The connector's view of one call: ``perform``, a choices or fields function, or a test."""

    http: httpx2.AsyncClient
    guard: OutboundGuard
    log: Any
    credentials: Mapping[str, Any] = field(default_factory=dict, repr=False)
    run_id: str | None = None
    authentication_id: str | None = None


@asynccontextmanager
async def open_context(
    auth: Auth,
    credentials: Mapping[str, Any],
    guard: OutboundGuard,
    *,
    app_key: str,
    run_id: str | None = None,
    authentication_id: str | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> AsyncIterator[Context]:
    """Build a context whose HTTP client is guarded and whose secrets are redacted everywhere."""
    secrets = [credentials.get(key) for key in auth.secret_keys]
    http_auth = (
        CredentialsAuth(auth.apply, credentials) if auth.apply is not None and credentials else None
    )
    with secrets_in_scope(secrets):
        async with httpx2.AsyncClient(
            auth=http_auth,
            transport=transport or guard.http_transport(),
            timeout=DEFAULT_HTTP_TIMEOUT,
            follow_redirects=True,
            max_redirects=5,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        ) as http:
            log = structlog.get_logger("actionruns.connector").bind(app=app_key, run_id=run_id)
            yield Context(
                http=http,
                guard=guard,
                log=log,
                credentials=credentials,
                run_id=run_id,
                authentication_id=authentication_id,
            )
