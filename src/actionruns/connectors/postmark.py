"""Postmark: send an email through a server's message stream.

Reference: https://postmarkapp.com/developer/api/email-api#send-a-single-email (POST /email with
``X-Postmark-Server-Token``, JSON ``From``, ``To``, ``Cc``, ``Bcc`` (comma-separated, 50 at
most), ``Subject``, ``TextBody``/``HtmlBody``, ``ReplyTo``, ``Tag``, ``TrackOpens``,
``Metadata``, ``MessageStream``; answers ``{"To", "SubmittedAt", "MessageID", "ErrorCode": 0,
"Message": "OK"}``), authentication and status codes
(https://postmarkapp.com/developer/api/overview: 401 for a missing or wrong token header, 422
with ``{"ErrorCode", "Message"}``, code 10 meaning a bad or missing token
(https://postmarkapp.com/developer/api/overview#error-codes), 429 when rate limited, with no
rate-limit or ``Retry-After`` headers documented, 500 on Postmark's side), the message streams
for the dropdown: https://postmarkapp.com/developer/api/message-streams-api#list-message-streams
(``{"MessageStreams": [{"ID", "Name", "MessageStreamType", ...}], "TotalCount"}``, at most 10
per server, not paged), the server for the connection test:
https://postmarkapp.com/developer/api/server-api#get-server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Choice,
    ChoicePage,
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
        code = _error_code(response)
        if code == BAD_TOKEN:
            raise ExpiredAuthError(error_message(response), meta={"postmark_error": code})
        raise HaltError(error_message(response), meta={"postmark_error": code})
    raise_for_status(response)
    if _error_code(response):  # Postmark's refusals carry an ErrorCode; never trust a 200 alone
        raise HaltError(error_message(response), meta={"postmark_error": _error_code(response)})
    return response.json()


def _error_code(response: httpx2.Response) -> int | None:
    try:
        body: Any = response.json()
    except ValueError:
        return None
    code = body.get("ErrorCode") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


async def test_token(ctx: Context) -> str:
    return str((await _call(ctx, "GET", "/server"))["Name"])


async def message_stream_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    """The server's outbound streams (transactional and broadcast), never the inbound one."""
    if page > 0:
        return ChoicePage([])
    found = await _call(ctx, "GET", "/message-streams")
    return ChoicePage(
        [
            Choice(stream["ID"], f"{stream['Name']} ({stream['MessageStreamType']})")
            for stream in found["MessageStreams"]
            if stream.get("MessageStreamType") != "Inbound"
        ]
    )


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
    if inputs.get("track_opens") is not None:
        body["TrackOpens"] = inputs["track_opens"]
    if inputs.get("metadata"):
        body["Metadata"] = {str(key): str(value) for key, value in inputs["metadata"].items()}
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
                InputField(
                    "to",
                    "To",
                    list=True,
                    required=True,
                    help_text="Recipients' addresses, 50 at most.",
                ),
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
                    "track_opens",
                    "Track opens",
                    FieldType.BOOLEAN,
                    help_text="Add open tracking to the HTML body (the server's setting if empty).",
                ),
                InputField(
                    "metadata",
                    "Metadata",
                    FieldType.DICT,
                    help_text='Key → value pairs kept with the message, e.g. {"order": "1234"}.',
                ),
                InputField(
                    "message_stream",
                    "Message stream",
                    default="outbound",
                    dynamic_choices=message_stream_choices,
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
