"""The curated pieces (``CURATED`` in ``actionruns.cli.pieces``) run against their vendors'
emulated hosts: a local TLS stand-in reached through the guard's resolver, trusted by a test
CA, every request checked against the vendor's own API description where one is in
``../shared/reference/vendors``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from ipaddress import ip_network
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx2
import pytest
import trustme

from actionruns.openapi.naming import snake
from actionruns.pieces.install import describe
from actionruns.pieces.mapping import SECRET_TEXT_KEY, piece_manifest
from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.context import Context, open_context
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.outbound import OutboundGuard
from tests.connectors.test_vendor_specs import Checker
from tests.pieces.conftest import installed_piece
from tests.pieces.standin import STANDIN_ADDRESS, StandIn, answer
from tests.vendors.slack_emulator import TOKEN, SlackEmulator


@pytest.fixture
def trusted_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    return ca


@pytest.fixture
async def slack_manifest() -> AppManifest:
    piece = installed_piece("slack", "0.17.9")
    return piece_manifest("slack_piece", await describe(piece), piece).manifest


@pytest.fixture
def slack(trusted_ca: trustme.CA) -> Iterator[tuple[SlackEmulator, StandIn]]:
    emulator = SlackEmulator()
    standin = StandIn(("slack.com",), emulator.handle).start(trusted_ca)
    yield emulator, standin
    standin.stop()


@pytest.fixture
async def slack_context(
    slack_manifest: AppManifest, slack: tuple[SlackEmulator, StandIn]
) -> AsyncIterator[Context]:
    app = build_app(slack_manifest)
    guard = OutboundGuard([ip_network(f"{STANDIN_ADDRESS}/32")], slack[1].resolver())
    async with open_context(app.auth, {"access_token": TOKEN}, guard, app_key=app.key) as ctx:
        yield ctx
    await guard.aclose()


async def test_slack_sends_to_a_channel_picked_from_its_dropdown(
    slack_manifest: AppManifest, slack: tuple[SlackEmulator, StandIn], slack_context: Context
) -> None:
    emulator, standin = slack
    runner = PieceRunner(slack_manifest)
    page = await runner.choices(slack_context, "send_channel_message", "channel", {}, 0)
    assert emulator.violations == []
    assert [(c.value, c.label) for c in page.choices[:2]] == [
        ("C00000000", "channel-0"),
        ("C00000001", "channel-1"),
    ]
    assert page.has_more  # 250 channels, listed 100 at a time by us

    inputs = {"channel": page.choices[1].value, "text": "Deploy finished", "send_as_bot": True}
    sent = await runner.perform(slack_context, "send_channel_message", inputs)
    assert sent["ok"] is True and sent["channel"] == "C00000001"
    assert [m["text"] for m in emulator.messages] == ["Deploy finished"]
    assert [(r.method, r.url.path) for r in standin.requests] == [
        ("POST", "/api/conversations.list"),
        ("POST", "/api/chat.postMessage"),
    ]
    assert emulator.violations == []


@pytest.fixture
async def piece_context() -> AsyncIterator[Callable[..., Any]]:
    """A context for a piece's app, its guard resolving ``standin``'s hosts to it."""
    guards: list[OutboundGuard] = []

    @asynccontextmanager
    async def opened(
        manifest: AppManifest, credentials: dict[str, Any], standin: StandIn
    ) -> AsyncIterator[Context]:
        app = build_app(manifest)
        guard = OutboundGuard([ip_network(f"{STANDIN_ADDRESS}/32")], standin.resolver())
        guards.append(guard)
        async with open_context(app.auth, credentials, guard, app_key=app.key) as ctx:
            yield ctx

    yield opened
    for guard in guards:
        await guard.aclose()


async def manifest_of(name: str, version: str) -> AppManifest:
    piece = installed_piece(name, version)
    return piece_manifest(snake(name), await describe(piece), piece).manifest


def checked(vendor: str, answers: Callable[[httpx2.Request], httpx2.Response]) -> Any:
    """A handler that checks each request against ``vendor``'s API description first."""
    checker = Checker(vendor)

    def handle(request: httpx2.Request) -> httpx2.Response:
        checker.observe(request)
        return answers(request)

    return checker, handle


async def test_sendgrid_sends_mail_as_its_description_says(
    trusted_ca: trustme.CA, piece_context: Callable[..., Any]
) -> None:
    manifest = await manifest_of("sendgrid", "0.2.0")
    checker, handle = checked("sendgrid", lambda _: httpx2.Response(202))
    standin = StandIn(("api.sendgrid.com",), handle).start(trusted_ca)
    try:
        async with piece_context(manifest, {SECRET_TEXT_KEY: "SG.key"}, standin) as ctx:
            inputs = {
                "to": "ada@example.com, bob@example.com",
                "from": "ops@example.com",
                "from_name": "Ops",
                "reply_to": "help@example.com",
                "subject": "Deployed",
                "content_type": "text",
                "content": "All green.",
            }
            sent = await PieceRunner(manifest).perform(ctx, "send_email", inputs)
    finally:
        standin.stop()
    assert sent == {"success": True}
    [request] = standin.requests
    assert request.headers["authorization"] == "Bearer SG.key"
    assert json.loads(request.content)["personalizations"] == [
        {"to": [{"email": "ada@example.com"}]},
        {"to": [{"email": "bob@example.com"}]},
    ]
    assert (checker.checked, checker.violations) == (1, [])


ACCOUNT = "AC" + "0123456789abcdef" * 2  # Twilio's account ids: AC and 32 hex digits


def twilio_answers(request: httpx2.Request) -> httpx2.Response:
    if request.url.path.endswith("/IncomingPhoneNumbers.json"):
        numbers = [{"phone_number": "+15005550006", "friendly_name": "Support line"}]
        return answer({"incoming_phone_numbers": numbers})
    form = dict(parse_qsl(request.content.decode()))
    return answer({"sid": "SM0001", "status": "queued", "body": form.get("Body")}, status=201)


async def test_twilio_sends_an_sms_from_a_number_picked_from_its_dropdown(
    trusted_ca: trustme.CA, piece_context: Callable[..., Any]
) -> None:
    manifest = await manifest_of("twilio", "0.2.0")
    checker, handle = checked("twilio", twilio_answers)
    standin = StandIn(("api.twilio.com",), handle).start(trusted_ca)
    credentials = {"username": ACCOUNT, "password": "auth-token"}
    try:
        async with piece_context(manifest, credentials, standin) as ctx:
            runner = PieceRunner(manifest)
            page = await runner.choices(ctx, "send_sms", "from", {}, 0)
            assert [(c.value, c.label) for c in page.choices] == [("+15005550006", "Support line")]
            inputs = {"from": page.choices[0].value, "to": "+15005550001", "body": "Hi"}
            sent = await runner.perform(ctx, "send_sms", inputs)
    finally:
        standin.stop()
    assert sent["body"] == {"sid": "SM0001", "status": "queued", "body": "Hi"}
    assert [(r.method, r.url.path) for r in standin.requests] == [
        ("GET", f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json"),
        ("POST", f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"),
    ]
    assert standin.requests[1].headers["authorization"].startswith("Basic ")
    assert (checker.checked, checker.violations) == (2, [])
