"""The Slack connector against an HTTP-level emulation of slack.com that checks each request
against Slack's published Web API description."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import pytest

from actionruns.connectors.slack import app, channel_choices, user_choices
from actionruns.sdk import Context, ExpiredAuthError, HaltError, ThrottledError, TransientError
from actionruns.sdk.context import open_context
from actionruns.sdk.fields import validate_inputs
from actionruns.sdk.outbound import OutboundGuard
from tests.conftest import ApiClient, ServiceFactory
from tests.vendors.slack_emulator import TOKEN, SlackEmulator

ACTIONS = {action.key: action for action in app.actions}
send_message, find_user = ACTIONS["send_channel_message"], ACTIONS["find_user_by_email"]


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator()
    yield emulator
    assert emulator.violations == [], "requests outside Slack's documented Web API"


@pytest.fixture
async def ctx(slack: SlackEmulator) -> AsyncIterator[Context]:
    credentials = {"access_token": TOKEN}
    async with open_context(
        app.auth, credentials, OutboundGuard(), app_key="slack", transport=slack.transport
    ) as context:
        yield context


async def perform(ctx: Context, action: Any, **inputs: Any) -> Any:
    return await action.perform(ctx, validate_inputs(action.static_inputs, inputs))


async def test_post_a_message(ctx: Context, slack: SlackEmulator) -> None:
    result = await perform(ctx, send_message, channel="C00000007", text="Deploy *finished*")

    [posted] = slack.messages
    assert posted["channel"] == "C00000007" and posted["text"] == "Deploy *finished*"
    request = slack.requests[-1]
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"].startswith("application/json")
    assert result == {
        "channel": "C00000007",
        "ts": posted["ts"],
        "text": "Deploy *finished*",
        "thread_ts": None,
    }


@pytest.mark.parametrize(
    "blocks",
    [
        [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hi*"}}],
        '[{"type": "section", "text": {"type": "mrkdwn", "text": "*Hi*"}}]',
    ],
)
async def test_blocks_as_a_list_or_json_text(
    ctx: Context, slack: SlackEmulator, blocks: Any
) -> None:
    await perform(ctx, send_message, channel="C00000001", blocks=blocks)
    assert slack.messages[0]["blocks"][0]["type"] == "section"


async def test_reply_in_a_thread(ctx: Context, slack: SlackEmulator) -> None:
    await perform(
        ctx,
        send_message,
        channel="C00000001",
        text="a reply",
        thread_ts="1700000000.000001",
        reply_broadcast=True,
    )
    assert slack.messages[0]["thread_ts"] == "1700000000.000001"
    assert slack.messages[0]["reply_broadcast"] is True


async def test_a_message_needs_text_or_blocks(ctx: Context, slack: SlackEmulator) -> None:
    with pytest.raises(HaltError, match="text, blocks"):
        await perform(ctx, send_message, channel="C00000001")
    with pytest.raises(HaltError, match="Block Kit"):
        await perform(ctx, send_message, channel="C00000001", blocks="{not json")
    assert slack.requests == []


async def test_channel_choices_follow_slacks_cursors(ctx: Context, slack: SlackEmulator) -> None:
    first = await channel_choices(ctx, {}, 0)
    second = await channel_choices(ctx, {}, 1)
    beyond = await channel_choices(ctx, {}, 2)

    assert len(first.choices) == 200 and first.has_more
    assert first.choices[0].value == "C00000000" and first.choices[0].label == "#channel-0"
    assert len(second.choices) == 50 and not second.has_more
    assert second.choices[-1].value == "C00000249"
    assert beyond.choices == []
    cursors = [request.url.params.get("cursor") for request in slack.requests]
    assert cursors == [None, None, "200", None, "200"]


async def test_direct_message_opens_the_conversation_first(
    ctx: Context, slack: SlackEmulator
) -> None:
    result = await perform(ctx, ACTIONS["send_direct_message"], user="U00000001", text="psst")
    opened, posted = slack.requests
    assert opened.url.path == "/api/conversations.open"
    assert json.loads(opened.content) == {"users": "U00000001"}
    assert posted.url.path == "/api/chat.postMessage"
    assert slack.messages[0]["channel"] == result["channel"] == "D00000001"
    with pytest.raises(HaltError, match="user_not_found"):
        await perform(ctx, ACTIONS["send_direct_message"], user="U99999999", text="psst")


async def test_update_a_message_and_react_to_it(ctx: Context, slack: SlackEmulator) -> None:
    posted = await perform(ctx, send_message, channel="C00000002", text="deploying…")
    updated = await perform(
        ctx, ACTIONS["update_message"], channel="C00000002", ts=posted["ts"], text="deployed"
    )
    assert updated == {"channel": "C00000002", "ts": posted["ts"], "text": "deployed"}
    assert slack.messages[0]["text"] == "deployed"
    for _ in range(2):  # reacting twice is not an error: the reaction is there
        reacted = await perform(
            ctx, ACTIONS["add_reaction"], channel="C00000002", ts=posted["ts"], name=":rocket:"
        )
    assert reacted["name"] == "rocket" and slack.messages[0]["reactions"] == ["rocket"]
    with pytest.raises(HaltError, match="message_not_found"):
        await perform(ctx, ACTIONS["update_message"], channel="C00000002", ts="1.000000", text="x")


async def test_create_a_channel(ctx: Context, slack: SlackEmulator) -> None:
    created = await perform(ctx, ACTIONS["create_channel"], name="launch", is_private=True)
    assert created == {
        "id": "C00000250",
        "name": "launch",
        "is_private": True,
        "created": 1700000000,
    }
    with pytest.raises(HaltError, match="name_taken"):
        await perform(ctx, ACTIONS["create_channel"], name="launch")


async def test_user_choices_leave_out_bots_and_deactivated_members(
    ctx: Context, slack: SlackEmulator
) -> None:
    slack.users["bot@example.com"] = {"id": "U00000002", "name": "bot", "is_bot": True}
    slack.users["gone@example.com"] = {"id": "U00000003", "name": "gone", "deleted": True}
    page = await user_choices(ctx, {}, 0)
    assert [(c.value, c.label) for c in page.choices] == [("U00000001", "Ada Lovelace")]


async def test_find_a_user_by_email(ctx: Context) -> None:
    [user] = await perform(ctx, find_user, email="ada@example.com")
    assert user["id"] == "U00000001" and user["real_name"] == "Ada Lovelace"
    assert await perform(ctx, find_user, email="nobody@example.com") == []


@pytest.mark.parametrize(
    ("status", "error", "headers", "raised"),
    [
        (200, "invalid_auth", {}, ExpiredAuthError),
        (200, "token_revoked", {}, ExpiredAuthError),
        (200, "channel_not_found", {}, HaltError),
        (200, "not_in_channel", {}, HaltError),
        (200, "internal_error", {}, TransientError),
        (200, "ratelimited", {"Retry-After": "12"}, ThrottledError),
        (429, "", {"Retry-After": "3"}, ThrottledError),
        (503, "", {}, TransientError),
    ],
)
async def test_slack_errors_are_classified(
    ctx: Context,
    slack: SlackEmulator,
    status: int,
    error: str,
    headers: Mapping[str, str],
    raised: type[Exception],
) -> None:
    slack.fail_next(status, error, headers)
    with pytest.raises(raised) as caught:
        await perform(ctx, send_message, channel="C00000001", text="hi")
    if isinstance(caught.value, ThrottledError):
        assert caught.value.delay == float(headers["Retry-After"])
    if error:
        assert caught.value.meta["slack_error"] == error  # type: ignore[attr-defined]


async def test_the_connection_test_names_the_workspace(ctx: Context) -> None:
    assert app.test is not None
    assert await app.test(ctx) == "Example Co / deploy-bot"


async def test_end_to_end_over_http(start_service: ServiceFactory, slack: SlackEmulator) -> None:
    service = await start_service(routes={"slack.com": slack.transport})
    acme: ApiClient = await service.new_client("acme")

    apps = (await acme.get("/v2/apps", params={"limit": 100})).json()["data"]
    listed = next(item for item in apps if item["slug"] == "slack")
    assert listed["auth_type"] == "oauth2"
    actions = (await acme.get("/v2/actions", params={"app": "slack"})).json()["data"]
    assert {action["key"] for action in actions} == set(ACTIONS)

    refused = await acme.post(
        "/v2/authentications",
        json={
            "data": {
                "app": "slack",
                "title": "x",
                "authentication_fields": {"access_token": "xoxb-bad"},
            }
        },
    )
    assert refused.status_code == 400, refused.text
    authentication = await acme.connect("slack", {"access_token": TOKEN}, title="Example Co")

    choices = await acme.post(
        "/v2/actions/slack.send_channel_message/inputs/channel/choices",
        json={"data": {"authentication": authentication, "inputs": {}}},
    )
    assert choices.status_code == 200, choices.text
    assert choices.json()["data"][0]["id"] == "C00000000"

    run = await acme.wait(
        await acme.run(
            "slack.send_channel_message",
            {"channel": "C00000003", "text": "Release 1.2 is out"},
            authentication=authentication,
        )
    )
    assert run["status"] == "success", run
    assert slack.messages[-1]["text"] == "Release 1.2 is out"
    assert run["results"][0]["ts"] == slack.messages[-1]["ts"]
    posted_ts = run["results"][0]["ts"]

    # Every other action, through the API too.
    for action, inputs in [
        ("send_direct_message", {"user": "U00000001", "text": "psst"}),
        ("update_message", {"channel": "C00000003", "ts": posted_ts, "text": "Release 1.2.1"}),
        ("add_reaction", {"channel": "C00000003", "ts": posted_ts, "name": "tada"}),
        ("create_channel", {"name": "release-crew"}),
        ("find_user_by_email", {"email": "ada@example.com"}),
    ]:
        other = await acme.wait(await acme.run(f"slack.{action}", inputs, authentication))
        assert other["status"] == "success", (action, other)
    assert other["results"][0]["id"] == "U00000001"
    released = next(m for m in slack.messages if m["ts"] == posted_ts)
    assert released["text"] == "Release 1.2.1" and released["reactions"] == ["tada"]

    # Slack throttles once: the run waits as told and succeeds on its second attempt.
    slack.fail_next(429, headers={"Retry-After": "1"})
    throttled = await acme.wait(
        await acme.run(
            "slack.send_channel_message",
            {"channel": "C00000003", "text": "again"},
            authentication=authentication,
        )
    )
    assert throttled["status"] == "success" and throttled["attempts"] == 2

    # A revoked token ends the run with an authentication error and expires the connection.
    slack.fail_next(200, "token_revoked")
    revoked = await acme.wait(
        await acme.run(
            "slack.send_channel_message",
            {"channel": "C00000003", "text": "once more"},
            authentication=authentication,
        )
    )
    assert revoked["status"] == "error"
    assert revoked["errors"][0]["code"] == "authentication"
    listed_auths = (await acme.get("/v2/authentications", params={"app": "slack"})).json()
    assert listed_auths["data"][0]["is_expired"] is True

    everything = json.dumps([run, throttled, revoked, listed_auths])
    assert TOKEN not in everything
