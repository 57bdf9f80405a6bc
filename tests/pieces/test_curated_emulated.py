"""Curated pieces whose vendors have no API description here (that every action of every
curated piece maps: ``test_curated.py``): an action (with the dropdowns that drive it) runs
through the bridge against a TLS stand-in for the vendor's host, each request checked against
what the vendor's API reference documents (``Documented``: the operation, how the credential
is sent, the required fields; each endpoint names the page that says so)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx2
import pytest
import trustme

from actionruns.cli.pieces import CURATED
from actionruns.openapi.naming import snake
from actionruns.pieces.mapping import SECRET_TEXT_KEY, piece_manifest
from actionruns.pieces.runtime import PieceRunner
from actionruns.sdk.described.manifest import AppManifest
from actionruns.sdk.errors import HaltError
from actionruns.sdk.printed import logging_printed
from tests.pieces.conftest import described_piece
from tests.pieces.emulated import Case, described, keys, oauth, run_case, shopify
from tests.pieces.emulated.keys import BOARD, TRELLO, TRELLO_KEY, TRELLO_TOKEN, trello_documented
from tests.pieces.standin import StandIn, answer, standin_context


async def manifest_of(piece: str) -> AppManifest:
    installed, description = await described_piece(piece, CURATED[piece])
    return piece_manifest(snake(piece), description, installed).manifest


CASES = sorted([*keys.CASES, *oauth.CASES, *shopify.CASES], key=lambda case: case.piece)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.piece)
async def test_the_piece_runs_against_its_vendor_as_documented(
    case: Case, trusted_ca: trustme.CA
) -> None:
    await run_case(case, trusted_ca)


def test_documented_says_what_a_request_does_other_than_the_reference() -> None:
    documented = trello_documented()
    card = f"https://api.trello.com/1/cards?key={TRELLO_KEY}&token={TRELLO_TOKEN}"
    documented.observe(httpx2.Request("POST", card, json={"name": "no list"}))
    documented.observe(httpx2.Request("POST", card + "&idList=x", headers={"X": "y"}))
    documented.observe(httpx2.Request("GET", f"https://api.trello.com/1/boards/{BOARD}/lists"))
    documented.observe(httpx2.Request("DELETE", f"https://api.trello.com/1/boards/{BOARD}"))
    assert documented.violations == [
        "POST /1/cards: no idList, which " + TRELLO + "api-group-cards/#api-cards-post requires",
        f"GET /1/boards/{BOARD}/lists: the credential is not sent as documented",
        f"DELETE /1/boards/{BOARD}: not an operation the reference documents",
    ]


def test_the_docs_say_the_versions_tested() -> None:
    """docs/pieces.md's table of curated pieces names each, at the version ``CURATED`` tests."""
    text = (Path(__file__).parents[2] / "docs" / "pieces.md").read_text()
    table = text.split("## The curated pieces", 1)[1].split("\n\n| Piece")[1].split("\n\n")[0]
    rows = re.findall(r"^\| `([\w-]+)` \| ([\d.]+) \|", table, re.MULTILINE)
    assert sorted(rows) == sorted(CURATED.items())


async def test_a_refused_telegram_message_says_no_bot_token(trusted_ca: trustme.CA) -> None:
    """The token is in the URL the piece prints when Telegram refuses: as the connection it is
    redacted from that and from the error, as any connection's secret."""
    manifest = await manifest_of("telegram-bot")
    refused = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    standin = StandIn(("api.telegram.org",), lambda _: answer(refused, status=400))
    standin.start(trusted_ca)
    credentials = {SECRET_TEXT_KEY: keys.BOT_TOKEN}
    try:
        async with standin_context(manifest, credentials, standin) as ctx:
            with logging_printed() as printed, pytest.raises(HaltError) as refusal:
                inputs = {"chat_id": "42", "message": "Hello"}
                await PieceRunner(manifest).perform(ctx, "send_text_message", inputs)
    finally:
        standin.stop()
    assert "chat not found" in str(refusal.value)
    assert printed and "api.telegram.org/bot[redacted]/sendMessage" in printed[0]["text"]
    said = str(refusal.value) + json.dumps(printed)
    assert keys.BOT_TOKEN not in said and keys.BOT_TOKEN.split(":")[1] not in said


def test_every_curated_piece_has_a_run() -> None:
    """A piece is curated with at least one action run against its vendor's stand-in: here,
    in ``described`` (``test_curated.py``), or Slack's and Hacker News's own tests there and
    in ``test_running.py``."""
    run = {case.piece for case in [*CASES, *described.CASES]} | {"slack", "hackernews"}
    assert sorted(set(CURATED) - run) == []
