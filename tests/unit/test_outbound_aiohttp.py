"""The guard's aiohttp transport keeps the guard's promises (tests/unit/test_outbound.py holds
both clients to the common ones): it dials nothing refused, whatever the URL names; it sends
and reads what the httpcore2 pool did; it checks TLS against the name asked for."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
from collections.abc import AsyncIterator
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import httpx2
import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from actionruns.sdk.outbound import OutboundGuard, blocked_reason
from actionruns.sdk.request_log import RecordingTransport, logging_requests
from tests.conftest import offline_resolver


async def test_the_aiohttp_transport_dials_nothing_the_guard_refuses() -> None:
    """Loopback refused (nothing allowed): an address written as such (which aiohttp never
    asks its resolver about) and a name that resolves to it both fail before connecting,
    as httpx2 errors with the guard's refusal as their cause, which the engine reads."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        guard = OutboundGuard(allow=[], resolver=offline_resolver, client="aiohttp")
        transport = RecordingTransport(guard.http_transport())
        async with httpx2.AsyncClient(transport=transport, trust_env=False) as http:
            for url in (f"http://127.0.0.1:{port}/", f"http://localhost:{port}/"):
                with logging_requests() as log, pytest.raises(httpx2.ConnectError) as caught:
                    await http.post(url, json={"n": 1})
                assert blocked_reason(caught.value) is not None, url
                assert log[0]["error"] == "ConnectError"
        await guard.aclose()
        with pytest.raises(BlockingIOError):  # no connection ever reached the listener
            listener.accept()


async def _streamed() -> AsyncIterator[bytes]:
    yield b'{"n": '
    yield b"1}"


async def test_the_aiohttp_transport_sends_and_reads_as_the_guarded_pool_does(
    httpserver: HTTPServer,
) -> None:
    """The same requests on the wire (a body in memory, a body streamed), the same responses
    (a gzipped body, decoded by httpx2) and request log: only the client's insides differ
    between the two variants measured."""
    seen: list[tuple[dict[str, str], bytes]] = []

    def echo(request: Request) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        seen.append((headers, request.get_data()))
        body = gzip.compress(json.dumps({"got": json.loads(request.get_data())}).encode())
        extra = {"Content-Encoding": "gzip", "X-Reply": "yes"}
        return Response(body, status=201, headers=extra, content_type="application/json")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(echo)
    url = httpserver.url_for("/hook?key=secret")  # localhost: resolved by the guard
    guards = [
        OutboundGuard(allow=[ip_network("127.0.0.0/8")], resolver=offline_resolver, client=client)
        for client in ("httpcore", "aiohttp")
    ]
    answers: list[list[tuple[int, Any, str | None]]] = []
    logs: list[list[dict[str, Any]]] = []
    for guard in guards:
        inner = guard.http_transport()
        client = httpx2.AsyncClient(
            transport=RecordingTransport(inner),
            trust_env=False,
            headers={"User-Agent": "bench-test"},
        )
        answers.append([])
        async with client as http:
            with logging_requests() as log:
                for response in (
                    await http.post(url, json={"n": 1}),
                    await http.post(url, content=_streamed()),
                ):
                    answers[-1].append(
                        (response.status_code, response.json(), response.headers["x-reply"])
                    )
        logs.append([{k: v for k, v in entry.items() if k != "duration_ms"} for entry in log])
        await guard.aclose()
    assert answers[0] == answers[1] == [(201, {"got": {"n": 1}}, "yes")] * 2
    assert logs[0] == logs[1] and "secret" not in str(logs[0])
    assert seen[:2] == seen[2:]


async def test_the_aiohttp_transport_checks_tls_against_the_name_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It dials the address the guard vetted and verifies the certificate as the URL's host:
    localhost's certificate passes for localhost, and not for example.com, though both
    resolve to the same address here."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))  # read when the session is made
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    guard = OutboundGuard(
        allow=[ip_network("127.0.0.0/8")], resolver=offline_resolver, client="aiohttp"
    )
    async with server, httpx2.AsyncClient(transport=guard.http_transport()) as http:
        assert (await http.get(f"https://localhost:{port}/")).text == "ok"
        with pytest.raises(httpx2.ConnectError) as caught:
            await http.get(f"https://example.com:{port}/")
        assert "certificate" in str(caught.value).lower()
    await guard.aclose()
