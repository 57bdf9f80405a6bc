"""Microsoft Teams: a message in a channel through its incoming webhook (a Teams "Incoming
Webhook" connector or a Workflows "When a Teams webhook request is received" flow).

Reference: https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
and https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
(POST ``application/json``, ``{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": <card>}]}``; no auth
header, the URL is the credential; a classic webhook answers ``1``, a Workflows one 202 with no
body; 400 for a malformed payload, 404 for a webhook that does not exist, 413 when too large;
rate limits: "Rate limiting for connectors" on the second page, a classic webhook reporting a
throttle as text, ``Microsoft Teams endpoint returned HTTP error 429``, in a 200; Workflows
answer 429 with ``Retry-After`` and errors as ``{"error": {"code", "message"}}``), Adaptive
Card schema: https://adaptivecards.io/explorer/ (version 1.4; ``TextBlock``,
``Action.OpenUrl``).
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
    ThrottledError,
)
from actionruns.sdk.http import error_message, raise_for_status, retry_after_seconds

THROTTLE_DELAY = 30.0  # the classic webhook's shortest window that can refill is 30 seconds


def _card(inputs: Mapping[str, Any]) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    if inputs.get("title"):
        body.append(
            {
                "type": "TextBlock",
                "text": inputs["title"],
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            }
        )
    body.append({"type": "TextBlock", "text": inputs["text"], "wrap": True})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if inputs.get("button_url"):
        card["actions"] = [
            {
                "type": "Action.OpenUrl",
                "title": inputs.get("button_title") or "Open",
                "url": inputs["button_url"],
            }
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _raise_for_teams(response: httpx2.Response) -> None:
    """The URL is the only credential, so a refusal never means an expired connection; a
    classic webhook reports a failed delivery in a 200 whose text names the reason."""
    status = response.status_code
    answer = response.text.strip()
    failed = (
        status < 400
        and answer not in ("", "1")
        and ("fail" in answer.lower() or "error" in answer.lower())
    )
    if status < 400 and not failed:
        return
    message = answer[:300] if failed else error_message(response)
    meta = {"status": status}
    if status == 429 or (failed and "429" in answer):
        delay = retry_after_seconds(response, THROTTLE_DELAY)
        raise ThrottledError(message, delay=delay, meta=meta)
    if status in (401, 403):
        raise HaltError(f"The webhook URL was refused: {message}", meta=meta)
    if failed:
        raise HaltError(f"Teams did not post the message: {message}", meta=meta)
    raise_for_status(response, throttle_delay=THROTTLE_DELAY)


async def send_message(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    url = httpx2.URL(str(inputs["webhook_url"]))
    if url.scheme != "https":
        raise HaltError("The webhook URL must be an https:// URL from Teams or Workflows.")
    response = await ctx.http.post(url, json=_card(inputs))
    _raise_for_teams(response)
    return {"delivered": True, "status": response.status_code}


app = App(
    key="microsoft_teams",
    title="Microsoft Teams",
    description="Post a card with a message to a Teams channel through its incoming webhook.",
    auth=Auth.none(),
    categories=("communication", "team-chat"),
    actions=[
        Action(
            "send_message",
            "Send channel message",
            "Posts a message (an Adaptive Card with a title, text and an optional button) to the "
            "channel the webhook belongs to.",
            send_message,
            inputs=[
                InputField(
                    "webhook_url",
                    "Webhook URL",
                    required=True,
                    help_text="The channel's incoming webhook (Workflows → Post to a channel "
                    "when a webhook request is received), https://….",
                ),
                InputField("title", "Title", help_text="Shown in bold above the text."),
                InputField(
                    "text", "Text", FieldType.TEXT, required=True, help_text="Markdown is shown."
                ),
                InputField("button_title", "Button title", help_text="Default: Open."),
                InputField("button_url", "Button URL", help_text="Adds a button that opens it."),
            ],
            outputs=[
                OutputField("delivered", "Delivered", FieldType.BOOLEAN),
                OutputField("status", "HTTP status", FieldType.INTEGER),
            ],
            sample={"delivered": True, "status": 200},
        )
    ],
)
