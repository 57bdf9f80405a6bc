"""The outbound guard refuses non-public destinations, after DNS, on every connection."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx2
import pytest
from pytest_httpserver import HTTPServer

from actionruns.sdk.errors import BlockedDestinationError
from actionruns.sdk.outbound import (
    MAX_IDLE_CONNECTIONS,
    OutboundClient,
    OutboundGuard,
    blocked_reason,
    parse_networks,
)


@pytest.fixture(params=["aiohttp", "httpcore"])
def client(request: pytest.FixtureRequest) -> OutboundClient:
    """Each HTTP client the guard can send through keeps the same promises."""
    chosen: OutboundClient = request.param
    return chosen


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not OutboundGuard().is_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert OutboundGuard().is_allowed(ipaddress.ip_address(address))


def test_the_operator_can_allow_networks() -> None:
    guard = OutboundGuard(parse_networks(" 127.0.0.0/8, 10.0.0.5 "))
    assert guard.is_allowed(ipaddress.ip_address("127.0.0.1"))
    assert guard.is_allowed(ipaddress.ip_address("10.0.0.5"))
    assert not guard.is_allowed(ipaddress.ip_address("10.0.0.6"))


async def test_names_are_checked_after_resolution() -> None:
    with pytest.raises(BlockedDestinationError, match="localhost"):
        await OutboundGuard().addresses("localhost", 80)


async def test_http_to_loopback_is_refused_before_any_byte_is_sent(
    httpserver: HTTPServer, client: OutboundClient
) -> None:
    httpserver.expect_request("/").respond_with_data("secret")
    guard = OutboundGuard(client=client)
    async with httpx2.AsyncClient(transport=guard.http_transport()) as http:
        with pytest.raises(httpx2.ConnectError) as caught:
            await http.get(httpserver.url_for("/").replace("localhost", "127.0.0.1"))
    assert blocked_reason(caught.value) is not None
    assert httpserver.log == []
    await guard.aclose()


async def test_redirects_to_a_private_address_are_refused(
    httpserver: HTTPServer, client: OutboundClient
) -> None:
    """A public-looking first hop cannot bounce the request to an internal one."""
    target = f"http://127.0.0.2:{httpserver.port}/internal"
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": target}
    )
    # Only the first hop's address is allowed; the redirect target is another loopback address.
    guard = OutboundGuard(parse_networks("127.0.0.1/32"), client=client)
    async with httpx2.AsyncClient(transport=guard.http_transport(), follow_redirects=True) as http:
        with pytest.raises(httpx2.ConnectError) as caught:
            await http.get(f"http://127.0.0.1:{httpserver.port}/start")
    blocked = blocked_reason(caught.value)
    assert blocked is not None and "127.0.0.2" in blocked.detail
    assert [entry[0].path for entry in httpserver.log] == ["/start"]
    await guard.aclose()


async def test_allowed_destinations_are_reached(
    httpserver: HTTPServer, client: OutboundClient
) -> None:
    httpserver.expect_request("/ok").respond_with_json({"ok": True})
    guard = OutboundGuard(parse_networks("127.0.0.0/8"), client=client)
    async with httpx2.AsyncClient(transport=guard.http_transport()) as http:
        response = await http.get(f"http://127.0.0.1:{httpserver.port}/ok")
    assert response.json() == {"ok": True}
    await guard.aclose()


async def test_raw_sockets_are_vetted_too() -> None:
    with pytest.raises(BlockedDestinationError):
        await OutboundGuard().connect("127.0.0.1", 25, timeout=1)


async def test_a_burst_leaves_only_a_few_idle_connections_open_in_the_httpcore_pool() -> None:
    """Every request probes each idle pooled connection, so the pool keeps few of them."""
    open_connections: set[asyncio.StreamWriter] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_connections.add(writer)
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                await asyncio.sleep(0.05)  # slow enough that the burst needs many connections
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            open_connections.discard(writer)
            writer.close()

    async with guarded_client_of(serve, "httpcore") as (http, url):
        burst = await asyncio.gather(*(http.get(url) for _ in range(MAX_IDLE_CONNECTIONS * 3)))
        assert {response.status_code for response in burst} == {200}
        assert (await http.get(url)).status_code == 200
        await asyncio.sleep(0.1)  # the server sees the surplus closed
        assert 1 <= len(open_connections) <= MAX_IDLE_CONNECTIONS


async def test_a_pooled_connection_the_server_closed_is_not_reused(
    client: OutboundClient,
) -> None:
    """The pool notices an idle connection the server has since closed and opens another,
    instead of sending the next request into it and failing."""
    connections = 0

    async def serve_one_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        # Says keep-alive, then closes anyway: as servers do at their idle timeout.
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    async with guarded_client_of(serve_one_request, client) as (http, url):
        for _ in range(3):
            assert (await http.get(url)).text == "ok"
            await asyncio.sleep(0.05)  # the close reaches this side
    assert connections == 3


async def test_a_dropped_request_is_not_sent_again_behind_the_engines_back(
    client: OutboundClient,
) -> None:
    """A server that drops the connection without answering gets one connection and one
    request: resending (aiohttp would, for a GET) is the engine's decision, and a second
    connection would look the name up again."""
    connections = 0

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async with guarded_client_of(drop, client) as (http, url):
        with pytest.raises(httpx2.RemoteProtocolError):
            await http.get(url)
    assert connections == 1


@contextlib.asynccontextmanager
async def guarded_client_of(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    client: OutboundClient,
) -> AsyncIterator[tuple[httpx2.AsyncClient, str]]:
    """A local server that hands each connection to ``handle``, and a client through the
    guard (with loopback allowed), with the server's address."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    guard = OutboundGuard(parse_networks("127.0.0.0/8"), client=client)
    try:
        async with httpx2.AsyncClient(transport=guard.http_transport()) as http:
            yield http, f"http://127.0.0.1:{port}/"
    finally:
        await guard.aclose()
        server.close()
        await server.wait_closed()
