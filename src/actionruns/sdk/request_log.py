"""What a run's attempt sent out: each HTTP request's method, address, status and duration.

The engine opens a log around an attempt (``logging_requests``); every connector HTTP client
made in that task records into it through ``RecordingTransport``. Addresses are kept without
what may carry a secret: no user or password, no query string (API keys travel there), and
any credential of the call that still appears in the path redacted.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2

from actionruns.sdk.redaction import redact

# An attempt looping on requests keeps only its first ones: the log is stored with the run.
MAX_LOGGED_REQUESTS = 50

_log: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "actionruns_request_log", default=None
)


@contextmanager
def logging_requests() -> Iterator[list[dict[str, Any]]]:
    """Collect the requests made in this context (and tasks it starts) into the list yielded."""
    requests: list[dict[str, Any]] = []
    token = _log.set(requests)
    try:
        yield requests
    finally:
        _log.reset(token)


def public_url(url: httpx2.URL) -> str:
    """The address without user, password, query or fragment, and secrets in scope redacted."""
    port = f":{url.port}" if url.port is not None else ""
    return str(redact(f"{url.scheme}://{url.host}{port}{url.path}"))


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Passes requests on, noting each in the current request log (if one is open)."""

    def __init__(self, transport: httpx2.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        requests = _log.get()
        if requests is None or len(requests) >= MAX_LOGGED_REQUESTS:
            return await self._transport.handle_async_request(request)
        entry: dict[str, Any] = {
            "method": request.method,
            "url": public_url(request.url),
            "status": None,
            "duration_ms": None,
            "error": None,
        }
        requests.append(entry)
        started = time.perf_counter()
        try:
            response = await self._transport.handle_async_request(request)
        except Exception as exc:
            entry["error"] = type(exc).__name__
            raise
        finally:
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        entry["status"] = response.status_code
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()
