"""The curated pieces (``CURATED`` in ``actionruns.cli.pieces``): each is described and every
action maps; pieces whose vendor publishes an API description run through the bridge against
a local TLS stand-in for the vendor's host (reached through the guard's resolver, trusted by a
test CA), every request checked against that description (cases in
``tests/pieces/emulated/described.py``; those without one: ``test_curated_emulated.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import trustme

from actionruns.cli.pieces import CURATED
from actionruns.openapi.naming import snake
from actionruns.pieces.mapping import SECRET_TEXT_KEY, piece_manifest
from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.context import Context
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.described.runtime import build_app
from actionruns.sdk.errors import ExpiredAuthError
from tests.pieces.conftest import described_piece
from tests.pieces.emulated import Case, described, run_case
from tests.pieces.standin import StandIn, answer, checking, standin_context
from tests.vendors.slack_emulator import TOKEN, SlackEmulator

# Asana's description marks some query arguments allowEmptyValue (deprecated in OpenAPI 3).
pytestmark = pytest.mark.filterwarnings(
    "ignore:Use of allowEmptyValue property is deprecated:DeprecationWarning"
)


@pytest.mark.parametrize("piece", sorted(CURATED))
async def test_every_action_of_a_curated_piece_maps(piece: str) -> None:
    installed, description = await described_piece(piece, CURATED[piece])
    report = piece_manifest(snake(piece), description, installed)
    assert report.skipped == []
    actions = [str(action["name"]) for action in description["actions"]]
    assert [operation.source for operation in report.manifest.operations] == actions
    build_app(report.manifest)


@pytest.mark.parametrize("case", described.CASES, ids=lambda case: case.piece)
async def test_the_piece_runs_as_its_vendors_description_says(
    case: Case, trusted_ca: trustme.CA
) -> None:
    await run_case(case, trusted_ca)


async def test_a_key_mistral_refuses_fails_the_connection_test(trusted_ca: trustme.CA) -> None:
    """The piece's own check of the key, given the key as Activepieces' engine gives it: a
    401 expires the connection, in the piece's words."""
    installed, description = await described_piece("mistral-ai", CURATED["mistral-ai"])
    manifest = piece_manifest("mistral_ai", description, installed).manifest
    checker = described.described("mistral")()
    refused = answer({"message": "Unauthorized", "request_id": "0a1b2c"}, status=401)
    standin = StandIn(("api.mistral.ai",), checking(checker, lambda _: refused)).start(trusted_ca)
    try:
        async with standin_context(manifest, {SECRET_TEXT_KEY: "revoked-key"}, standin) as ctx:
            with pytest.raises(ExpiredAuthError, match="Invalid API key"):
                await PieceRunner(manifest).test(ctx)
    finally:
        standin.stop()
    [request] = standin.requests
    assert request.headers["authorization"] == "Bearer revoked-key"
    assert (checker.checked, checker.violations) == (1, [])


@pytest.fixture
async def slack_manifest() -> AppManifest:
    installed, description = await described_piece("slack", CURATED["slack"])
    return piece_manifest("slack_piece", description, installed).manifest


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
    async with standin_context(slack_manifest, {"access_token": TOKEN}, slack[1]) as ctx:
        yield ctx


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
