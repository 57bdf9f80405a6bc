"""Microsoft Teams: a message in a channel through its incoming webhook (a Teams "Incoming
Webhook" connector or a Workflows "When a Teams webhook request is received" flow).

Reference: https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
(POST a JSON message whose attachment is an Adaptive Card; the classic webhook answers
``1``, a Workflows one 202 with no body; a classic webhook reports a failed delivery as text,
``Microsoft Teams endpoint returned HTTP error 429`` among them), Adaptive Card schema:
https://adaptivecards.io/explorer/ (version 1.4).
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
from actionruns.sdk.http import raise_for_status, retry_after_seconds


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
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


async def send_message(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    url = httpx2.URL(str(inputs["webhook_url"]))
    if url.scheme != "https":
        raise HaltError("The webhook URL must be an https:// URL from Teams or Workflows.")
    response = await ctx.http.post(url, json=_card(inputs))
    raise_for_status(response)
    answer = response.text.strip()
    if answer not in ("", "1"):
        # A classic webhook says it could not deliver in a 200 whose text names the reason.
        if "429" in answer:
            raise ThrottledError(answer[:300], delay=retry_after_seconds(response, 30.0))
        raise HaltError(f"Teams did not post the message: {answer[:300]}")
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
