"""A piece's own icon: its logo URL fetched once through the outbound guard from a local TLS
stand-in of the vendor's CDN (the guard's resolver says where the name is), checked, kept with
the app and served from here; refused when too big, not https, or at an address the guard
refuses."""

from __future__ import annotations

import base64
import io
import ipaddress
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trustme
from PIL import Image
from pytest_httpserver import HTTPServer

from actionruns.pieces.icon import IconUnavailable, fetch_icon
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.outbound import OutboundGuard
from tests.api.test_icons import HOSTILE_SVG, LOGO_PNG
from tests.conftest import ServiceFactory

CDN = "cdn.pieces.test"


@pytest.fixture
def cdn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    """The vendor's CDN: HTTPS on loopback, with a certificate for its name from a test CA."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(CDN).configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


async def resolve_cdn(host: str, port: int) -> list[str]:
    if host == CDN:
        return ["127.0.0.1"]
    raise OSError(f"no answer for {host} here")  # nothing else may be asked


def _guard(*allowed: str) -> OutboundGuard:
    return OutboundGuard([ipaddress.ip_network(net) for net in allowed], resolve_cdn)


@pytest.fixture
async def guard() -> AsyncIterator[OutboundGuard]:
    """A guard that lets the stand-in's loopback address through, as an operator would allow
    a CDN."""
    allowed = _guard("127.0.0.1/32")
    yield allowed
    await allowed.aclose()


def _url(server: HTTPServer, path: str) -> str:
    return f"https://{CDN}:{server.port}{path}"


def _decoded(uri: str) -> tuple[str, bytes]:
    head, _, payload = uri.partition(",")
    return head, base64.b64decode(payload)


async def test_a_logo_is_fetched_through_the_guard_and_encoded_again(
    cdn: HTTPServer, guard: OutboundGuard
) -> None:
    cdn.expect_request("/logo.png").respond_with_data(LOGO_PNG, content_type="image/png")
    head, data = _decoded(await fetch_icon(_url(cdn, "/logo.png"), guard))
    assert head == "data:image/png;base64" and data.startswith(b"\x89PNG\r\n\x1a\n")
    assert [request.headers["Host"] for request, _ in cdn.log] == [f"{CDN}:{cdn.port}"]


async def test_a_hostile_svg_logo_keeps_its_drawing_only(
    cdn: HTTPServer, guard: OutboundGuard
) -> None:
    cdn.expect_request("/logo.svg").respond_with_data(HOSTILE_SVG, content_type="image/svg+xml")
    head, data = _decoded(await fetch_icon(_url(cdn, "/logo.svg"), guard))
    assert head == "data:image/svg+xml;base64"
    kept = data.decode()
    for gone in ("script", "onload", "evil.example", "foreignObject", "<image", "<a"):
        assert gone not in kept, gone
    assert 'd="M1 1h22v22H1z"' in kept


async def test_a_logo_that_is_too_big_bad_or_missing_is_refused(
    cdn: HTTPServer, guard: OutboundGuard
) -> None:
    big = b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g/>" * 20_000 + b"</svg>"
    cdn.expect_request("/big.svg").respond_with_data(big, content_type="image/svg+xml")
    cdn.expect_request("/fake.png").respond_with_data(b"\x89PNG\r\n\x1a\n" + bytes(64))
    bomb = b'<!DOCTYPE s [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    cdn.expect_request("/entities.svg").respond_with_data(bomb)
    huge = io.BytesIO()  # 9 million pixels in 9 KiB: decoded, 9 MB
    Image.new("L", (3000, 3000)).save(huge, format="PNG")
    cdn.expect_request("/huge.png").respond_with_data(huge.getvalue())
    for path, says in (
        ("/big.svg", "larger than 64 KiB"),
        ("/fake.png", "not a readable PNG"),
        ("/entities.svg", "PNG, JPEG, GIF, WebP or SVG"),
        ("/huge.png", "at most 4194304 pixels"),
        ("/gone.png", "answered 500"),  # pytest-httpserver's answer to the unexpected
    ):
        with pytest.raises(IconUnavailable, match=says):
            await fetch_icon(_url(cdn, path), guard)
    with pytest.raises(IconUnavailable, match="not an https URL"):
        await fetch_icon(f"http://{CDN}:{cdn.port}/logo.png", guard)


async def test_an_address_the_guard_refuses_is_never_asked(cdn: HTTPServer) -> None:
    cdn.expect_request("/logo.png").respond_with_data(LOGO_PNG, content_type="image/png")
    strict = _guard()  # no operator allowance: loopback is refused
    try:
        with pytest.raises(IconUnavailable, match="not a public address"):
            await fetch_icon(_url(cdn, "/logo.png"), strict)
    finally:
        await strict.aclose()
    assert cdn.log == []


async def test_a_pieces_icon_is_served_from_here_never_its_url(
    cdn: HTTPServer,
    guard: OutboundGuard,
    fixture_manifest: AppManifest,
    start_service: ServiceFactory,
) -> None:
    cdn.expect_request("/logo.svg").respond_with_data(HOSTILE_SVG, content_type="image/svg+xml")
    icon = await fetch_icon(_url(cdn, "/logo.svg"), guard)
    service = await start_service()
    await service.engine.imports.save(fixture_manifest.model_copy(update={"icon": icon}))
    acme = await service.new_client("acme")
    served = await service.http.get(f"/v2/apps/{fixture_manifest.key}/icon.svg?size=128")
    assert served.status_code == 200 and f'<image href="{icon}"' in served.text
    listed = await acme.get("/v2/apps", params={"search": fixture_manifest.key})
    assert CDN not in listed.text and "evil.example" not in served.text
