"""CORS for the origins an operator lists (``ACTIONRUNS_CORS_ORIGINS``), on the API only: a
browser app of a partner may call it with a bearer token. The Connect page's form posts and
the operator's pages never answer another origin, so a page elsewhere cannot read them."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

API_PATHS = ("/v2/", "/oauth/token", "/.well-known/jwks.json", "/openapi.json", "/mcp")
# Read by a browser app: the run's URL, a replay, the rate limit and when to retry.
EXPOSED_HEADERS = [
    "Location",
    "Idempotent-Replayed",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
]
PREFLIGHT_MAX_AGE_SECONDS = 600


class ApiCors:
    """Starlette's CORS middleware for the API's paths; every other path goes around it."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-End-User"],
            expose_headers=EXPOSED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE_SECONDS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(API_PATHS):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
