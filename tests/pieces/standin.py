"""Vendors' hosts stood in for by one local TLS server: a piece's URLs stay as they are, the
guard's resolver says the vendor's names are the stand-in's loopback address, and a test CA
(``SSL_CERT_FILE``, which the bridge hands to Node) makes its certificate trusted.

Each request reaches the handler as an ``httpx2.Request`` (the shape the vendor checks in
``tests/vendors`` and ``tests/connectors/test_vendor_specs.py`` read) and is kept. For a
vendor with no API description here, ``Documented`` checks requests against what its
reference documents: the operation, how the credential is sent, the required fields.
"""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from typing import Any, Protocol
from urllib.parse import parse_qsl

import httpx2
import trustme

from actionruns.sdk.context import Context, open_context
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.outbound import OutboundGuard

# Its own loopback address, on HTTPS's port: only the resolver knows where the vendor is. One
# per test process, so that test runs side by side on one machine do not take each other's.
STANDIN_ADDRESS = f"127.41.{os.getpid() // 256 % 256}.{os.getpid() % 256}"

Handler = Callable[[httpx2.Request], httpx2.Response]


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: more clients connecting at once than that
    # (a benchmark's 32 in flight) have their SYN dropped and try again a second later.
    request_queue_size = 128
    daemon_threads = True


@dataclass
class StandIn:
    """The server for ``hosts``: ``handle`` answers, ``requests`` keeps what came."""

    hosts: tuple[str, ...]
    handle: Handler
    requests: list[httpx2.Request] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    address: str = STANDIN_ADDRESS  # another, for a test that must not share the port

    def start(self, ca: trustme.CA) -> StandIn:
        standin = self

        class Served(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: with Nagle's algorithm the body waits
            # for the client's delayed ACK, ~40 ms a request.
            disable_nagle_algorithm = True

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                headers = [(k, v) for k, v in self.headers.items() if k.lower() != "host"]
                host = self.headers.get("Host", "").split(":")[0]
                request = httpx2.Request(
                    self.command,
                    f"https://{host}{self.path}",
                    headers=headers,
                    content=self.rfile.read(length) if length else b"",
                )
                standin.requests.append(request)
                answer = standin.handle(request)
                body = answer.read()
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in {"content-length", "transfer-encoding"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                pass

        server = _Server((self.address, 443), Served)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(*self.hosts).configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.server = server
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def resolver(self) -> Callable[[str, int], Any]:
        """The guard's resolver: the stand-in's hosts are its address; a literal address is
        itself; any other name is loopback (which the guard refuses)."""
        names, address = set(self.hosts), self.address

        async def resolve(host: str, port: int) -> list[str]:
            if host in names:
                return [address]
            return [host] if host.replace(".", "").isdigit() else ["127.0.0.1"]

        return resolve


def answer(body: Any = None, status: int = 200, **headers: str) -> httpx2.Response:
    """A JSON answer."""
    return httpx2.Response(status, json=body if body is not None else {}, headers=headers)


@dataclass(frozen=True)
class Endpoint:
    """One operation as the vendor's API reference documents it: ``path`` a template whose
    ``{name}`` is one segment, ``required`` the fields the reference requires (``a|b``: one
    of them), read from where it takes them (``fields``: ``json`` body, ``form`` body,
    ``query``, ``header:<name>`` JSON in that header), ``doc`` where it says so."""

    method: str
    path: str
    doc: str
    required: tuple[str, ...] = ()
    fields: tuple[str, ...] = ("json",)
    # How this operation takes the credential, where it differs from the rest of the API.
    authorized: Callable[[httpx2.Request], bool] | None = None

    def matches(self, request: httpx2.Request) -> bool:
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(self.path))
        return request.method == self.method and re.fullmatch(pattern, request.url.path) is not None

    def missing(self, request: httpx2.Request) -> list[str]:
        given: dict[str, Any] = {}
        if "query" in self.fields:
            given.update(request.url.params)
        if "form" in self.fields:
            given.update(parse_qsl(request.content.decode()))
        if "json" in self.fields and "json" in request.headers.get("content-type", ""):
            body = json.loads(request.content or b"{}")
            given.update(body if isinstance(body, dict) else {})
        for place in self.fields:
            if place.startswith("header:"):  # JSON in a header, the body being content
                given.update(json.loads(request.headers.get(place[len("header:") :], "{}")))
        return [
            name
            for name in self.required
            if all(given.get(one) in (None, "") for one in name.split("|"))
        ]


@dataclass
class Documented:
    """A vendor's API as its reference documents it: each request must be one of its
    ``endpoints``, carry the credential as ``authorized`` says the reference sends it, and
    have every field the reference requires."""

    endpoints: tuple[Endpoint, ...]
    authorized: Callable[[httpx2.Request], bool]
    checked: int = 0
    violations: list[str] = field(default_factory=list)

    def observe(self, request: httpx2.Request) -> None:
        self.checked += 1
        where = f"{request.method} {request.url.path}"
        found = [endpoint for endpoint in self.endpoints if endpoint.matches(request)]
        if not found:
            self.violations.append(f"{where}: not an operation the reference documents")
            return
        if not (found[0].authorized or self.authorized)(request):
            self.violations.append(f"{where}: the credential is not sent as documented")
        for name in found[0].missing(request):
            self.violations.append(f"{where}: no {name}, which {found[0].doc} requires")

    def handler(self, answers: Handler) -> Handler:
        """``answers``, after checking each request."""
        return checking(self, answers)


class Observer(Protocol):
    """What checks each request a stand-in gets: ``Documented``, or ``Checker``
    (``tests/connectors/test_vendor_specs.py``) against the vendor's API description."""

    checked: int
    violations: list[str]

    def observe(self, request: httpx2.Request) -> None: ...


def checking(observer: Observer, answers: Handler) -> Handler:
    """``answers``, after ``observer`` has checked each request."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        observer.observe(request)
        return answers(request)

    return handle


def bearer(token: str) -> Callable[[httpx2.Request], bool]:
    return lambda request: request.headers.get("authorization") == f"Bearer {token}"


def basic(user: str, password: str) -> Callable[[httpx2.Request], bool]:
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return lambda request: request.headers.get("authorization") == f"Basic {pair}"


def header(name: str, value: str) -> Callable[[httpx2.Request], bool]:
    return lambda request: request.headers.get(name) == value


def query(**params: str) -> Callable[[httpx2.Request], bool]:
    return lambda request: all(request.url.params.get(k) == v for k, v in params.items())


@asynccontextmanager
async def standin_context(
    manifest: AppManifest, credentials: dict[str, Any], standin: StandIn
) -> AsyncIterator[Context]:
    """A context for ``manifest``'s app whose guard finds ``standin``'s hosts at it (and
    allows only its address)."""
    app = build_app(manifest)
    guard = OutboundGuard([ip_network(f"{standin.address}/32")], standin.resolver())
    try:
        async with open_context(app.auth, credentials, guard, app_key=app.key) as ctx:
            yield ctx
    finally:
        await guard.aclose()
