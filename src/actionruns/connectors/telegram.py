"""Telegram: a bot sends a message or a photo to a chat.

Reference: https://core.telegram.org/bots/api#making-requests (calls as
``https://api.telegram.org/bot<token>/METHOD``, GET or POST with an ``application/json`` body;
answers ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description",
"parameters": {"retry_after", "migrate_to_chat_id"}}`` with the same HTTP status; an unknown
token is 401 "Unauthorized", a malformed one 404 "Not Found"; flood control is 429 with
``parameters.retry_after`` in seconds, no header: https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this),
https://core.telegram.org/bots/api#getme, https://core.telegram.org/bots/api#sendmessage,
https://core.telegram.org/bots/api#sendphoto (``photo`` as an HTTP URL, ``caption``),
https://core.telegram.org/bots/api#replyparameters (replies). The token is part of the URL,
so no URL ever goes into an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Choice,
    Context,
    ExpiredAuthError,
    FieldType,
    HaltError,
    InputField,
    OutputField,
    ThrottledError,
    TransientError,
)

API = "https://api.telegram.org"


async def _call(ctx: Context, method: str, body: Mapping[str, Any] | None = None) -> Any:
    url = f"{API}/bot{ctx.credentials['bot_token']}/{method}"
    if body is None:
        response = await ctx.http.get(url)
    else:
        response = await ctx.http.post(url, json=dict(body))
    try:
        answer = response.json()
    except ValueError:
        raise TransientError(
            f"Telegram answered {method} with HTTP {response.status_code}."
        ) from None
    if not isinstance(answer, Mapping):
        raise TransientError(f"Telegram answered {method} with HTTP {response.status_code}.")
    if answer.get("ok"):
        return answer["result"]
    _raise_for_telegram(method, answer, response.status_code)


def _raise_for_telegram(method: str, answer: Mapping[str, Any], status: int) -> NoReturn:
    code = int(answer.get("error_code") or status)
    parameters = answer.get("parameters") or {}
    detail = f"Telegram refused {method}: {answer.get('description', 'no reason given')}"
    meta = {"status": code}
    if code in (401, 404):
        # Every method called here exists: a 404 means a malformed token, like a 401 a bad one.
        raise ExpiredAuthError(detail, meta=meta)
    if code == 429:
        raise ThrottledError(detail, delay=float(parameters.get("retry_after", 30)), meta=meta)
    if code >= 500:
        raise TransientError(detail, meta=meta)
    if parameters.get("migrate_to_chat_id"):
        detail += f" (the group's new chat id is {parameters['migrate_to_chat_id']})"
    raise HaltError(detail, meta=meta)


def _options(inputs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"chat_id": inputs["chat_id"]}
    if inputs.get("parse_mode"):
        body["parse_mode"] = inputs["parse_mode"]
    if inputs.get("disable_notification") is not None:
        body["disable_notification"] = inputs["disable_notification"]
    if inputs.get("reply_to_message_id"):
        body["reply_parameters"] = {"message_id": inputs["reply_to_message_id"]}
    return body


def _sent(message: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "message_id": message["message_id"],
        "chat_id": message["chat"]["id"],
        "date": message["date"],
        "text": message.get("text") or message.get("caption"),
    }


async def test_token(ctx: Context) -> str:
    bot = await _call(ctx, "getMe")
    return f"@{bot['username']}"


async def send_message(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return _sent(await _call(ctx, "sendMessage", {**_options(inputs), "text": inputs["text"]}))


async def send_photo(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    body = {**_options(inputs), "photo": inputs["photo_url"]}
    if inputs.get("caption"):
        body["caption"] = inputs["caption"]
    return _sent(await _call(ctx, "sendPhoto", body))


COMMON = [
    InputField(
        "chat_id",
        "Chat",
        required=True,
        help_text="A chat id (e.g. -1001234567890) or @channelusername; the bot must be in it.",
    ),
    InputField(
        "parse_mode",
        "Formatting",
        choices=[Choice("MarkdownV2"), Choice("HTML")],
        help_text="How Telegram reads the text; plain if empty.",
    ),
    InputField(
        "disable_notification",
        "Silent",
        FieldType.BOOLEAN,
        help_text="Deliver without a sound.",
    ),
    InputField(
        "reply_to_message_id",
        "Reply to",
        FieldType.INTEGER,
        help_text="The id of a message in the chat to reply to.",
    ),
]
OUTPUTS = [
    OutputField("message_id", "Message ID", FieldType.INTEGER),
    OutputField("chat_id", "Chat ID", FieldType.INTEGER),
    OutputField("date", "Sent at (Unix time)", FieldType.INTEGER),
    OutputField("text", "Text"),
]
SAMPLE = {"message_id": 42, "chat_id": -1001234567890, "date": 1764064800, "text": "Hello"}

app = App(
    key="telegram",
    title="Telegram",
    description="Send messages and photos to Telegram chats, groups and channels with a bot.",
    auth=Auth.custom(
        [
            InputField(
                "bot_token",
                "Bot token",
                FieldType.PASSWORD,
                required=True,
                help_text="From @BotFather, like 123456789:AAE….",
            )
        ]
    ),
    test=test_token,
    categories=("communication",),
    actions=[
        Action(
            "send_message",
            "Send message",
            "Sends a text message to a chat.",
            send_message,
            inputs=[
                *COMMON[:1],
                InputField(
                    "text", "Text", FieldType.TEXT, required=True, help_text="1-4096 characters."
                ),
                *COMMON[1:],
            ],
            outputs=OUTPUTS,
            sample=SAMPLE,
        ),
        Action(
            "send_photo",
            "Send photo",
            "Sends a photo from a URL to a chat, with an optional caption.",
            send_photo,
            inputs=[
                *COMMON[:1],
                InputField(
                    "photo_url",
                    "Photo URL",
                    required=True,
                    help_text="A public https URL of a JPEG or PNG, up to 5 MB.",
                ),
                InputField("caption", "Caption", FieldType.TEXT, help_text="0-1024 characters."),
                *COMMON[1:],
            ],
            outputs=OUTPUTS,
            sample=SAMPLE,
        ),
    ],
)
