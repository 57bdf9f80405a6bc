"""Twilio: send an SMS or a WhatsApp message.

Reference: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
(POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded ``To``, ``From``, ``Body``,
``MediaUrl``; answers 201 with the Message resource), authentication:
https://www.twilio.com/docs/usage/requests-to-twilio#authenticate-with-http (HTTP Basic, the
account SID as user name and the auth token as password), WhatsApp numbers as
``whatsapp:+E164``: https://www.twilio.com/docs/whatsapp/api#sending-messages, errors as
``{"code", "message", "more_info", "status"}``: https://www.twilio.com/docs/usage/twilios-response
(401 code 20003 for bad credentials, 404 code 20404), throttling:
https://www.twilio.com/docs/api/errors/20429 (429 code 20429 for too many concurrent requests,
no ``Retry-After``: safe to retry after a short wait), the account (connection test):
https://www.twilio.com/docs/iam/api/account#fetch-an-account-resource.
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
    ExpiredAuthError,
    FieldType,
    InputField,
    OutputField,
)
from actionruns.sdk.auth import http_basic
from actionruns.sdk.http import error_message, raise_for_status

API = "https://api.twilio.com/2010-04-01"
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")  # the pattern of Twilio's API description
THROTTLE_DELAY = 5.0  # a 429 is about concurrency: a short wait is enough


def _raise_for_twilio(response: httpx2.Response) -> None:
    """Twilio's message, with its error code and the page that explains it."""
    if response.status_code < 400:
        return
    message = error_message(response)
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping) and body.get("code"):
        message = f"{message} (Twilio error {body['code']}: {body.get('more_info')})"
    raise_for_status(response, message=message, throttle_delay=THROTTLE_DELAY)


def _account(ctx: Context) -> str:
    sid = str(ctx.credentials["account_sid"]).strip()
    if not ACCOUNT_SID.fullmatch(sid):
        raise ExpiredAuthError("The Account SID is AC followed by 32 hexadecimal digits.")
    return f"{API}/Accounts/{sid}"


async def _call(ctx: Context, method: str, url: str, **request: Any) -> Any:
    response = await ctx.http.request(method, url, **request)
    _raise_for_twilio(response)
    return response.json()


async def test_account(ctx: Context) -> str:
    account = await _call(ctx, "GET", f"{_account(ctx)}.json")
    return str(account["friendly_name"])


def _whatsapp(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


async def _send(ctx: Context, to: str, sender: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {"To": to, "From": sender, "Body": inputs["body"]}
    if inputs.get("media_url"):
        form["MediaUrl"] = inputs["media_url"]
    message = await _call(ctx, "POST", f"{_account(ctx)}/Messages.json", data=form)
    return {
        key: message.get(key)
        for key in ("sid", "status", "to", "from", "body", "num_segments", "date_created")
    }


async def send_sms(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return await _send(ctx, inputs["to"], inputs["from_number"], inputs)


async def send_whatsapp_message(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return await _send(ctx, _whatsapp(inputs["to"]), _whatsapp(inputs["from_number"]), inputs)


OUTPUTS = [
    OutputField("sid", "Message SID"),
    OutputField("status", "Status"),
    OutputField("to", "To"),
    OutputField("from", "From"),
    OutputField("body", "Body"),
    OutputField("num_segments", "Segments"),
    OutputField("date_created", "Created"),
]
SAMPLE = {
    "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    "status": "queued",
    "to": "+15558675310",
    "from": "+15557122661",
    "body": "Your order shipped",
    "num_segments": "1",
    "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
}


def _message_inputs(kind: str, example: str) -> list[InputField]:
    return [
        InputField("to", "To", required=True, help_text=f"The {kind} number, e.g. {example}."),
        InputField(
            "from_number",
            "From",
            required=True,
            help_text=f"One of your Twilio {kind} senders, e.g. {example}.",
        ),
        InputField("body", "Message", FieldType.TEXT, required=True, help_text="The text."),
        InputField("media_url", "Media URL", help_text="A public URL of an image to attach."),
    ]


app = App(
    key="twilio",
    title="Twilio",
    description="Send SMS and WhatsApp messages through Twilio.",
    auth=Auth.custom(
        [
            InputField(
                "account_sid",
                "Account SID",
                required=True,
                help_text="AC…, on the Twilio Console's home page.",
            ),
            InputField(
                "auth_token",
                "Auth token",
                FieldType.PASSWORD,
                required=True,
                help_text="Beside the Account SID in the Console.",
            ),
        ],
        apply=http_basic(lambda c: c["account_sid"], lambda c: c["auth_token"]),
    ),
    test=test_account,
    categories=("communication", "sms"),
    actions=[
        Action(
            "send_sms",
            "Send SMS",
            "Sends a text message (MMS with a media URL).",
            send_sms,
            inputs=_message_inputs("SMS", "+15558675310"),
            outputs=OUTPUTS,
            sample=SAMPLE,
        ),
        Action(
            "send_whatsapp_message",
            "Send WhatsApp message",
            "Sends a WhatsApp message from a WhatsApp-enabled Twilio sender.",
            send_whatsapp_message,
            inputs=_message_inputs("WhatsApp", "+15558675310"),
            outputs=OUTPUTS,
            sample=SAMPLE,
        ),
    ],
)
