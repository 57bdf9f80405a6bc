"""Probes of the outbound guard, run inside a network namespace of their own (``unshare``):
its only interface is ``lo``, which the probe gives every address it aims at, so a connection
the guard lets through lands on a listener here and is counted, and nothing can leave.

A DNS server of the probe's own answers on 127.0.0.1:53 (the namespace's resolv.conf points
there): ``rebind-*`` names answer a public address the first time and 127.0.0.1 after,
``to-<address>`` names answer that address, ``tls-*.probe.test`` the public address (its
certificate, from a throwaway CA, is for ``*.probe.test``).

Prints one JSON document: each probe, what it tried and where its connections landed.
``tests/unit/test_outbound_namespace.py`` runs it and asserts that nothing passed through.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import httpx2
import trustme

from actionruns.connectors import email, mariadb, mqtt, nats, postgresql, rabbitmq, redis
from actionruns.logs import configure_logging
from actionruns.pieces.install import describe
from actionruns.pieces.mapping import piece_manifest
from actionruns.pieces.runtime import PieceRunner, close_bridges
from actionruns.sdk.app import App
from actionruns.sdk.context import open_context
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.outbound import OutboundGuard
from tests.pieces.conftest import FIXTURE_PIECE

PUBLIC = "93.184.216.34"  # a public address, here on lo: the "first answer" of a rebinding
PLAIN_PORT = 8000  # every address's plain listener
TLS_PORT = 8443  # the public address's TLS listener (by protocol, see ``PREAMBLES``)
REDIRECT_PORT = 8080  # the public address's HTTP server that redirects
# Addresses the guard must refuse, given to lo so that a connection to one would be seen.
INTERNAL = [
    "10.0.0.1",
    "100.64.0.1",
    "169.254.169.254",
    "172.16.0.1",
    "192.168.0.1",
    "192.0.0.192",
    "fd00::1",
    "fec0::1",
    "64:ff9b::7f00:1",
    "64:ff9b:1::a00:1",
    "2002:7f00:1::1",
    "2001::1",
    "::7f00:1",
]
# Host forms of loopback and internal addresses, as a URL's host (brackets for IPv6).
HOST_FORMS = [
    "127.0.0.1",
    "127.1",
    "127.0.1",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "0x7f000001",
    "2130706433",
    "017700000001",
    "127.000.000.001",
    "0.0.0.0",
    "0",
    "localhost",
    "LOCALHOST.",
    "localhost.localdomain",
    "[::1]",
    "[::]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:0:127.0.0.1]",
    "[::127.0.0.1]",
    "[64:ff9b::127.0.0.1]",
    "[64:ff9b:1::a00:1]",
    "[2002:7f00:1::1]",
    "[2001::1]",
    "[fd00::1]",
    "[fec0::1]",
    "[fe80::1]",
    "10.0.0.1",
    "100.64.0.1",
    "169.254.169.254",
    "172.16.0.1",
    "192.168.0.1",
    "192.0.0.192",
    "①②⑦.0.0.1",  # IDNA maps these digits to 127.0.0.1
    "to-127-0-0-1.probe.test",
    "to-169-254-169-254.probe.test",
    "to-fd00--1.probe.test",
    "to-64-ff9b--7f00-1.probe.test",
    "mixed.probe.test",  # a public and a private address
    "rebind-forms.probe.test",  # public first: passes, and must land on the public address
]
# URL tricks around a host: what is dialled must be what was checked.
URL_TRICKS = [
    f"http://public.probe.test@127.0.0.1:{PLAIN_PORT}/",
    f"http://127.0.0.1:{PLAIN_PORT}#@public.probe.test/",
    f"http://127.0.0.1:{PLAIN_PORT}\\@public.probe.test/",
    f"http://%31%32%37.0.0.1:{PLAIN_PORT}/",
]
REDIRECT_TARGETS = [
    f"http://127.0.0.1:{PLAIN_PORT}/",
    f"http://[::ffff:127.0.0.1]:{PLAIN_PORT}/",
    f"http://[64:ff9b::a9fe:a9fe]:{PLAIN_PORT}/",
    f"http://169.254.169.254:{PLAIN_PORT}/latest/meta-data/",
    f"http://to-10-0-0-1.probe.test:{PLAIN_PORT}/",
    f"http://2130706433:{PLAIN_PORT}/",
    f"http://localhost:{PLAIN_PORT}/",
    f"http://rebind-redirect.probe.test:{PLAIN_PORT}/",
]


@dataclass
class Landings:
    """Connections each listener took: (address dialled, port)."""

    seen: list[tuple[str, int]] = field(default_factory=list)
    sni: list[str] = field(default_factory=list)  # names of TLS handshakes that completed

    def mark(self) -> int:
        return len(self.seen)

    def since(self, mark: int) -> list[tuple[str, int]]:
        return self.seen[mark:]


INTERNAL_URLS = [f"[{a}]" if ":" in a else a for a in INTERNAL]


def _address_of(name: str) -> str | None:
    """``to-10-0-0-1`` → 10.0.0.1, ``to-fd00--1`` → fd00::1."""
    label = name.split(".")[0][len("to-") :]
    text = label.replace("-", ".") if "--" not in label and label.count("-") == 3 else None
    if text is None:
        text = label.replace("-", ":")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


class DNSServer:
    """Answers A and AAAA queries on 127.0.0.1:53, counting each name's A queries."""

    def __init__(self) -> None:
        self.asked: Counter[str] = Counter()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        threading.Thread(target=self._serve, daemon=True).start()

    def answer(self, name: str, family: str) -> list[str]:
        if name.startswith("rebind-"):
            if family != "A":
                return []
            self.asked[name] += 1
            return [PUBLIC] if self.asked[name] == 1 else ["127.0.0.1"]
        if name.startswith(("tls-", "public.")):
            return [PUBLIC] if family == "A" else []
        if name.startswith("mixed."):
            return [PUBLIC, "10.0.0.1"] if family == "A" else []
        if name.startswith("to-"):
            address = _address_of(name)
            if address is None:
                return []
            is_v6 = ":" in address
            return [address] if (family == "AAAA") == is_v6 else []
        return []

    def _serve(self) -> None:
        while True:
            data, peer = self.sock.recvfrom(4096)
            try:
                query = dns.message.from_wire(data)
            except Exception:
                continue
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            family = dns.rdatatype.to_text(question.rdtype)
            addresses = self.answer(name, family) if family in ("A", "AAAA") else []
            known = name.endswith(".probe.test") or name.endswith(".other.test")
            if addresses:
                response.answer.append(
                    dns.rrset.from_text_list(question.name, 0, "IN", family, addresses)
                )
            elif not known:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)


def _mysql_greeting() -> bytes:
    """A MySQL protocol 10 greeting that offers TLS (CLIENT_SSL)."""
    capabilities = 0x1 | 0x8 | 0x200 | 0x800 | 0x8000 | 0x80000
    payload = (
        b"\x0a5.5.5-probe\x00"
        + struct.pack("<I", 1)
        + b"abcdefgh\x00"
        + struct.pack("<H", capabilities & 0xFFFF)
        + b"\x21"
        + struct.pack("<H", 2)
        + struct.pack("<H", capabilities >> 16)
        + bytes([21])
        + b"\x00" * 10
        + b"ijklmnopqrst\x00"
        + b"mysql_native_password\x00"
    )
    return len(payload).to_bytes(3, "little") + b"\x00" + payload


def _receive(sock: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes, and no more: what follows may be the TLS client hello."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        data += _receive(sock, 1)
    return data


Preamble = Callable[[socket.socket], None]


def _none(_sock: socket.socket) -> None:
    pass


def _postgresql(sock: socket.socket) -> None:
    _receive(sock, 8)  # SSLRequest
    sock.sendall(b"S")


def _mariadb(sock: socket.socket) -> None:
    sock.sendall(_mysql_greeting())
    _receive(sock, 36)  # the client's SSL request packet; its client hello follows at once


def _nats(sock: socket.socket) -> None:
    sock.sendall(b'INFO {"server_id":"probe","tls_required":true,"max_payload":1048576}\r\n')


def _smtp(sock: socket.socket) -> None:
    sock.sendall(b"220 probe ESMTP\r\n")
    _line(sock)  # EHLO
    sock.sendall(b"250-probe\r\n250 STARTTLS\r\n")
    _line(sock)  # STARTTLS
    sock.sendall(b"220 ready\r\n")


# What each protocol says in the clear before TLS starts, on the public TLS listener.
PREAMBLES: dict[str, tuple[Preamble, int]] = {
    "http": (_none, TLS_PORT),
    "redis": (_none, TLS_PORT + 1),
    "rabbitmq": (_none, TLS_PORT + 2),
    "mqtt": (_none, TLS_PORT + 3),
    "postgresql": (_postgresql, TLS_PORT + 4),
    "mariadb": (_mariadb, TLS_PORT + 5),
    "nats": (_nats, TLS_PORT + 6),
    "email": (_smtp, TLS_PORT + 7),
}


def _tls_listener(
    landings: Landings, server_tls: ssl.SSLContext, preamble: Preamble, port: int
) -> None:
    """A blocking server in a thread: its reads stop exactly where TLS begins."""
    listener = socket.create_server((PUBLIC, port))

    def serve() -> None:
        while True:
            sock, _peer = listener.accept()
            landings.seen.append((PUBLIC, port))
            sock.settimeout(10)
            try:
                preamble(sock)
                with server_tls.wrap_socket(sock, server_side=True) as secured:
                    landings.sni.append(str(getattr(secured, "probe_sni", "")))
            except (OSError, ssl.SSLError):
                pass
            finally:
                sock.close()

    threading.Thread(target=serve, daemon=True).start()


async def _listen(landings: Landings, server_tls: ssl.SSLContext) -> list[asyncio.Server]:
    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("sockname")[:2]
        landings.seen.append((str(ipaddress.ip_address(host.split("%")[0])), int(port)))
        writer.close()

    for preamble, port in PREAMBLES.values():
        _tls_listener(landings, server_tls, preamble, port)
    return [await asyncio.start_server(plain, None, PLAIN_PORT)]


async def _redirector() -> asyncio.Server:
    """HTTP on the public address: /to?<url> answers 302 to <url>."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = (await reader.readuntil(b"\r\n\r\n")).decode()
        target = request.split(" ", 2)[1].partition("?")[2]
        writer.write(
            f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()

    return await asyncio.start_server(serve, PUBLIC, REDIRECT_PORT)


async def _nats_gossip() -> asyncio.Server:
    """A NATS server that tells its clients about another server, on loopback, and drops
    them: a client that follows connect_urls would dial it."""

    async def serve(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        info = {"server_id": "probe", "max_payload": 1048576, "connect_urls": ["127.0.0.1:8000"]}
        writer.write(f"INFO {json.dumps(info)}\r\n".encode())
        await writer.drain()
        writer.close()

    return await asyncio.start_server(serve, PUBLIC, 4222)


CONNECTORS: dict[str, tuple[App, dict[str, Any]]] = {
    "redis": (redis.app, {"database": 0}),
    "postgresql": (postgresql.app, {"database": "db", "username": "u", "password": "p"}),
    "mariadb": (mariadb.app, {"database": "db", "username": "u", "password": "p"}),
    "nats": (nats.app, {}),
    "rabbitmq": (rabbitmq.app, {"username": "u", "password": "p"}),
    "mqtt": (mqtt.app, {}),
    "email": (email.app, {"from_email": "me@example.com", "security": "none"}),
}


async def _connection_test(app: App, credentials: dict[str, Any]) -> str:
    """Run the app's connection test through a guard that allows nothing extra."""
    assert app.test is not None
    guard = OutboundGuard()
    try:
        async with asyncio.timeout(20):
            async with open_context(app.auth, credentials, guard, app_key=app.key) as ctx:
                return f"passed: {await app.test(ctx)}"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    finally:
        await guard.aclose()


async def _http_get(url: str) -> str:
    guard = OutboundGuard()
    try:
        async with httpx2.AsyncClient(
            transport=guard.http_transport(), follow_redirects=True, timeout=10
        ) as client:
            response = await client.get(url)
            return f"HTTP {response.status_code}"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    finally:
        await guard.aclose()


def _tls_finding(
    probe: str, outcome: str, handshakes: list[str], name: str, should_verify: bool
) -> dict[str, Any]:
    """A TLS probe: the handshakes the server completed must be the name's, if it verifies."""
    expected = [name] if should_verify else []
    return {
        "probe": probe,
        "outcome": outcome,
        "handshakes": handshakes,
        "as_expected": handshakes == expected,
    }


async def _piece_get(url: str, client: str, insecure: bool = False) -> str:
    """A piece's request (the tests' fixture piece, in the Node bridge) through a guard that
    allows nothing extra."""
    manifest = piece_manifest("fixture", await describe(FIXTURE_PIECE), FIXTURE_PIECE).manifest
    app = build_app(manifest)
    guard = OutboundGuard()
    inputs = {"url": url, "client": client, "insecure": insecure}
    try:
        async with asyncio.timeout(20):
            async with open_context(app.auth, {"api_key": "k"}, guard, app_key=app.key) as ctx:
                answer = await PieceRunner(manifest).perform(ctx, "fetch", inputs)
                return f"HTTP {answer['status']}"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    finally:
        await guard.aclose()


async def _probe_pieces(
    tried: Callable[..., Awaitable[None]],
    results: dict[str, list[dict[str, Any]]],
    landings: Landings,
    dns_server: DNSServer,
) -> None:
    """Pieces: Node's own HTTP clients (http, fetch), under the guard the bridge puts below
    them; TLS verified against the name even when the piece turns verification off."""
    for client in ("http", "fetch"):
        for host in ("127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", *INTERNAL_URLS):
            url = f"http://{host}:{PLAIN_PORT}/"
            await tried("pieces", f"piece {client} {host}", _piece_get(url, client))
        name = f"rebind-piece-{client}.probe.test"
        url = f"http://{name}:{PLAIN_PORT}/"
        await tried("pieces", f"piece {client} rebinding", _piece_get(url, client), PUBLIC)
        results["pieces"][-1]["lookups"] = dns_server.asked[name]
        for domain, should_verify in (("probe.test", True), ("other.test", False)):
            name = f"tls-http.{domain}"
            mark = len(landings.sni)
            outcome = await _piece_get(f"https://{name}:{TLS_PORT}/", client, insecure=True)
            probe = f"piece {client} {name}, verification turned off by the piece"
            results["pieces_tls"].append(
                _tls_finding(probe, outcome, landings.sni[mark:], name, should_verify)
            )
    await close_bridges()


async def _probe(landings: Landings, dns_server: DNSServer) -> dict[str, Any]:
    results: dict[str, list[dict[str, Any]]] = {
        "address_forms": [],
        "rebinding": [],
        "redirects": [],
        "tls_name": [],
        "pieces": [],
        "pieces_tls": [],
    }

    async def tried(kind: str, what: str, attempt: Awaitable[str], allowed: str = "") -> None:
        mark = landings.mark()
        outcome = await attempt
        landed = landings.since(mark)
        passed = [spot for spot in landed if spot[0] != allowed]
        results[kind].append(
            {"probe": what, "outcome": outcome, "landed": landed, "passed_through": passed}
        )

    for form in HOST_FORMS:
        public = PUBLIC if form.startswith("rebind-") else ""
        await tried(
            "address_forms", f"http {form}", _http_get(f"http://{form}:{PLAIN_PORT}/"), public
        )
        host = form.strip("[]")
        for key in ("redis", "email"):
            app, extra = CONNECTORS[key]
            credentials = {"host": host, "port": PLAIN_PORT, **extra}
            await tried(
                "address_forms", f"{key} {form}", _connection_test(app, credentials), public
            )
    for url in URL_TRICKS:
        await tried("address_forms", f"http {url}", _http_get(url))

    for key, (app, extra) in CONNECTORS.items():
        for tls in (False, True):
            name = f"rebind-{key}-{'tls' if tls else 'plain'}.probe.test"
            credentials = {"host": name, "port": PLAIN_PORT, **extra}
            if key == "email":
                credentials["security"] = "tls" if tls else "none"
            else:
                credentials["tls"] = tls
            await tried("rebinding", f"{key} tls={tls}", _connection_test(app, credentials), PUBLIC)
            results["rebinding"][-1]["lookups"] = dns_server.asked[name]
    name = "rebind-http.probe.test"
    await tried("rebinding", "http", _http_get(f"http://{name}:{PLAIN_PORT}/"), PUBLIC)
    results["rebinding"][-1]["lookups"] = dns_server.asked[name]

    for target in REDIRECT_TARGETS:
        url = f"http://public.probe.test:{REDIRECT_PORT}/to?{target}"
        await tried("redirects", f"http 302 to {target}", _http_get(url), PUBLIC)
    app, extra = CONNECTORS["nats"]
    gossip = {"host": "public.probe.test", "port": 4222, **extra}
    await tried(
        "redirects", "nats connect_urls to 127.0.0.1", _connection_test(app, gossip), PUBLIC
    )

    # TLS: the certificate is for *.probe.test; the connection goes to the address, and the
    # handshake must be checked against the name (and fail for a name it is not for).
    for key, (_preamble, port) in PREAMBLES.items():
        for domain, should_verify in (("probe.test", True), ("other.test", False)):
            name = f"tls-{key}.{domain}"
            mark = len(landings.sni)
            if key == "http":
                outcome = await _http_get(f"https://{name}:{port}/")
            else:
                app, extra = CONNECTORS[key]
                credentials = {"host": name, "port": port, **extra}
                if key == "email":
                    credentials["security"] = "starttls"
                else:
                    credentials["tls"] = True
                outcome = await _connection_test(app, credentials)
            results["tls_name"].append(
                _tls_finding(f"{key} {name}", outcome, landings.sni[mark:], name, should_verify)
            )
    await _probe_pieces(tried, results, landings, dns_server)
    return results


def _setup_namespace(workdir: Path) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for address in [PUBLIC, *INTERNAL]:
        prefix = "/128" if ":" in address else "/32"
        subprocess.run(["ip", "addr", "add", address + prefix, "dev", "lo"], check=True)
    resolv = workdir / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"], check=True)


def _tls(workdir: Path) -> ssl.SSLContext:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
    os.environ["SSL_CERT_FILE"] = str(workdir / "ca.pem")  # what every client trusts here
    server = ca.issue_cert("*.probe.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.configure_cert(context)

    def remember_sni(sock: ssl.SSLSocket, name: str | None, _context: ssl.SSLContext) -> None:
        sock.probe_sni = name  # type: ignore[attr-defined]

    context.sni_callback = remember_sni  # type: ignore[assignment]
    return context


@contextlib.asynccontextmanager
async def _servers(landings: Landings, server_tls: ssl.SSLContext) -> AsyncIterator[None]:
    servers = await _listen(landings, server_tls)
    servers += [await _redirector(), await _nats_gossip()]
    try:
        yield
    finally:
        for server in servers:
            server.close()


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        _setup_namespace(workdir)
        server_tls = _tls(workdir)
        dns_server = DNSServer()
        landings = Landings()
        async with _servers(landings, server_tls):
            results = await _probe(landings, dns_server)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    configure_logging()  # to stderr: stdout carries the findings, as JSON
    asyncio.run(main())
