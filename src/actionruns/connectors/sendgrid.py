"""SendGrid: send an email with the v3 Mail Send API.

Reference: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send (POST
/v3/mail/send, JSON ``personalizations``/``from``/``reply_to``/``subject``/``content`` with
text/plain before text/html, ``categories``; 202 with no body and the message's id in
``X-Message-Id``), authentication: ``Authorization: Bearer <API key>``
(https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/authentication),
errors as ``{"errors": [{"message", "field", "help"}]}`` with 400, 401, 403, 413 and 429
(https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/responses),
rate limits: ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (a Unix
time) on every answer, 429 once spent, no ``Retry-After``
(https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits),
the key's scopes for the connection test:
https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access.
"""

from __future__ import annotations

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
)
from actionruns.sdk.http import error_message, raise_for_status

API = "https://api.sendgrid.com/v3"


def _message(response: httpx2.Response) -> str:
    """Every error SendGrid lists, with the field it is about."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        errors = None
    if not isinstance(errors, list) or not errors:
        return error_message(response)
    parts = []
    for error in errors:
        if isinstance(error, dict) and error.get("message"):
            field = error.get("field")
            parts.append(f"{field}: {error['message']}" if field else str(error["message"]))
    return "; ".join(parts) or error_message(response)


def _raise_for_sendgrid(response: httpx2.Response) -> None:
    """A 429 carries the end of the rate-limit window in X-RateLimit-Reset, not Retry-After."""
    if response.status_code >= 400:
        raise_for_status(response, message=_message(response), reset_header="x-ratelimit-reset")


async def _call(ctx: Context, method: str, path: str, **request: Any) -> httpx2.Response:
    response = await ctx.http.request(method, f"{API}{path}", **request)
    _raise_for_sendgrid(response)
    return response


async def test_key(ctx: Context) -> str:
    scopes = (await _call(ctx, "GET", "/scopes")).json()["scopes"]
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
    response = await _call(ctx, "POST", "/mail/send", json=body)
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
                InputField(
                    "to",
                    "To",
                    list=True,
                    required=True,
                    help_text="Recipients' email addresses (up to 1,000 in all).",
                ),
                InputField("cc", "Cc", list=True, help_text="Copied recipients' addresses."),
                InputField(
                    "bcc", "Bcc", list=True, help_text="Blind-copied recipients' addresses."
                ),
                InputField(
                    "from_email",
                    "From",
                    required=True,
                    help_text="A verified Sender Identity or an address on an authenticated "
                    "domain.",
                ),
                InputField("from_name", "From name", help_text="The sender's display name."),
                InputField("reply_to", "Reply to", help_text="Where replies go."),
                InputField("subject", "Subject", required=True, help_text="The subject line."),
                InputField(
                    "text", "Text body", FieldType.TEXT, help_text="Plain text; this or HTML."
                ),
                InputField(
                    "html", "HTML body", FieldType.TEXT, help_text="HTML; this or plain text."
                ),
                InputField(
                    "categories",
                    "Categories",
                    list=True,
                    help_text="Up to 10 category names, for SendGrid's statistics.",
                ),
            ],
            outputs=[
                OutputField("message_id", "Message ID"),
                OutputField("accepted", "Accepted", FieldType.BOOLEAN),
            ],
            sample={"message_id": "W3b2FKx9TjmjIXGdqkP1QA", "accepted": True},
        )
    ],
)
