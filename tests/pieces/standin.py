"""Vendors' hosts stood in for by one local TLS server: a piece's URLs stay as they are, the
guard's resolver says the vendor's names are the stand-in's loopback address, and a test CA
(``SSL_CERT_FILE``, which the bridge hands to Node) makes its certificate trusted.

Each request reaches the handler as an ``httpx2.Request`` (the shape the vendor checks in
``tests/vendors`` and ``tests/connectors/test_vendor_specs.py`` read) and is kept.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import trustme

# Its own loopback address, on HTTPS's port: only the resolver knows where the vendor is.
STANDIN_ADDRESS = "127.0.41.9"

Handler = Callable[[httpx2.Request], httpx2.Response]


@dataclass
class StandIn:
    """The server for ``hosts``: ``handle`` answers, ``requests`` keeps what came."""

    hosts: tuple[str, ...]
    handle: Handler
    requests: list[httpx2.Request] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self, ca: trustme.CA) -> StandIn:
        standin = self

        class Served(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

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

        server = ThreadingHTTPServer((STANDIN_ADDRESS, 443), Served)
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
        names = set(self.hosts)

        async def resolve(host: str, port: int) -> list[str]:
            if host in names:
                return [STANDIN_ADDRESS]
            return [host] if host.replace(".", "").isdigit() else ["127.0.0.1"]

        return resolve


def answer(body: Any = None, status: int = 200, **headers: str) -> httpx2.Response:
    """A JSON answer."""
    return httpx2.Response(status, json=body if body is not None else {}, headers=headers)
