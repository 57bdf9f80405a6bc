"""SendGrid: send an email with the v3 Mail Send API.

Reference: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send (POST
/v3/mail/send, JSON ``personalizations``/``from``/``subject``/``content`` with text/plain
before text/html; 202 with no body and the id in ``X-Message-Id``), errors as ``{"errors":
[{"message", "field", "help"}]}`` (https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/responses),
the key's scopes: https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionruns.sdk import Action, App, Auth, Context, FieldType, HaltError, InputField, OutputField
from actionruns.sdk.http import raise_for_status, request_json

API = "https://api.sendgrid.com/v3"


async def test_key(ctx: Context) -> str:
    scopes = (await request_json(ctx, "GET", f"{API}/scopes"))["scopes"]
    if "mail.send" not in scopes:
        raise HaltError("This API key lacks the Mail Send permission.")
    return "API key with Mail Send"


def _addresses(values: Any) -> list[dict[str, str]]:
    return [{"email": str(value)} for value in values or []]


async def send_email(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    if not inputs.get("text") and not inputs.get("html"):
        raise HaltError("Give the text body, the HTML body or both.")
    personalization: dict[str, Any] = {"to": _addresses(inputs["to"])}
    for key in ("cc", "bcc"):
        if inputs.get(key):
            personalization[key] = _addresses(inputs[key])
    sender: dict[str, str] = {"email": inputs["from_email"]}
    if inputs.get("from_name"):
        sender["name"] = inputs["from_name"]
    content = [
        {"type": kind, "value": inputs[key]}
        for key, kind in (("text", "text/plain"), ("html", "text/html"))
        if inputs.get(key)
    ]
    body: dict[str, Any] = {
        "personalizations": [personalization],
        "from": sender,
        "subject": inputs["subject"],
        "content": content,
    }
    if inputs.get("reply_to"):
        body["reply_to"] = {"email": inputs["reply_to"]}
    if inputs.get("categories"):
        body["categories"] = list(inputs["categories"])
    response = await ctx.http.post(f"{API}/mail/send", json=body)
    raise_for_status(response)
    return {"message_id": response.headers.get("x-message-id"), "accepted": True}


app = App(
    key="sendgrid",
    title="SendGrid",
    description="Send transactional email through Twilio SendGrid.",
    auth=Auth.api_key(
        help_text="An API key with Mail Send (Settings → API Keys); the sender must be verified."
    ),
    test=test_key,
    categories=("email",),
    actions=[
        Action(
            "send_email",
            "Send email",
            "Sends an email to one or more recipients.",
            send_email,
            inputs=[
                InputField("to", "To", list=True, required=True, help_text="Recipients' emails."),
                InputField("cc", "Cc", list=True, help_text="Copied recipients."),
                InputField("bcc", "Bcc", list=True, help_text="Blind-copied recipients."),
                InputField(
                    "from_email", "From", required=True, help_text="A verified sender address."
                ),
                InputField("from_name", "From name", help_text="The sender's name."),
                InputField("reply_to", "Reply to", help_text="Where replies go."),
                InputField("subject", "Subject", required=True, help_text="The subject line."),
                InputField("text", "Text body", FieldType.TEXT, help_text="Plain text."),
                InputField("html", "HTML body", FieldType.TEXT, help_text="HTML."),
                InputField("categories", "Categories", list=True, help_text="For statistics."),
            ],
            outputs=[
                OutputField("message_id", "Message ID"),
                OutputField("accepted", "Accepted", FieldType.BOOLEAN),
            ],
            sample={
                "message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
                "accepted": True,
            },
        )
    ],
)
