"""A local OAuth2 provider over real HTTP, as RFC 6749 and RFC 7636 describe one: a sign-in
and consent page, authorization codes bound to the redirect URI and a PKCE challenge, a token
endpoint that rotates refresh tokens, and an API that wants a live access token.

Tests start it with ``start_provider`` and count what it was asked (refreshes, above all).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from actionruns.principal import Principal
from actionruns.sdk import Action, App, Auth, Context, OAuth2Config, OutputField
from actionruns.sdk.http import request_json
from tests.conftest import ApiClient, Service, free_port

CLIENT_ID = "actionruns-test-client"
CLIENT_SECRET = "provider-client-secret-0123456789"


@dataclass
class Grant:
    redirect_uri: str
    challenge: str | None
    scope: str
    expires_at: float


@dataclass
class Provider:
    base_url: str
    access_seconds: float = 3600.0
    codes: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry
    refresh_tokens: set[str] = field(default_factory=set)
    refresh_calls: int = 0
    token_requests: list[dict[str, str]] = field(default_factory=list)
    reject_refresh: bool = False
    fail_refresh_status: int | None = None  # e.g. 503: the provider is down for a while
    refresh_delay: float = 0.0
    # While set and closed, refresh requests wait at the door (a test opens it).
    refresh_gate: asyncio.Event | None = None
    issued: list[str] = field(default_factory=list)  # every token handed out, for scans

    def revoke_access(self) -> None:
        """Every access token stops working (the provider revoked them early)."""
        self.access_tokens.clear()

    def issue(self) -> dict[str, Any]:
        access, refresh = "at-" + secrets.token_hex(12), "rt-" + secrets.token_hex(12)
        self.access_tokens[access] = time.time() + self.access_seconds
        self.refresh_tokens.add(refresh)
        self.issued += [access, refresh]
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": int(self.access_seconds),
            "scope": "profile",
        }

    # -- endpoints ---------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        if params.get("client_id") != CLIENT_ID or params.get("response_type") != "code":
            return HTMLResponse("unknown client or response type", status_code=400)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        return HTMLResponse(
            f"""<!doctype html><title>Demo provider</title>
            <h1>Sign in to Demo</h1><p>actionruns wants to read your profile.</p>
            <form method="post" action="/authorize">{hidden}
            <button name="decision" value="allow">Allow</button>
            <button name="decision" value="deny">Deny</button></form>"""
        )

    async def decide(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        redirect_uri, state = form["redirect_uri"], form.get("state", "")
        if form.get("decision") != "allow":
            query = urlencode({"error": "access_denied", "state": state})
            return RedirectResponse(f"{redirect_uri}?{query}", status_code=302)
        code = secrets.token_urlsafe(16)
        challenge = form.get("code_challenge")
        if challenge and form.get("code_challenge_method") != "S256":
            return HTMLResponse("only S256", status_code=400)
        self.codes[code] = Grant(redirect_uri, challenge, form.get("scope", ""), time.time() + 60)
        return RedirectResponse(
            f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302
        )

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.token_requests.append(form)
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return _oauth_error(401, "invalid_client")
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)
            if grant is None or grant.expires_at < time.time():
                return _oauth_error(400, "invalid_grant", "unknown or used code")
            if form.get("redirect_uri") != grant.redirect_uri:
                return _oauth_error(400, "invalid_grant", "redirect_uri mismatch")
            if grant.challenge is not None:
                verifier = form.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if expected != grant.challenge:
                    return _oauth_error(400, "invalid_grant", "PKCE verification failed")
            return JSONResponse(self.issue(), headers={"Cache-Control": "no-store"})
        if form.get("grant_type") == "refresh_token":
            self.refresh_calls += 1
            if self.refresh_gate is not None:
                await self.refresh_gate.wait()
            if self.refresh_delay:
                await asyncio.sleep(self.refresh_delay)
            if self.fail_refresh_status is not None:
                return JSONResponse(
                    {"error": "temporarily_unavailable"}, status_code=self.fail_refresh_status
                )
            token = form.get("refresh_token", "")
            if self.reject_refresh or token not in self.refresh_tokens:
                return _oauth_error(400, "invalid_grant", "refresh token revoked")
            self.refresh_tokens.discard(token)  # rotated: each refresh token works once
            return JSONResponse(self.issue(), headers={"Cache-Control": "no-store"})
        return _oauth_error(400, "unsupported_grant_type")

    async def me(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self.access_tokens.get(token, 0) < time.time():
            return JSONResponse(
                {"error": "invalid_token"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return JSONResponse({"id": "u-1", "name": "Ada Lovelace"})

    def asgi(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/authorize", self.authorize, methods=["GET"]),
                Route("/authorize", self.decide, methods=["POST"]),
                Route("/token", self.token, methods=["POST"]),
                Route("/api/me", self.me, methods=["GET"]),
            ]
        )

    def app(self, key: str = "demo") -> App:
        """An OAuth2 connector for this provider: its action reads the profile."""
        base = self.base_url

        async def who_am_i(ctx: Context) -> str:
            profile = await request_json(ctx, "GET", f"{base}/api/me")
            return str(profile["name"])

        async def read_profile(ctx: Context, inputs: Any) -> dict[str, Any]:
            profile: dict[str, Any] = await request_json(ctx, "GET", f"{base}/api/me")
            return profile

        return App(
            key=key,
            title="Demo",
            description="A local OAuth2 provider.",
            auth=Auth.oauth2_bearer(
                OAuth2Config(
                    authorize_url=f"{base}/authorize",
                    token_url=f"{base}/token",
                    scopes=("profile",),
                    scope_descriptions={"profile": "See your name and account id"},
                )
            ),
            test=who_am_i,
            categories=("testing",),
            actions=[
                Action(
                    "read_profile",
                    "Read profile",
                    "Reads the signed-in user's profile.",
                    read_profile,
                    outputs=[OutputField("name", "Name")],
                    sample={"name": "Ada"},
                )
            ],
        )


def _oauth_error(status: int, error: str, description: str = "") -> JSONResponse:
    body = {"error": error} | ({"error_description": description} if description else {})
    return JSONResponse(body, status_code=status)


@asynccontextmanager
async def start_provider(**options: Any) -> AsyncIterator[Provider]:
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}", **options)
    server = uvicorn.Server(
        uvicorn.Config(provider.asgi(), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield provider
    finally:
        server.should_exit = True
        await task


def _app_from_environment() -> App | None:
    """For worker processes a test starts: the demo app of the provider the test runs."""
    url = os.environ.get("ACTIONRUNS_TEST_PROVIDER_URL")
    return Provider(url).app() if url else None


demo = _app_from_environment()


async def connect_end_user(
    service: Service, provider: Provider, app_key: str
) -> tuple[ApiClient, str]:
    """Register the service at the provider for ``app_key``, then sign the end user "alice"
    of a client "acme" in through the authorization code flow, as the Connect page does:
    her client, and her connection's id."""
    app = service.engine.registry.app(app_key)
    assert app is not None
    await service.engine.connections.set_oauth_client(app, CLIENT_ID, CLIENT_SECRET)
    flows = service.engine.connections.flows
    async with httpx2.AsyncClient(base_url=provider.base_url) as http:
        consent = await http.post(
            "/authorize",
            data={
                "client_id": CLIENT_ID,
                "redirect_uri": flows.redirect_uri,
                "state": "s",
                "decision": "allow",
            },
        )
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    client = await service.engine.connections.oauth_client(app)
    credentials = await flows.exchange_code(
        app, client, code, None, service.engine.connections.oauth_transport
    )
    acme = await service.new_client("acme")
    principal = Principal(acme.client_id, frozenset({"authentication"}), None, "alice")
    record = await service.engine.connections.save(principal, app, "Ada", credentials)
    return acme.acting_for("alice"), record.id
