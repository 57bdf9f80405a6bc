"""``/mcp``: the MCP tools over streamable HTTP, for the bearer token's principal (a
partner's token, or one bound to an end user, or X-End-User), within its rate limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Request
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.types import Receive, Scope, Send

from actionruns.api.errors import error_response
from actionruns.api.mcp_tools import ActionTools, mcp_server
from actionruns.api.security import require
from actionruns.engine import Engine
from actionruns.errors import ServiceError
from actionruns.principal import Principal

PATH = "/mcp"
_RUNS_ACTIONS = require("action:run")


def _principal(request: Any) -> Principal:
    principal: Principal = request.state.principal
    return principal


class McpEndpoint:
    """The ASGI app at ``/mcp``: checks the token as the API does, then hands the request
    to the SDK's stateless streamable-HTTP transport."""

    def __init__(self, engine: Engine) -> None:
        tools = ActionTools(engine, meta_tools=engine.settings.mcp_meta_tools)
        # Stateless, answering JSON: each request stands alone, so any API node serves it.
        self.sessions = StreamableHTTPSessionManager(
            mcp_server(tools, _principal), stateless=True, json_response=True
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.sessions.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            principal = await _RUNS_ACTIONS(request)
        except ServiceError as exc:
            await error_response(exc.status, [exc.document()], exc.headers)(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.sessions.handle_request(scope, receive, send)
