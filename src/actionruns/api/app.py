"""The ASGI application: routes, error shapes, limits, and the engine's lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, HTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actionruns import __version__
from actionruns.api.access_log import AccessLog
from actionruns.api.cors import ApiCors
from actionruns.api.dashboard import install_dashboard
from actionruns.api.docs_pages import serve_docs_offline
from actionruns.api.errors import error_document, error_response, install_error_handlers
from actionruns.api.mcp_http import PATH as MCP_PATH
from actionruns.api.mcp_http import McpEndpoint
from actionruns.api.openapi import document_responses
from actionruns.api.responses import JSONResponse
from actionruns.api.routes import (
    apps,
    authentications,
    connect,
    events,
    not_here,
    oauth,
    operations,
    runs,
)
from actionruns.api.security import TokenIssuer, document_bearer_tokens
from actionruns.engine import Engine, tracing


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._reject(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, [error_document(413, _too_large(self.max_bytes))])
        await response(scope, receive, send)


class StorableURL:
    """Refuse a path or query parameter that holds a NUL (``%00``) before any route sees it:
    no id has one and PostgreSQL's text cannot hold one, so each backend answers the same
    (a lone surrogate cannot come in this way: percent-decoding replaces invalid UTF-8)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = _url_refusal(scope["path"], scope.get("query_string", b""))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _url_refusal(path: str, query: bytes) -> JSONResponse | None:
    if "\x00" in path:
        return error_response(404, [error_document(404, "There is no such resource.")])
    if b"%00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            source = {"parameter": name.replace("\x00", "")}
            detail = f"The query parameter {source['parameter']!r} must not contain NUL characters."
            return error_response(400, [error_document(400, detail, code="invalid", source=source)])
    return None


def _too_large(max_bytes: int) -> str:
    return f"The request body is over {max_bytes} bytes."


class _TooLarge(HTTPException):
    """Raised while a streamed body is read. An HTTPException, so FastAPI passes it on when
    it reads a route's body (any other error there becomes a 400) and it renders as a 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, _too_large(max_bytes))


class TrailingSlash:
    """Route ``/v2/action-runs/`` as ``/v2/action-runs``: Zapier's API answers both and its
    guides send the slash. A redirect instead would fail clients that refuse redirects
    (Node's ``fetch`` with ``redirect: "error"``) and can lose a POST body behind a proxy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = dict(scope, path=path.rstrip("/") or "/")
            raw_path = scope.get("raw_path")
            if raw_path:
                scope["raw_path"] = raw_path.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


def _document_schemas(app: FastAPI, schemas: dict[str, Any]) -> None:
    """Add ``schemas`` to the OpenAPI document's components (bodies a route reads itself)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        document.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    service: Engine,
    *,
    run_workers: bool = True,
    manage: bool = True,
    alongside: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
) -> FastAPI:
    """The API over ``service``; with ``manage`` it migrates, starts and stops the engine,
    and runs each of ``alongside`` (a start banner, a connector reloader) while it serves."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not manage:
            yield
            return
        await service.migrate()
        await service.start(workers=run_workers)
        tasks = [asyncio.create_task(work()) for work in alongside]
        try:
            async with mcp.running():
                yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await service.stop()
            if tracing.enabled():
                from actionruns.telemetry import flush

                await asyncio.to_thread(flush)

    app = FastAPI(
        title="actionruns",
        version=__version__,
        description="Run single actions in other apps, in the shapes of the Partner API.",
        lifespan=lifespan,
        redirect_slashes=False,
        default_response_class=JSONResponse,
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = service
    app.state.tokens = TokenIssuer(service)
    install_error_handlers(app)
    # Runs first: a request is matched against the routes in order, and nearly every request
    # is a run submitted or read (matching cost ~0.1 ms a request with runs sixth).
    routers = [
        module.router
        for module in (runs, oauth, apps, authentications, events, connect, operations, not_here)
    ]
    for router in routers:
        app.include_router(router)
    if service.settings.dashboard:
        install_dashboard(app)
    serve_docs_offline(app)
    mcp = McpEndpoint(service)
    # An ASGI app of its own (the SDK's transport), routed as a path, not mounted under one.
    app.router.routes.append(
        Route(MCP_PATH, mcp, methods=["GET", "POST", "DELETE"], include_in_schema=False)
    )
    document_bearer_tokens(app, routers)
    _document_schemas(app, runs.RUN_BODY_SCHEMA["$defs"])
    document_responses(app)

    # Innermost: it sees the route the router matched (the scope it was handed).
    app.add_middleware(AccessLog, metrics=service.metrics, counter=service.request_counts)
    app.add_middleware(BodyLimit, max_bytes=service.settings.max_body_bytes)
    app.add_middleware(StorableURL)
    app.add_middleware(TrailingSlash)
    if service.settings.cors_origins:
        # Outermost: a preflight is answered before any other middleware sees it.
        app.add_middleware(ApiCors, origins=service.settings.cors_origins)
    if tracing.enabled():
        from actionruns.telemetry import instrument_app

        instrument_app(app)  # outside all of them: the span covers the whole request
    return app
