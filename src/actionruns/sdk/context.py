"""What a connector's functions receive: credentials, an HTTP client that injects them, a logger."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import structlog

from actionruns.sdk.auth import Auth, CredentialsAuth
from actionruns.sdk.outbound import OutboundGuard
from actionruns.sdk.redaction import secrets_in_scope
from actionruns.sdk.request_log import RecordingTransport

DEFAULT_HTTP_TIMEOUT = httpx2.Timeout(30.0, connect=10.0)
USER_AGENT = "actionruns/0.1 (+https://github.com/actionruns/actionruns)"

# One proxy for every call: binding a fresh proxy builds a logger each time (2% of a webhooks
# run's CPU), a cached one only copies its context.
_connector_log = structlog.get_logger("actionruns.connector")


class Context:
    """The connector's view of one call: ``perform``, a choices or fields function, or a test.

    ``http`` is made on first use: many actions (SMTP, databases) never need it.
    """

    def __init__(
        self,
        make_http: Callable[[], httpx2.AsyncClient],
        guard: OutboundGuard,
        log: Any,
        credentials: Mapping[str, Any],
        run_id: str | None = None,
        authentication_id: str | None = None,
    ) -> None:
        self._make_http = make_http
        self._http: httpx2.AsyncClient | None = None
        self.guard = guard
        self.log = log
        self.credentials = credentials
        self.run_id = run_id
        self.authentication_id = authentication_id
        self._cache: dict[Hashable, Any] = {}

    @property
    def http(self) -> httpx2.AsyncClient:
        """An HTTP client that puts the credentials on each request and dials only vetted
        addresses."""
        if self._http is None:
            self._http = self._make_http()
        return self._http

    async def cached(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """``load()``'s answer, asked once per call: an action's dynamic fields and its
        ``perform`` read the same schema (a database's properties) with one request."""
        if key not in self._cache:
            self._cache[key] = await load()
        return self._cache[key]

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def __repr__(self) -> str:
        return f"Context(run_id={self.run_id!r}, authentication_id={self.authentication_id!r})"


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
    http_auth: httpx2.Auth | None = None
    if auth.flow is not None and credentials:
        http_auth = auth.flow(credentials)
    elif auth.apply is not None and credentials:
        http_auth = CredentialsAuth(auth.apply, credentials)

    def make_http() -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            auth=http_auth,
            transport=RecordingTransport(transport or guard.http_transport()),
            timeout=DEFAULT_HTTP_TIMEOUT,
            follow_redirects=True,
            max_redirects=5,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )

    with secrets_in_scope(secrets):
        log = _connector_log.bind(app=app_key, run_id=run_id)
        ctx = Context(make_http, guard, log, credentials, run_id, authentication_id)
        try:
            yield ctx
        finally:
            await ctx.aclose()
