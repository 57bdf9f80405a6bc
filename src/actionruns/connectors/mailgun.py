"""Mailgun: send an email from one of the account's sending domains.

Reference: https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages/post-v3--domain-name--messages
(POST /v3/{domain}/messages, form fields ``from``, ``to`` (repeated), ``cc``, ``bcc``,
``subject``, ``text``, ``html``, ``o:tag``, ``h:Reply-To``; HTTP Basic with user ``api`` and
the API key; answers ``{"id", "message"}``), the domains:
https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/domains/get-v4-domains
(``limit``/``skip`` paging), regions: https://documentation.mailgun.com/docs/mailgun/api-reference/api-overview#base-url
(EU accounts at api.eu.mailgun.net; a key used in the wrong region is refused like a bad one),
status codes: https://documentation.mailgun.com/docs/mailgun/quickstart-guide/responses (400 with
``{"message"}``, 401 with a bare ``Forbidden`` for a bad key, 403 when the account may not send
this way, 404 for an unknown domain, 429 when rate limited: wait as ``Retry-After`` says,
else a minute; 5xx retried).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionruns.sdk import (
    Action,
    App,
    Auth,
    Choice,
    ChoicePage,
    Context,
    FieldType,
    HaltError,
    InputField,
    OutputField,
)
from actionruns.sdk.auth import http_basic
from actionruns.sdk.http import raise_for_status
from actionruns.sdk.pagination import numbered_page

REGIONS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}
DOMAINS_PER_PAGE = 100
BAD_KEY = "Mailgun refused the API key (Forbidden): check the key and the account's region."


def _base(ctx: Context) -> str:
    return REGIONS.get(str(ctx.credentials.get("region") or "us"), REGIONS["us"])


async def _call(ctx: Context, method: str, path: str, **request: Any) -> Any:
    """A 401 from Mailgun says only "Forbidden": say what to check instead."""
    response = await ctx.http.request(method, f"{_base(ctx)}{path}", **request)
    raise_for_status(response, message=BAD_KEY if response.status_code == 401 else None)
    return response.json()


def _domain_choice(domain: Mapping[str, Any]) -> Choice:
    name = str(domain["name"])
    state = domain.get("state") or "active"
    return Choice(name, name if state == "active" else f"{name} ({state})")


async def domain_choices(ctx: Context, inputs: Mapping[str, Any], page: int) -> ChoicePage:
    async def fetch(number: int) -> tuple[list[Choice], bool]:
        skip = (number - 1) * DOMAINS_PER_PAGE
        params = {"limit": str(DOMAINS_PER_PAGE), "skip": str(skip)}
        found = await _call(ctx, "GET", "/v4/domains", params=params)
        choices = [_domain_choice(item) for item in found["items"]]
        return choices, skip + len(choices) < int(found.get("total_count", 0))

    return await numbered_page(fetch, page)


async def test_key(ctx: Context) -> str:
    found = await _call(ctx, "GET", "/v4/domains", params={"limit": "1"})
    region = ctx.credentials.get("region") or "us"
    return f"{found.get('total_count', 0)} sending domains ({region})"


async def send_email(ctx: Context, inputs: Mapping[str, Any]) -> dict[str, Any]:
    if not inputs.get("text") and not inputs.get("html"):
        raise HaltError("Give the text body, the HTML body or both.")
    form: dict[str, Any] = {
        "from": inputs["from_email"],
        "to": list(inputs["to"]),
        "subject": inputs["subject"],
    }
    for key in ("cc", "bcc"):
        if inputs.get(key):
            form[key] = list(inputs[key])
    for key, name in (("text", "text"), ("html", "html"), ("reply_to", "h:Reply-To")):
        if inputs.get(key):
            form[name] = inputs[key]
    if inputs.get("tags"):
        form["o:tag"] = list(inputs["tags"])
    sent = await _call(ctx, "POST", f"/v3/{inputs['domain']}/messages", data=form)
    return {"id": sent["id"], "message": sent["message"]}


app = App(
    key="mailgun",
    title="Mailgun",
    description="Send email from your Mailgun sending domains.",
    auth=Auth.custom(
        [
            InputField(
                "api_key",
                "API key",
                FieldType.PASSWORD,
                required=True,
                help_text="A sending or account API key (Account settings → API keys).",
            ),
            InputField(
                "region",
                "Region",
                choices=[Choice("us", "US"), Choice("eu", "EU")],
                default="us",
                help_text="The account's region: US (api.mailgun.net) or EU (api.eu.mailgun.net).",
            ),
        ],
        apply=http_basic(lambda _: "api", lambda c: c["api_key"]),
    ),
    test=test_key,
    categories=("email",),
    actions=[
        Action(
            "send_email",
            "Send email",
            "Sends an email from one of your domains.",
            send_email,
            inputs=[
                InputField(
                    "domain",
                    "Domain",
                    required=True,
                    dynamic_choices=domain_choices,
                    help_text="The sending domain, e.g. mg.example.com.",
                ),
                InputField(
                    "from_email",
                    "From",
                    required=True,
                    help_text="e.g. Acme <ops@mg.example.com>, on the domain.",
                ),
                InputField("to", "To", list=True, required=True, help_text="Recipients."),
                InputField("cc", "Cc", list=True, help_text="Copied recipients."),
                InputField("bcc", "Bcc", list=True, help_text="Blind-copied recipients."),
                InputField("reply_to", "Reply to", help_text="Where replies go."),
                InputField("subject", "Subject", required=True, help_text="The subject line."),
                InputField("text", "Text body", FieldType.TEXT, help_text="Plain text."),
                InputField("html", "HTML body", FieldType.TEXT, help_text="HTML."),
                InputField("tags", "Tags", list=True, help_text="Up to 3 tags, for analytics."),
            ],
            outputs=[OutputField("id", "Message ID"), OutputField("message", "Status")],
            sample={
                "id": "<20111114174239.25659.5817@samples.mailgun.org>",
                "message": "Queued. Thank you.",
            },
        )
    ],
)
