"""The curated pieces (``CURATED`` in ``actionruns.cli.pieces``) run against their vendors'
emulated hosts: a local TLS stand-in reached through the guard's resolver, trusted by a test
CA, every request checked against the vendor's own API description where one is in
``../shared/reference/vendors``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from ipaddress import ip_network
from pathlib import Path

import pytest
import trustme

from actionruns.pieces.install import describe
from actionruns.pieces.mapping import piece_manifest
from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.context import Context, open_context
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.outbound import OutboundGuard
from tests.pieces.conftest import installed_piece
from tests.pieces.standin import STANDIN_ADDRESS, StandIn
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
