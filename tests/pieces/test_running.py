"""Running pieces: a real piece against its emulated upstream (TLS, a test CA, the guard's
resolver), the outbound guard and TLS verification below the piece's code, and calls that
time out or are cancelled stopping the thread that runs them."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

from actionruns.pieces.install import describe
from actionruns.pieces.mapping import Installed, piece_manifest
from actionruns.pieces.runtime import PieceRunner, shared_bridge
from actionruns.sdk.context import Context, open_context
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.errors import BlockedDestinationError, HaltError, TransientError
from actionruns.sdk.outbound import OutboundGuard
from tests.conftest import ServiceFactory
from tests.pieces.conftest import FIXTURE_PIECE, installed_piece

HACKER_NEWS = "hacker-news.firebaseio.com"
# The upstream's stand-in: its own loopback address, on HTTPS's port, so that the piece's
# URL is unchanged and only the guard's resolver says where the name is.
UPSTREAM_ADDRESS = "127.0.41.7"
STORIES = {1: {"id": 1, "title": "First"}, 2: {"id": 2, "title": "Second"}, 3: {"id": 3}}


@dataclass
class Upstream:
    requests: list[tuple[str, str]] = field(default_factory=list)  # (Host, path)


def _serve(ca: trustme.CA, name: str, upstream: Upstream) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            upstream.requests.append((self.headers.get("Host", ""), self.path))
            body: Any = None
            if self.path == "/v0/topstories.json":
                body = list(STORIES)
            elif self.path.startswith("/v0/item/"):
                body = STORIES.get(int(self.path.rsplit("/", 1)[-1].split(".")[0]))
            data = json.dumps(body).encode()
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((UPSTREAM_ADDRESS, 443), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(name).configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def trusted_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    return ca


@pytest.fixture
def hacker_news(trusted_ca: trustme.CA) -> Iterator[Upstream]:
    upstream = Upstream()
    server = _serve(trusted_ca, HACKER_NEWS, upstream)
    yield upstream
    server.shutdown()
    server.server_close()


async def resolve_upstream(host: str, port: int) -> list[str]:
    """The guard's resolver here: the vendor's name is the stand-in's address."""
    if host == HACKER_NEWS:
        return [UPSTREAM_ADDRESS]
    return [host] if host.replace(".", "").isdigit() else ["127.0.0.1"]


async def test_a_real_piece_runs_against_its_emulated_upstream(
    start_service: ServiceFactory, hacker_news: Upstream
) -> None:
    piece = installed_piece("hackernews", "0.2.0")
    manifest = piece_manifest("hackernews", await describe(piece), piece).manifest
    service = await start_service(outbound_allow=f"{UPSTREAM_ADDRESS}/32")
    service.engine.guard.resolver = resolve_upstream
    await service.engine.imports.save(manifest)
    acme = await service.new_client("acme")

    run = await acme.wait(await acme.run("hackernews.fetch_top_stories", {"number_of_stories": 2}))
    assert run["status"] == "success", run
    assert run["results"] == [STORIES[1], STORIES[2]]
    assert hacker_news.requests == [
        (HACKER_NEWS, "/v0/topstories.json"),
        (HACKER_NEWS, "/v0/item/1.json"),
        (HACKER_NEWS, "/v0/item/2.json"),
    ]


@pytest.fixture
async def fixture_context(fixture_manifest: AppManifest) -> AsyncIterator[Context]:
    app = build_app(fixture_manifest)
    guard = OutboundGuard([], resolve_upstream)
    credentials = {"api_key": "good-key"}
    async with open_context(app.auth, credentials, guard, app_key=app.key) as ctx:
        yield ctx
    await guard.aclose()


async def test_the_guard_refuses_loopback_whatever_client_the_piece_uses(
    fixture_manifest: AppManifest, fixture_context: Context, hacker_news: Upstream
) -> None:
    runner = PieceRunner(fixture_manifest)
    for url in (
        f"https://{HACKER_NEWS}/v0/topstories.json",  # the name resolves to loopback here
        f"https://{UPSTREAM_ADDRESS}/v0/topstories.json",
        "http://localhost:443/",
        "http://[::1]:443/",
    ):
        for client in ("http", "fetch"):
            inputs = {"url": url, "client": client}
            with pytest.raises(BlockedDestinationError, match="not allowed"):
                await runner.perform(fixture_context, "fetch", inputs)
    assert hacker_news.requests == []


async def test_tls_verification_cannot_be_turned_off(
    fixture_manifest: AppManifest, fixture_context: Context
) -> None:
    # A server whose certificate no one trusts: the piece tries to skip the check.
    stranger = _serve(trustme.CA(), HACKER_NEWS, upstream := Upstream())
    try:
        fixture_context.guard.allow = (ipaddress.ip_network(f"{UPSTREAM_ADDRESS}/32"),)
        runner = PieceRunner(fixture_manifest)
        for client in ("http", "fetch"):
            inputs = {"url": f"https://{HACKER_NEWS}/", "client": client, "insecure": True}
            with pytest.raises((HaltError, TransientError)) as refused:
                await runner.perform(fixture_context, "fetch", inputs)
            assert not isinstance(refused.value, BlockedDestinationError)
            assert "certificate" in str(refused.value).lower(), refused.value
        assert upstream.requests == []
    finally:
        stranger.shutdown()
        stranger.server_close()


async def test_a_call_that_times_out_has_its_thread_stopped(
    fixture_manifest: AppManifest, fixture_context: Context
) -> None:
    runner = PieceRunner(fixture_manifest)
    first = await runner.perform(fixture_context, "thread", {})
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await runner.perform(fixture_context, "find_thing", {})
    # The thread that ran it was terminated: the piece runs on a new one.
    second = await runner.perform(fixture_context, "thread", {})
    assert second["thread"] != first["thread"]
    third = await runner.perform(fixture_context, "thread", {})
    assert third == second


async def test_a_lost_node_process_is_a_lost_attempt(
    fixture_manifest: AppManifest, fixture_context: Context
) -> None:
    runner = PieceRunner(fixture_manifest)
    await runner.perform(fixture_context, "thread", {})
    bridge = shared_bridge(fixture_context.guard)
    running = asyncio.create_task(runner.perform(fixture_context, "find_thing", {}))
    await asyncio.sleep(0.2)
    assert bridge._process is not None
    bridge._process.kill()
    with pytest.raises(TransientError, match="did not finish"):
        await running
    assert await runner.perform(fixture_context, "thread", {})  # a new process


async def test_a_piece_reads_writes_and_spawns_nothing_and_sees_no_secret(
    fixture_manifest: AppManifest, fixture_context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTIONRUNS_DATABASE_URL", "postgresql://user:hunter2@db/actionruns")
    runner = PieceRunner(fixture_manifest)
    answer = await runner.perform(fixture_context, "escape", {})
    assert answer["outcomes"] == {
        "write": "ERR_ACCESS_DENIED",
        "read": "ERR_ACCESS_DENIED",
        "spawn": "ERR_ACCESS_DENIED",
        "unixSocket": "connections to local sockets are not allowed",
    }
    assert not Path("/tmp/actionruns-piece-escape").exists()
    assert not [name for name in answer["environment"] if name.startswith("ACTIONRUNS")]
    assert set(answer["environment"]) <= {"PATH", "LANG", "LC_ALL", "TZ", "NODE_EXTRA_CA_CERTS"}


async def test_a_piece_of_the_oldest_framework_takes_its_connection_as_a_prop() -> None:
    legacy = Installed("./legacy", "0.2.0", "", FIXTURE_PIECE.directory, "MIT")
    manifest = piece_manifest("legacy", await describe(legacy), legacy).manifest
    assert manifest.piece is not None and manifest.piece.auth_prop == "authentication"
    assert [f.key for f in manifest.auth.fields] == ["token"]
    assert [f.key for f in manifest.actions[0].inputs] == ["note"]
    app = build_app(manifest)
    guard = OutboundGuard()
    async with open_context(app.auth, {"token": "t-1"}, guard, app_key=app.key) as ctx:
        answer = await PieceRunner(manifest).perform(ctx, "whoami", {"note": "hi"})
    assert answer == {"connection": {"token": "t-1"}, "note": "hi"}
