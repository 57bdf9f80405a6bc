"""The client against the real service on loopback. Its traffic goes through transports that
check every answer against the published OpenAPI document (as the suite's own HTTP client
does), note what was sent, and can lose an answer the way a dropped connection does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx2
import pytest

from actionruns.client import AsyncClient, Client, Retries
from tests.conftest import ApiClient, Service, documented_answers


@dataclass
class Traffic:
    """What the client sent and got: (method, path, status), in order."""

    seen: list[tuple[str, str, int]] = field(default_factory=list)
    # Paths whose next answer is lost after the service has handled the request.
    lose_answer_to: list[str] = field(default_factory=list)

    def note(self, request: httpx2.Request, response: httpx2.Response) -> None:
        response.request = request
        documented_answers().check(response)
        self.seen.append((request.method, request.url.path, response.status_code))
        if request.url.path in self.lose_answer_to:
            self.lose_answer_to.remove(request.url.path)
            raise httpx2.RemoteProtocolError(
                "Server disconnected without a response", request=request
            )

    def count(self, method: str, path: str, status: int | None = None) -> int:
        return sum(
            1
            for m, p, s in self.seen
            if m == method and p == path and (status is None or s == status)
        )


class CheckedTransport(httpx2.BaseTransport):
    def __init__(self, traffic: Traffic) -> None:
        self.traffic = traffic
        self.inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.traffic.note(request, response)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncCheckedTransport(httpx2.AsyncBaseTransport):
    def __init__(self, traffic: Traffic) -> None:
        self.traffic = traffic
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.traffic.note(request, response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


FAST_RETRIES = Retries(attempts=4, max_wait=120.0, backoff=0.01)


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


def sync_client(
    service: Service,
    acme: ApiClient,
    traffic: Traffic,
    *,
    scope: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Client:
    return Client(
        service.base_url,
        acme.client_id,
        acme.client_secret,
        scope=scope,
        signing_secret=acme.signing_secret,
        retries=FAST_RETRIES,
        transport=CheckedTransport(traffic),
        clock=clock,
    )


def async_client(
    service: Service,
    acme: ApiClient,
    traffic: Traffic,
    *,
    scope: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    retries: Retries = FAST_RETRIES,
) -> AsyncClient:
    return AsyncClient(
        service.base_url,
        acme.client_id,
        acme.client_secret,
        scope=scope,
        signing_secret=acme.signing_secret,
        retries=retries,
        transport=AsyncCheckedTransport(traffic),
        sleep=sleep,
        clock=clock,
    )
