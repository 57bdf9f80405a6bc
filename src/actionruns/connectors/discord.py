"""Discord: a bot posts to a channel, or a channel webhook posts a message.

Reference: https://discord.com/developers/docs/reference (API v10, ``Authorization: Bot
<token>``, errors as ``{"code", "message"}``, rate limits as 429 with ``Retry-After`` and
``retry_after`` in the body: https://discord.com/developers/docs/topics/rate-limits),
https://discord.com/developers/docs/resources/message#create-message,
https://discord.com/developers/docs/resources/webhook#execute-webhook (``?wait=true`` returns
the message), https://discord.com/developers/docs/resources/user#get-current-user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2

from actionruns.sdk import Action, App, Auth, Context, FieldType, HaltError, InputField, OutputField
from actionruns.sdk.http import raise_for_status, request_json

API = "https://discord.com/api/v10"
WEBHOOK_HOSTS = ("discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com")


def _message(message: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": message["id"],
        "channel_id": message["channel_id"],
        "content": message.get("content", ""),
        "timestamp": message.get("timestamp"),
    }


def _body(inputs: Mapping[str, Any]) -> dict[str, Any]:
    if not inputs.get("content") and not inputs.get("embed_title"):
        raise HaltError("Give the message content, an embed title or both.")
    body: dict[str, Any] = {}
    if inputs.get("content"):
        body["content"] = inputs["content"]
    if inputs.get("embed_title"):
        embed = {"title": inputs["embed_title"]}
        if inputs.get("embed_description"):
            embed["description"] = inputs["embed_description"]
        body["embeds"] = [embed]
    if inputs.get("tts") is not None:
        body["tts"] = inputs["tts"]
    return body


async def test_token(ctx: Context) -> str:
    user = await request_json(ctx, "GET", f"{API}/users/@me")
    return str(user["username"])


async def send_channel_message(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    url = f"{API}/channels/{inputs['channel_id']}/messages"
    return _message(await request_json(ctx, "POST", url, json=_body(inputs)))


async def send_webhook_message(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    url = httpx2.URL(str(inputs["webhook_url"]))
    if (
        url.scheme != "https"
        or url.host not in WEBHOOK_HOSTS
        or not url.path.startswith("/api/webhooks/")
    ):
        raise HaltError("The webhook URL must be a Discord one: https://discord.com/api/webhooks/…")
    body = _body(inputs)
    for key in ("username", "avatar_url"):
        if inputs.get(key):
            body[key] = inputs[key]
    # The webhook URL is its own credential: the bot token is not sent with it.
    response = await ctx.http.post(
        url.copy_merge_params({"wait": "true"}), json=body, auth=httpx2.Auth()
    )
    raise_for_status(response)
    return _message(response.json())


CONTENT = [
    InputField("content", "Content", FieldType.TEXT, help_text="Up to 2000 characters."),
    InputField("embed_title", "Embed title", help_text="Adds a rich embed with this title."),
    InputField("embed_description", "Embed description", FieldType.TEXT, help_text="Its text."),
    InputField("tts", "Text to speech", FieldType.BOOLEAN, help_text="Read the message aloud."),
]
OUTPUTS = [
    OutputField("id", "Message ID"),
    OutputField("channel_id", "Channel ID"),
    OutputField("content", "Content"),
    OutputField("timestamp", "Sent at", FieldType.DATETIME),
]
SAMPLE = {
    "id": "1176291442214641704",
    "channel_id": "1101234567890123456",
    "content": "Deploy finished",
    "timestamp": "2026-11-25T10:00:00.000000+00:00",
}

app = App(
    key="discord",
    title="Discord",
    description="Post messages to Discord channels as a bot or through a channel webhook.",
    auth=Auth.api_key(
        template="Bot {api_key}",
        label="Bot token",
        help_text="The bot's token from the Developer Portal (Bot → Reset Token); the bot must "
        "be in the server with Send Messages in the channel.",
    ),
    test=test_token,
    categories=("communication", "team-chat"),
    actions=[
        Action(
            "send_channel_message",
            "Send channel message",
            "Posts a message in a channel as the bot.",
            send_channel_message,
            inputs=[
                InputField(
                    "channel_id",
                    "Channel ID",
                    required=True,
                    help_text="Right-click the channel → Copy Channel ID (developer mode).",
                ),
                *CONTENT,
            ],
            outputs=OUTPUTS,
            sample=SAMPLE,
        ),
        Action(
            "send_webhook_message",
            "Send webhook message",
            "Posts a message through a channel's webhook, with its own name and avatar.",
            send_webhook_message,
            inputs=[
                InputField(
                    "webhook_url",
                    "Webhook URL",
                    required=True,
                    help_text="Channel settings → Integrations → Webhooks → Copy Webhook URL.",
                ),
                *CONTENT,
                InputField("username", "Name", help_text="Overrides the webhook's name."),
                InputField("avatar_url", "Avatar URL", help_text="Overrides its avatar."),
            ],
            outputs=OUTPUTS,
            sample=SAMPLE,
        ),
    ],
)
