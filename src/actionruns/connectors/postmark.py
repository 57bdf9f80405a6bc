"""Postmark: send an email through a server's message stream.

Reference: https://postmarkapp.com/developer/api/email-api#send-a-single-email (POST /email with
``X-Postmark-Server-Token``, JSON ``From``, ``To``, ``Subject``, ``TextBody``/``HtmlBody``,
``MessageStream``; answers ``{"MessageID", "SubmittedAt", "ErrorCode": 0}``), errors as 422
``{"ErrorCode", "Message"}`` with code 10 for a bad token
(https://postmarkapp.com/developer/api/overview#error-codes), the server:
https://postmarkapp.com/developer/api/server-api#get-server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Context,
    ExpiredAuthError,
    FieldType,
    HaltError,
    InputField,
    OutputField,
)
from actionruns.sdk.http import error_message, raise_for_status

API = "https://api.postmarkapp.com"
HEADERS = {"Accept": "application/json"}
BAD_TOKEN = 10


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    response = await ctx.http.request(method, f"{API}{path}", headers=HEADERS, **request)
    if response.status_code == 422:
        body: Any = response.json() if response.content else {}
        if isinstance(body, dict) and body.get("ErrorCode") == BAD_TOKEN:
            raise ExpiredAuthError(error_message(response), meta={"postmark_error": BAD_TOKEN})
        code = body.get("ErrorCode") if isinstance(body, dict) else None
        raise HaltError(error_message(response), meta={"postmark_error": code})
    raise_for_status(response)
    return response.json()


async def test_token(ctx: Context) -> str:
    return str((await _call(ctx, "GET", "/server"))["Name"])


async def send_email(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    if not inputs.get("text") and not inputs.get("html"):
        raise HaltError("Give the text body, the HTML body or both.")
    body: dict[str, Any] = {
        "From": inputs["from_email"],
        "To": ", ".join(inputs["to"]),
        "Subject": inputs["subject"],
        "MessageStream": inputs.get("message_stream") or "outbound",
    }
    for key, name in (
        ("text", "TextBody"),
        ("html", "HtmlBody"),
        ("reply_to", "ReplyTo"),
        ("tag", "Tag"),
    ):
        if inputs.get(key):
            body[name] = inputs[key]
    for key, name in (("cc", "Cc"), ("bcc", "Bcc")):
        if inputs.get(key):
            body[name] = ", ".join(inputs[key])
    sent = await _call(ctx, "POST", "/email", json=body)
    return {"message_id": sent["MessageID"], "submitted_at": sent["SubmittedAt"], "to": sent["To"]}


app = App(
    key="postmark",
    title="Postmark",
    description="Send transactional email through Postmark.",
    auth=Auth.api_key(
        header="X-Postmark-Server-Token",
        template="{api_key}",
        label="Server API token",
        help_text="The server's API token (Servers → your server → API Tokens).",
    ),
    test=test_token,
    categories=("email",),
    actions=[
        Action(
            "send_email",
            "Send email",
            "Sends an email through one of the server's message streams.",
            send_email,
            inputs=[
                InputField("to", "To", list=True, required=True, help_text="Up to 50 recipients."),
                InputField("cc", "Cc", list=True, help_text="Copied recipients."),
                InputField("bcc", "Bcc", list=True, help_text="Blind-copied recipients."),
                InputField(
                    "from_email",
                    "From",
                    required=True,
                    help_text="A confirmed sender signature, e.g. Acme <ops@acme.com>.",
                ),
                InputField("reply_to", "Reply to", help_text="Where replies go."),
                InputField("subject", "Subject", required=True, help_text="The subject line."),
                InputField("text", "Text body", FieldType.TEXT, help_text="Plain text."),
                InputField("html", "HTML body", FieldType.TEXT, help_text="HTML."),
                InputField("tag", "Tag", help_text="One tag, for statistics."),
                InputField(
                    "message_stream",
                    "Message stream",
                    default="outbound",
                    help_text="The stream's id; outbound is the default transactional one.",
                ),
            ],
            outputs=[
                OutputField("message_id", "Message ID"),
                OutputField("submitted_at", "Submitted at", FieldType.DATETIME),
                OutputField("to", "To"),
            ],
            sample={
                "message_id": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
                "submitted_at": "2014-02-17T07:25:01.4178645-05:00",
                "to": "receiver@example.com",
            },
        )
    ],
)
