"""An OAuth2 piece through our OAuth2 flow and Connect page, end to end: Slack's piece added
as an app, an end user connecting on the Connect page against a stand-in for slack.com
(its OAuth v2 with token rotation), the token stored, runs getting it in the shape the
piece's framework reads (the bot token, and the user's from the raw token response), and a
refresh when it expires."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme

from actionruns.pieces.mapping import piece_manifest
from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.context import open_context
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.outbound import OutboundGuard
from actionruns.sdk.redaction import REDACTED
from tests.conftest import FakeClock, ServiceFactory
from tests.pieces.conftest import described_piece
from tests.pieces.standin import StandIn
from tests.vendors.slack_emulator import ROTATED_SECONDS, SlackEmulator

CLIENT = ("1234567890.0987654321", "slack-app-client-secret-5f1e")
# Its own address: the curated tests' stand-in may be serving on the usual one meanwhile.
ADDRESS = "127.0.41.23"
PARTNER = "https://partner.example/connected"
SEND = "slack_piece.send_channel_message"


@pytest.fixture
def slack(trusted_ca: trustme.CA) -> Iterator[tuple[SlackEmulator, StandIn]]:
    emulator = SlackEmulator(oauth_client=CLIENT)
    standin = StandIn(("slack.com",), emulator.handle, address=ADDRESS).start(trusted_ca)
    yield emulator, standin
    standin.stop()


def _bearers(standin: StandIn, method: str) -> list[str]:
    return [
        r.headers["authorization"].removeprefix("Bearer ")
        for r in standin.requests
        if r.url.path == f"/api/{method}"
    ]


async def test_slack_piece_connects_through_the_connect_page_runs_and_refreshes(
    start_service: ServiceFactory, slack: tuple[SlackEmulator, StandIn], clock: FakeClock
) -> None:
    emulator, standin = slack
    installed, description = await described_piece("slack", "0.17.9")
    manifest = piece_manifest("slack_piece", description, installed).manifest
    service = await start_service(outbound_allow=f"{ADDRESS}/32")
    service.engine.guard.resolver = standin.resolver()
    await service.engine.imports.save(manifest)
    app = service.engine.registry.app("slack_piece")
    assert app is not None
    await service.engine.connections.set_oauth_client(app, *CLIENT)
    acme = await service.new_client("acme")
    await service.engine.clients.set_redirect_uris("acme", [PARTNER])
    alice = acme.acting_for("alice")

    # The partner's link to the Connect page, its "Continue to Slack", Slack's consent.
    made = await alice.post(
        "/v2/connect-tokens", json={"data": {"app": "slack_piece", "redirect_uri": PARTNER}}
    )
    assert made.status_code == 201, made.text
    page = await service.http.get(made.json()["data"][0]["url"])
    assert page.status_code == 200, page.text
    (onward,) = re.findall(r'href="(/connect/slack_piece/authorize\?[^"]+)"', page.text)
    sent_to = await service.http.get(html.unescape(onward))
    assert sent_to.status_code == 302
    authorize = sent_to.headers["location"]
    asked = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    # The piece's templated URL keeps its own parameters (the user's scopes) beside ours.
    assert "chat:write" in asked["user_scope"] and "chat:write" in asked["scope"].split()
    back = urlsplit(emulator.consent(authorize))
    done = await service.http.get(f"{back.path}?{back.query}")
    assert done.status_code == 200, done.text
    (returned,) = re.findall(r'href="(https://partner\.example/connected\?[^"]+)"', done.text)
    outcome = {k: v[0] for k, v in parse_qs(urlsplit(html.unescape(returned)).query).items()}
    assert outcome["status"] == "success", outcome
    connection = outcome["authentication_id"]
    [exchange] = emulator.token_requests
    assert exchange["code"] and exchange["redirect_uri"].endswith("/connect/oauth/callback")

    listed = (await alice.get(f"/v2/authentications/{connection}")).json()["data"]
    assert listed["is_expired"] is False
    stored = await service.engine.store.get_authentication(connection)
    assert stored is not None and stored.access_expires_at is not None
    assert clock() < stored.access_expires_at <= clock() + ROTATED_SECONDS  # Slack's 12 h

    # As the user (the token from the raw response's authed_user), then as the bot.
    for as_bot in (False, True):
        inputs = {"channel": "C00000001", "text": f"as bot: {as_bot}", "send_as_bot": as_bot}
        run = await alice.wait(
            await alice.run("slack_piece.send_channel_message", inputs, connection)
        )
        assert run["status"] == "success", run
    user_token, bot_token = _bearers(standin, "chat.postMessage")
    assert user_token.startswith("xoxe.xoxp-") and bot_token.startswith("xoxe.xoxb-")
    assert {user_token, bot_token} <= emulator.issued

    # Twelve hours on, the token has expired: the next run refreshes it first.
    clock.advance(ROTATED_SECONDS)
    inputs = {"channel": "C00000001", "text": "later", "send_as_bot": True}
    run = await alice.wait(await alice.run(SEND, inputs, connection))
    assert run["status"] == "success", run
    refresh = emulator.token_requests[-1]
    assert refresh["grant_type"] == "refresh_token" and refresh["refresh_token"].startswith(
        "xoxe-1"
    )
    fresh = _bearers(standin, "chat.postMessage")[-1]
    assert fresh.startswith("xoxe.xoxb-") and fresh not in (bot_token, user_token)
    assert [m["text"] for m in emulator.messages] == ["as bot: False", "as bot: True", "later"]
    assert emulator.violations == []


async def test_tokens_nested_in_the_raw_token_response_are_redacted_too(
    fixture_manifest: AppManifest,
) -> None:
    # The fixture piece's echo answers with the connection it was given, as OAuth2 here.
    assert fixture_manifest.piece is not None
    piece = fixture_manifest.piece.model_copy(update={"auth_type": "OAUTH2"})
    manifest = fixture_manifest.model_copy(update={"piece": piece})
    app = build_app(manifest)
    credentials = {
        "access_token": "xoxb-bot-token-1234",
        "team": {"id": "T0001"},
        "authed_user": {"id": "U1", "access_token": "xoxp-user-token-5678", "token_type": "user"},
    }
    guard = OutboundGuard()
    async with open_context(app.auth, credentials, guard, app_key=app.key) as ctx:
        echoed = await PieceRunner(manifest).perform(ctx, "echo", {"title": "t"})
    await guard.aclose()
    given = echoed["auth"]["data"]
    assert given["authed_user"] == {"id": "U1", "access_token": REDACTED, "token_type": "user"}
    # (The top-level token is the app's declared secret: the engine redacts that one.)
    assert given["team"] == {"id": "T0001"} and "xoxp-user-token" not in repr(echoed)
