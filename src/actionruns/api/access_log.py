"""One log event and one metric sample per request, under a request id the caller may give.

``X-Request-Id`` is taken from the request when it is a plain token (else one is made) and
sent back on the response; while the request is served every log event carries it as
``request_id``. Headers that a step of the request owes every answer, however the answer is
made (the rate limit's, put under ``RESPONSE_HEADERS`` in the scope), go on the response here
too, unless it sets them itself: one wrapper of the answer for all of them, not one each.

The event names the route's template, never the path: paths hold ids, and queries may hold
secrets. A request whose client is known (``CLIENT`` in its scope, left by
the token check) is counted for that client (``engine.request_counts``).
"""

from __future__ import annotations

import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actionruns.engine import ids
from actionruns.engine.metrics import Metrics
from actionruns.engine.request_counts import RequestCounter

log = structlog.get_logger("actionruns.access")

HEADER = b"x-request-id"
# Where the request's client is left in the scope once its token or client_id is known.
CLIENT = "actionruns.client_id"
# Headers for the answer, whichever way it is made: a list of (lowercase name, value) pairs.
RESPONSE_HEADERS = "actionruns.response_headers"
_TOKEN = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")


def request_id(scope: Scope) -> str:
    """The caller's X-Request-Id if it is a plain token of up to 128 characters, else new."""
    for name, value in scope.get("headers", ()):
        if name == HEADER and _TOKEN.match(value):
            return bytes(value).decode("ascii")
    return ids.random_hex()


class AccessLog:
    def __init__(self, app: ASGIApp, metrics: Metrics, counter: RequestCounter) -> None:
        self.app = app
        self.histogram = metrics.http_seconds
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id(scope)
        owed: list[tuple[bytes, bytes]] = []
        scope[RESPONSE_HEADERS] = owed
        status = 500  # what the server answers if the app fails before it responds

        async def respond(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (HEADER, rid.encode())]
                if owed:
                    present = {bytes(name).lower() for name, _ in headers}
                    headers += [(name, value) for name, value in owed if name not in present]
                message["headers"] = headers
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=rid):
            try:
                await self.app(scope, receive, respond)
            finally:
                seconds = time.perf_counter() - started
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                method = scope["method"]
                self.histogram.labels(method, route, str(status)).observe(seconds)
                client = scope.get(CLIENT)
                if client is not None:
                    self.counter.count(client, status)
                log.info(
                    "http_request",
                    method=method,
                    route=route,
                    status=status,
                    client=client,
                    duration_ms=round(seconds * 1000, 3),
                )
