"""``/mcp``: the MCP tools over streamable HTTP, for the bearer token's principal (a
partner's token, or one bound to an end user, or X-End-User), within its rate limit.

The MCP SDK is loaded when ``/mcp`` is first asked for, not with the service: it is 27 MiB
of the API process's memory and 1.3 s of its start, for an endpoint many deployments never
serve.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import Request
from starlette.types import Receive, Scope, Send

from actionruns.api.errors import error_response
from actionruns.api.security import require
from actionruns.engine import Engine
from actionruns.errors import ServiceError
from actionruns.principal import Principal

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

PATH = "/mcp"
_RUNS_ACTIONS = require("action:run")


def _principal(request: Any) -> Principal:
    principal: Principal = request.state.principal
    return principal


class McpEndpoint:
    """The ASGI app at ``/mcp``: checks the token as the API does, then hands the request
    to the SDK's stateless streamable-HTTP transport, started at the first request."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._wanted = asyncio.Event()
        self._started = asyncio.Event()
        self._sessions: StreamableHTTPSessionManager | None = None
        self._failure: BaseException | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """While the app serves: the transport, once asked for, runs in a task of its own
        (its task group must end in the task that began it, not in a request's)."""
        serving = asyncio.create_task(self._serve_when_wanted())
        try:
            yield
        finally:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving

    async def _serve_when_wanted(self) -> None:
        await self._wanted.wait()
        try:
            from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

            from actionruns.api.mcp_tools import ActionTools, mcp_server

            tools = ActionTools(self.engine, meta_tools=self.engine.settings.mcp_meta_tools)
            # Stateless, answering JSON: each request stands alone, so any API node serves it.
            sessions = StreamableHTTPSessionManager(
                mcp_server(tools, _principal), stateless=True, json_response=True
            )
        except Exception as exc:  # said to every request, as a 500, rather than hanging them
            self._failure = exc
            self._started.set()
            raise
        async with sessions.run():
            self._sessions = sessions
            self._started.set()
            await asyncio.Event().wait()  # until the app stops

    async def _transport(self) -> StreamableHTTPSessionManager:
        self._wanted.set()
        await self._started.wait()
        if self._sessions is None:
            raise RuntimeError("The MCP transport did not start.") from self._failure
        return self._sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            principal = await _RUNS_ACTIONS(request)
        except ServiceError as exc:
            await error_response(exc.status, [exc.document()], exc.headers)(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await (await self._transport()).handle_request(scope, receive, send)
