"""Slack, through its Web API.

Reference: https://api.slack.com/web (calling conventions: token in ``Authorization: Bearer``,
JSON bodies for write methods, errors as HTTP 200 with ``{"ok": false, "error": code}``,
rate limits as HTTP 429 with ``Retry-After``), https://api.slack.com/methods/chat.postMessage,
https://api.slack.com/methods/conversations.list (cursor pagination),
https://api.slack.com/methods/users.lookupByEmail, https://api.slack.com/methods/auth.test,
https://api.slack.com/methods/conversations.open (a direct message channel),
https://api.slack.com/methods/chat.update, https://api.slack.com/methods/reactions.add,
https://api.slack.com/methods/conversations.create, https://api.slack.com/methods/users.list;
OAuth v2: https://docs.slack.dev/authentication/installing-with-oauth (authorize at
slack.com/oauth/v2/authorize with comma-separated bot scopes; exchange the code at
oauth.v2.access with the client credentials in HTTP Basic; errors as ``{"ok": false}``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx2

from actionruns.sdk import (
    Action,
    ActionType,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    ExpiredAuthError,
    FieldType,
    HaltError,
    InputField,
    OAuth2Config,
    OutputField,
    ThrottledError,
    TransientError,
)
from actionruns.sdk.http import raise_for_status, retry_after_seconds
from actionruns.sdk.pagination import cursor_page

API = "https://slack.com/api"
CHANNELS_PER_PAGE = 200
BOT_SCOPES = (
    "chat:write",
    "chat:write.customize",
    "channels:read",
    "groups:read",
    "im:write",
    "reactions:write",
    "channels:manage",
    "users:read",
    "users:read.email",
)
# What each scope lets the app do, as the Connect page lists it.
BOT_SCOPE_WORDS = {
    "chat:write": "Send messages as the app",
    "chat:write.customize": "Send messages with a custom name and icon",
    "channels:read": "See the public channels in the workspace",
    "groups:read": "See the private channels the app is in",
    "im:write": "Start direct messages with people",
    "reactions:write": "Add emoji reactions to messages",
    "channels:manage": "Create and manage public channels",
    "users:read": "See the people in the workspace",
    "users:read.email": "See people's email addresses",
}
# The token no longer works: the user must reconnect.
_EXPIRED = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
# Slack's own trouble: worth another try.
_TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def _raise_for_slack(response: httpx2.Response) -> dict[str, Any]:
    """The response's JSON if ``ok``; otherwise the error class Slack's answer calls for."""
    if response.status_code == 429:
        raise ThrottledError(
            "Slack is rate limiting these requests.",
            delay=retry_after_seconds(response, default=30.0),
            meta={"status": 429},
        )
    raise_for_status(response)
    body: dict[str, Any] = response.json()
    if body.get("ok"):
        return body
    code = str(body.get("error", "unknown_error"))
    detail = f"Slack refused the request: {code}"
    meta = {"slack_error": code}
    if code in _EXPIRED:
        raise ExpiredAuthError(detail, meta=meta)
    if code == "ratelimited":
        raise ThrottledError(detail, delay=retry_after_seconds(response, 30.0), meta=meta)
    if code in _TRANSIENT:
        raise TransientError(detail, meta=meta)
    # channel_not_found, not_in_channel, is_archived, msg_too_long, invalid_blocks,
    # missing_scope...: the request cannot succeed as it is.
    raise HaltError(detail, meta=meta)


async def _call(ctx: Context, method: str, **request: Any) -> dict[str, Any]:
    http_method = "POST" if "json" in request else "GET"
    response = await ctx.http.request(http_method, f"{API}/{method}", **request)
    return _raise_for_slack(response)


def read_slack_token(response: Mapping[str, Any]) -> Mapping[str, Any]:
    """The bot token of an oauth.v2.access answer, with the workspace it belongs to; the
    installing user's own token (``authed_user``) is not kept."""
    return {key: value for key, value in response.items() if key not in ("ok", "authed_user")}


async def test_token(ctx: Context) -> str:
    identity = await _call(ctx, "auth.test")
    return f"{identity.get('team', '?')} / {identity.get('user', '?')}"


async def channel_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(cursor: str | None) -> tuple[list[Choice], str | None]:
        params = {
            "types": "public_channel,private_channel",
            "exclude_archived": "true",
            "limit": str(CHANNELS_PER_PAGE),
        }
        if cursor:
            params["cursor"] = cursor
        body = await _call(ctx, "conversations.list", params=params)
        choices = [
            Choice(str(channel["id"]), f"#{channel.get('name', channel['id'])}")
            for channel in body.get("channels", [])
        ]
        return choices, (body.get("response_metadata") or {}).get("next_cursor")

    return await cursor_page(fetch, page)


async def user_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(cursor: str | None) -> tuple[list[Choice], str | None]:
        params = {"limit": str(CHANNELS_PER_PAGE)}
        if cursor:
            params["cursor"] = cursor
        body = await _call(ctx, "users.list", params=params)
        choices = [
            Choice(str(member["id"]), member.get("real_name") or member.get("name"))
            for member in body.get("members", [])
            if not member.get("deleted") and not member.get("is_bot")
        ]
        return choices, (body.get("response_metadata") or {}).get("next_cursor")

    return await cursor_page(fetch, page)


def _blocks(value: Any) -> list[Any] | None:
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise HaltError("blocks must be a JSON array of Block Kit blocks.") from None
    if not isinstance(value, list) or not all(isinstance(block, dict) for block in value):
        raise HaltError("blocks must be a JSON array of Block Kit blocks.")
    return value


def _message(inputs: Mapping[str, Any], channel: str) -> dict[str, Any]:
    """The arguments of a message: text, blocks (at least one) and the options given."""
    blocks = _blocks(inputs.get("blocks"))
    if not inputs.get("text") and not blocks:
        raise HaltError("Give the message text, blocks or both.")
    payload: dict[str, Any] = {"channel": channel}
    for key in ("text", "thread_ts", "username", "icon_emoji"):
        if inputs.get(key):
            payload[key] = inputs[key]
    for key in ("reply_broadcast", "unfurl_links"):
        if inputs.get(key) is not None:
            payload[key] = inputs[key]
    if blocks:
        payload["blocks"] = blocks
    return payload


async def _post(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    body = await _call(ctx, "chat.postMessage", json=payload)
    message = body.get("message") or {}
    return {
        "channel": body.get("channel"),
        "ts": body.get("ts"),
        "text": message.get("text"),
        "thread_ts": message.get("thread_ts"),
    }


async def send_channel_message(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return await _post(ctx, _message(inputs, inputs["channel"]))


async def send_direct_message(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    payload = _message(inputs, "")  # checks the message before opening a conversation
    opened = await _call(ctx, "conversations.open", json={"users": inputs["user"]})
    payload["channel"] = opened["channel"]["id"]
    return await _post(ctx, payload)


async def update_message(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    payload = {"ts": inputs["ts"], **_message(inputs, inputs["channel"])}
    body = await _call(ctx, "chat.update", json=payload)
    return {"channel": body.get("channel"), "ts": body.get("ts"), "text": body.get("text")}


async def add_reaction(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    name = str(inputs["name"]).strip(":")
    arguments = {"channel": inputs["channel"], "timestamp": inputs["ts"], "name": name}
    try:
        await _call(ctx, "reactions.add", json=arguments)
    except HaltError as exc:
        if exc.meta.get("slack_error") != "already_reacted":
            raise  # the reaction being there already is what the user asked for
    return {"channel": inputs["channel"], "ts": inputs["ts"], "name": name}


async def create_channel(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    arguments = {"name": inputs["name"], "is_private": bool(inputs.get("is_private"))}
    channel = (await _call(ctx, "conversations.create", json=arguments))["channel"]
    return {
        "id": channel["id"],
        "name": channel.get("name"),
        "is_private": channel.get("is_private", False),
        "created": channel.get("created"),
    }


async def find_user_by_email(ctx: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    try:
        body = await _call(ctx, "users.lookupByEmail", params={"email": inputs["email"]})
    except HaltError as exc:
        if exc.meta.get("slack_error") == "users_not_found":
            return []  # a search that finds nothing is not an error
        raise
    user = body.get("user") or {}
    profile = user.get("profile") or {}
    return [
        {
            "id": user.get("id"),
            "name": user.get("name"),
            "real_name": user.get("real_name") or profile.get("real_name"),
            "email": profile.get("email"),
            "title": profile.get("title"),
            "tz": user.get("tz"),
            "is_bot": user.get("is_bot", False),
            "deleted": user.get("deleted", False),
        }
    ]


MESSAGE_FIELDS = [
    InputField("text", "Text", FieldType.TEXT, help_text="Slack mrkdwn text."),
    InputField(
        "blocks",
        "Blocks",
        FieldType.JSON,
        help_text="Block Kit blocks as a JSON array; text is then the fallback.",
    ),
]
POST_OPTIONS = [
    InputField("thread_ts", "Thread", help_text="The ts of a message to reply to."),
    InputField(
        "reply_broadcast",
        "Also send to channel",
        FieldType.BOOLEAN,
        help_text="With a thread, also show the reply in the channel.",
    ),
    InputField("unfurl_links", "Unfurl links", FieldType.BOOLEAN, help_text="Link previews."),
    InputField("username", "Bot name", help_text="Name shown for the message."),
    InputField(
        "icon_emoji",
        "Bot icon",
        placeholder=":robot_face:",
        help_text="An emoji shown as the message's icon.",
    ),
]
CHANNEL = InputField(
    "channel",
    "Channel",
    required=True,
    dynamic_choices=channel_choices,
    help_text="The channel to post in; the bot must be a member of it.",
)
MESSAGE_TS = InputField(
    "ts", "Message timestamp", required=True, help_text="The ts of the message (from its run)."
)
MESSAGE_OUTPUTS = [
    OutputField("channel", "Channel ID", sample="C0123456789"),
    OutputField("ts", "Message timestamp", sample="1700000000.000100"),
    OutputField("text", "Text", sample="Deploy finished"),
]
MESSAGE_SAMPLE = {"channel": "C0123456789", "ts": "1700000000.000100", "text": "Deploy finished"}

app = App(
    key="slack",
    title="Slack",
    description="Post messages to channels and find people in a Slack workspace.",
    auth=Auth.oauth2_bearer(
        OAuth2Config(
            authorize_url="https://slack.com/oauth/v2/authorize",
            token_url=f"{API}/oauth.v2.access",
            scopes=BOT_SCOPES,
            scope_descriptions=BOT_SCOPE_WORDS,
            scope_separator=",",
            # Slack asks for the client credentials with HTTP Basic rather than in the form.
            token_auth_method="client_secret_basic",  # noqa: S106 (a method name)
            read_token=read_slack_token,
        ),
        help_text="A bot token (xoxb-…) with the scopes listed in the docs, if you have one.",
    ),
    test=test_token,
    categories=("communication", "team-chat"),
    actions=[
        Action(
            "send_channel_message",
            "Send channel message",
            "Posts a message to a channel, optionally as a reply in a thread.",
            send_channel_message,
            inputs=[CHANNEL, *MESSAGE_FIELDS, *POST_OPTIONS],
            outputs=MESSAGE_OUTPUTS,
            sample=MESSAGE_SAMPLE,
        ),
        Action(
            "send_direct_message",
            "Send direct message",
            "Sends a private message from the bot to a member of the workspace.",
            send_direct_message,
            inputs=[
                InputField(
                    "user",
                    "User",
                    required=True,
                    dynamic_choices=user_choices,
                    help_text="The member to write to (a user ID such as U0123456789).",
                ),
                *MESSAGE_FIELDS,
                *POST_OPTIONS,
            ],
            outputs=MESSAGE_OUTPUTS,
            sample=MESSAGE_SAMPLE,
        ),
        Action(
            "update_message",
            "Update message",
            "Replaces the text or blocks of a message the bot posted.",
            update_message,
            inputs=[CHANNEL, MESSAGE_TS, *MESSAGE_FIELDS],
            outputs=MESSAGE_OUTPUTS,
            sample=MESSAGE_SAMPLE,
        ),
        Action(
            "add_reaction",
            "Add reaction",
            "Adds an emoji reaction to a message; one that is already there is left as it is.",
            add_reaction,
            inputs=[
                CHANNEL,
                MESSAGE_TS,
                InputField(
                    "name",
                    "Emoji",
                    required=True,
                    placeholder="thumbsup",
                    help_text="The emoji's name, with or without colons.",
                ),
            ],
            outputs=[
                OutputField("channel", "Channel ID"),
                OutputField("ts", "Message timestamp"),
                OutputField("name", "Emoji"),
            ],
            sample={"channel": "C0123456789", "ts": "1700000000.000100", "name": "thumbsup"},
        ),
        Action(
            "create_channel",
            "Create channel",
            "Creates a public or private channel.",
            create_channel,
            inputs=[
                InputField(
                    "name",
                    "Name",
                    required=True,
                    help_text="Lowercase letters, digits, hyphens and underscores; at most 80.",
                ),
                InputField(
                    "is_private", "Private", FieldType.BOOLEAN, help_text="Invite-only channel."
                ),
            ],
            outputs=[
                OutputField("id", "Channel ID"),
                OutputField("name", "Name"),
                OutputField("is_private", "Private", FieldType.BOOLEAN),
                OutputField("created", "Created (Unix time)", FieldType.INTEGER),
            ],
            sample={"id": "C0123456789", "name": "launch", "is_private": False, "created": 1},
        ),
        Action(
            "find_user_by_email",
            "Find user by email",
            "Finds a member of the workspace by their email address.",
            find_user_by_email,
            type=ActionType.SEARCH,
            inputs=[InputField("email", "Email", required=True, help_text="Their email address.")],
            outputs=[
                OutputField("id", "User ID", sample="U0123456789"),
                OutputField("name", "Username", sample="ada"),
                OutputField("real_name", "Name", sample="Ada Lovelace"),
                OutputField("email", "Email", sample="ada@example.com"),
            ],
            sample={
                "id": "U0123456789",
                "name": "ada",
                "real_name": "Ada Lovelace",
                "email": "ada@example.com",
            },
        ),
    ],
)
