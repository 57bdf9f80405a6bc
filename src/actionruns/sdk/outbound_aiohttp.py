"""The guard's HTTP transport over aiohttp, under the SDK's ``httpx2.AsyncClient``.

Connectors keep httpx2's interface; the requests go out through one aiohttp session per
guard. Against the httpcore2 pool it replaced it took 0.43x the CPU per request (``./scripts/bench
outbound``): the pool's per-request bookkeeping rose with the requests in flight, and it wrote
each request in three pieces. The pool stays selectable (``ACTIONRUNS_OUTBOUND_CLIENT=httpcore``).

What the guard promises is kept:

- **Only vetted addresses are dialed.** Names resolve through ``OutboundGuard.addresses``
  (``GuardResolver``), which refuses a name if any of its addresses is not allowed. aiohttp
  never asks its resolver about an address written as such (``http://127.0.0.1/``), so
  every socket is also checked where it is made (``guarded_socket_factory``): whatever path
  aiohttp takes to an address, the address is checked before ``connect``.
- **TLS checks the requested name**: aiohttp dials the resolved address and verifies (and
  sends as SNI) the URL's host, with a verifying context made with the session.
- **No proxy from the environment** (``trust_env=False``), no cookies shared between the
  clients of different runs (``DummyCookieJar``), no redirects followed by aiohttp (httpx2
  follows them, so each hop passes the request log and the guard).
- **Errors are httpx2's**: the engine retries on ``httpx2.HTTPError`` and finds the guard's
  refusal in its causes (``guard_error``); a bare ``aiohttp.ClientError`` or
  ``TimeoutError`` escaping would be a crashed connector or an action timeout instead.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, NoReturn

import aiohttp
import httpx2
import yarl
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict

from actionruns.sdk.errors import ActionError, BlockedDestinationError

if TYPE_CHECKING:
    from actionruns.sdk.outbound import OutboundGuard

# Headers aiohttp adds when a request lacks them: httpx2 already sent the ones it meant to
# (a connector that removed one must not see it come back).
AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


class GuardResolver(AbstractResolver):
    """Names resolved by the guard: every address vetted, or the name refused."""

    def __init__(self, guard: OutboundGuard) -> None:
        self._guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results: list[ResolveResult] = []
        for address in await self._guard.addresses(host, port):
            # ``family`` is AF_UNSPEC from the connector; the guard already gave the
            # addresses in the system's order of preference.
            six = ":" in address
            results.append(
                {
                    "hostname": host,
                    "host": address,
                    "port": port,
                    "family": socket.AF_INET6 if six else socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        return results

    async def close(self) -> None:
        pass


def guarded_socket_factory(
    guard: OutboundGuard, on_dial: Callable[[], None] | None = None
) -> aiohttp.SocketFactoryType:
    """Makes each socket aiohttp connects, after checking the address it will connect to.

    The one place every connection passes, names and literal addresses alike. Raising a
    guard error (not an ``OSError``) here stops the attempt: aiohappyeyeballs only moves on
    to the next address after an ``OSError``, and the connector is built without happy
    eyeballs so the error is not swallowed by its race.
    """

    def make(addr_info: AddrInfoType) -> socket.socket:
        family, kind, proto, _name, sockaddr = addr_info
        address = str(sockaddr[0])
        reason = guard.refusal(ipaddress.ip_address(address.split("%")[0]))
        if reason is not None:
            raise BlockedDestinationError(
                f"Connections to {address} are not allowed: it is not a public address "
                f"({reason}). An operator can allow it with ACTIONRUNS_OUTBOUND_ALLOW."
            )
        if on_dial is not None:
            on_dial()
        return socket.socket(family, kind, proto)

    return make


def guarded_session(
    guard: OutboundGuard, on_dial: Callable[[], None] | None = None
) -> aiohttp.ClientSession:
    """One aiohttp session for every client of a guard: 100 connections, idle ones kept 5 s.

    aiohttp does not look at each idle connection per request (the httpcore2 pool did, which
    is why it kept only a few), so it may keep as many as it holds."""
    connector = aiohttp.TCPConnector(
        resolver=GuardResolver(guard),
        # Each new connection resolved through the guard (its resolver may be the system's,
        # whose answers change): a cached answer would be a vetted one too, but stale.
        use_dns_cache=False,
        # Addresses tried one after another, as the guarded pool does; see
        # guarded_socket_factory for why the race must not run.
        happy_eyeballs_delay=None,
        socket_factory=guarded_socket_factory(guard, on_dial),
        # A context made when the session is: the CA bundle where SSL_CERT_FILE /
        # SSL_CERT_DIR say at that moment, verifying chain and name.
        ssl=ssl.create_default_context(),
        limit=100,
        keepalive_timeout=5.0,
    )
    session = aiohttp.ClientSession(
        connector=connector,
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,  # httpx2 decodes the body, by its Content-Encoding
        skip_auto_headers=AUTO_HEADERS,
        timeout=aiohttp.ClientTimeout(total=None),
    )
    # aiohttp sends an idempotent request again, on a new connection, when the server drops
    # the first: a second lookup of the name (which a rebinding name answers differently)
    # and a resend the attempt's request log never sees. The engine's retries decide that.
    # No public switch exists; aiohttp's own test client turns it off the same way, and
    # tests/unit/test_outbound.py sees one connection for one request.
    session._retry_connection = False
    return session


@functools.lru_cache(maxsize=64)
def _timeout(
    connect: float | None, read: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """httpx2's timeouts in aiohttp's terms (one object per combination, not per request):
    ``connect`` in aiohttp is the wait for a pooled connection, ``sock_connect`` httpx2's
    connect. aiohttp has no write timeout."""
    return aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)


def _raise_as_httpx(exc: BaseException) -> NoReturn:
    """The httpx2 error that says the same, with the original as its cause (where
    ``guard_error`` finds the guard's refusal)."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, ActionError):  # from GuardResolver or the socket factory
        raise httpx2.ConnectError(exc.detail) from exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        raise httpx2.ConnectTimeout(message) from exc
    if isinstance(exc, (aiohttp.SocketTimeoutError, asyncio.TimeoutError)):
        raise httpx2.ReadTimeout(message) from exc
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, DNS, TLS certificate
        raise httpx2.ConnectError(message) from exc
    if isinstance(
        exc,
        # A body cut short is a protocol error to httpcore2 too (the same run error).
        aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError | aiohttp.ClientPayloadError,
    ):
        raise httpx2.RemoteProtocolError(message) from exc
    if isinstance(exc, aiohttp.ClientOSError):
        raise httpx2.ReadError(message) from exc
    raise httpx2.TransportError(message) from exc


_FAILURES = (ActionError, aiohttp.ClientError, asyncio.TimeoutError)


class _Body(httpx2.AsyncByteStream):
    """The response body as aiohttp receives it; closing it hands the connection back."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except _FAILURES as exc:
            _raise_as_httpx(exc)

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """Sends httpx2's requests through one aiohttp session and answers with httpx2
    responses whose body streams (as the httpcore2 pool's do).

    The session is made at the first request, in the loop that sends it (an aiohttp session
    belongs to one loop); a request from another loop (a command run after the service's
    loop ended, a test) gets a session of its own.
    """

    def __init__(self, make_session: Callable[[], aiohttp.ClientSession]) -> None:
        self._make_session = make_session
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _session_here(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session, self._loop = self._make_session(), loop
        return self._session

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        timeout = request.extensions.get("timeout", {})
        body: bytes | httpx2.AsyncByteStream | None
        try:
            body = request.content or None  # json=, content=bytes, data=, files=: in memory
        except httpx2.RequestNotRead:  # streamed: aiohttp reads it as an async iterable
            assert isinstance(request.stream, httpx2.AsyncByteStream)
            body = request.stream
        headers = CIMultiDict(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
        )
        if not isinstance(body, bytes | None):
            # A body of unknown length: aiohttp does the chunked encoding itself and refuses
            # a request that already asks for it.
            headers.popall("Transfer-Encoding", None)
        try:
            response = await self._session_here().request(
                request.method,
                # Already encoded by httpx2: aiohttp must not quote it again.
                yarl.URL(str(request.url), encoded=True),
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=_timeout(timeout.get("connect"), timeout.get("read"), timeout.get("pool")),
            )
        except _FAILURES as exc:
            _raise_as_httpx(exc)
        return httpx2.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Body(response),
            extensions={
                "http_version": b"HTTP/%d.%d" % (response.version or (1, 1)),
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    async def aclose(self) -> None:
        # A session of a loop that has ended cannot be closed from this one: it is dropped.
        here = self._loop is asyncio.get_running_loop()
        if self._session is not None and not self._session.closed and here:
            await self._session.close()
        self._session = None
