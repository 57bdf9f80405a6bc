"""Discord: a bot posts to a channel, or a channel webhook posts a message.

Reference: https://discord.com/developers/docs/reference (API v10, ``Authorization: Bot
<token>``), errors: https://discord.com/developers/docs/topics/opcodes-and-status-codes#json
(``{"code", "message"}``, and for 50035 "Invalid Form Body" an ``errors`` tree whose leaves
are ``{"_errors": [{"code", "message"}]}``), rate limits:
https://discord.com/developers/docs/topics/rate-limits (429 with ``Retry-After`` in seconds and
``{"message", "retry_after", "global"}`` in the body; ``X-RateLimit-*`` headers),
create message: https://discord.com/developers/docs/resources/message#create-message
(POST /channels/{channel.id}/messages: ``content``, ``embeds``, ``tts``), execute webhook:
https://discord.com/developers/docs/resources/webhook#execute-webhook (POST
/webhooks/{id}/{token}, no bot token; ``?wait=true`` returns the message; also ``username``,
``avatar_url``), the bot: https://discord.com/developers/docs/resources/user#get-current-user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx2

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Context,
    FieldType,
    HaltError,
    InputField,
    OutputField,
    ThrottledError,
)
from actionruns.sdk.http import error_message, raise_for_status, retry_after_seconds

API = "https://discord.com/api/v10"
WEBHOOK_HOSTS = ("discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com")
WEBHOOK_PATH = re.compile(r"^/api(?:/v\d+)?/webhooks/(\d+)/([\w-]+)/?$")


def _form_errors(tree: Any, path: str = "") -> list[str]:
    """The leaves of a 50035 "Invalid Form Body" tree, as ``embeds.0.title: message``."""
    if not isinstance(tree, Mapping):
        return []
    found = [
        f"{path or 'body'}: {item.get('message')}"
        for item in tree.get("_errors") or []
        if isinstance(item, Mapping)
    ]
    for key, value in tree.items():
        if key != "_errors":
            found.extend(_form_errors(value, f"{path}.{key}" if path else str(key)))
    return found


def _raise_for_discord(response: httpx2.Response, *, webhook: bool = False) -> None:
    """Discord's own shapes: a precise ``retry_after`` and nested form errors in the body.

    A webhook call carries no credential of the connection: its 401/403/404 ("Invalid Webhook
    Token", "Unknown Webhook") mean the URL is wrong, not that the bot token expired.
    """
    status = response.status_code
    if status < 400:
        return
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, Mapping) else {}
    message = error_message(response)
    details = _form_errors(body.get("errors"))
    if details:
        message = f"{message}: {'; '.join(details)}"
    meta: dict[str, Any] = {"status": status}
    if body.get("code") is not None:
        meta["code"] = body["code"]  # Discord's JSON error code, e.g. 50013
    if status == 429:
        delay = body.get("retry_after")
        if not isinstance(delay, int | float):
            delay = retry_after_seconds(response, 5.0)
        raise ThrottledError(message, delay=float(delay), meta=meta)
    if webhook and status in (401, 403, 404):
        raise HaltError(f"The webhook URL was refused: {message}", meta=meta)
    raise_for_status(response, message=message)


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{API}{path}", **request)
    _raise_for_discord(response)
    return response.json()


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
    user = await _call(ctx, "GET", "/users/@me")
    return str(user["username"])


async def send_channel_message(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    channel = str(inputs["channel_id"]).strip()
    if not channel.isdigit():
        raise HaltError("The channel ID is a number like 1101234567890123456.")
    path = f"/channels/{channel}/messages"
    return _message(await _call(ctx, "POST", path, json=_body(inputs)))


async def send_webhook_message(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    url = httpx2.URL(str(inputs["webhook_url"]))
    match = WEBHOOK_PATH.match(url.path)
    if url.scheme != "https" or url.host not in WEBHOOK_HOSTS or match is None:
        raise HaltError("The webhook URL must be a Discord one: https://discord.com/api/webhooks/…")
    # The copied URL has no API version, and an unversioned route is served by Discord's
    # deprecated default version: call the webhook on the same version as the bot's calls.
    webhook_id, token = match.groups()
    body = _body(inputs)
    for key in ("username", "avatar_url"):
        if inputs.get(key):
            body[key] = inputs[key]
    # The webhook URL is its own credential: the bot token is not sent with it.
    response = await ctx.http.post(
        f"{API}/webhooks/{webhook_id}/{token}",
        params=url.params.merge({"wait": "true"}),
        json=body,
        auth=httpx2.Auth(),
    )
    _raise_for_discord(response, webhook=True)
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
